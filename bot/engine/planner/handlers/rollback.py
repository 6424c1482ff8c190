"""An explicit rollback request ("roll back payment-gateway", "annule le déploiement de X").

The answer is a Proposal draft, never an execution: from the version running now to the one
before it, both read from evidence (the service's PagerDuty change events, which carry the
previous version, else the version changes of the catalog's deploys signal). A version named in
the question ("to v2.14.1") is the target when the evidence knows it. Nothing runs until an
authorised person approves the proposal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from bot.engine.answer import Proposal
from bot.engine.planner import analysis, text
from bot.engine.planner.handlers.base import Reply, Request, range_call
from bot.engine.planner.runner import Call
from bot.engine.planner.text import t
from bot.engine.planner.timewin import Window
from tools.catalog import SignalName

HISTORY = timedelta(days=14)  # how far back the previous deploy is looked for
_VERSION: Final = re.compile(r"(?<![\w.])v?(\d+\.\d+(?:\.\d+)?(?:[-+][\w.]+)?)(?![\w.])")


@dataclass(frozen=True)
class _Deploy:
    at: datetime
    version: str
    previous: str | None
    namespace: str | None
    description: str | None


def handle(req: Request) -> Reply:
    lang, tz, now = req.lang, req.ctx.tz, req.now
    service = req.service
    assert service is not None  # the planner asks which service first
    namespace = req.namespace
    window = Window(now - HISTORY, now, "since")
    calls: list[Call] = [
        (
            "pagerduty_change_events",
            {
                "service": service,
                "since": window.start.isoformat(),
                "until": window.end.isoformat(),
                "limit": 100,
            },
        )
    ]
    rendered = req.render(
        SignalName.DEPLOYS, service=service, namespace=req.ns_for(SignalName.DEPLOYS, namespace)
    )
    if rendered is not None:
        calls.append(range_call(rendered.promql, window))
    results = req.runner.many(calls)
    deploys = _deploys(req, service, namespace, results)
    context: dict[str, Any] = {
        "intent": req.intent.value,
        "service": service,
        "namespace": namespace,
    }
    where = text.where(service, namespace)
    if not deploys:
        return Reply(
            t(
                lang,
                f"I cannot propose a rollback of {where}: I see no deploy of it since "
                f"{text.clock(window.start, tz, now, lang)}, so no previous version to go back to.",
                f"Je ne peux pas proposer de rollback de {where} : je ne vois aucun déploiement "
                f"depuis {text.clock(window.start, tz, now, lang)}, donc pas de version "
                "précédente vers laquelle revenir.",
            ),
            context,
        )
    last = deploys[-1]
    known = {d.version for d in deploys} | {d.previous for d in deploys if d.previous}
    asked = [v for v in _VERSION.findall(req.question) if v != last.version]
    target = last.previous
    if asked:
        if asked[0] not in known:
            return Reply(
                t(
                    lang,
                    f"I cannot propose a rollback of {where} to v{asked[0]}: no deploy since "
                    f"{text.clock(window.start, tz, now, lang)} ran it (versions seen: "
                    f"{', '.join('v' + v for v in sorted(known))}).",
                    f"Je ne peux pas proposer de revenir à la v{asked[0]} de {where} : aucun "
                    f"déploiement depuis {text.clock(window.start, tz, now, lang)} ne l'a "
                    f"exécutée (versions vues : {', '.join('v' + v for v in sorted(known))}).",
                ),
                context,
            )
        target = asked[0]
    at = text.clock(last.at, tz, now, lang)
    running = _running(req, results, window)
    if running and last.version not in running:
        shown = ", ".join("v" + v for v in sorted(running))
        return Reply(
            t(
                lang,
                f"The last deploy of {where} was v{last.version} at {at}, but Prometheus shows "
                f"{shown} running now: it may already be rolled back, so I propose nothing.",
                f"Le dernier déploiement de {where} est la v{last.version} à {at}, mais "
                f"Prometheus montre {shown} en cours d'exécution : le rollback a peut-être déjà "
                "eu lieu, je ne propose rien.",
            ),
            context,
        )
    if target is None:
        return Reply(
            t(
                lang,
                f"{where} runs v{last.version} since {at}, but I do not know the version before "
                "it: I cannot draft a rollback.",
                f"{where} tourne en v{last.version} depuis {at}, mais je ne connais pas la "
                "version précédente : impossible de préparer un rollback.",
            ),
            context,
        )
    note = f" ({last.description})" if last.description else ""
    ns = last.namespace or namespace
    proposal = Proposal(
        action="rollback",
        target=service,
        parameters={"from_version": last.version, "to_version": target, "namespace": ns},
        rationale=t(
            lang,
            f"Rollback requested: {where} runs v{last.version}, deployed at {at}{note}; the "
            f"previous version is v{target}.",
            f"Rollback demandé : {where} tourne en v{last.version}, déployée à {at}{note} ; la "
            f"version précédente est la v{target}.",
        ),
    )
    context.update(from_version=last.version, to_version=target)
    reply = t(
        lang,
        f"{where} runs v{last.version}, deployed at {at}{note}, replacing v{last.previous}.\n"
        f"Proposed: roll back {service} to v{target}. Nothing runs until an authorised person "
        "approves it.",
        f"{where} tourne en v{last.version}, déployée à {at}{note}, à la place de la "
        f"v{last.previous}.\nProposé : revenir à la v{target} de {service}. Rien ne s'exécute "
        "avant l'approbation d'une personne autorisée.",
    )
    return Reply(reply, context, [proposal])


def _deploys(
    req: Request, service: str, namespace: str | None, results: list[Any]
) -> list[_Deploy]:
    """The service's deploys in the namespace, oldest first: change events, else versions."""
    found = [
        _Deploy(e.at, e.version, e.previous, e.namespace, _short(e.description))
        for e in analysis.change_events(results[0])
        if service in e.services
        and e.version
        and (namespace is None or e.namespace in (None, namespace))
    ]
    if not found and len(results) > 1 and req.catalog.has(SignalName.DEPLOYS):
        b = req.catalog.binding(SignalName.DEPLOYS)
        for c in analysis.version_changes(
            results[1], b.service_key, b.namespace_label, b.version_label or "version"
        ):
            if c.service == service and (namespace is None or c.namespace in (None, namespace)):
                at = datetime.fromtimestamp(c.at, UTC)
                found.append(_Deploy(at, c.version, c.previous, c.namespace, None))
    return sorted(found, key=lambda d: d.at)


def _running(req: Request, results: list[Any], window: Window) -> set[str]:
    """Versions the deploys signal still shows at the end of the window (empty if unknown)."""
    if len(results) < 2 or not req.catalog.has(SignalName.DEPLOYS):
        return set()
    label = req.catalog.binding(SignalName.DEPLOYS).version_label or "version"
    recent = window.end.timestamp() - 15 * 60
    return {
        s.labels[label]
        for s in analysis.series(results[1])
        if label in s.labels and any(ts >= recent for ts, _ in analysis.finite(s.points))
    }


def _short(description: str | None) -> str | None:
    """The headline of a change description: 'ORM upgrade: order lines...' -> 'ORM upgrade'."""
    if not description:
        return None
    head = re.split(r"[:;(\n]", description, maxsplit=1)[0].strip()
    return head[:60] or None
