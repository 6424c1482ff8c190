"""Why is X slow / what happened to X since T: correlate the anomaly with what preceded it.

The service's signal is compared with its baseline (the same hours over the previous 7 days);
the onset is when it left that baseline. Then, each with its time stamp: deploys before the
onset (PagerDuty change events, else the catalog's version changes), saturation peaking near
it (connection pool, CPU, memory) and error-log bursts. Every query runs at once on the thread
pool (they only depend on the window, not on the onset), so the answer costs the slowest call.
Remediations are proposed, never run: a rollback when a deploy preceded the onset, a larger
pool when the pool saturated.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.engine.answer import Language, Proposal
from bot.engine.planner import analysis, text
from bot.engine.planner.analysis import Series
from bot.engine.planner.handlers.base import Reply, Request, baseline_call, range_call
from bot.engine.planner.runner import Call
from bot.engine.planner.text import t
from bot.engine.planner.timewin import Window, default_window
from tools.base import Status, ToolResult
from tools.catalog import SignalName, escape

LOOKBACK_S = 4 * 3600  # default window of "why is X slow" when no time is named
DEPLOY_BEFORE = timedelta(hours=6)  # how long before the onset a deploy is a suspect
NEAR_AFTER = timedelta(minutes=60)  # saturation this long after the onset still correlates
LOGS_BEFORE = timedelta(minutes=30)  # error logs read from this long before the onset...
LOGS_AFTER = timedelta(hours=1)  # ...to this long after it (or the end of the window)
_DB_NAMES = (
    ("postgres", "PostgreSQL"),
    ("mysql", "MySQL"),
    ("mariadb", "MariaDB"),
    ("oracle", "Oracle"),
    ("sqlserver", "SQL Server"),
    ("mssql", "SQL Server"),
    ("mongo", "MongoDB"),
    ("redis", "Redis"),
)
_POOL_LABELS = (
    "pool",
    "pool_name",
    "db_client_connections_pool_name",
    "datasource",
    "db",
    "db_name",
)


@dataclass
class Finding:
    """One correlated fact, with its time (for ordering) and its line in both languages."""

    at: float
    line: str


@dataclass
class Investigation:
    """What the correlation found around one anomaly."""

    onset: float | None
    findings: list[Finding] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    proposal_texts: list[str] = field(default_factory=list)


@dataclass
class _Calls:
    """The correlation's queries, by role (None where the server has no such signal)."""

    pool: Call | None = None
    pool_max: Call | None = None
    cpu: Call | None = None
    memory: Call | None = None
    versions: Call | None = None
    changes: Call | None = None
    logs: Call | None = None

    def items(self) -> list[tuple[str, Call]]:
        return [(k, v) for k, v in vars(self).items() if v is not None]


def correlation_calls(req: Request, service: str, namespace: str | None, window: Window) -> _Calls:
    calls = _Calls()
    wide = Window(window.start - DEPLOY_BEFORE, window.end, "since")
    for role, signal in (
        ("pool", SignalName.POOL_SATURATION),
        ("cpu", SignalName.CPU),
        ("memory", SignalName.MEMORY),
    ):
        ns = req.ns_for(signal, namespace)
        rendered = req.render(signal, service=service, namespace=ns)
        if rendered is not None:
            setattr(calls, role, range_call(rendered.promql, window))
    if req.catalog.has(SignalName.POOL_SATURATION):
        binding = req.catalog.binding(SignalName.POOL_SATURATION)
        if binding.max_metric and binding.service_label and binding.join is None:
            matchers = [f'{binding.service_label}="{escape(service)}"']
            if namespace and binding.namespace_label:
                matchers.append(f'{binding.namespace_label}="{escape(namespace)}"')
            query = f"{binding.max_metric}{{{', '.join(matchers)}}}"
            calls.pool_max = (
                "prometheus_instant_query",
                {"query": query, "time": window.end.isoformat()},
            )
    rendered = req.render(
        SignalName.DEPLOYS, service=service, namespace=req.ns_for(SignalName.DEPLOYS, namespace)
    )
    if rendered is not None:
        calls.versions = range_call(rendered.promql, wide)
    calls.changes = (
        "pagerduty_change_events",
        {"service": service, "since": wide.start.isoformat(), "until": window.end.isoformat()},
    )
    log_args: dict[str, Any] = {
        "service": service,
        "level": "error",
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
    }
    if namespace:
        log_args["namespace"] = namespace
    calls.logs = ("logs_histogram", log_args)
    return calls


