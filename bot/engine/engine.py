"""`Engine.ask(question, conversation, user, now) -> Answer`: the one entry point of the brain.

Routing: the no-LLM planner answers what it recognises (always when no LLM is configured; as a
fast path when one is, if `engine.planner_fast_path`); the LLM agent takes the rest; when
neither can, the planner's honest "cannot answer" reply lists what Vigie can do. Whatever
produced it, the answer is redacted, timed, and remembered in the conversation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from bot.engine.answer import Answer, Language, timings_from
from bot.engine.charts import render_charts
from bot.engine.conversation import Conversation, ConversationStore, Turn
from bot.engine.language import detect_language
from bot.engine.redact import Redactor
from bot.services import Services
from tools.base import ToolContext


class Planner(Protocol):
    """The no-LLM mode (bot/engine/planner)."""

    def answer(
        self, question: str, ctx: ToolContext, conversation: Conversation, language: Language
    ) -> Answer | None:
        """An Answer for a recognised question, or None to let another mode try."""
        ...

    def cannot_answer(self, question: str, language: Language) -> Answer:
        """The honest reply for a question nobody could answer, with examples of what works."""
        ...


class Agent(Protocol):
    """The LLM tool-calling agent (bot/engine/llm)."""

    def answer(
        self, question: str, ctx: ToolContext, conversation: Conversation, language: Language
    ) -> Answer: ...


class Asker(Protocol):
    """What surfaces and the eval runner need of the engine (tests pass fakes)."""

    def ask(
        self,
        question: str,
        conversation_id: str | None = None,
        user: str | None = None,
        now: datetime | None = None,
    ) -> Answer: ...


class Engine:
    """Routes a question to the planner or the agent; owns memory, redaction and timings."""

    def __init__(
        self,
        services: Services,
        planner: Planner,
        agent: Agent | None,
        conversations: ConversationStore,
        redactor: Redactor,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.services = services
        self.planner = planner
        self.agent = agent
        self.conversations = conversations
        self.redactor = redactor
        self._clock = clock or (lambda: datetime.now(UTC))

    def ask(
        self,
        question: str,
        conversation_id: str | None = None,
        user: str | None = None,
        now: datetime | None = None,
    ) -> Answer:
        started = time.perf_counter()
        pinned = (now or self._clock()).astimezone(UTC)
        question = question.strip()
        conversation = (
            self.conversations.load(conversation_id) if conversation_id else Conversation(id="")
        )
        language = detect_language(question)
        settings = self.services.settings
        ctx = ToolContext(
            services=self.services,
            now=lambda: pinned,
            token_budget=settings.tools.token_budget,
            max_series=settings.tools.max_series,
            redact=self.redactor.redact,
        )
        answer: Answer | None = None
        if self.agent is None or settings.engine.planner_fast_path:
            answer = self.planner.answer(question, ctx, conversation, language)
        if answer is None and self.agent is not None:
            answer = self.agent.answer(question, ctx, conversation, language)
        if answer is None:
            answer = self.planner.cannot_answer(question, language)
        answer = self.redactor.redact_answer(answer)
        # Charts of the range results behind the evidence; a chart never fails an answer.
        charts = render_charts(answer, settings.engine.charts_dir, tz=settings.tz)
        if charts:
            answer = answer.model_copy(update={"charts": [*answer.charts, *charts]})
        total_ms = (time.perf_counter() - started) * 1000
        answer = answer.model_copy(update={"timings": timings_from(answer.results, total_ms)})
        if conversation_id:
            self.conversations.append(
                conversation_id,
                Turn(
                    question=self.redactor.redact(question),
                    answer=answer.answer,
                    language=answer.language,
                    mode=answer.mode,
                    context=answer.context,
                    at=pinned,
                ),
            )
        del user  # who asked matters to approvals (next issue), not to answering
        return answer


def build_engine(services: Services) -> Engine:
    """The engine from settings: the planner always, the agent when an LLM is configured."""
    from bot.engine.planner import build_planner  # noqa: PLC0415 - heavy, built on demand

    settings = services.settings
    agent: Agent | None = None
    if settings.llm.base_url is not None:
        from bot.engine.llm import build_agent  # noqa: PLC0415 - langchain is slow to import

        agent = build_agent(settings)
    engine_settings = settings.engine
    return Engine(
        services,
        planner=build_planner(services),
        agent=agent,
        conversations=ConversationStore(
            services.state,
            max_turns=engine_settings.memory_turns,
            max_tokens=engine_settings.memory_tokens,
            ttl_s=engine_settings.memory_ttl_s,
        ),
        redactor=Redactor(engine_settings.pii_patterns),
    )
