"""The `propose_*` tools: how the model drafts a remediation. Drafting is all they can do.

A propose tool validates its arguments and returns a `Proposal` to be attached to the Answer;
it has no client, no context and no side effect, so a model (or a prompt injection reaching
one) cannot act on anything: nothing runs until a person approves the proposal (the actions
layer re-checks policy and preconditions then).

    tool = PROPOSE_TOOLS_BY_NAME["propose_rollback"]
    tool.draft({"service": "payment-gateway", "namespace": "prod", "to_version": "v2.14.2",
                "rationale": "P99 tripled since the 08:30 deploy of v2.14.3"})
    # Proposal(action="rollback", target="payment-gateway (prod)", parameters={...}, ...)

Invalid arguments raise `ProposalInputError` with a sentence the model can act on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.engine.answer import Proposal
from tools.base import Risk, description

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
_DURATION = re.compile(r"^(?P<n>[1-9][0-9]{0,3})(?P<unit>m|h|d)$")
_MAX_SILENCE_MINUTES = 7 * 24 * 60


class ProposalInputError(ValueError):
    """The arguments of a propose_* call are wrong; the message says how to fix them."""


class ProposeArgs(BaseModel):
    """Every proposal says why, citing the evidence (queries, values) behind it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rationale: str = Field(
        min_length=10,
        max_length=600,
        description="why, citing the evidence: the query results, times and values observed",
    )


class _WorkloadArgs(ProposeArgs):
    service: str = Field(pattern=_NAME, description="service (workload) name, exact")
    namespace: str = Field(pattern=_NAME, description="namespace, e.g. prod")


class RollbackArgs(_WorkloadArgs):
    to_version: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,62}$",
        description="the version to go back to, as the deploy metrics or change events name it",
    )
    from_version: str | None = Field(
        None, max_length=63, description="the version running now, when known"
    )


class ScaleArgs(_WorkloadArgs):
    replicas: int = Field(ge=0, le=500, description="the desired number of replicas")


class SilenceArgs(ProposeArgs):
    matchers: list[str] = Field(
        min_length=1,
        max_length=10,
        description='Alertmanager matchers, e.g. ["alertname=\\"HighLatency\\"", '
        '"service=\\"payment-gateway\\""]',
    )
    duration: str = Field(description="how long: 30m, 2h, 1d (at most 7d)")

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        match = _DURATION.fullmatch(value.strip())
        if match is None:
            raise ValueError("use a number and a unit: 30m, 2h or 1d")
        minutes = int(match["n"]) * {"m": 1, "h": 60, "d": 1440}[match["unit"]]
        if minutes > _MAX_SILENCE_MINUTES:
            raise ValueError("at most 7d")
        return value.strip()

    @field_validator("matchers")
    @classmethod
    def _matchers(cls, value: list[str]) -> list[str]:
        for matcher in value:
            if not re.fullmatch(r'\s*[A-Za-z_][A-Za-z0-9_]*\s*(=|!=|=~|!~)\s*".*"\s*', matcher):
                raise ValueError(f'not a matcher: {matcher!r}; use name="value"')
        return value


class AcknowledgeArgs(ProposeArgs):
    incident_id: str = Field(
        pattern=r"^[A-Za-z0-9]{1,32}$", description="PagerDuty incident id, e.g. Q1ABCD2EFGH3IJ"
    )


class RaisePoolLimitArgs(_WorkloadArgs):
    pool: str = Field(
        pattern=_NAME, description="which pool: the pool name of the saturation metric, e.g. db"
    )
    to_limit: int = Field(ge=1, le=100000, description="the new maximum size of the pool")
    from_limit: int | None = Field(None, ge=0, le=100000, description="the current maximum")


P = TypeVar("P", bound=ProposeArgs)


@dataclass(frozen=True)
class ProposeTool(Generic[P]):
    """A declared propose tool: arguments model, and how its arguments become a Proposal."""

    name: str
    action: str
    description: str
    args: type[P]
    target: Callable[[P], str]
    risk: Risk = Risk.PROPOSE

    def json_schema(self) -> dict[str, Any]:
        return self.args.model_json_schema()

    def draft(self, raw_args: dict[str, Any]) -> Proposal:
        """The Proposal these arguments describe; `ProposalInputError` when they are wrong."""
        try:
            args = self.args.model_validate(raw_args)
        except ValidationError as exc:
            raise ProposalInputError(_describe(exc)) from None
        parameters = args.model_dump(exclude={"rationale"}, exclude_none=True)
        return Proposal(
            action=self.action,
            target=self.target(args),
            parameters=parameters,
            rationale=args.rationale.strip(),
        )


