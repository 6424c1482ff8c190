"""`LoopLimits`: the agent middleware that keeps one question's loop bounded and honest.

- Each model call gets `min(llm.timeout_s, time left)` as its HTTP timeout, and is retried
  once on a transient failure (connection, 429, 5xx) only while time is left, so a slow or
  flaky endpoint cannot carry the loop past its deadline.
- Tokens are counted from each reply's usage metadata, as the replies arrive (so a loop
  abandoned at the deadline still reports what it spent).
- After the `max_steps`-th model call, or past the deadline, the tool calls the model asks for
  are not run: they are recorded as not checked and the loop ends (`jump_to: end`); the agent
  then writes the partial answer.
- Tool calls whose arguments are not valid JSON (LangChain puts them in `invalid_tool_calls`,
  and a reply with only those would end the loop as if it were an answer) are answered with
  the parse error, and the model is asked again.
- A reply LangChain cannot parse (tool arguments that are JSON but not an object) is asked
  again once, with a note saying why.
- An endpoint failure (after the retry) ends the loop with `llm_error` instead of raising.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import openai
from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse, hook_config
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langgraph.runtime import Runtime
from pydantic import ValidationError

from bot.engine.llm.run import Run, StopReason

logger = logging.getLogger(__name__)

# Below this many seconds left, another model call cannot usefully finish.
MIN_CALL_S = 0.5
RETRIES = 1
RETRY_PAUSE_S = 0.5
UNREADABLE = "its reply could not be read: tool call arguments that are not a JSON object"
UNREADABLE_NOTE = (
    "(Vigie) Your last reply could not be read: the arguments of a tool call must be a JSON "
    'object, e.g. {"query": "up"}. Make the call again with an object.'
)
_TRANSIENT = (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)


class LoopLimits(AgentMiddleware):
    """See the module docstring."""

    def __init__(self, run: Run, *, call_timeout_s: float) -> None:
        super().__init__()
        self.run = run
        self.call_timeout_s = call_timeout_s

    # --------------------------------------------------------------------------- model call

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelResponse[Any] | AIMessage:
        attempt = 0
        while True:
            left = self.run.remaining()
            if left < MIN_CALL_S:
                self.run.stop(StopReason.DEADLINE)
                return AIMessage(content="")
            settings = {**request.model_settings, "timeout": min(self.call_timeout_s, left)}
            try:
                response = handler(request.override(model_settings=settings))
            except ValidationError:
                # LangChain could not even build the reply: a tool call's arguments were JSON
                # but not an object ("up", [1]). The reply is lost; say so and ask again.
                self.run.model_call(0, 0)
                if attempt >= RETRIES:
                    return self._failed(UNREADABLE)
                logger.info("model reply unreadable (tool arguments not an object), asking again")
                note = HumanMessage(UNREADABLE_NOTE)
                request = request.override(messages=[*request.messages, note])
            except openai.APIError as exc:
                if self.run.remaining() < MIN_CALL_S:
                    self.run.stop(StopReason.DEADLINE)
                    return AIMessage(content="")
                if attempt >= RETRIES or not isinstance(exc, _TRANSIENT):
                    return self._failed(_short(exc))
                logger.info("model call failed (%s), retrying", _short(exc))
                time.sleep(min(RETRY_PAUSE_S, max(0.0, self.run.remaining() - MIN_CALL_S)))
            else:
                self._count(response)
                return response
            attempt += 1

    def _failed(self, message: str) -> AIMessage:
        logger.warning("model endpoint failed: %s", message)
        self.run.stop(StopReason.LLM_ERROR, message)
        return AIMessage(content="")

    def _count(self, response: ModelResponse[Any]) -> None:
        prompt = completion = 0
        for message in response.result:
            if isinstance(message, AIMessage) and message.usage_metadata:
                prompt += message.usage_metadata.get("input_tokens", 0)
                completion += message.usage_metadata.get("output_tokens", 0)
        self.run.model_call(prompt, completion)

    # ------------------------------------------------------------------------------ hooks

    @hook_config(can_jump_to=["end"])
    def before_model(self, state: Any, runtime: Runtime[Any]) -> dict[str, Any] | None:
        if self.run.stopped is not None:
            return {"jump_to": "end"}
        if self.run.remaining() < MIN_CALL_S:
            self.run.stop(StopReason.DEADLINE)
            return {"jump_to": "end"}
        return None

    @hook_config(can_jump_to=["end", "model"])
    def after_model(self, state: Any, runtime: Runtime[Any]) -> dict[str, Any] | None:
        messages: list[AnyMessage] = state["messages"]
        last = messages[-1] if messages else None
        if not isinstance(last, AIMessage):
            return None
        wanted = [(c["name"], c["args"]) for c in last.tool_calls] + [
            (c.get("name") or "unknown", c.get("args") or "") for c in last.invalid_tool_calls
        ]
        if self.run.stopped is not None:
            for name, args in wanted:
                self.run.skip(name, args)
            return {"jump_to": "end"}
        if not wanted:
            return None  # a final answer
        if self.run.steps >= self.run.max_steps or self.run.remaining() < MIN_CALL_S:
            reason = (
                StopReason.DEADLINE if self.run.remaining() < MIN_CALL_S else StopReason.STEP_LIMIT
            )
            self.run.stop(reason)
            for name, args in wanted:
                self.run.skip(name, args)
            return {"jump_to": "end"}
        if not last.invalid_tool_calls:
            return None
        replies = [
            ToolMessage(
                content=(
                    f"[{call.get('name') or 'unknown'}] status=error\nerror: the arguments are "
                    f"not a valid JSON object ({_parse_error(call.get('error'))}); call the "
                    "tool again with a JSON object matching its schema."
                ),
                name=call.get("name") or "unknown",
                tool_call_id=call.get("id") or "",
                status="error",
            )
            for call in last.invalid_tool_calls
            if call.get("id")
        ]
        if last.tool_calls:
            return {"messages": replies}  # the valid calls run; these answer the others
        return {"messages": replies, "jump_to": "model"}


def _parse_error(error: str | None) -> str:
    """The JSON decoder's words from LangChain's message, without its troubleshooting link."""
    if not error:
        return "unparsable"
    for line in error.splitlines():
        if "JSONDecodeError" in line:
            return line.split("JSONDecodeError", 1)[1].strip() or "unparsable"
    return error.splitlines()[0][:200]


def _short(exc: openai.APIError) -> str:
    status = getattr(exc, "status_code", None)
    text = str(exc).replace("\n", " ")[:200]
    return f"HTTP {status}: {text}" if status else f"{type(exc).__name__}: {text}"
