"""Who is on call, for a service's escalation policy, a team, or every policy, now or then.

"Now" is the request's clock (a pinned `now` replays the past), and "a week ago" / "il y a 2
jours" moves the instant: the tool is always asked `at` an explicit instant. A team
("platform", "la plateforme") is matched against PagerDuty's teams and escalation policies
(directory.py) and keeps the on-calls of its policies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.engine.planner import text
from bot.engine.planner.handlers.base import Reply, Request
from bot.engine.planner.text import t
from bot.engine.planner.timewin import parse_instant
from tools.base import Status


def handle(req: Request) -> Reply:
    lang, tz, now = req.lang, req.ctx.tz, req.now
    at = parse_instant(req.question, now) or now
    args: dict[str, Any] = {"at": at.isoformat()}
    if req.service:
        args["service"] = req.service
    result = req.runner.run("pagerduty_oncall", args)
    context = {"intent": req.intent.value, "service": req.service, "team": req.team}
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
    scope = req.service or req.team
    if req.service is None and req.team is not None:
        policies = set(req.directory.teams.get(req.team, (req.team,)))
        rows = [r for r in rows if r.get("escalation_policy") in policies]
    past = abs((now - at).total_seconds()) >= 60
    when = (
        t(lang, f"at {text.clock(at, tz, now, lang)}", f"à {text.clock(at, tz, now, lang)}")
        if past
        else t(lang, "right now", "en ce moment")
    )
    if not rows:
        target = t(lang, f" for {scope}", f" pour {scope}") if scope else ""
        return Reply(
            t(
                lang,
                f"Nobody is on call{target} {when}.",
                f"Personne n'est d'astreinte{target} {when}.",
            ),
            context,
        )
    by_policy: dict[str, list[str]] = {}
    for row in sorted(
        rows, key=lambda r: (str(r.get("escalation_policy")), int(r.get("level") or 0))
    ):
        end = row.get("end")
        until = ""
        if end:
            until = t(lang, " until ", " jusqu'à ") + text.clock(
                datetime.fromisoformat(str(end).replace("Z", "+00:00")), tz, now, lang
            )
        schedule = f" ({row['schedule']}{until})" if row.get("schedule") else ""
        level = t(lang, f"level {row.get('level')}", f"niveau {row.get('level')}")
        by_policy.setdefault(str(row.get("escalation_policy")), []).append(
            f"{row.get('user')}{schedule}, {level}"
        )
    then = t(lang, "; then ", " ; puis ")
    at_text = f" {when}" if past else ""
    if scope and len(by_policy) == 1:
        policy, people = next(iter(by_policy.items()))
        named = f"{scope} ({policy})" if policy.lower() != scope.lower() else policy
        head = t(lang, f"On call for {named}{at_text}: ", f"D'astreinte pour {named}{at_text} : ")
        return Reply(head + then.join(people), context)
    lines = [
        t(lang, f"On call {when}:", f"D'astreinte {when} :")
        if not scope
        else t(lang, f"On call for {scope}{at_text}:", f"D'astreinte pour {scope}{at_text} :")
    ]
    lines += [f"  - {policy}: " + then.join(people) for policy, people in by_policy.items()]
    return Reply("\n".join(lines), context)
