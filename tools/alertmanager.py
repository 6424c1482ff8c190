"""Alertmanager read tools: the alerts it holds (firing, silenced, inhibited) and its silences.

Both read Alertmanager's API v2 through the `httpx.Client` that `Services` builds (base URL
and timeout from `alertmanager.*` settings; a route prefix in the URL is kept). Label filters
are Alertmanager matchers (`service="payment-gateway"`, `severity=~"critical|warning"`),
checked here so that a malformed one comes back as an input error naming the accepted form.
Times shown are local (`VIGIE_TIMEZONE`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field

from tools.base import (
    BackendError,
    Status,
    Tool,
    ToolArgs,
    ToolContext,
    ToolInputError,
    ToolResult,
    description,
)
from tools.budget import fit_lines, truncate

JSONDict = dict[str, Any]

_MATCHER = re.compile(r"^\s*\{?\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*\}?\s*$")
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SEVERITY_ORDER = {"critical": 0, "error": 1, "high": 1, "warning": 2, "info": 3, "none": 4}
# Labels every line already shows in its own place.
_SHOWN_APART = ("alertname", "severity")
_SUMMARY_CHARS = 240
# Left unescaped in the query shown to people and models, so matchers stay readable.
_READABLE = '=~!"|.*'


# --------------------------------------------------------------------------- HTTP


def _get(ctx: ToolContext, path: str, params: list[tuple[str, str]]) -> tuple[Any, str]:
    """GET an API v2 path; returns (decoded JSON, the call as shown in `ToolResult.query`)."""
    client = ctx.services.alertmanager
    query = f"GET {path}" + (f"?{urlencode(params, safe=_READABLE)}" if params else "")
    try:
        response = client.get(path, params=tuple(params))
    except httpx.TimeoutException:
        raise BackendError(
            f"Alertmanager at {client.base_url} did not answer within "
            f"{ctx.services.settings.alertmanager.timeout_s:g} s (alertmanager.timeout_s)",
            query=query,
        ) from None
    except httpx.TransportError as exc:
        raise BackendError(
            f"cannot reach Alertmanager at {client.base_url}: {exc or type(exc).__name__} "
            "(check alertmanager.url)",
            query=query,
        ) from None
    if response.status_code == 400:
        # Alertmanager explains a bad filter in the body (a JSON string).
        raise ToolInputError(
            f"Alertmanager refused the request: {_body_text(response)}", query=query
        )
    if not response.is_success:
        raise BackendError(
            f"Alertmanager answered {response.status_code} to GET {path}: {_body_text(response)}",
            query=query,
            status_code=response.status_code,
        )
    try:
        return response.json(), query
    except ValueError:
        raise BackendError(
            f"Alertmanager answered GET {path} with something other than JSON", query=query
        ) from None


def _body_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    text = body if isinstance(body, str) else str(body.get("message", body))
    return truncate(text.strip() or response.reason_phrase, 300)


# --------------------------------------------------------------------------- helpers


def _matchers(raw: list[str], labels: Mapping[str, str]) -> list[str]:
    """Alertmanager filter matchers from `name="value"` strings and an equality dict."""
    out = []
    for name, value in labels.items():
        if not _LABEL_NAME.match(name):
            raise ToolInputError(f"not a label name: '{name}'")
        out.append(f"{name}={_quoted(value)}")
    for text in raw:
        match = _MATCHER.match(text)
        if match is None:
            raise ToolInputError(
                f'not a matcher: \'{text}\'; use name="value", name!="value", '
                'name=~"regex" or name!~"regex"'
            )
        name, op, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out.append(f"{name}{op}{_quoted(value)}")
    return out


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _parse(text: Any) -> datetime | None:
    """Alertmanager's RFC 3339 timestamps, whose fractions can have nanosecond digits."""
    if not isinstance(text, str) or not text:
        return None
    cleaned = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _local(text: Any, tz: ZoneInfo) -> str:
    parsed = _parse(text)
    return parsed.astimezone(tz).strftime("%Y-%m-%d %H:%M") if parsed else "?"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _result(
    tool: str,
    query: str,
    *,
    status: Status,
    data: Any,
    text: str,
    truncated: bool = False,
    warnings: tuple[str, ...] = (),
) -> ToolResult:
    return ToolResult(
        tool=tool,
        backend="alertmanager",
        status=status,
        query=query,
        data=data,
        text=text,
        truncated=truncated,
        warnings=warnings,
    )


# --------------------------------------------------------------------------- alerts


