"""A namespace or a service over two periods, with the services that changed most.

"this week vs last week" compares the 7 days ending now with the 7 before; "today vs yesterday"
midnight-to-now with the same hours the day before (timewin.py). Each period's average and
peak come from one subquery each (`avg_over_time((q)[7d:5m])` evaluated at the period's end):
the 5-minute grid is that of the scrapes, so peaks are not stepped over. For additive signals
(memory, CPU, throughput) of a namespace, the per-service averages of both periods give the
main contributors; one whose series grew day after day this period is a "probable leak".
"""

from __future__ import annotations

import math
from typing import Any

from bot.engine.planner import analysis, text
from bot.engine.planner.handlers.base import (
    Reply,
    Request,
    instant_call,
    over_window_call,
    range_call,
)
from bot.engine.planner.runner import Call
from bot.engine.planner.text import t
from bot.engine.planner.timewin import week_over_week
from tools.base import ToolResult
from tools.catalog import SignalName

_ADDITIVE = {SignalName.MEMORY, SignalName.CPU, SignalName.THROUGHPUT, SignalName.RESTARTS}
CONTRIBUTORS = 3
STEADY = 0.02  # a change of the average under 2 % is not worth contributors


def handle(req: Request) -> Reply:
    lang = req.lang
    signal = req.slots.signal or SignalName.MEMORY
    comparison = req.comparison or week_over_week(req.now)
    service = req.service
    namespace = req.ns_for(signal, req.slots.namespace if service is None else req.namespace)
    context: dict[str, Any] = {
        "intent": req.intent.value,
        "signal": signal.value,
        "service": service,
        "namespace": namespace,
        "quantile": req.slots.quantile,
        "comparison": comparison.kind,
        "window": comparison.current.to_context(),
    }
    rendered = req.render(signal, service=service, namespace=namespace)
    label = text.signal(signal, lang, req.slots.quantile)
    if rendered is None:
        return Reply(
            t(
                lang,
                f"I cannot read {label} on this Prometheus.",
                f"Je ne trouve pas la {label} sur ce Prometheus.",
            ),
            context,
        )
    cur, prev = comparison.current, comparison.previous
    # A ratio of counters averages as the ratio over the period (errors / requests); both
    # periods have the same length, so one rendering serves both.
    whole = req.render_over(signal, cur, service=service, namespace=namespace)
    calls: list[Call] = [
        instant_call(whole.promql, cur.end)
        if whole
        else over_window_call("avg_over_time", rendered.promql, cur),
        over_window_call("max_over_time", rendered.promql, cur),
        instant_call(whole.promql, prev.end)
        if whole
        else over_window_call("avg_over_time", rendered.promql, prev),
        over_window_call("max_over_time", rendered.promql, prev),
    ]
    per_service = None
    if service is None and signal in _ADDITIVE:
        per_service = req.render(signal, namespace=namespace, by=("service",))
    if per_service is not None:
        calls += [
            over_window_call("avg_over_time", per_service.promql, cur),
            over_window_call("avg_over_time", per_service.promql, prev),
            range_call(per_service.promql, cur, rank_by="mean"),
        ]
    results = req.runner.many(calls)
    values = [analysis.scalar(r) for r in results[:4]]
    scope = service or namespace or t(lang, "all services", "tous les services")
    if any(v is None for v in values):
        missing = next(r for r, v in zip(results, values, strict=False) if v is None)
        reason = missing.error or t(lang, "no data", "aucune donnée")
        return Reply(
            t(
                lang,
                f"{scope}: no {label} data for both periods ({reason}).",
                f"{scope} : pas de données de {label} sur les deux périodes ({reason}).",
            ),
            context,
        )
    cur_avg, cur_max, prev_avg, prev_max = (float(v) for v in values if v is not None)
    unit = rendered.unit
    periods = (
        t(lang, "this week vs last week", "cette semaine vs la semaine dernière")
        if comparison.kind == "week"
        else t(lang, "today vs yesterday (same hours)", "aujourd'hui vs hier (mêmes heures)")
    )
    head = t(
        lang,
        f"{scope} {label}, {periods}: {text.value(cur_avg, unit)} avg (peak "
        f"{text.value(cur_max, unit)}) vs {text.value(prev_avg, unit)} avg (peak "
        f"{text.value(prev_max, unit)}), {text.percent_change(cur_avg, prev_avg)}.",
        f"{scope}, {label} {periods} : {text.value(cur_avg, unit)} en moyenne (pic "
        f"{text.value(cur_max, unit)}) contre {text.value(prev_avg, unit)} en moyenne (pic "
        f"{text.value(prev_max, unit)}), {text.percent_change(cur_avg, prev_avg)}.",
    )
    context.update({"current_avg": cur_avg, "previous_avg": prev_avg})
    if per_service is None or abs(cur_avg - prev_avg) < STEADY * abs(prev_avg):
        return Reply(head, context)  # no notable change: no contributors to name
    contributors = _contributors(req, results[4:7], total_change=cur_avg - prev_avg, unit=unit)
    if contributors:
        head += (
            "\n"
            + t(lang, "Main contributors: ", "Principaux contributeurs : ")
            + ", ".join(contributors)
        )
    return Reply(head, context)


def _contributors(
    req: Request, results: list[ToolResult], *, total_change: float, unit: str
) -> list[str]:
    """The services whose average moved most in the direction of the total, leaks flagged."""
    cur, prev, trend = results
    binding = req.catalog.binding(req.slots.signal or SignalName.MEMORY)
    key = binding.service_key or "service"
    before = {s.labels.get(key, "?"): s.value for s in analysis.series(prev)}
    changes = [
        (s.labels.get(key, "?"), s.value - before.get(s.labels.get(key, "?"), 0.0))
        for s in analysis.series(cur)
        if math.isfinite(s.value)
    ]
    sign = 1 if total_change >= 0 else -1
    changes = [
        (name, d) for name, d in changes if d * sign > 0 and abs(d) >= 0.05 * abs(total_change)
    ]
    changes.sort(key=lambda x: -abs(x[1]))
    growing = {
        s.labels.get(key, "?")
        for s in analysis.series(trend)
        if analysis.grows_steadily(s.points, req.ctx.tz)
    }
    out = []
    for name, d in changes[:CONTRIBUTORS]:
        item = f"{name} {text.delta(d, unit)}"
        if name in growing and d > 0 and req.slots.signal in (None, SignalName.MEMORY):
            item += t(req.lang, " (probable leak)", " (fuite probable)")
        out.append(item)
    return out
