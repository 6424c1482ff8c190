"""What is firing: Alertmanager's active alerts and Prometheus' firing alerts, deduplicated.

Both are asked at once: Alertmanager knows what was routed (and silenced), Prometheus what
its rules evaluate right now, and a team may run either. Alerts are the servers' current
state: a pinned "now" does not replay past alerts.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.engine.answer import Language
from bot.engine.planner import text
from bot.engine.planner.handlers.base import Reply, Request
from bot.engine.planner.text import t
from tools.base import Status

MAX_SHOWN = 10


def _matches(labels: dict[str, Any], service: str | None) -> bool:
    return service is None or service in {str(v) for v in labels.values()}


def handle(req: Request) -> Reply:
    lang, tz, now = req.lang, req.ctx.tz, req.now
    am, prom = req.runner.many(
        [("alertmanager_alerts", {"active": True}), ("prometheus_alerts", {"state": "any"})]
    )
    seen: dict[tuple[str, str, str], str] = {}
    pending = 0
    if am.status is Status.OK:
        for row in am.data or []:
            labels = dict(row.get("labels") or {})
            if not _matches(labels, req.service):
                continue
            key = (
                str(row.get("alertname")),
                labels.get("service", ""),
                labels.get("namespace", ""),
            )
            since = row.get("since_local") or "?"
            seen[key] = _line(
                lang,
                row.get("severity"),
                key[0],
                labels,
                since=str(since),
                summary=row.get("summary"),
            )
    if prom.status is Status.OK:
        for alert in (prom.data or {}).get("alerts", []):
            labels = dict(alert.get("labels") or {})
            if not _matches(labels, req.service):
                continue
            if alert.get("state") != "firing":
                pending += 1
                continue
            key = (
                str(labels.get("alertname")),
                labels.get("service", ""),
                labels.get("namespace", ""),
            )
            if key in seen:
                continue
            summary = (alert.get("annotations") or {}).get("summary", "")
            since = alert.get("activeAt")
            since_text = text.clock(_parse(since), tz, now, lang) if since else "?"
            seen[key] = _line(
                lang, labels.get("severity"), key[0], labels, since=since_text, summary=summary
            )
    context = {"intent": req.intent.value, "service": req.service}
    target = t(lang, f" for {req.service}", f" pour {req.service}") if req.service else ""
    if am.status is Status.ERROR and prom.status is Status.ERROR:
        return Reply(
            t(
                lang,
                f"I could not read the alerts: {am.error}; {prom.error}",
                f"Impossible de lire les alertes : {am.error} ; {prom.error}",
            ),
            context,
        )
    pending_text = (
        t(lang, f" ({pending} pending in Prometheus)", f" ({pending} en attente dans Prometheus)")
        if pending
        else ""
    )
    if not seen:
        return Reply(
            t(
                lang,
                f"Nothing is firing{target} right now{pending_text}.",
                f"Rien ne sonne{target} en ce moment{pending_text}.",
            ),
            context,
        )
    lines = list(seen.values())
    head = t(
        lang,
        f"{len(lines)} alert{'s' if len(lines) > 1 else ''} firing{target}{pending_text}:",
        f"{len(lines)} alerte{'s' if len(lines) > 1 else ''} en cours{target}{pending_text} :",
    )
    shown = [f"  - {line}" for line in lines[:MAX_SHOWN]]
    if len(lines) > MAX_SHOWN:
        shown.append(
            t(lang, f"  (+{len(lines) - MAX_SHOWN} more)", f"  (+{len(lines) - MAX_SHOWN} autres)")
        )
    return Reply("\n".join([head, *shown]), context)


def _scope(labels: dict[str, Any]) -> str:
    service, namespace = labels.get("service"), labels.get("namespace")
    if service:
        return f"[{text.where(str(service), str(namespace) if namespace else None)}]"
    return f"[{namespace}]" if namespace else ""


def _line(
    lang: Language, severity: Any, name: str, labels: dict[str, Any], *, since: str, summary: Any
) -> str:
    """`critical HighErrorRatio [payment-gateway (prod)] since 08:07: 5xx ratio above 2%`."""
    line = f"{severity or '-'} {name} {_scope(labels)} {t(lang, 'since', 'depuis')} {since}"
    return f"{line}: {summary}" if summary else line


def _parse(raw: str) -> float:
    """Prometheus' activeAt (RFC 3339 with nanoseconds) as Unix seconds."""
    cleaned = re.sub(r"(\.\d{6})\d+", r"\1", raw.replace("Z", "+00:00"))
    return datetime.fromisoformat(cleaned).timestamp()