class AlertsArgs(ToolArgs):
    """Arguments of `alertmanager_alerts`."""

    active: bool = Field(True, description="include alerts that are firing and not suppressed")
    silenced: bool = Field(False, description="include alerts muted by a silence")
    inhibited: bool = Field(False, description="include alerts inhibited by another alert")
    labels: dict[str, str] = Field(
        default_factory=dict, description='label equality filters, e.g. {"service": "cart"}'
    )
    matchers: list[str] = Field(
        default_factory=list,
        description='Alertmanager matchers, e.g. severity=~"critical|warning"',
    )
    receiver: str | None = Field(None, description="only alerts routed to this receiver (regex)")
    limit: int = Field(50, ge=1, le=500)


def _alert_row(alert: JSONDict, tz: ZoneInfo) -> JSONDict:
    status = alert.get("status") or {}
    annotations = alert.get("annotations") or {}
    labels = alert.get("labels") or {}
    return {
        "alertname": labels.get("alertname"),
        "severity": labels.get("severity"),
        "labels": labels,
        "state": status.get("state"),
        "silenced_by": status.get("silencedBy") or [],
        "inhibited_by": status.get("inhibitedBy") or [],
        "starts_at": alert.get("startsAt"),
        "since_local": _local(alert.get("startsAt"), tz),
        "ends_at": alert.get("endsAt"),
        "summary": annotations.get("summary") or annotations.get("description"),
        "annotations": annotations,
        "receivers": [r.get("name") for r in alert.get("receivers") or []],
        "fingerprint": alert.get("fingerprint"),
        "generator_url": alert.get("generatorURL"),
    }


def _alert_line(row: JSONDict) -> str:
    others = " ".join(f"{k}={v}" for k, v in sorted(row["labels"].items()) if k not in _SHOWN_APART)
    state = row["state"]
    if row["silenced_by"]:
        state += f" (silenced by {', '.join(row['silenced_by'])})"
    if row["inhibited_by"]:
        state += f" (inhibited by {', '.join(row['inhibited_by'])})"
    line = f"{row['severity'] or '-'} {row['alertname']} {{{others}}} {state} since "
    line += str(row["since_local"])
    if row["summary"]:
        line += f": {truncate(str(row['summary']), _SUMMARY_CHARS)}"
    return line


def alerts(ctx: ToolContext, args: AlertsArgs) -> ToolResult:
    """Alerts Alertmanager holds, most severe first, then oldest first."""
    params = [
        ("active", str(args.active).lower()),
        ("silenced", str(args.silenced).lower()),
        ("inhibited", str(args.inhibited).lower()),
    ]
    params += [("filter", m) for m in _matchers(args.matchers, args.labels)]
    if args.receiver:
        params.append(("receiver", args.receiver))
    body, query = _get(ctx, "/api/v2/alerts", params)
    if not isinstance(body, list):
        raise BackendError("unexpected Alertmanager answer: not a list of alerts", query=query)
    rows = [_alert_row(a, ctx.tz) for a in body if isinstance(a, dict)]
    rows.sort(
        key=lambda r: (
            _SEVERITY_ORDER.get(str(r["severity"]).lower(), 5),
            str(r["starts_at"]),
            str(r["alertname"]),
        )
    )
    total = len(rows)
    rows = rows[: args.limit]
    if not rows:
        shown = [n for n, on in (("active", args.active), ("silenced", args.silenced)) if on]
        if args.inhibited:
            shown.append("inhibited")
        return _result(
            "alertmanager_alerts",
            query,
            status=Status.NO_DATA,
            data=[],
            text=f"no {'/'.join(shown) or 'matching'} alerts match; try silenced=true, "
            "inhibited=true or fewer label filters",
        )
    header = [f"{_count(total, 'alert')}, most severe first, times {ctx.tz.key}:"]
    text, truncated = fit_lines(header, [_alert_line(r) for r in rows], ctx.token_budget)
    return _result(
        "alertmanager_alerts",
        query,
        status=Status.OK,
        data=rows,
        text=text,
        truncated=truncated,
        warnings=(f"{total} alerts match; {args.limit} kept",) if total > args.limit else (),
    )


# --------------------------------------------------------------------------- silences

SilenceState = Literal["active", "pending", "expired"]
_STATE_ORDER = {"active": 0, "pending": 1, "expired": 2}
_NOT_EXPIRED: tuple[SilenceState, ...] = ("active", "pending")


