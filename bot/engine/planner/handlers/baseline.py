"""One service's signal now against its baseline ("is checkout latency normal?").

Now is the window asked (default: the last hour); the baseline is the average of the same
hours over the previous 7 days (one query, one point per day). The verdict compares averages:
within 20 % is normal, beyond 50 % is clearly above (or below).
"""

from __future__ import annotations

import math

from bot.engine.planner import analysis, text
from bot.engine.planner.handlers.base import (
    Reply,
    Request,
    baseline_call,
    daily_call,
    instant_call,
    range_call,
)
from bot.engine.planner.text import t
from bot.engine.planner.timewin import default_window
from tools.catalog import SignalName

DEFAULT_WINDOW_S = 3600


def _verdict(ratio: float, lang: str) -> str:
    fr = lang == "fr"
    if ratio >= 1.5:
        return "nettement au-dessus de la normale" if fr else "clearly above normal"
    if ratio >= 1.2:
        return "un peu au-dessus de la normale" if fr else "slightly above normal"
    if ratio <= 1 / 1.5:
        return "nettement en dessous de la normale" if fr else "clearly below normal"
    if ratio <= 1 / 1.2:
        return "un peu en dessous de la normale" if fr else "slightly below normal"
    return "normal"


def handle(req: Request) -> Reply:
    lang, tz, now = req.lang, req.ctx.tz, req.now
    service = req.service
    assert service is not None  # the planner asks for the service first
    signal = req.slots.signal or SignalName.LATENCY
    window = req.window or default_window(now, DEFAULT_WINDOW_S)
    namespace = req.ns_for(signal, req.namespace)
    context = {
        "intent": req.intent.value,
        "service": service,
        "namespace": namespace,
        "signal": signal.value,
        "quantile": req.slots.quantile,
        "window": window.to_context(),
    }
    rendered = req.render(signal, service=service, namespace=namespace)
    label = text.signal(signal, lang, req.slots.quantile)
    where = text.where(service, namespace)
    if rendered is None:
        return Reply(
            t(
                lang,
                f"I cannot read the {label} of {service} on this Prometheus.",
                f"Je ne trouve pas la {label} de {service} sur ce Prometheus.",
            ),
            context,
        )
    # A ratio of counters (the error rate) averages as the ratio over the window, now and on
    # each previous day (errors / requests), not as the mean of 5-minute ratios.
    whole = req.render_over(signal, window, service=service, namespace=namespace)
    calls = [range_call(rendered.promql, window, rank_by="mean")]
    if whole is not None:
        calls += [daily_call(whole.promql, window), instant_call(whole.promql, window.end)]
    else:
        calls.append(baseline_call(rendered.promql, window))
    results = req.runner.many(calls)
    current_result, base_result = results[0], results[1]
    current, base = analysis.first(current_result), analysis.first(base_result)
    overall = analysis.scalar(results[2]) if whole is not None else None
    span = text.window(window, tz, now, lang)
    unit = rendered.unit
    if current is None:
        reason = current_result.error or t(lang, "no data", "aucune donnée")
        return Reply(
            t(
                lang,
                f"{where}: no {label} data {span} ({reason}).",
                f"{where} : pas de données de {label} {span} ({reason}).",
            ),
            context,
        )
    mean, last = current.stat("mean"), current.last
    if overall is not None:
        mean = overall
    head = t(
        lang,
        f"{where} {label} {span}: {text.value(mean, unit)} avg, {text.value(last, unit)} at the "
        "end",
        f"{text.capital(label)} de {where} {span} : {text.value(mean, unit)} en moyenne, "
        f"{text.value(last, unit)} à la fin",
    )
    if base is None or not math.isfinite(base.stat("mean")):
        return Reply(
            head + t(lang, "; no history to compare with.", " ; pas d'historique pour comparer."),
            context,
        )
    baseline = base.stat("mean")
    context["baseline"] = baseline
    ratio = mean / baseline if baseline > 0 else (1.0 if mean == 0 else math.inf)
    verdict = _verdict(ratio, lang)
    change = text.percent_change(mean, baseline)
    usual = t(
        lang,
        f"vs {text.value(baseline, unit)} usually (average of the same hours over the previous 7 "
        f"days, from {text.value(base.stat('min'), unit)} to {text.value(base.stat('max'), unit)})",
        f"contre {text.value(baseline, unit)} d'habitude (moyenne des mêmes heures sur les 7 "
        f"jours précédents, de {text.value(base.stat('min'), unit)} à "
        f"{text.value(base.stat('max'), unit)})",
    )
    tail = f": {verdict} ({change})." if change != "n/a" else f": {verdict}."
    if lang == "fr":
        tail = f" : {verdict} ({change})." if change != "n/a" else f" : {verdict}."
    return Reply(f"{head}, {usual}{tail}", context)