def _db_name(labels: dict[str, str]) -> str | None:
    values = " ".join(labels.values()).lower()
    return next((name for key, name in _DB_NAMES if key in values), None)


def _pool_finding(
    req: Request, pool: ToolResult | None, pool_max: ToolResult | None, onset: float, lang: Language
) -> tuple[Finding | None, dict[str, Any]]:
    """The pool's peak near the onset, and what a pool proposal needs (size, name)."""
    found = analysis.first(pool) if pool is not None else None
    if found is None:
        return None, {}
    peak, peak_at = found.stat("max"), found.stats.get("max_at")
    if not math.isfinite(peak) or peak < 0.9 or peak_at is None:
        return None, {}
    before = [v for ts, v in analysis.finite(found.points) if ts < onset]
    if before and statistics.median(before) > 0.8 * peak:
        return None, {}  # it was already this busy before: not what changed
    if (
        not onset - NEAR_AFTER.total_seconds() / 2
        <= float(peak_at)
        <= onset + NEAR_AFTER.total_seconds()
    ):
        return None, {}
    info: dict[str, Any] = {"saturated": peak >= 0.99}
    db = None
    if pool_max is not None:
        sizes = analysis.series(pool_max)
        if sizes:
            info["size"] = max(s.value for s in sizes)
            labels = dict(sizes[0].labels)
            db = _db_name(labels)
            info["pool"] = analysis.label_value(labels, _POOL_LABELS) or "default"
    at = text.clock(float(peak_at), req.ctx.tz, req.now, lang)
    what = t(
        lang,
        f"{db} connections" if db else "DB pool connections",
        f"connexions {db}" if db else "connexions du pool",
    )
    state = (
        t(lang, "pool saturated", "pool saturé")
        if peak >= 0.99
        else t(lang, f"pool at {text.value(peak, 'ratio')}", f"pool à {text.value(peak, 'ratio')}")
    )
    line = t(lang, f"{what} peak at {at} ({state})", f"pic des {what} à {at} ({state})")
    return Finding(float(peak_at), line), info


def _resource_finding(
    req: Request,
    result: ToolResult | None,
    *,
    unit: str,
    onset: float,
    name_en: str,
    name_fr: str,
    lang: Language,
) -> Finding | None:
    """CPU or memory holding 1.3x its earlier level in the hour after the onset; its peak."""
    found = analysis.first(result) if result is not None else None
    if found is None:
        return None
    pts = analysis.finite(found.points)
    before = [v for ts, v in pts if ts < onset]
    after = [(ts, v) for ts, v in pts if onset <= ts <= onset + NEAR_AFTER.total_seconds()]
    if len(before) < 3 or not after:
        return None
    usual = statistics.median(before)
    peak_at, peak = max(after, key=lambda p: p[1])
    # Sustained, not a spike: a rollout briefly doubles a sum over pods (old and new pods).
    level = statistics.median(v for _, v in after)
    if usual <= 0 or level < 1.3 * usual:
        return None
    rise_at = next(ts for ts, v in after if v >= 1.3 * usual)
    at, peak_clock = (
        text.clock(rise_at, req.ctx.tz, req.now, lang),
        text.clock(peak_at, req.ctx.tz, req.now, lang),
    )
    factor, shown = text.number(level / usual, 2), text.value(peak, unit)
    return Finding(
        rise_at,
        t(
            lang,
            f"{name_en} {factor}x its earlier level from {at} (peak {shown} at {peak_clock})",
            f"{name_fr} {factor}x son niveau antérieur à partir de {at} (pic {shown} à "
            f"{peak_clock})",
        ),
    )


@dataclass(frozen=True)
class _Deploy:
    at: float
    version: str
    previous: str | None
    description: str | None


