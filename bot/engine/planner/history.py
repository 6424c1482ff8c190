"""How far back the metrics go: a window older than the server's history is said, not guessed.

Prometheus keeps a limited history (15 days in the demo world). A question about "the same day
last year" would otherwise be answered from an empty range, or worse from a default window:
the planner first asks when the question's signal has its oldest sample inside the window (one
cheap subquery), and

* when the whole window is older, replies that it cannot answer, saying how far back data goes;
* when only its start is older, answers and says from when the figures are.

Only windows reaching more than `PROBE_AFTER` into the past are checked: a baseline already
reads 7 days back, so anything younger is within any useful retention.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from bot.engine.planner import analysis
from bot.engine.planner.handlers.base import Reply, Request
from bot.engine.planner.text import t
from bot.engine.planner.timewin import Window, promql_duration
from tools.base import Status
from tools.catalog import SignalName

PROBE_AFTER: Final = timedelta(days=8)
MAX_SPAN: Final = timedelta(days=800)


@dataclass(frozen=True)
class Coverage:
    """The oldest sample of the signal at or after the window's start (None: unknown)."""

    oldest: datetime | None


def oldest_sample(req: Request, window: Window) -> Coverage:
    """When the question's signal has its first sample since `window.start`."""
    now = req.now.astimezone(UTC)
    if window.start >= now - PROBE_AFTER:
        return Coverage(None)
    signal = req.slots.signal or SignalName.LATENCY
    if not req.catalog.has(signal):
        return Coverage(None)
    ns = req.ns_for(signal, req.namespace)
    rendered = req.render(signal, service=req.service, namespace=ns)
    if rendered is None:
        return Coverage(None)
    span = min(now - window.start, MAX_SPAN)
    coarse = span > timedelta(days=30)
    result = req.runner.run(
        "prometheus_instant_query",
        {
            "query": _first_sample(rendered.promql, span, "1d" if coarse else "1h"),
            "time": now.isoformat(),
        },
    )
    if result.status is Status.ERROR:
        req.runner.forget(result)
        return Coverage(None)
    probes = [result]
    value = analysis.scalar(result)
    if value is None:  # no sample at all since the window's start: nothing is kept that far
        return Coverage(now)
    oldest = datetime.fromtimestamp(value, UTC)
    if coarse:
        # Refine on a 5-minute grid over the day before the first daily sample.
        refined = req.runner.run(
            "prometheus_instant_query",
            {
                "query": _first_sample(rendered.promql, timedelta(days=1), "5m"),
                "time": oldest.isoformat(),
            },
        )
        finer = analysis.scalar(refined)
        if finer is not None:
            oldest = datetime.fromtimestamp(finer, UTC)
        probes.append(refined)
    if oldest <= window.start + timedelta(hours=1):
        for probe in probes:
            req.runner.forget(probe)  # covered: the probes are not part of the answer
        return Coverage(None)
    return Coverage(oldest)


def _first_sample(promql: str, span: timedelta, step: str) -> str:
    length = promql_duration(span.total_seconds())
    return f"min(min_over_time(timestamp({promql})[{length}:{step}]))"


def check(req: Request, window: Window) -> tuple[Reply | None, str | None]:
    """(a refusal when the whole window is older than the history, else None; a note to put
    before the answer when only its start is)."""
    coverage = oldest_sample(req, window)
    if coverage.oldest is None:
        return None, None
    lang, tz, now = req.lang, req.ctx.tz, req.now
    days = max(0, round((now - coverage.oldest).total_seconds() / 86400))
    day = coverage.oldest.astimezone(tz)
    since = t(
        lang,
        f"its metrics only go back to {day:%Y-%m-%d %H:%M} ({days} days)",
        f"ses métriques ne remontent qu'au {day:%d/%m/%Y %H:%M} ({days} jours)",
    )
    if coverage.oldest >= now - timedelta(hours=1):
        since = t(lang, "it keeps nothing that old", "il ne garde rien d'aussi ancien")
    if coverage.oldest < window.end:
        note = t(
            lang,
            f"Note: the period asked starts before the history Prometheus keeps; {since}, so "
            "the figures below start there.",
            f"Remarque : la période demandée commence avant l'historique conservé par "
            f"Prometheus ; {since}, les chiffres ci-dessous partent de là.",
        )
        return None, note
    first = window.start.astimezone(tz).date()
    last = (window.end - timedelta(seconds=1)).astimezone(tz).date()
    period = (
        t(lang, f"{first:%Y-%m-%d}", f"du {first:%d/%m/%Y}")
        if first == last
        else t(
            lang,
            f"{first:%Y-%m-%d} to {last:%Y-%m-%d}",
            f"du {first:%d/%m/%Y} au {last:%d/%m/%Y}",
        )
    )
    return (
        Reply(
            t(
                lang,
                f"I cannot answer: Prometheus has no metrics from {period}, older than the "
                f"history it keeps; {since}.",
                f"Je ne peux pas répondre : Prometheus n'a pas de métriques {period}, plus "
                f"anciennes que l'historique qu'il conserve ; {since}.",
            ),
            {"intent": req.intent.value, "service": req.service},
        ),
        None,
    )
