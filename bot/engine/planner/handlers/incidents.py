"""PagerDuty incidents: the open ones, or every incident of a period ("last week", "yesterday").

"Open incidents?" lists what is triggered or acknowledged, whatever its age. A period, or words
about the past ("history", "did we have", "y a-t-il eu", "resolved"), lists the incidents
created in that window whatever their status (default: the last 7 days), resolved ones
included, with when and by whom they were resolved.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Final

from bot.engine.planner import text
from bot.engine.planner.handlers.base import Reply, Request
from bot.engine.planner.normalize import normalize
from bot.engine.planner.text import t
from bot.engine.planner.timewin import Window
from tools.base import Status

MAX_SHOWN = 12
RECENT_S = 7 * 86400  # "did we have incidents?": the last week
HISTORY_S = 30 * 86400  # "incident history of checkout": the last month
_LONG: Final = re.compile(r"\bhistory\b|\bhistorique\b")
_OPEN: Final = re.compile(
    r"\bopen\b|\bongoing\b|\bactive\b|\bcurrent(?:ly)?\b|\bunresolved\b|\bouverts?\b|"
    r"\ben cours\b|\bactuels?\b|\bnon resolus?\b|\bright now\b|\ben ce moment\b"
)
_HISTORY: Final = re.compile(
    r"\bhistory\b|\bhistorique\b|\bpast\b|\bpasses?\b|\bprevious\b|\bresolved\b|\bresolus?\b|"
    r"\bclosed\b|\bfermes?\b|\bdid (?:we|you) have\b|\bwere there\b|\bhave there been\b|"
    r"\bhad\b|\by a-t-il eu\b|\ba-t-on eu\b|\bavons-nous eu|\bavez-vous eu|\beus?\b|"
    r"\bsurvenus?\b|\brecent\b|\brecents?\b|\blast\b|\bderniers?\b|\bdernieres?\b"
)
_STATUS_EN: Final = {
    "triggered": "triggered",
    "acknowledged": "acknowledged",
    "resolved": "resolved",
}
_STATUS_FR: Final = {"triggered": "déclenché", "acknowledged": "acquitté", "resolved": "résolu"}


def handle(req: Request) -> Reply:
    lang, tz, now = req.lang, req.ctx.tz, req.now
    question = normalize(req.question)
    history = req.window is not None or (
        bool(_HISTORY.search(question)) and not _OPEN.search(question)
    )
    args: dict[str, Any] = {"limit": 50}
    window: Window | None = None
    if history:
        length, amount = (HISTORY_S, "30 days") if _LONG.search(question) else (RECENT_S, "7 days")
        window = req.window or Window(now - timedelta(seconds=length), now, "last", amount)
        args.update(since=window.start.isoformat(), until=window.end.isoformat())
        if _OPEN.search(question):
            args["statuses"] = ["triggered", "acknowledged"]
    else:
        args["statuses"] = ["triggered", "acknowledged"]
    if req.service:
        args["services"] = [req.service]
    result = req.runner.run("pagerduty_list_incidents", args)
    context: dict[str, Any] = {"intent": req.intent.value, "service": req.service}
    if window is not None:
        context["window"] = window.to_context()
    target = t(lang, f" for {req.service}", f" pour {req.service}") if req.service else ""
    if result.status is Status.ERROR:
        return Reply(
            t(
                lang,
                f"I could not read PagerDuty: {result.error}",
                f"Impossible de lire PagerDuty : {result.error}",
            ),
            context,
        )
    rows = list(result.data or [])
    if window is None:
        if not rows:
            return Reply(
                t(lang, f"No open incident{target}.", f"Aucun incident ouvert{target}."), context
            )
        head = t(
            lang,
            f"{len(rows)} open incident{'s' if len(rows) > 1 else ''}{target}:",
            f"{len(rows)} incident{'s' if len(rows) > 1 else ''} "
            f"ouvert{'s' if len(rows) > 1 else ''}{target} :",
        )
        return Reply("\n".join([head, *_lines(rows, req)]), context)
    span = text.window(window, tz, now, lang)
    if not rows:
        return Reply(
            t(lang, f"No incident{target} {span}.", f"Aucun incident{target} {span}."), context
        )
    still_open = sum(1 for r in rows if r.get("status") != "resolved")
    n = len(rows)
    if still_open:
        plural = "s" if still_open > 1 else ""
        open_text = t(lang, f" ({still_open} still open)", f" ({still_open} encore ouvert{plural})")
    else:
        open_text = (
            t(lang, " (all resolved)", " (tous résolus)")
            if n > 1
            else t(lang, " (resolved)", " (résolu)")
        )
    head = t(
        lang,
        f"{n} incident{'s' if n > 1 else ''}{target} {span}{open_text}, newest first:",
        f"{n} incident{'s' if n > 1 else ''}{target} {span}{open_text}, du plus récent au plus "
        "ancien :",
    )
    lines = _lines(rows, req)
    if len(rows) > MAX_SHOWN:
        lines.append(
            t(lang, f"  (+{len(rows) - MAX_SHOWN} more)", f"  (+{len(rows) - MAX_SHOWN} autres)")
        )
    return Reply("\n".join([head, *lines]), context)


def _lines(rows: list[dict[str, Any]], req: Request) -> list[str]:
    lang, tz, now = req.lang, req.ctx.tz, req.now
    lines = []
    for row in rows[:MAX_SHOWN]:
        status = str(row.get("status"))
        status_text = (_STATUS_FR if lang == "fr" else _STATUS_EN).get(status, status)
        who = row.get("assignees") or []
        detail = ""
        if status == "resolved":
            detail = t(lang, ", resolved", ", résolu")
            if row.get("resolved_at"):
                at = datetime.fromisoformat(str(row["resolved_at"]).replace("Z", "+00:00"))
                detail += " " + text.clock(at, tz, now, lang)
            if row.get("last_status_change_by"):
                detail += t(lang, " by ", " par ") + str(row["last_status_change_by"])
        elif who:
            detail = t(lang, f", assigned to {', '.join(who)}", f", assigné à {', '.join(who)}")
        since = t(lang, "since", "depuis") if status != "resolved" else t(lang, "on", "le")
        lines.append(
            f"  - #{row.get('number')} {status_text} ({row.get('urgency')}) {since} "
            f"{row.get('created_local')}: {row.get('service')}: {row.get('title')}{detail}"
        )
    return lines