def _deploy(
    req: Request,
    *,
    service: str,
    namespace: str | None,
    versions: ToolResult | None,
    changes: ToolResult | None,
    onset: float,
) -> _Deploy | None:
    """The last deploy of the service before the onset: change events first, then versions."""
    earliest = onset - DEPLOY_BEFORE.total_seconds()
    latest = onset + 300  # the onset is read on a grid: a deploy a few minutes "after" is before
    suspects: list[_Deploy] = []
    for event in analysis.change_events(changes) if changes is not None else []:
        ts = event.at.timestamp()
        if service not in event.services or not earliest <= ts <= latest:
            continue
        if namespace and event.namespace and event.namespace != namespace:
            continue
        version = event.version or _version_in(event.summary)
        if version:
            suspects.append(_Deploy(ts, version, event.previous, event.description))
    if not suspects and versions is not None and req.catalog.has(SignalName.DEPLOYS):
        b = req.catalog.binding(SignalName.DEPLOYS)
        for change in analysis.version_changes(
            versions, b.service_key, b.namespace_label, b.version_label or "version"
        ):
            if change.service == service and earliest <= change.at <= latest:
                suspects.append(_Deploy(change.at, change.version, change.previous, None))
    return max(suspects, key=lambda d: d.at) if suspects else None


def _version_in(summary: str) -> str | None:
    m = re.search(r"\bv?(\d+\.\d+(?:\.\d+)?(?:[-+][\w.]+)?)\b", summary)
    return m.group(1) if m else None


def _short(description: str | None) -> str | None:
    """The headline of a change description: 'ORM upgrade: order lines...' -> 'ORM upgrade'."""
    if not description:
        return None
    head = re.split(r"[:;(\n]", description, maxsplit=1)[0].strip()
    return head[:60] or None


def _v(version: str) -> str:
    return version if version.startswith("v") else f"v{version}"


def investigate(
    req: Request,
    *,
    service: str,
    namespace: str | None,
    window: Window,
    main: Series,
    baseline: float,
    results: dict[str, ToolResult],
) -> Investigation:
    """Read the correlation results around the onset of `main` (see the module docstring)."""
    lang, tz, now = req.lang, req.ctx.tz, req.now
    onset = analysis.onset(main.points, baseline)
    found = Investigation(onset)
    if onset is None:
        return found
    pool_finding, pool = _pool_finding(
        req, results.get("pool"), results.get("pool_max"), onset, lang
    )
    if pool_finding is not None:
        found.findings.append(pool_finding)
    deploy = _deploy(
        req,
        service=service,
        namespace=namespace,
        versions=results.get("versions"),
        changes=results.get("changes"),
        onset=onset,
    )
    if deploy is not None:
        at = text.clock(deploy.at, tz, now, lang)
        note = _short(deploy.description)
        line = t(
            lang, f"deploy {_v(deploy.version)} at {at}", f"déploiement {_v(deploy.version)} à {at}"
        )
        found.findings.append(Finding(deploy.at, line + (f" ({note})" if note else "")))
    for role, unit, en, fr in (
        ("cpu", "cores", "CPU", "CPU"),
        ("memory", "bytes", "memory", "mémoire"),
    ):
        finding = _resource_finding(
            req, results.get(role), unit=unit, onset=onset, name_en=en, name_fr=fr, lang=lang
        )
        if finding is not None:
            found.findings.append(finding)
    logs = results.get("logs")
    burst = (
        analysis.log_burst(
            logs, not_before=datetime.fromtimestamp(onset, UTC) - timedelta(minutes=10)
        )
        if logs is not None
        else None
    )
    if burst is not None:
        at, peak_at = (
            text.clock(burst.start, tz, now, lang),
            text.clock(burst.peak_start, tz, now, lang),
        )
        seconds = int((logs.data or {}).get("interval_s") or 300) if logs is not None else 300
        interval = f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"
        found.findings.append(
            Finding(
                burst.start.timestamp(),
                t(
                    lang,
                    f"error logs burst from {at} ({burst.total} lines, peak {burst.peak_count} "
                    f"per {interval} at {peak_at})",
                    f"rafale de logs d'erreur à partir de {at} ({burst.total} lignes, pic de "
                    f"{burst.peak_count} par {interval} à {peak_at})",
                ),
            )
        )
    _propose(
        req,
        found,
        service=service,
        namespace=namespace,
        main=main,
        baseline=baseline,
        deploy=deploy,
        pool=pool,
        onset=onset,
    )
    return found


