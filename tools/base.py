"""What every tool is: a declared unit returning a `ToolResult` value, never raising for backends.

A tool has a name (`backend_verb_noun`), a pydantic arguments model, one function, a
description written for an LLM (what it is for, when to use it, an example), and a risk level.
`Tool.run` validates raw arguments (as a model sends them) and turns every expected failure
into a `ToolResult` with status "error" and a short message the model can act on, so the agent
can correct itself and every answer can cite its evidence.

Exceptions, drawn as a tree (only `ToolError` is raised inside tool functions):

    ToolError                 expected failure, message shown to the model/user as is
    ├── ToolInputError        the arguments are wrong (bad PromQL, unknown metric, bad time)
    └── BackendError          the backend failed (timeout, refused, 4xx/5xx with its text)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.services import Services
from tools.budget import estimate_tokens

Backend = Literal["prometheus", "elasticsearch", "pagerduty", "alertmanager", "catalog"]


class Status(StrEnum):
    OK = "ok"
    NO_DATA = "no_data"
    ERROR = "error"


class Risk(StrEnum):
    READ = "read"
    PROPOSE = "propose"


class ToolError(Exception):
    """An expected failure; `str(exc)` is a short sentence the model can act on."""

    def __init__(self, message: str, *, query: str = "", status_code: int | None = None) -> None:
        super().__init__(message)
        self.query = query
        self.status_code = status_code


class ToolInputError(ToolError):
    """The arguments are wrong: fix them and call again."""


class BackendError(ToolError):
    """The backend failed: timeout, connection refused, or an HTTP error with its text."""


class TimeRange(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime


class ToolResult(BaseModel):
    """A tool's outcome: what was asked (`query`), over when, what came back, and the text.

    `data` is complete structured data (raw points for charts, every row); `text` is the
    compact, budget-bounded rendering given to a model. `truncated` says the text was cut.
    """

    model_config = ConfigDict(frozen=True)

    tool: str
    backend: Backend
    status: Status
    query: str = ""
    time_range: TimeRange | None = None
    data: Any = None
    text: str = ""
    error: str | None = None
    warnings: tuple[str, ...] = ()
    truncated: bool = False
    elapsed_ms: float = 0.0

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.render())

    def render(self) -> str:
        """What a model reads: status, query, range, warnings, then the text or the error."""
        lines = [f"[{self.tool}] status={self.status.value}"]
        if self.query:
            lines.append(f"query: {self.query}")
        if self.time_range is not None:
            lines.append(
                f"range: {self.time_range.start.isoformat()} .. {self.time_range.end.isoformat()}"
            )
        lines.extend(f"warning: {w}" for w in self.warnings)
        if self.error:
            lines.append(f"error: {self.error}")
        if self.text:
            lines.append(self.text)
        return "\n".join(lines)


@dataclass(frozen=True)
class ToolContext:
    """What a tool call may use: the clients, the clock, the zone and the output budget."""

    services: Services
    now: Callable[[], datetime]
    token_budget: int = 1500
    max_series: int = 20
    # Masks secrets and PII in what a tool returns, before any model or person sees it.
    redact: Callable[[str], str] | None = None

    @property
    def tz(self) -> ZoneInfo:
        return self.services.settings.tz


A = TypeVar("A", bound=BaseModel)


class ToolArgs(BaseModel):
    """Base of every arguments model: unknown arguments are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Tool(Generic[A]):
    """A declared tool. `fn` may raise `ToolError`; `run` never raises."""

    name: str
    backend: Backend
    description: str
    args: type[A]
    fn: Callable[[ToolContext, A], ToolResult]
    risk: Risk = Risk.READ
    tags: tuple[str, ...] = field(default=())

    def json_schema(self) -> dict[str, Any]:
        return self.args.model_json_schema()

    def run(self, ctx: ToolContext, raw_args: dict[str, Any] | A) -> ToolResult:
        started = time.perf_counter()
        try:
            args = (
                raw_args if isinstance(raw_args, self.args) else self.args.model_validate(raw_args)
            )
        except ValidationError as exc:
            return self._error(_describe_validation(exc), started, query="")
        try:
            result = self.fn(ctx, args)
        except ToolError as exc:
            return self._error(str(exc), started, query=exc.query)
        elapsed = (time.perf_counter() - started) * 1000
        return _redacted(ctx, result.model_copy(update={"elapsed_ms": elapsed}))

    def _error(self, message: str, started: float, *, query: str) -> ToolResult:
        return ToolResult(
            tool=self.name,
            backend=self.backend,
            status=Status.ERROR,
            query=query,
            error=message,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )


def _redacted(ctx: ToolContext, result: ToolResult) -> ToolResult:
    if ctx.redact is None:
        return result
    redact = ctx.redact
    return result.model_copy(
        update={
            "text": redact(result.text),
            "error": redact(result.error) if result.error else result.error,
            "data": _redact_data(result.data, redact),
        }
    )


def _redact_data(value: Any, redact: Callable[[str], str]) -> Any:
    """Strings anywhere in `data` (log messages, alert annotations...) masked too."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_data(v, redact) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_data(v, redact) for v in value)
    return value


def _describe_validation(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "arguments"
        problems.append(f"{loc}: {err['msg']}")
    return "invalid arguments: " + "; ".join(problems)


def description(what: str, when: str, example: str, *, notes: str = "") -> str:
    """The description format every tool uses, so models read them the same way."""
    parts = [what.strip(), f"Use it when: {when.strip()}"]
    if notes:
        parts.append(notes.strip())
    parts.append(f"Example: {example.strip()}")
    return "\n".join(parts)