def _describe(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "arguments"
        problems.append(f"{loc}: {err['msg']}")
    return "invalid arguments: " + "; ".join(problems)


def _workload(args: _WorkloadArgs) -> str:
    return f"{args.service} ({args.namespace})"


_NOTE = (
    "This only drafts a proposal shown to the user with Approve / Reject buttons; nothing is "
    "executed by calling it."
)

PROPOSE_ROLLBACK: ProposeTool[RollbackArgs] = ProposeTool(
    name="propose_rollback",
    action="rollback",
    description=description(
        "Propose rolling a service back to a previous version.",
        "the evidence ties a regression (latency, errors, saturation) to a deploy, and the "
        "previous version was healthy.",
        'service="payment-gateway", namespace="prod", to_version="v2.14.2", '
        'from_version="v2.14.3", rationale="P99 847 ms since the 08:30 deploy of v2.14.3 '
        '(230 ms before)"',
        notes=_NOTE,
    ),
    args=RollbackArgs,
    target=_workload,
)

PROPOSE_SCALE: ProposeTool[ScaleArgs] = ProposeTool(
    name="propose_scale",
    action="scale",
    description=description(
        "Propose scaling a service to a number of replicas.",
        "the evidence shows the service saturated (CPU, throughput) and more replicas would help.",
        'service="checkout", namespace="prod", replicas=6, rationale="CPU at 95 % on all 3 '
        'replicas since 09:10"',
        notes=_NOTE,
    ),
    args=ScaleArgs,
    target=_workload,
)

PROPOSE_SILENCE: ProposeTool[SilenceArgs] = ProposeTool(
    name="propose_silence",
    action="silence",
    description=description(
        "Propose an Alertmanager silence for the alerts matching some matchers.",
        "an alert is noisy or its cause is known and being handled.",
        'matchers=["alertname=\\"HighLatency\\"", "service=\\"payment-gateway\\""], '
        'duration="2h", rationale="known cause, rollback in progress"',
        notes=_NOTE,
    ),
    args=SilenceArgs,
    target=lambda args: ", ".join(m.strip() for m in args.matchers),
)

PROPOSE_ACKNOWLEDGE: ProposeTool[AcknowledgeArgs] = ProposeTool(
    name="propose_acknowledge",
    action="acknowledge",
    description=description(
        "Propose acknowledging a PagerDuty incident.",
        "an incident is triggered and someone is investigating it.",
        'incident_id="Q1ABCD2EFGH3IJ", rationale="cause identified: pool saturation"',
        notes=_NOTE,
    ),
    args=AcknowledgeArgs,
    target=lambda args: f"incident {args.incident_id}",
)

PROPOSE_RAISE_POOL_LIMIT: ProposeTool[RaisePoolLimitArgs] = ProposeTool(
    name="propose_raise_pool_limit",
    action="raise_pool_limit",
    description=description(
        "Propose raising the maximum size of a connection pool of a service.",
        "a pool is saturated (at its maximum) and the backend behind it has headroom.",
        'service="payment-gateway", namespace="prod", pool="db", from_limit=50, to_limit=100, '
        'rationale="pool at 50/50 since 08:42, PostgreSQL at 40 % CPU"',
        notes=_NOTE,
    ),
    args=RaisePoolLimitArgs,
    target=_workload,
)

PROPOSE_TOOLS: tuple[ProposeTool[Any], ...] = (
    PROPOSE_ROLLBACK,
    PROPOSE_SCALE,
    PROPOSE_SILENCE,
    PROPOSE_ACKNOWLEDGE,
    PROPOSE_RAISE_POOL_LIMIT,
)
PROPOSE_TOOLS_BY_NAME: dict[str, ProposeTool[Any]] = {t.name: t for t in PROPOSE_TOOLS}
