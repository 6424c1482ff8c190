"""Error logs of a service (or of all): the most frequent message patterns and their volume."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.engine.planner import text
from bot.engine.planner.handlers.base import Reply, Request
from bot.engine.planner.text import t
from bot.engine.planner.timewin import default_window
from tools.base import Status

DEFAULT_WINDOW_S = 3600
TOP = 5


def handle(req: Request) -> Reply:
    lang, tz, now = req.lang, req.ctx.tz, req.now
    window = req.window or default_window(now, DEFAULT_WINDOW_S)
    args: dict[str, Any] = {
        "level": "error",
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
    }
    if req.service:
        args["service"] = req.service
    if req.slots.namespace:
        args["namespace"] = req.slots.namespace
    top, histogram = req.runner.many(
        [("logs_top_messages", {**args, "top": TOP}), ("logs_histogram", args)]
    )
    context = {
        "intent": req.intent.value,
        "service": req.service,
        "namespace": req.slots.namespace,
        "window": window.to_context(),
    }
    span = text.window(window, tz, now, lang)
    scope = req.service or t(lang, "all services", "tous les services")
    if top.status is Status.ERROR:
        return Reply(
            t(
                lang,
                f"I could not read the logs: {top.error}",
                f"Impossible de lire les logs : {top.error}",
            ),
            context,
        )
    data = top.data or {}
    total = int(data.get("total") or 0)
    if total == 0:
        return Reply(
            t(lang, f"{scope}: no error logs {span}.", f"{scope} : aucun log d'erreur {span}."),
            context,
        )
    head = t(
        lang,
        f"{scope}: {total} error log lines {span}",
        f"{scope} : {total} lignes de log en erreur {span}",
    )
    peak = (histogram.data or {}).get("peak") if histogram.status is Status.OK else None
    if isinstance(peak, dict) and peak.get("count"):
        at = text.clock(
            datetime.fromisoformat(str(peak["start"]).replace("Z", "+00:00")), tz, now, lang
        )
        seconds = int((histogram.data or {}).get("interval_s") or 300)
        bucket = f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"
        head += t(
            lang,
            f", peak {peak['count']} per {bucket} at {at}",
            f", pic de {peak['count']} par {bucket} à {at}",
        )
    lines = [head + t(lang, ". Most frequent:", ". Les plus fréquents :")]
    for row in data.get("patterns", [])[:TOP]:
        first, last = row.get("first_seen"), row.get("last_seen")
        times = ""
        if first and last:
            a = text.clock(datetime.fromisoformat(str(first).replace("Z", "+00:00")), tz, now, lang)
            b = text.clock(datetime.fromisoformat(str(last).replace("Z", "+00:00")), tz, now, lang)
            times = f" ({a}–{b})"
        services = row.get("services") or {}
        who = f" [{', '.join(services)}]" if req.service is None and services else ""
        lines.append(
            f"  - {row.get('count')}× {row.get('example') or row.get('pattern')}{who}{times}"
        )
    return Reply("\n".join(lines), context)
