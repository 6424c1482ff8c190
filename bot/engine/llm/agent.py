"""`LLMAgent`: a LangChain tool-calling agent over any OpenAI-compatible endpoint.

One question is one loop (`create_agent`): the model sees the system prompt, the bounded
conversation history and the question, and may call the read tools and the propose_* tools
(nothing else exists for it) until it answers. `LoopLimits` bounds the loop by steps and time;
the whole run also executes in a worker thread that the caller stops waiting for shortly after
the deadline, so a tool stuck on a slow backend cannot hold the answer either. The Answer is
built from the `Run` record: evidence from every tool result, proposal drafts, tokens and
cost; when the loop did not conclude, Vigie writes an honest partial answer itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import InputAgentState
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphRecursionError

from bot.engine.answer import Answer, Evidence, Language, Tokens
from bot.engine.conversation import Conversation
from bot.engine.llm.limits import LoopLimits
from bot.engine.llm.partial import partial_answer
from bot.engine.llm.prompts import PROMPTS_DIR, SystemPrompt, render_system_prompt, toolsets
from bot.engine.llm.run import Run, RunSnapshot, StopReason
from bot.engine.llm.tools import langchain_tools
from bot.engine.proposals import PROPOSE_TOOLS, ProposeTool
from bot.settings import Settings
from tools import registry
from tools.base import Tool, ToolContext, ToolError
from tools.budget import estimate_tokens, fit_lines

logger = logging.getLogger(__name__)

# How long past the deadline the caller waits for the loop to wind down by itself (it normally
# does: every model call's timeout ends at the deadline) before answering from the record.
GRACE_S = 1.0
# Share of the tool budget the catalog summary may take in the system prompt.
CATALOG_BUDGET_FACTOR = 2


@dataclass(frozen=True)
class _Outcome:
    finished: bool
    state: dict[str, Any] | None = None
    error: BaseException | None = None


class LLMAgent:
    """The Agent of `bot.engine.engine` (see the module docstring)."""

    def __init__(
        self,
        model: BaseChatModel,
        settings: Settings,
        *,
        read_tools: dict[str, Tool[Any]] | None = None,
        propose_tools: tuple[ProposeTool[Any], ...] = PROPOSE_TOOLS,
        prompts_dir: Path = PROMPTS_DIR,
    ) -> None:
        self.model = model
        self.settings = settings
        self.read_tools = read_tools if read_tools is not None else registry.read_tools()
        self.propose_tools = propose_tools
        self.prompts_dir = prompts_dir
        if settings.llm.model not in settings.llm.prices:
            logger.warning(
                "llm.prices has no price for model %r: answers will report a cost of 0",
                settings.llm.model,
            )

    def answer(
        self, question: str, ctx: ToolContext, conversation: Conversation, language: Language
    ) -> Answer:
        llm = self.settings.llm
        run = Run(max_steps=llm.max_steps, deadline_s=llm.deadline_s)
        graph = create_agent(
            self.model,
            langchain_tools(self.read_tools, self.propose_tools, ctx, run),
            system_prompt=self.system_prompt(ctx, language),
            middleware=[LoopLimits(run, call_timeout_s=llm.timeout_s)],
        )
        redact = ctx.redact or (lambda text: text)
        inputs: InputAgentState = {
            "messages": [*self.history(conversation), HumanMessage(redact(question))]
        }
        # A backstop only: LoopLimits ends the loop after max_steps model calls (each step is
        # at most four graph nodes: before_model, model, after_model, tools).
        config: RunnableConfig = {"recursion_limit": 4 * llm.max_steps + 8}
        outcome = _within(run.remaining() + GRACE_S, lambda: graph.invoke(inputs, config))
        if not outcome.finished:
            run.stop(StopReason.DEADLINE)
            logger.warning("agent loop abandoned at the deadline (%s s)", llm.deadline_s)
        elif isinstance(outcome.error, GraphRecursionError):
            run.stop(StopReason.STEP_LIMIT)
        elif outcome.error is not None:
            raise outcome.error
        return self._answer(run.snapshot(), outcome.state, language)

    # ------------------------------------------------------------------------------ inputs

    def system_prompt(self, ctx: ToolContext, language: Language) -> str:
        catalog, catalog_error = self._catalog_summary(ctx)
        offered = [(t.name, t.backend) for t in self.read_tools.values()]
        inputs = SystemPrompt.build(
            now=ctx.now(),
            tz=ctx.tz,
            language=language,
            catalog=catalog,
            catalog_error=catalog_error,
            toolsets=toolsets(offered),
            proposal_tools=tuple(t.name for t in self.propose_tools),
            max_steps=self.settings.llm.max_steps,
            deadline_s=self.settings.llm.deadline_s,
        )
        return render_system_prompt(inputs, directory=self.prompts_dir)

    def _catalog_summary(self, ctx: ToolContext) -> tuple[str | None, str | None]:
        try:
            text = ctx.services.catalog.get().describe()
        except ToolError as exc:
            return None, str(exc)
        lines = text.splitlines()
        budget = CATALOG_BUDGET_FACTOR * ctx.token_budget
        shown, _ = fit_lines(lines[:1], lines[1:], budget, noun="lines")
        return shown, None

    def history(self, conversation: Conversation) -> list[AnyMessage]:
        """The most recent turns as prior messages, within engine.memory_turns / _tokens."""
        engine = self.settings.engine
        turns = conversation.turns[-engine.memory_turns :]
        kept: list[AnyMessage] = []
        used = 0
        for turn in reversed(turns):
            cost = estimate_tokens(turn.question) + estimate_tokens(turn.answer)
            if kept and used + cost > engine.memory_tokens:
                break
            used += cost
            kept[:0] = [HumanMessage(turn.question), AIMessage(turn.answer)]
        return kept

    # ------------------------------------------------------------------------------ output

    def _answer(
        self, snapshot: RunSnapshot, state: dict[str, Any] | None, language: Language
    ) -> Answer:
        evidence = [Evidence.from_result(r) for r in snapshot.results]
        reason = snapshot.stopped
        text = "" if reason is not None else _final_text(state)
        if reason is None and not text:
            reason = StopReason.LLM_ERROR
            snapshot = replace(snapshot, error="it returned an empty answer")
        if reason is not None:
            text = partial_answer(
                snapshot,
                evidence,
                language,
                reason=reason,
                deadline_s=self.settings.llm.deadline_s,
            )
        return Answer(
            answer=text,
            language=language,
            mode="llm",
            evidence=evidence,
            proposals=list(snapshot.proposals),
            tokens=self._tokens(snapshot),
            results=list(snapshot.results),
        )

    def _tokens(self, snapshot: RunSnapshot) -> Tokens:
        llm = self.settings.llm
        price = llm.prices.get(llm.model)
        cost = 0.0
        if price is not None:
            cost = (
                snapshot.prompt_tokens * price.prompt_per_1m
                + snapshot.completion_tokens * price.completion_per_1m
            ) / 1_000_000
        return Tokens(
            prompt=snapshot.prompt_tokens,
            completion=snapshot.completion_tokens,
            cost=round(cost, 6),
        )


def _final_text(state: dict[str, Any] | None) -> str:
    if not state or not state.get("messages"):
        return ""
    last = state["messages"][-1]
    if not isinstance(last, AIMessage) or last.tool_calls:
        return ""
    return str(last.text).strip()


def _within(timeout_s: float, fn: Callable[[], dict[str, Any]]) -> _Outcome:
    """Run `fn` in a daemon thread; stop waiting after `timeout_s` (the thread winds down)."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["state"] = fn()
        except BaseException as exc:  # handed to the caller, which re-raises it
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="vigie-agent-loop", daemon=True).start()
    if not done.wait(max(timeout_s, 0.0)):
        return _Outcome(finished=False)
    return _Outcome(finished=True, state=box.get("state"), error=box.get("error"))
