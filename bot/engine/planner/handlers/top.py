"""Top services by a signal over a window ("which service has the highest P99 since this morning").

One range query ranks every service (and namespace) by the signal: latency and error rate by
their peak (what an on-call worries about), throughput, CPU and memory by their average.
When the question asks for one service ("which service...") and the first is a latency or error
outlier against its own baseline, the answer goes on to investigate it (handlers/why.py), as
in the reference conversation; the baseline and the correlation queries then run together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bot.engine.answer import Language
from bot.engine.planner import analysis, text
from bot.engine.planner.analysis import Series
from bot.engine.planner.handlers import why
from bot.engine.planner.handlers.base import (
    Reply,
    Request,
    baseline_call,
    instant_call,
    range_call,
)
from bot.engine.planner.text import t
from bot.engine.planner.timewin import Window, default_window
from tools.catalog import SignalName

DEFAULT_WINDOW_S = 3600
ANOMALY = 1.5  # peak / baseline above which the top service is investigated
_BY_PEAK = {SignalName.LATENCY, SignalName.ERROR_RATIO, SignalName.POOL_SATURATION}


@dataclass(frozen=True)
class _Format:
    """How the rows of one ranking read: the signal, its unit, the window, the labels."""

    signal: SignalName
    unit: str
    window: Window
    service_key: str
    ns_key: str | None


def _figures(s: Series, signal: SignalName, unit: str, req: Request, window: Window) -> str:
    """`851 ms max at 08:40, 845 ms now` (peak-ranked) or `46.2 GB avg (peak 52.2 GB)`."""
    lang, tz, now = req.lang, req.ctx.tz, req.now
    if signal in _BY_PEAK and req.slots.stat != "mean":
        at = text.clock(float(s.stats.get("max_at") or 0), tz, now, lang)
        ends_now = abs((window.end - now).total_seconds()) < 60
        last = t(lang, "now", "maintenant") if ends_now else t(lang, "at the end", "à la fin")
        peak, current = text.value(s.stat("max"), unit), text.value(s.last, unit)
        return t(
            lang, f"{peak} max at {at}, {current} {last}", f"{peak} max à {at}, {current} {last}"
        )
    mean, peak = text.value(s.stat("mean"), unit), text.value(s.stat("max"), unit)
    return t(lang, f"{mean} avg (peak {peak})", f"{mean} en moyenne (pic {peak})")


def _row(s: Series, req: Request, fmt: _Format) -> str:
    namespace = s.labels.get(fmt.ns_key) if fmt.ns_key else None
    name = text.where(s.labels.get(fmt.service_key, "?"), namespace)
    return f"{name}{t(req.lang, ': ', ' : ')}{_figures(s, fmt.signal, fmt.unit, req, fmt.window)}"


def _by_ratio(
    req: Request,
    *,
    signal: SignalName,
    window: Window,
    promql: str,
    unit: str,
    namespace: str | None,
    by: list[str],
) -> Reply:
    """Services ranked by a ratio over the whole window ("highest average error rate")."""
    lang, tz, now = req.lang, req.ctx.tz, req.now
    binding = req.catalog.binding(signal)
    result = req.runner.run("prometheus_instant_query", dict(instant_call(promql, window.end)[1]))
    ranked = [s for s in analysis.series(result) if math.isfinite(s.value)]
    ranked.sort(key=lambda s: -s.value)
    label = text.signal(signal, lang, req.slots.quantile)
    span = text.window(window, tz, now, lang)
    context: dict[str, Any] = {
        "intent": req.intent.value,
        "signal": signal.value,
        "quantile": req.slots.quantile,
        "namespace": namespace,
        "topk": req.slots.topk,
        "stat": "mean",
        "window": window.to_context(),
    }
    if not ranked:
        return _no_data(lang, label, span, result.error, context)
    ns_key = binding.namespace_label if "namespace" in by else None

    def name(s: Series) -> str:
        ns = s.labels.get(ns_key) if ns_key else namespace
        return text.where(s.labels.get(binding.service_key or "service", "?"), ns)

    count = req.slots.topk or 3
    colon = t(lang, ": ", " : ")
    rows = [f"{name(s)}{colon}{text.value(s.value, unit)}" for s in ranked[:count]]
    first = ranked[0]
    context["service"] = first.labels.get(binding.service_key or "service")
    how = t(
        lang,
        "(failed requests / all requests over the period)",
        "(requêtes en échec / toutes les requêtes sur la période)",
    )
    if req.slots.topk is not None:
        head = t(
            lang,
            f"Top {len(rows)} services by average {label} {span} {how}:",
            f"Top {len(rows)} des services par {label} moyen {span} {how} :",
        )
        return Reply("\n".join([head, *(f"{i}. {r}" for i, r in enumerate(rows, 1))]), context)
    head = t(
        lang,
        f"{name(first)} has the highest average {label} {span}: "
        f"{text.value(first.value, unit)} {how}.",
        f"{name(first)} a le {label} moyen le plus élevé {span} : "
        f"{text.value(first.value, unit)} {how}.",
    )
    others = t(lang, "Next: ", "Ensuite : ") + "; ".join(rows[1:]) if len(rows) > 1 else ""
    return Reply("\n".join(x for x in (head, others) if x), context)


def _highest_fr(signal: SignalName) -> str:
    # "la latence ... la plus élevée", "le taux d'erreur ... le plus élevé"
    return "la plus élevée" if signal is SignalName.LATENCY else "le plus élevé"


def handle(req: Request) -> Reply:
    lang, tz, now = req.lang, req.ctx.tz, req.now
    signal = req.slots.signal or SignalName.LATENCY
    window = req.window or default_window(now, DEFAULT_WINDOW_S)
    namespace = req.ns_for(signal, req.slots.namespace)
    if not req.catalog.has(signal):
        return Reply(
            t(
                lang,
                f"This Prometheus has no {text.signal(signal, lang)} signal I can rank services "
                "by.",
                f"Ce Prometheus n'a pas de signal de {text.signal(signal, lang)} pour classer les "
                "services.",
            )
        )
    binding = req.catalog.binding(signal)
    by = ["service"] + (["namespace"] if binding.namespace_label and namespace is None else [])
    rendered = req.render(signal, namespace=namespace, by=tuple(by))
    if rendered is None or binding.service_key is None:
        return Reply(
            t(
                lang,
                f"{text.signal(signal, lang)} has no service label on this Prometheus: I cannot "
                "rank services by it.",
                f"La {text.signal(signal, lang)} n'a pas de label de service sur ce Prometheus : "
                "impossible de classer les services.",
            )
        )
    if req.slots.stat == "mean":
        whole = req.render_over(signal, window, namespace=namespace, by=tuple(by))
        if whole is not None:
            return _by_ratio(
                req,
                signal=signal,
                window=window,
                promql=whole.promql,
                unit=whole.unit,
                namespace=namespace,
                by=by,
            )
    rank_by = "mean" if req.slots.stat == "mean" or signal not in _BY_PEAK else "max"
    result = req.runner.run(
        "prometheus_range_query", dict(range_call(rendered.promql, window, rank_by=rank_by)[1])
    )
    ranked = analysis.series(result)
    label = text.signal(signal, lang, req.slots.quantile)
    span = text.window(window, tz, now, lang)
    context: dict[str, Any] = {
        "intent": req.intent.value,
        "signal": signal.value,
        "quantile": req.slots.quantile,
        "namespace": namespace,
        "topk": req.slots.topk,
        "window": window.to_context(),
    }
    if not ranked:
        return _no_data(lang, label, span, result.error, context)
    service_key = binding.service_key
    ns_key = binding.namespace_label if "namespace" in by else None
    unit = rendered.unit
    fmt = _Format(signal, unit, window, service_key, ns_key)
    if req.slots.topk is not None:
        shown = ranked[: req.slots.topk]
        rows = [f"{i}. {_row(s, req, fmt)}" for i, s in enumerate(shown, 1)]
        head = t(
            lang,
            f"Top {len(shown)} services by {label} {span}:",
            f"Top {len(shown)} des services par {label} {span} :",
        )
        return Reply("\n".join([head, *rows]), context)
    top = ranked[0]
    service = top.labels.get(service_key, "?")
    top_ns = top.labels.get(ns_key) if ns_key else namespace
    context["service"] = service
    context["namespace"] = top_ns
    others = [_row(s, req, fmt) for s in ranked[1:3]]
    others_text = t(lang, "Next: ", "Ensuite : ") + "; ".join(others) if others else ""
    if signal not in (SignalName.LATENCY, SignalName.ERROR_RATIO):
        figures = _figures(top, signal, unit, req, window)
        head = t(
            lang,
            f"{text.where(service, top_ns)} has the highest {label} {span}: {figures}.",
            f"Premier en {label} {span} : {text.where(service, top_ns)}, {figures}.",
        )
        return Reply("\n".join(x for x in (head, others_text) if x), context)
    return _with_baseline(
        req,
        signal=signal,
        window=window,
        top=top,
        service=service,
        namespace=top_ns,
        unit=unit,
        others_text=others_text,
        context=context,
    )


def _with_baseline(
    req: Request,
    *,
    signal: SignalName,
    window: Window,
    top: Series,
    service: str,
    namespace: str | None,
    unit: str,
    others_text: str,
    context: dict[str, Any],
) -> Reply:
    """The top service against its baseline, investigated when it is an outlier."""
    lang, tz, now = req.lang, req.ctx.tz, req.now
    rendered = req.render(signal, service=service, namespace=namespace)
    assert rendered is not None  # the same signal rendered for all services just above

    # The baseline and the correlation do not depend on each other: run them together, and
    # drop the correlation's results if the service turns out to be normal.
    (base_result,), by_role = why.run_correlation(
        req,
        service,
        namespace,
        window,
        [baseline_call(rendered.promql, window)],
        onset=why.early_onset(top),
    )
    base = analysis.first(base_result)
    label = text.short_signal(signal, lang, req.slots.quantile)
    span = text.window(window, tz, now, lang)
    peak = text.value(top.stat("max"), unit)
    peak_at = text.clock(float(top.stats.get("max_at") or 0), tz, now, lang)
    where = text.where(service, namespace)
    current = text.value(top.last, unit)
    if base is None or not math.isfinite(base.stat("mean")) or base.stat("mean") <= 0:
        for result in by_role.values():
            req.runner.forget(result)
        head = t(
            lang,
            f"{where}: {label} {current} (peak {peak} at {peak_at}), the highest {span}; no "
            "history to compare it with.",
            f"{where} : {label} {current} (pic {peak} à {peak_at}), {_highest_fr(signal)} {span} "
            "; pas d'historique pour comparer.",
        )
        return Reply("\n".join(x for x in (head, others_text) if x), context)
    baseline = base.stat("mean")
    base_text = text.value(baseline, unit)
    head = t(
        lang,
        f"{where}: {label} {current} (baseline {base_text}, average of the same hours over the "
        f"previous 7 days), the highest {span}; peak {peak} at {peak_at}.",
        f"{where} : {label} {current} (référence {base_text}, moyenne des mêmes heures sur les 7 "
        f"jours précédents), {_highest_fr(signal)} {span} ; pic {peak} à {peak_at}.",
    )
    context["baseline"] = baseline
    if top.stat("max") < ANOMALY * baseline:
        for result in by_role.values():
            req.runner.forget(result)
        head += " " + t(lang, "That is its usual level.", "C'est son niveau habituel.")
        return Reply("\n".join(x for x in (head, others_text) if x), context)
    found = why.investigate(
        req,
        service=service,
        namespace=namespace,
        window=window,
        main=top,
        baseline=baseline,
        results=by_role,
    )
    lines = [head, *why.render_investigation(found, lang)]
    if others_text:
        lines.append(others_text)
    context["investigated"] = True
    return Reply("\n".join(lines), context, found.proposals)


def _no_data(
    lang: Language, label: str, span: str, error: str | None, context: dict[str, Any]
) -> Reply:
    """The honest reply when the ranking query returned nothing (or failed)."""
    reason = error or t(lang, "no data", "aucune donnée")
    return Reply(
        t(
            lang,
            f"No {label} data {span} ({reason}).",
            f"Pas de données de {label} {span} ({reason}).",
        ),
        context,
    )