class SilencesArgs(ToolArgs):
    """Arguments of `alertmanager_silences`."""

    states: list[SilenceState] = Field(
        default_factory=lambda: list(_NOT_EXPIRED),
        description="which silences: active, pending (starts later), expired",
    )
    matchers: list[str] = Field(
        default_factory=list,
        description='only silences whose matchers include these, e.g. service="cart"',
    )
    limit: int = Field(50, ge=1, le=500)


def _matcher_text(matcher: JSONDict) -> str:
    equal = matcher.get("isEqual", True)
    op = ("=~" if equal else "!~") if matcher.get("isRegex") else ("=" if equal else "!=")
    return f"{matcher.get('name')}{op}{_quoted(str(matcher.get('value', '')))}"


def silences(ctx: ToolContext, args: SilencesArgs) -> ToolResult:
    """Silences by state: matchers, author, comment and when they start and end."""
    params = [("filter", m) for m in _matchers(args.matchers, {})]
    body, query = _get(ctx, "/api/v2/silences", params)
    if not isinstance(body, list):
        raise BackendError("unexpected Alertmanager answer: not a list of silences", query=query)
    wanted = set(args.states)
    rows = []
    for silence in body:
        if not isinstance(silence, dict):
            continue
        state = (silence.get("status") or {}).get("state")
        if state not in wanted:
            continue
        rows.append(
            {
                "id": silence.get("id"),
                "state": state,
                "matchers": [_matcher_text(m) for m in silence.get("matchers") or []],
                "created_by": silence.get("createdBy"),
                "comment": silence.get("comment"),
                "starts_at": silence.get("startsAt"),
                "ends_at": silence.get("endsAt"),
                "starts_local": _local(silence.get("startsAt"), ctx.tz),
                "ends_local": _local(silence.get("endsAt"), ctx.tz),
            }
        )
    # Newest first within each state: the latest expired ones are the relevant history.
    rows.sort(key=lambda r: str(r["starts_at"]), reverse=True)
    rows.sort(key=lambda r: _STATE_ORDER.get(str(r["state"]), 3))
    total = len(rows)
    rows = rows[: args.limit]
    if not rows:
        return _result(
            "alertmanager_silences",
            query,
            status=Status.NO_DATA,
            data=[],
            text=f"no {'/'.join(args.states)} silences"
            + (" with those matchers" if args.matchers else "")
            + ("" if "expired" in args.states else "; try states=['expired'] for past ones"),
        )
    lines = [
        f"{r['state']} {r['id']} {{{', '.join(r['matchers'])}}} by {r['created_by']}, "
        f"{r['starts_local']} to {r['ends_local']}: "
        f"{truncate(str(r['comment'] or ''), _SUMMARY_CHARS)}"
        for r in rows
    ]
    header = [f"{_count(total, 'silence')}, times {ctx.tz.key}:"]
    text, truncated = fit_lines(header, lines, ctx.token_budget, noun="silences")
    return _result(
        "alertmanager_silences",
        query,
        status=Status.OK,
        data=rows,
        text=text,
        truncated=truncated,
        warnings=(f"{total} silences match; {args.limit} kept",) if total > args.limit else (),
    )


# --------------------------------------------------------------------------- declarations

ALERTMANAGER_ALERTS = Tool(
    name="alertmanager_alerts",
    backend="alertmanager",
    description=description(
        "Alerts currently held by Alertmanager, most severe first: severity, alert name, "
        "labels, state (active, or suppressed with the silence/inhibiting alert), since when "
        "(local time) and the summary annotation.",
        "asked what is firing right now, whether a service is alerting, or whether an alert "
        "is silenced. Firing alerts are a snapshot; history is in PagerDuty and Prometheus.",
        'alertmanager_alerts(labels={"service": "payment-gateway"})',
        notes='`matchers` take Alertmanager syntax: name="v", name!="v", name=~"re", '
        'name!~"re". Silenced and inhibited alerts are left out unless asked for.',
    ),
    args=AlertsArgs,
    fn=alerts,
    tags=("alerts",),
)

ALERTMANAGER_SILENCES = Tool(
    name="alertmanager_silences",
    backend="alertmanager",
    description=description(
        "Alertmanager silences: id, state, matchers, who created it, the comment, and when "
        "it starts and ends (local time).",
        "asked whether alerts are muted (and by whom, until when), or before proposing a "
        "silence, to avoid duplicating one.",
        "alertmanager_silences(states=['active'], matchers=['service=\"cart\"'])",
    ),
    args=SilencesArgs,
    fn=silences,
    tags=("alerts", "silences"),
)

TOOLS: tuple[Tool[Any], ...] = (ALERTMANAGER_ALERTS, ALERTMANAGER_SILENCES)
