"""What a handler receives (`Request`) and returns (`Reply`), and the helpers they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.engine.answer import Language, Proposal
from bot.engine.planner.directory import Directory
from bot.engine.planner.intents import Intent
from bot.engine.planner.runner import Call, Runner
from bot.engine.planner.slots import Slots
from bot.engine.planner.timewin import Comparison, Window, promql_duration
from tools.base import ToolContext, ToolError
from tools.catalog import Catalog, Rendered, SignalName

# Signals that are a ratio of two counters: averaged over a period as the ratio of increases.
RATIO_OF_COUNTERS = frozenset({SignalName.ERROR_RATIO})
# Namespaces a per-service question means when it names none: the production one.
PRODUCTION = ("prod", "production", "prd")


@dataclass
class Request:
    """A routed question with its slots filled (service already resolved, or None)."""

    question: str
    lang: Language
    intent: Intent
    ctx: ToolContext
    runner: Runner
    catalog: Catalog
    directory: Directory
    slots: Slots
    service: str | None
    window: Window | None
    comparison: Comparison | None
    team: str | None = None  # a PagerDuty team or escalation policy named (on-call questions)

    @property
    def now(self) -> datetime:
        return self.ctx.now()

    @property
    def namespace(self) -> str | None:
        """The namespace asked for, else the production namespace when there is one."""
        if self.slots.namespace is not None:
            return self.slots.namespace
        return next((ns for ns in self.directory.namespaces if ns.lower() in PRODUCTION), None)

    def render(self, signal: SignalName, **kwargs: Any) -> Rendered | None:
        """The catalog's PromQL for a signal, None when this server cannot render it."""
        try:
            return self.catalog.render(signal, quantile=self.slots.quantile, **kwargs)
        except ToolError:
            return None

    def render_over(self, signal: SignalName, window: Window, **kwargs: Any) -> Rendered | None:
        """The signal over a whole window as one value (None where it is not a ratio).

        A ratio of counters over a period is the ratio of their increases: the error rate of a
        day is its 5xx requests divided by its requests (`sum(rate(5xx[12h])) /
        sum(rate(all[12h]))`), not the time-average of a 5-minute ratio, which gives a quiet
        night as much weight as the busy hours. The catalog renders it with the window as range.
        """
        if signal not in RATIO_OF_COUNTERS:
            return None
        try:
            return self.catalog.render(
                signal,
                quantile=self.slots.quantile,
                window=promql_duration(window.seconds),
                **kwargs,
            )
        except ToolError:
            return None

    def ns_for(self, signal: SignalName, namespace: str | None) -> str | None:
        """`namespace` if the signal has a namespace label on this server, else None."""
        if namespace is None or not self.catalog.has(signal):
            return None
        return namespace if self.catalog.binding(signal).namespace_label else None


@dataclass
class Reply:
    """A handler's answer: text, proposals, and what a follow-up needs."""

    text: str
    context: dict[str, Any] = field(default_factory=dict)
    proposals: list[Proposal] = field(default_factory=list)


def iso(at: datetime) -> str:
    return at.isoformat()


def range_call(
    promql: str, window: Window, *, rank_by: str = "max", step: str | None = None
) -> Call:
    args: dict[str, Any] = {
        "query": promql,
        "start": iso(window.start),
        "end": iso(window.end),
        "rank_by": rank_by,
    }
    if step is not None:
        args["step"] = step
    return ("prometheus_range_query", args)


def resolution(seconds: float) -> str:
    """Subquery resolution: 1m under a day, else 5m (a week is 2016 evaluations, ~20 ms).

    Subquery steps are aligned to multiples of the resolution, so a 5-minute grid keeps the
    samples where daily peaks sit; a coarser one could step over a peak.
    """
    return "1m" if seconds < 86400 else "5m"


def baseline_call(promql: str, window: Window, days: int = 7) -> Call:
    """The window's average on each of the previous `days` days, as one range query.

    One point per day (step 1d, each the average of the same hours that day): the result's
    mean is the baseline, and its min/max show how much days vary.
    """
    length = promql_duration(window.seconds)
    query = f"avg_over_time(({promql})[{length}:{resolution(window.seconds)}])"
    return (
        "prometheus_range_query",
        {
            "query": query,
            "start": iso(window.end - timedelta(days=days)),
            "end": iso(window.end - timedelta(days=1)),
            "step": "1d",
            "rank_by": "mean",
        },
    )


def instant_call(promql: str, at: datetime) -> Call:
    return ("prometheus_instant_query", {"query": promql, "time": iso(at)})


def daily_call(promql: str, window: Window, days: int = 7) -> Call:
    """A whole-window query at the same hour of each of the previous `days` days (step 1d)."""
    return (
        "prometheus_range_query",
        {
            "query": promql,
            "start": iso(window.end - timedelta(days=days)),
            "end": iso(window.end - timedelta(days=1)),
            "step": "1d",
            "rank_by": "mean",
        },
    )


def over_window_call(function: str, promql: str, window: Window) -> Call:
    """`avg_over_time` / `max_over_time` of a query over a whole window, evaluated at its end."""
    length = promql_duration(window.seconds)
    query = f"{function}(({promql})[{length}:{resolution(window.seconds)}])"
    return ("prometheus_instant_query", {"query": query, "time": iso(window.end)})
