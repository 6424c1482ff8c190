"""Recent deploys and changes: PagerDuty change events and the catalog's version changes.

Change events carry the why (summary, previous version); the deploys signal (an info metric's
version label) catches rollouts nobody announced. Both are asked at once; a version change
already described by a change event is not listed twice.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Final

from bot.engine.planner import analysis, text
from bot.engine.planner.handlers.base import Reply, Request, range_call
from bot.engine.planner.normalize import normalize
from bot.engine.planner.text import t
from bot.engine.planner.timewin import default_window
from tools.base import Status
from tools.catalog import SignalName

DEFAULT_WINDOW_S = 24 * 3600
MAX_SHOWN = 12
# "which version of X is running", "quelle version tourne", "current version": the versions
# running now, not the deploys of a window.
_RUNNING: Final = re.compile(
    r"\b(?:which|what) versions?\b|\bquelles? versions?\b|\bcurrent versions?\b|"
    r"\bversions? (?:actuelles?|courantes?|en cours)\b|\brunning\b|\btourne|\ben quelle version\b|"
    r"\bversion (?:deployee|deployed|in prod|en prod)\b"
)
SINCE_LOOKBACK = timedelta(days=14)  # change events read to say since when a version runs


def handle(req: Request) -> Reply:
    """The versions running now when that is the question, else the deploys of a window."""
    if req.window is None and _RUNNING.search(normalize(req.question)):
        running = _running(req)
        if running is not None:
            return running
    return _recent(req)


def _recent(req: Request) -> Reply:
    lang, tz, now = req.lang, req.ctx.tz, req.now
    window = req.window or default_window(now, DEFAULT_WINDOW_S)
    namespace = req.slots.namespace
    change_args: dict[str, Any] = {
        "since": window.start.isoformat(),
        "until": window.end.isoformat(),
        "limit": 100,
    }
    if req.service:
        change_args["service"] = req.service
    calls: list[tuple[str, dict[str, Any]]] = [("pagerduty_change_events", change_args)]
    rendered = req.render(
        SignalName.DEPLOYS,
        service=req.service,
        namespace=req.ns_for(SignalName.DEPLOYS, namespace),
        by=("namespace",) if req.ns_for(SignalName.DEPLOYS, "x") else (),
    )
    if rendered is not None:
        calls.append(range_call(rendered.promql, window))
    results = req.runner.many(calls)
    events = analysis.change_events(results[0])
    if namespace:
        events = [e for e in events if e.namespace in (None, namespace)]
    items: list[tuple[float, str]] = []
    described: set[tuple[str, str]] = set()
    for e in events:
        service = e.services[0] if e.services else "?"
        if e.version:
            described.add((service, e.version))
        detail = []
        if e.namespace:
            detail.append(e.namespace)
        if e.previous:
            detail.append(t(lang, f"from v{e.previous}", f"depuis v{e.previous}"))
        version = f" v{e.version}" if e.version else ""
        line = f"{text.clock(e.at, tz, now, lang)} {service}{version}"
        line += f" ({', '.join(detail)})" if detail else ""
        line += f": {e.description or e.summary}"
        items.append((e.at.timestamp(), line))
    if rendered is not None and len(results) > 1 and req.catalog.has(SignalName.DEPLOYS):
        b = req.catalog.binding(SignalName.DEPLOYS)
        for c in analysis.version_changes(
            results[1], b.service_key, b.namespace_label, b.version_label or "version"
        ):
            if (c.service, c.version) in described or (
                namespace and c.namespace not in (None, namespace)
            ):
                continue
            scope = f" ({c.namespace})" if c.namespace else ""
            prev = t(lang, f", from v{c.previous}", f", depuis v{c.previous}") if c.previous else ""
            items.append(
                (
                    c.at,
                    f"{text.clock(c.at, tz, now, lang)} {c.service} v{c.version}{scope}{prev}: "
                    + t(
                        lang,
                        "version change seen in Prometheus (no change event)",
                        "changement de version vu dans Prometheus (sans change event)",
                    ),
                )
            )
    context = {
        "intent": req.intent.value,
        "service": req.service,
        "namespace": namespace,
        "window": window.to_context(),
    }
    span = text.window(window, tz, now, lang)
    target = t(lang, f" of {req.service}", f" de {req.service}") if req.service else ""
    if not items:
        errors = [r.error for r in results if r.status is Status.ERROR and r.error]
        note = f" ({'; '.join(errors)})" if errors else ""
        return Reply(
            t(
                lang,
                f"No deploy or change{target} {span}{note}.",
                f"Aucun déploiement ni changement{target} {span}{note}.",
            ),
            context,
        )
    items.sort(key=lambda x: -x[0])
    head = t(
        lang,
        f"{len(items)} deploy{'s' if len(items) > 1 else ''} and "
        f"change{'s' if len(items) > 1 else ''}{target} {span}, newest first:",
        f"{len(items)} déploiement{'s' if len(items) > 1 else ''} et "
        f"changement{'s' if len(items) > 1 else ''}{target} {span}, du plus récent au plus ancien "
        ":",
    )
    lines = [f"  - {line}" for _, line in items[:MAX_SHOWN]]
    return Reply("\n".join([head, *lines]), context)


def _running(req: Request) -> Reply | None:
    """The versions the deploys signal shows now, with the change event that brought each."""
    lang, tz, now = req.lang, req.ctx.tz, req.now
    # One service: its production version unless a namespace is named; all: every namespace.
    asked = req.slots.namespace or (req.namespace if req.service else None)
    namespace = req.ns_for(SignalName.DEPLOYS, asked)
    by = ("namespace",) if req.ns_for(SignalName.DEPLOYS, "x") and namespace is None else ()
    rendered = req.render(SignalName.DEPLOYS, service=req.service, namespace=namespace, by=by)
    if rendered is None:
        return None  # no deploys signal here: the change events answer instead
    change_args: dict[str, Any] = {
        "since": (now - SINCE_LOOKBACK).isoformat(),
        "until": now.isoformat(),
        "limit": 100,
    }
    if req.service:
        change_args["service"] = req.service
    current, changes = req.runner.many(
        [
            ("prometheus_instant_query", {"query": rendered.promql, "time": now.isoformat()}),
            ("pagerduty_change_events", change_args),
        ]
    )
    context = {
        "intent": req.intent.value,
        "service": req.service,
        "namespace": namespace,
    }
    b = req.catalog.binding(SignalName.DEPLOYS)
    version_label = b.version_label or "version"
    rows: dict[tuple[str, str | None], list[str]] = {}
    for s in analysis.series(current):
        version = s.labels.get(version_label)
        if not version:
            continue
        service = s.labels.get(b.service_key or "service", req.service or "?")
        ns = s.labels.get(b.namespace_label) if b.namespace_label else None
        rows.setdefault((service, ns or namespace), []).append(version)
    target = t(lang, f" of {req.service}", f" de {req.service}") if req.service else ""
    if not rows:
        reason = current.error or t(lang, "no data", "aucune donnée")
        return Reply(
            t(
                lang,
                f"I see no running version{target} now ({reason}).",
                f"Je ne vois aucune version{target} en cours d'exécution ({reason}).",
            ),
            context,
        )
    events = analysis.change_events(changes)
    lines = []
    for (service, ns), versions in sorted(rows.items(), key=lambda x: (x[0][0], x[0][1] or "")):
        shown = " + ".join(f"v{v}" for v in sorted(versions))
        since = ""
        brought = [
            e
            for e in events
            if service in e.services and e.version in versions and e.namespace in (None, ns)
        ]
        if len(versions) == 1 and brought:
            e = max(brought, key=lambda e: e.at)
            since = t(lang, " since ", " depuis ") + text.clock(e.at, tz, now, lang)
            if e.previous:
                since += t(lang, f" (from v{e.previous})", f" (avant : v{e.previous})")
        lines.append(f"{text.where(service, ns)}: {shown}{since}")
    if len(lines) == 1:
        verb = t(lang, " runs ", " tourne en ")
        service_ns, rest = lines[0].split(": ", 1)
        return Reply(f"{service_ns}{verb}{rest}.", context)
    head = t(lang, "Versions running now:", "Versions en cours d'exécution :")
    return Reply("\n".join([head, *(f"  - {line}" for line in lines[:30])]), context)