def _propose(
    req: Request,
    found: Investigation,
    *,
    service: str,
    namespace: str | None,
    main: Series,
    baseline: float,
    deploy: _Deploy | None,
    pool: dict[str, Any],
    onset: float,
) -> None:
    lang, tz, now = req.lang, req.ctx.tz, req.now
    unit = _unit(req)
    symptom = t(
        lang,
        f"{text.short_signal(_signal(req), lang, req.slots.quantile)} "
        f"{text.value(main.last, unit)} vs baseline {text.value(baseline, unit)} since "
        f"{text.clock(onset, tz, now, lang)}",
        f"{text.short_signal(_signal(req), lang, req.slots.quantile)} "
        f"{text.value(main.last, unit)} contre {text.value(baseline, unit)} habituellement depuis "
        f"{text.clock(onset, tz, now, lang)}",
    )
    if deploy is not None and deploy.previous:
        at = text.clock(deploy.at, tz, now, lang)
        params: dict[str, Any] = {"from_version": deploy.version, "to_version": deploy.previous}
        params["namespace"] = namespace
        found.proposals.append(
            Proposal(
                action="rollback",
                target=service,
                parameters=params,
                rationale=t(
                    lang,
                    f"{symptom}, starting right after deploy {_v(deploy.version)} at {at}.",
                    f"{symptom}, juste après le déploiement {_v(deploy.version)} à {at}.",
                ),
            )
        )
        found.proposal_texts.append(
            t(
                lang,
                f"roll back {service} to {_v(deploy.previous)}",
                f"revenir à la {_v(deploy.previous)} de {service}",
            )
        )
    size = pool.get("size")
    if pool.get("saturated") and isinstance(size, float) and math.isfinite(size) and size > 0:
        current, target = int(size), int(size) * 2
        found.proposals.append(
            Proposal(
                action="raise_pool_limit",
                target=service,
                parameters={"pool": pool.get("pool", "default"), "from": current, "to": target},
                rationale=t(
                    lang,
                    f"{symptom}; the connection pool is saturated ({current}/{current} "
                    "connections in use per instance).",
                    f"{symptom} ; le pool de connexions est saturé ({current}/{current} "
                    "connexions utilisées par instance).",
                ),
            )
        )
        found.proposal_texts.append(
            t(
                lang,
                f"raise max_connections {current} -> {target}",
                f"passer max_connections de {current} à {target}",
            )
        )


def _signal(req: Request) -> SignalName:
    signal = req.slots.signal
    return signal if signal in (SignalName.LATENCY, SignalName.ERROR_RATIO) else SignalName.LATENCY


def _unit(req: Request) -> str:
    signal = _signal(req)
    return req.catalog.binding(signal).unit if req.catalog.has(signal) else "seconds"


def render_investigation(found: Investigation, lang: Language) -> list[str]:
    """'Correlated with:' and 'Proposed:' lines (nothing when nothing was found)."""
    lines: list[str] = []
    if found.findings:
        lines.append(t(lang, "Correlated with:", "Corrélé avec :"))
        lines += [f"  - {f.line}" for f in sorted(found.findings, key=lambda f: -f.at)]
    if found.proposal_texts:
        joined = t(lang, ", or ", ", ou ").join(found.proposal_texts)
        lines.append(t(lang, f"Proposed: {joined}", f"Proposé : {joined}"))
    return lines


def run_correlation(
    req: Request,
    service: str,
    namespace: str | None,
    window: Window,
    extra: list[Call],
    *,
    onset: float | None = None,
) -> tuple[list[ToolResult], dict[str, ToolResult]]:
    """Run `extra` calls and the correlation's calls together; (extra results, by role).

    The error-log histogram is the slowest call (a search over every line of the window).
    Given an `onset` known before any call (see `early_onset`), it only reads from
    `LOGS_BEFORE` before it to `LOGS_AFTER` after it; every call still runs at once.
    """
    calls = correlation_calls(req, service, namespace, window)
    if calls.logs is not None:
        calls.logs = _narrowed(calls.logs, onset, window)
    roles = calls.items()
    results = req.runner.many([*extra, *(call for _, call in roles)])
    by_role = {role: result for (role, _), result in zip(roles, results[len(extra) :], strict=True)}
    return results[: len(extra)], by_role


