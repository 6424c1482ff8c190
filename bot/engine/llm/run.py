"""`Run`: what one question's agent loop has done so far, and what limits it.

The tools and the middleware write here as the loop goes (tool calls may run in parallel
threads, hence the lock); the agent builds the Answer from a `snapshot()`, which is complete
even when the loop is abandoned at the deadline: evidence gathered, proposals drafted, tool
calls the model asked for but that never ran, tokens spent, and why the loop stopped.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.engine.answer import Proposal
from tools.base import ToolResult


class StopReason(StrEnum):
    STEP_LIMIT = "step_limit"
    DEADLINE = "deadline"
    LLM_ERROR = "llm_error"


@dataclass(frozen=True)
class RunSnapshot:
    results: tuple[ToolResult, ...]
    proposals: tuple[Proposal, ...]
    not_checked: tuple[str, ...]
    steps: int
    prompt_tokens: int
    completion_tokens: int
    stopped: StopReason | None
    error: str | None
    elapsed_s: float


class Run:
    """Mutable, thread-safe record of one agent loop; see the module docstring."""

    def __init__(
        self,
        *,
        max_steps: int,
        deadline_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_steps = max_steps
        self.deadline_s = deadline_s
        self._clock = clock
        self.started = clock()
        self.deadline = self.started + deadline_s
        self._lock = threading.Lock()
        self._results: list[ToolResult] = []
        self._proposals: list[Proposal] = []
        self._not_checked: list[str] = []
        self._in_flight: dict[int, str] = {}
        self._next_call = 0
        self._steps = 0
        self._prompt_tokens = 0
        self._completion_tokens = 0
        self._stopped: StopReason | None = None
        self._error: str | None = None

    # ------------------------------------------------------------------------------ limits

    def remaining(self) -> float:
        return self.deadline - self._clock()

    def expired(self) -> bool:
        return self.remaining() <= 0

    @property
    def steps(self) -> int:
        with self._lock:
            return self._steps

    @property
    def stopped(self) -> StopReason | None:
        with self._lock:
            return self._stopped

    def stop(self, reason: StopReason, error: str | None = None) -> None:
        """Record why the loop ends; the first reason wins."""
        with self._lock:
            if self._stopped is None:
                self._stopped = reason
                self._error = error

    # ----------------------------------------------------------------------------- records

    def model_call(self, prompt_tokens: int, completion_tokens: int) -> None:
        with self._lock:
            self._steps += 1
            self._prompt_tokens += prompt_tokens
            self._completion_tokens += completion_tokens

    def begin(self, tool: str, args: Any) -> int:
        """A tool call starts; until `end`, it counts as not checked."""
        with self._lock:
            self._next_call += 1
            self._in_flight[self._next_call] = describe_call(tool, args)
            return self._next_call

    def end(self, call_id: int, result: ToolResult | None = None) -> None:
        with self._lock:
            self._in_flight.pop(call_id, None)
            if result is not None:
                self._results.append(result)

    def skip(self, tool: str, args: Any) -> None:
        """A tool call the model asked for that will not run (limit reached)."""
        with self._lock:
            self._not_checked.append(describe_call(tool, args))

    def propose(self, proposal: Proposal) -> bool:
        """Keep a proposal draft (once); False when the same one was already drafted."""
        with self._lock:
            if proposal in self._proposals:
                return False
            self._proposals.append(proposal)
            return True

    def snapshot(self) -> RunSnapshot:
        with self._lock:
            return RunSnapshot(
                results=tuple(self._results),
                proposals=tuple(self._proposals),
                not_checked=(*self._not_checked, *self._in_flight.values()),
                steps=self._steps,
                prompt_tokens=self._prompt_tokens,
                completion_tokens=self._completion_tokens,
                stopped=self._stopped,
                error=self._error,
                elapsed_s=self._clock() - self.started,
            )


def describe_call(tool: str, args: Any, *, max_chars: int = 200) -> str:
    """`tool(key=value, ...)`, short, for the list of what was not checked."""
    if isinstance(args, dict):
        inner = ", ".join(
            f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in args.items()
        )
    else:
        inner = str(args)
    text = f"{tool}({inner})"
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"
