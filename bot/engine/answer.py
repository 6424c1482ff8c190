"""The Answer: Vigie's public reply contract (`vigie ask --json` prints exactly `to_json()`).

    {"answer": text in the question's language, "language": "en"|"fr", "mode": "llm"|"planner",
     "evidence": [{"backend", "query", "start", "end", "summary"}], "charts": [PNG paths],
     "proposals": [{"action", "target", "parameters", "rationale"}],
     "timings": {"total_ms": ..., "<backend>_ms": ...}, "tokens": {"prompt", "completion", "cost"}}

Every number in `answer` must come from `evidence` of the same Answer: evidence is built from
the `ToolResult`s of the tool calls that produced the answer, never written by hand.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.base import ToolResult

Language = Literal["en", "fr"]
Mode = Literal["llm", "planner"]
EvidenceBackend = Literal["prometheus", "elasticsearch", "pagerduty", "alertmanager", "catalog"]


class Evidence(BaseModel):
    """One query as run: backend, exact query or API call, time range, compact result."""

    model_config = ConfigDict(frozen=True)

    backend: EvidenceBackend
    query: str
    start: datetime | None = None
    end: datetime | None = None
    summary: str
    tool: str = Field(default="", exclude=True)  # internal: which tool produced it
    status: str = Field(default="ok", exclude=True)

    @classmethod
    def from_result(cls, result: ToolResult, *, max_chars: int = 600) -> Evidence:
        text = result.error if result.error else result.text
        summary = text if len(text) <= max_chars else text[: max_chars - 1] + "…"
        return cls(
            backend=result.backend,
            query=result.query,
            start=result.time_range.start if result.time_range else None,
            end=result.time_range.end if result.time_range else None,
            summary=summary or result.status.value,
            tool=result.tool,
            status=result.status.value,
        )


class Proposal(BaseModel):
    """A remediation draft. Proposals are never executed by the engine (approvals issue)."""

    model_config = ConfigDict(frozen=True)

    action: str  # e.g. "rollback", "scale", "silence", "acknowledge", "raise_pool_limit"
    target: str  # e.g. "payment-gateway (prod)"
    parameters: dict[str, Any] = Field(default_factory=dict)
    rationale: str


class Tokens(BaseModel):
    prompt: int = 0
    completion: int = 0
    cost: float = 0.0


class Answer(BaseModel):
    """What `ask` returns. `to_json()` is the public contract; the rest is for the surfaces."""

    answer: str
    language: Language
    mode: Mode
    evidence: list[Evidence] = Field(default_factory=list)
    charts: list[str] = Field(default_factory=list)
    proposals: list[Proposal] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=lambda: {"total_ms": 0.0})
    tokens: Tokens = Field(default_factory=Tokens)
    # Internal: what a follow-up needs (intent, service, signal, window...); not in the JSON.
    context: dict[str, Any] = Field(default_factory=dict, exclude=True)
    # Internal: the tool results behind the evidence (raw points for charts/sparklines).
    results: list[ToolResult] = Field(default_factory=list, exclude=True)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = self.model_dump(mode="json")
        return data

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2)


def timings_from(results: Iterable[ToolResult], total_ms: float) -> dict[str, float]:
    """{"total_ms": total, "<backend>_ms": time spent in that backend's tools}."""
    per_backend: dict[str, float] = defaultdict(float)
    for result in results:
        per_backend[f"{result.backend}_ms"] += result.elapsed_ms
    return {"total_ms": round(total_ms, 1)} | {k: round(v, 1) for k, v in per_backend.items()}