def early_onset(main: Series) -> float | None:
    """Where `main` leaves its own lower decile, before its baseline is known (None if never).

    Only narrows the error-log search: the onset of the answer is read against the 7-day
    baseline. A window that is anomalous from start to end has no such point: all of it is
    searched.
    """
    values = sorted(v for _, v in analysis.finite(main.points))
    if len(values) < 10:
        return None
    return analysis.onset(main.points, values[len(values) // 10])


def _narrowed(call: Call, onset: float | None, window: Window) -> Call:
    """The log call over [onset - LOGS_BEFORE, onset + LOGS_AFTER] within the window."""
    if onset is None:
        return call
    at = datetime.fromtimestamp(onset, UTC)
    start = max(window.start, at - LOGS_BEFORE)
    end = min(window.end, at + LOGS_AFTER)
    if end <= start:
        return call
    name, args = call
    return (name, {**args, "start": start.isoformat(), "end": end.isoformat()})


def handle(req: Request) -> Reply:
    """Why is `service` slow (or failing): the investigation, with proposals."""
    lang, tz, now = req.lang, req.ctx.tz, req.now
    service = req.service
    assert service is not None  # the planner asks for the service before calling this
    signal = _signal(req)
    window = req.window or default_window(now, LOOKBACK_S)
    namespace = req.ns_for(signal, req.namespace)
    rendered = req.render(signal, service=service, namespace=namespace)
    if rendered is None:
        return Reply(
            t(
                lang,
                f"I cannot read {text.signal(signal, lang)} of {service} on this Prometheus.",
                f"Je ne trouve pas la {text.signal(signal, lang)} de {service} sur ce Prometheus.",
            )
        )
    (main_result, base_result), by_role = run_correlation(
        req,
        service,
        namespace,
        window,
        [range_call(rendered.promql, window), baseline_call(rendered.promql, window)],
    )
    context = _context(req, service, namespace, signal, window)
    main, base = analysis.first(main_result), analysis.first(base_result)
    where = text.where(service, namespace)
    label = text.short_signal(signal, lang, req.slots.quantile)
    span = text.window(window, tz, now, lang)
    if main is None:
        reason = main_result.error or t(lang, "no data", "aucune donnée")
        return Reply(
            t(
                lang,
                f"{where}: no {label} data {span} ({reason}).",
                f"{where} : pas de données {label} {span} ({reason}).",
            ),
            context,
        )
    unit = rendered.unit
    now_value = text.value(main.last, unit)
    peak = text.value(main.stat("max"), unit)
    peak_at = text.clock(float(main.stats.get("max_at") or window.end.timestamp()), tz, now, lang)
    if base is None or not math.isfinite(base.stat("mean")):
        head = t(
            lang,
            f"{where}: {label} {now_value} (peak {peak} at {peak_at}) {span}; no history to "
            "compare with.",
            f"{where} : {label} {now_value} (pic {peak} à {peak_at}) {span} ; pas d'historique "
            "pour comparer.",
        )
        return Reply(head, context)
    baseline = base.stat("mean")
    found = investigate(
        req,
        service=service,
        namespace=namespace,
        window=window,
        main=main,
        baseline=baseline,
        results=by_role,
    )
    base_text = text.value(baseline, unit)
    if found.onset is None:
        head = t(
            lang,
            f"{where}: {label} {now_value} (peak {peak} at {peak_at}) {span}, in line with its "
            f"baseline {base_text} (average of the same hours over the previous 7 days): I see no "
            "anomaly to explain.",
            f"{where} : {label} {now_value} (pic {peak} à {peak_at}) {span}, conforme à sa "
            f"référence {base_text} (moyenne des mêmes heures sur les 7 jours précédents) : je ne "
            "vois pas d'anomalie à expliquer.",
        )
        return Reply(head, context)
    onset_at = text.clock(found.onset, tz, now, lang)
    head = t(
        lang,
        f"{where}: {label} {now_value} (baseline {base_text}, average of the same hours over the "
        f"previous 7 days), above it since {onset_at}; peak {peak} at {peak_at}.",
        f"{where} : {label} {now_value} (référence {base_text}, moyenne des mêmes heures sur les "
        f"7 jours précédents), au-dessus depuis {onset_at} ; pic {peak} à {peak_at}.",
    )
    lines = [head, *render_investigation(found, lang)]
    if not found.findings:
        lines.append(
            t(
                lang,
                "No deploy, saturation or error-log burst lines up with it.",
                "Aucun déploiement, saturation ou rafale de logs d'erreur ne coïncide.",
            )
        )
    context["onset"] = datetime.fromtimestamp(found.onset, UTC).isoformat()
    return Reply("\n".join(lines), context, found.proposals)


def _context(
    req: Request, service: str, namespace: str | None, signal: SignalName, window: Window
) -> dict[str, Any]:
    return {
        "intent": req.intent.value,
        "service": service,
        "namespace": namespace,
        "signal": signal.value,
        "quantile": req.slots.quantile,
        "window": window.to_context(),
    }


def status_ok(result: ToolResult | None) -> bool:
    return result is not None and result.status is Status.OK
