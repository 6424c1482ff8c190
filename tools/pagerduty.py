"""PagerDuty read tools: incidents and their timelines, who is on call, services, changes.

Every call goes through the `pagerduty.RestApiV2Client` that `Services` builds (its auth
header, base URL, TLS context, timeout and connection pool), but not through its retry loop:
that loop sleeps on its own schedule without reading `Retry-After` (forever by default, and
3 + 6 + 12 s as configured), and retries refused connections with the same sleeps, which
would hold a Slack reply for tens of seconds. `_Api` sends each request once and handles the
outcomes itself:

- 429: waits what `Retry-After` says, for at most `RATE_LIMIT_MAX_WAIT_S` in total per tool
  call; beyond that, a clear "rate limited by PagerDuty, retry after N s" error.
- 401: "PagerDuty rejected the token (401)", never the token itself.
- refused, TLS failure, timeout: one sentence naming the URL and the setting to check.

Times sent to PagerDuty are UTC; times shown are local (`VIGIE_TIMEZONE`).
"""

from __future__ import annotations

import email.utils
import math
import re
import ssl
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import httpx2
import pagerduty
from pydantic import Field

from bot.services import BackendConfigError
from tools.base import (
    BackendError,
    Status,
    TimeRange,
    Tool,
    ToolArgs,
    ToolContext,
    ToolInputError,
    ToolResult,
    description,
)
from tools.budget import fit_lines, truncate
from tools.timeexpr import parse_range, parse_time

JSONDict = dict[str, Any]

# Longest total wait on 429s a single tool call accepts: a chat answer that takes longer is
# worse than an error the model can relay ("retry in 40 s").
RATE_LIMIT_MAX_WAIT_S = 10.0
# Waits when a 429 carries no Retry-After (doubling per attempt).
_FALLBACK_WAIT_S = 1.0
# PagerDuty's classic pagination serves at most 100 records a page.
_PAGE = 100
# Service/schedule directories listed in an "unknown name" error.
_MAX_NAMES = 60
_DETAIL_CHARS = 300
# PagerDuty object ids: "P" then upper-case letters and digits (PABC123, PSVCX7K).
_ID_LIKE = re.compile(r"^P[A-Z0-9]{5,13}$")


# --------------------------------------------------------------------------- the HTTP seam


class _NotFoundError(ToolInputError):
    """PagerDuty answered 404: the caller names what was missing."""


@dataclass
class _Api:
    """One tool call's requests: sent once each, 429 waits bounded, every call recorded."""

    client: pagerduty.RestApiV2Client
    max_wait_s: float = RATE_LIMIT_MAX_WAIT_S
    waited_s: float = 0.0
    calls: list[str] = field(default_factory=list)

    @property
    def query(self) -> str:
        """Every call made so far, in order: what `ToolResult.query` shows."""
        return " ; ".join(self.calls)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> JSONDict:
        """GET `path` and return the decoded body; raises ToolError subclasses only."""
        prepared = self.client.normalize_params(dict(params or {}))
        shown = f"GET {path}"
        if prepared:
            shown += "?" + urlencode(prepared, doseq=True, safe="[]:,")
        self.calls.append(shown)
        attempts = 0
        while True:
            response = self._send(path, prepared)
            if response.status_code == 429:
                self._wait_rate_limit(response, attempts)
                attempts += 1
                continue
            return self._decode(response, path)

    def list(
        self, path: str, key: str, params: Mapping[str, Any] | None = None, *, limit: int
    ) -> tuple[list[JSONDict], bool]:
        """Up to `limit` records of a classic-paginated index, and whether more exist."""
        items: list[JSONDict] = []
        offset = 0
        while True:
            page_params = {**(params or {}), "limit": min(_PAGE, limit - len(items))}
            if offset:
                page_params["offset"] = offset
            body = self.get(path, page_params)
            page = body.get(key)
            if not isinstance(page, list):
                raise BackendError(
                    f"PagerDuty's answer to GET {path} has no '{key}' list", query=self.query
                )
            items.extend(page)
            more = bool(body.get("more"))
            if not more or not page or len(items) >= limit:
                return items[:limit], more or len(items) > limit
            offset += len(page)

    def _send(self, path: str, params: Mapping[str, Any]) -> httpx2.Response:
        client = self.client
        timeout = float(client.timeout)
        try:
            # httpx2.Client.request directly: the ApiClient.request retry loop is what we
            # replace (see the module docstring); headers and URL are still the client's.
            response = httpx2.Client.request(
                client,
                "GET",
                client.normalize_url(path),
                params=dict(params),
                headers=client.prepare_headers("GET"),
                timeout=timeout,
                follow_redirects=False,
            )
        except httpx2.TimeoutException:
            raise BackendError(
                f"PagerDuty at {client.url} did not answer within {timeout:g} s "
                "(pagerduty.timeout_s)",
                query=self.query,
            ) from None
        except httpx2.TransportError as exc:
            raise BackendError(_transport_message(client.url, exc), query=self.query) from None
        return response

    def _wait_rate_limit(self, response: httpx2.Response, attempts: int) -> None:
        advised = _retry_after(response)
        wait = advised if advised is not None else _FALLBACK_WAIT_S * 2**attempts
        if self.waited_s + wait > self.max_wait_s:
            already = f" (already waited {self.waited_s:.0f} s)" if self.waited_s else ""
            raise BackendError(
                f"rate limited by PagerDuty (429): retry after {math.ceil(wait)} s{already}",
                query=self.query,
                status_code=429,
            )
        time.sleep(wait)
        self.waited_s += wait

    def _decode(self, response: httpx2.Response, path: str) -> JSONDict:
        status = response.status_code
        if status == 401:
            raise BackendError(
                "PagerDuty rejected the token (401): check pagerduty.token "
                "(VIGIE_PAGERDUTY__TOKEN) and pagerduty.api_url",
                query=self.query,
                status_code=401,
            )
        if status == 403:
            raise BackendError(
                f"PagerDuty refused access to {path} (403): the token lacks the permission",
                query=self.query,
                status_code=403,
            )
        if status == 404:
            raise _NotFoundError(f"PagerDuty has no {path}", query=self.query, status_code=404)
        if not response.is_success:
            problem = f"PagerDuty answered {status} to GET {path}: {_error_text(response)}"
            error = ToolInputError if status == 400 else BackendError
            raise error(problem, query=self.query, status_code=status)
        try:
            body = response.json()
        except ValueError:
            raise BackendError(
                f"PagerDuty answered GET {path} with something other than JSON",
                query=self.query,
                status_code=status,
            ) from None
        if not isinstance(body, dict):
            raise BackendError(f"unexpected PagerDuty answer to GET {path}", query=self.query)
        return body


def _transport_message(url: str, exc: httpx2.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in type(exc).__name__.upper():
        return f"TLS verification of PagerDuty at {url} failed ({text}); check pagerduty.ca_bundle"
    if isinstance(exc, httpx2.ConnectError):
        return f"cannot reach PagerDuty at {url}: {text} (check pagerduty.api_url)"
    return f"network error talking to PagerDuty at {url}: {text}"


def _retry_after(response: httpx2.Response) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or `ratelimit-reset`."""
    raw = response.headers.get("retry-after") or response.headers.get("ratelimit-reset")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_text(response: httpx2.Response) -> str:
    try:
        error = response.json().get("error", {})
        parts = [str(error.get("message", ""))] + [str(e) for e in error.get("errors", [])]
        text = "; ".join(p for p in parts if p)
    except (ValueError, AttributeError):
        text = response.text
    return truncate(text or response.reason_phrase, 300)


def _api(ctx: ToolContext) -> _Api:
    try:
        client = ctx.services.pagerduty
    except BackendConfigError as exc:
        raise BackendError(str(exc)) from None
    except (ssl.SSLError, OSError) as exc:
        # A CA bundle that exists but is not PEM, or cannot be read.
        raise BackendError(
            f"cannot build the PagerDuty client: {exc} (check pagerduty.ca_bundle)"
        ) from None
    if client is None:
        raise BackendError(
            "PagerDuty is not configured: set pagerduty.token (VIGIE_PAGERDUTY__TOKEN)"
        )
    return _Api(client)


# --------------------------------------------------------------------------- shared helpers


def _utc(when: datetime) -> str:
    """PagerDuty's timestamp form; the change events endpoint refuses anything but UTC."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _local(text: str | None, tz: ZoneInfo) -> str:
    parsed = _parse(text)
    return parsed.astimezone(tz).strftime("%Y-%m-%d %H:%M") if parsed else "?"


def _name(ref: Any) -> str:
    """The display name of an embedded `*_reference` object."""
    if isinstance(ref, dict):
        return str(ref.get("summary") or ref.get("name") or ref.get("id") or "?")
    return "?"


def _details(details: Any, skip: Iterable[str] = ()) -> str:
    """Scalar custom details as `key=value`, bounded: enough to cite, not a JSON dump."""
    if not isinstance(details, dict):
        return ""
    skipped = set(skip)
    parts = []
    for key, value in details.items():
        if key in skipped or isinstance(value, dict | list) or value in (None, ""):
            continue
        shown = str(value)
        parts.append(f'{key}="{shown}"' if " " in shown else f"{key}={shown}")
    return truncate(" ".join(parts), _DETAIL_CHARS)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _names_list(names: Sequence[str], more: bool) -> str:
    shown = ", ".join(names[:_MAX_NAMES])
    if more or len(names) > _MAX_NAMES:
        shown += ", …"
    return shown or "(none)"


def _find_object(api: _Api, ref: str, kind: Literal["service", "schedule"]) -> JSONDict:
    """A service or schedule by id or exact (case-insensitive) name; else the existing names."""
    plural = f"{kind}s"
    wanted = ref.strip()
    if not wanted:
        raise ToolInputError(f"empty {kind} name")
    if _ID_LIKE.match(wanted):
        try:
            found = api.get(f"/{plural}/{quote(wanted, safe='')}").get(kind)
        except _NotFoundError:
            found = None  # an upper-case name that merely looks like an id: try it as a name
        if isinstance(found, dict):
            return found
    # `query` filters by name on the server, so a large account is not listed for each call.
    candidates, _ = api.list(f"/{plural}", plural, {"query": wanted}, limit=_PAGE)
    for candidate in candidates:
        if str(candidate.get("name", "")).casefold() == wanted.casefold():
            return candidate
    existing, more = api.list(f"/{plural}", plural, limit=_PAGE)
    names = sorted(str(s.get("name")) for s in existing)
    close = [str(c.get("name")) for c in candidates]
    hint = f" (closest: {', '.join(close[:5])})" if close else ""
    raise ToolInputError(
        f"no PagerDuty {kind} named '{wanted}'{hint}; existing {plural}: "
        f"{_names_list(names, more)}",
        query=api.query,
    )


def _result(
    tool: str,
    api: _Api,
    *,
    status: Status,
    data: Any,
    text: str,
    truncated: bool = False,
    time_range: TimeRange | None = None,
    warnings: tuple[str, ...] = (),
) -> ToolResult:
    return ToolResult(
        tool=tool,
        backend="pagerduty",
        status=status,
        query=api.query,
        time_range=time_range,
        data=data,
        text=text,
        truncated=truncated,
        warnings=warnings,
    )


# --------------------------------------------------------------------------- incidents

IncidentStatus = Literal["open", "triggered", "acknowledged", "resolved"]
_OPEN = ("triggered", "acknowledged")


class ListIncidentsArgs(ToolArgs):
    """Arguments of `pagerduty_list_incidents`."""

    statuses: list[IncidentStatus] = Field(
        default_factory=list,
        description="'open' (= triggered + acknowledged), triggered, acknowledged, resolved; "
        "empty for any status",
    )
    services: list[str] = Field(
        default_factory=list, description="PagerDuty service names or ids; empty for all"
    )
    urgency: Literal["high", "low"] | None = None
    since: str | None = Field(
        None,
        description="created at or after (default now-7d; for open-only queries, any age)",
    )
    until: str | None = Field(None, description="created before (default now)")
    limit: int = Field(20, ge=1, le=100, description="most incidents returned, newest first")


def _incident_row(incident: JSONDict, tz: ZoneInfo) -> JSONDict:
    assignees = [_name(a.get("assignee")) for a in incident.get("assignments") or []]
    acknowledgers = [_name(a.get("acknowledger")) for a in incident.get("acknowledgements") or []]
    return {
        "id": incident.get("id"),
        "number": incident.get("incident_number"),
        "status": incident.get("status"),
        "urgency": incident.get("urgency"),
        "title": incident.get("title"),
        "service": _name(incident.get("service")),
        "service_id": (incident.get("service") or {}).get("id"),
        "escalation_policy": _name(incident.get("escalation_policy")),
        "created_at": incident.get("created_at"),
        "created_local": _local(incident.get("created_at"), tz),
        "resolved_at": incident.get("resolved_at"),
        "assignees": assignees,
        "acknowledged_by": acknowledgers,
        "last_status_change_by": _name(incident.get("last_status_change_by")),
        "url": incident.get("html_url"),
    }


def _incident_line(row: JSONDict, tz: ZoneInfo) -> str:
    if row["status"] == "resolved":
        who = f"resolved {_local(row['resolved_at'], tz)} by {row['last_status_change_by']}"
    elif row["acknowledged_by"]:
        who = "acknowledged by " + ", ".join(row["acknowledged_by"])
    else:
        who = "assigned " + (", ".join(row["assignees"]) or "nobody")
    return (
        f"#{row['number']} {row['status']} {row['urgency']} {row['created_local']} "
        f"{row['service']}: {row['title']} [{who}]"
    )


def list_incidents(ctx: ToolContext, args: ListIncidentsArgs) -> ToolResult:
    """Incidents matching statuses, services, urgency and a creation window, newest first."""
    api = _api(ctx)
    statuses = sorted(
        {s for wanted in args.statuses for s in (_OPEN if wanted == "open" else (wanted,))}
    )
    params: JSONDict = {"sort_by": "created_at:desc"}
    if statuses:
        params["statuses"] = statuses
    if args.urgency:
        params["urgencies"] = [args.urgency]
    services = [_find_object(api, ref, "service") for ref in args.services]
    if services:
        params["service_ids"] = [s["id"] for s in services]
    time_range = None
    if set(statuses) <= set(_OPEN) and statuses and not args.since and not args.until:
        # An incident left open for a month is still open: do not hide it behind a window.
        params["date_range"] = "all"
    else:
        start, end = parse_range(args.since, args.until, ctx.now(), ctx.tz, default="now-7d")
        params["since"], params["until"] = _utc(start), _utc(end)
        time_range = TimeRange(start=start, end=end)
    incidents, more = api.list("/incidents", "incidents", params, limit=args.limit)
    rows = [_incident_row(i, ctx.tz) for i in incidents]
    warnings = (f"more incidents match than the {args.limit} shown",) if more else ()
    if not rows:
        asked = ", ".join(statuses) or "any status"
        where = ", ".join(s["name"] for s in services) or "all services"
        return _result(
            "pagerduty_list_incidents",
            api,
            status=Status.NO_DATA,
            data=[],
            time_range=time_range,
            text=f"no incidents ({asked}, {where}) in that window; widen `since` or drop filters",
        )
    header = [f"{_count(len(rows), 'incident')}, newest first, times {ctx.tz.key}:"]
    text, truncated = fit_lines(
        header, [_incident_line(r, ctx.tz) for r in rows], ctx.token_budget, noun="incidents"
    )
    return _result(
        "pagerduty_list_incidents",
        api,
        status=Status.OK,
        data=rows,
        text=text,
        truncated=truncated,
        time_range=time_range,
        warnings=warnings,
    )


class GetIncidentArgs(ToolArgs):
    """Arguments of `pagerduty_get_incident`."""

    incident: str = Field(
        min_length=1, max_length=40, description="incident id (Q1ABC...) or number (1209, #1209)"
    )
    max_entries: int = Field(50, ge=1, le=100, description="latest timeline entries kept")


def _timeline(entries: list[JSONDict], notes: list[JSONDict], tz: ZoneInfo) -> list[JSONDict]:
    items: list[JSONDict] = []
    # The API lists newest first; reversed, entries of the same second keep their real order
    # through the stable sort below.
    for entry in reversed(entries):
        kind = str(entry.get("type", "")).removesuffix("_log_entry")
        if kind == "annotate" and notes:
            continue  # the note itself is listed, with its full text
        items.append(
            {
                "at": entry.get("created_at"),
                "kind": kind,
                "text": str(entry.get("summary", "")),
                "by": _name(entry.get("agent")),
            }
        )
    for note in notes:
        items.append(
            {
                "at": note.get("created_at"),
                "kind": "note",
                "text": truncate(str(note.get("content", "")), 500),
                "by": _name(note.get("user")),
            }
        )
    items.sort(key=lambda item: str(item["at"]))
    for item in items:
        item["local"] = _local(item["at"], tz)
    return items


def _alert_line(alert: JSONDict) -> str:
    details = (alert.get("body") or {}).get("details")
    name = details.get("alertname") if isinstance(details, dict) else None
    described = details.get("description") if isinstance(details, dict) else None
    line = f"- alert {alert.get('status')} {alert.get('severity')} {name or alert.get('summary')}"
    if described:
        line += f": {truncate(str(described), 400)}"
    extra = _details(details, skip=("alertname", "description"))
    return f"{line} ({extra})" if extra else line


def get_incident(ctx: ToolContext, args: GetIncidentArgs) -> ToolResult:
    """One incident with its alerts and its timeline (log entries and notes, oldest first)."""
    api = _api(ctx)
    ref = args.incident.strip().lstrip("#")
    try:
        incident = api.get(f"/incidents/{quote(ref, safe='')}").get("incident")
    except _NotFoundError:
        raise ToolInputError(
            f"no PagerDuty incident '{args.incident}'; list them with pagerduty_list_incidents",
            query=api.query,
        ) from None
    if not isinstance(incident, dict):
        raise BackendError("unexpected PagerDuty answer: no incident", query=api.query)
    base = f"/incidents/{incident['id']}"
    entries, more_entries = api.list(f"{base}/log_entries", "log_entries", limit=args.max_entries)
    notes = api.get(f"{base}/notes").get("notes") or []
    alerts, more_alerts = api.list(f"{base}/alerts", "alerts", limit=20)
    row = _incident_row(incident, ctx.tz)
    timeline = _timeline(entries, notes, ctx.tz)
    row.update(
        alerts=[
            {
                "id": a.get("id"),
                "status": a.get("status"),
                "severity": a.get("severity"),
                "created_at": a.get("created_at"),
                "details": (a.get("body") or {}).get("details"),
            }
            for a in alerts
        ],
        timeline=timeline,
    )
    if row["status"] == "resolved":
        assigned = f"resolved {_local(row['resolved_at'], ctx.tz)}"
    else:
        assigned = "assigned to " + (", ".join(row["assignees"]) or "nobody")
        if row["acknowledged_by"]:
            assigned += "; acknowledged by " + ", ".join(row["acknowledged_by"])
    header = [
        f"#{row['number']} {row['title']}",
        f"id {row['id']}; {row['status']}, urgency {row['urgency']}; service {row['service']}; "
        f"escalation policy {row['escalation_policy']}",
        f"created {row['created_local']} ({ctx.tz.key}); {assigned}",
    ]
    if row["url"]:
        header.append(f"url {row['url']}")
    lines = [f"alerts ({len(alerts)}{'+' if more_alerts else ''}):"]
    lines += [_alert_line(a) for a in alerts]
    cut = " (latest only)" if more_entries else ""
    lines.append(f"timeline ({len(timeline)} entries{cut}, oldest first):")
    lines += [f"{t['local']} {t['kind']} by {t['by']}: {t['text']}" for t in timeline]
    text, truncated = fit_lines(header, lines, ctx.token_budget, noun="lines")
    created = _parse(row["created_at"])
    ended = _parse(row["resolved_at"]) or ctx.now().astimezone(UTC)
    time_range = TimeRange(start=created, end=ended) if created and created <= ended else None
    return _result(
        "pagerduty_get_incident",
        api,
        status=Status.OK,
        data=row,
        text=text,
        truncated=truncated,
        time_range=time_range,
    )


# --------------------------------------------------------------------------- on call


class OncallArgs(ToolArgs):
    """Arguments of `pagerduty_oncall`."""

    service: str | None = Field(
        None, description="service name or id: its escalation policy's on-calls"
    )
    schedule: str | None = Field(None, description="schedule name or id")
    at: str | None = Field(None, description="when (default now), e.g. 'yesterday 08:44'")


def oncall(ctx: ToolContext, args: OncallArgs) -> ToolResult:
    """Who is on call now (or at `at`), level by level, for a service, a schedule, or all."""
    if args.service and args.schedule:
        raise ToolInputError("give a service or a schedule, not both")
    api = _api(ctx)
    now = ctx.now().astimezone(UTC)
    at = parse_time(args.at, now, ctx.tz) if args.at else now
    params: JSONDict = {}
    scope = "every escalation policy"
    schedule: JSONDict | None = None
    if args.service:
        service = _find_object(api, args.service, "service")
        policy = service.get("escalation_policy") or {}
        if not policy.get("id"):
            raise BackendError(
                f"PagerDuty service {service['name']} has no escalation policy", query=api.query
            )
        params["escalation_policy_ids"] = [policy["id"]]
        scope = f"service {service['name']} (escalation policy {_name(policy)})"
    elif args.schedule:
        schedule = _find_object(api, args.schedule, "schedule")
        params["schedule_ids"] = [schedule["id"]]
        scope = f"schedule {schedule['name']}"
    if args.at:
        # since == until asks for the shifts covering that instant.
        params["since"] = params["until"] = _utc(at)
    oncalls, _ = api.list("/oncalls", "oncalls", params, limit=500)
    rows: list[JSONDict] = [
        {
            "escalation_policy": _name(o.get("escalation_policy")),
            "escalation_policy_id": (o.get("escalation_policy") or {}).get("id"),
            "level": o.get("escalation_level"),
            "user": _name(o.get("user")),
            "user_id": (o.get("user") or {}).get("id"),
            "schedule": _name(o.get("schedule")) if o.get("schedule") else None,
            "start": o.get("start"),
            "end": o.get("end"),
        }
        for o in oncalls
    ]
    if not rows and schedule is not None:
        rows = _schedule_oncall(api, schedule, at)
    rows.sort(key=lambda r: (str(r["escalation_policy"]), int(r["level"] or 0)))
    time_range = TimeRange(start=at, end=at)
    when = "now" if not args.at else f"at {_local(_utc(at), ctx.tz)}"
    if not rows:
        return _result(
            "pagerduty_oncall",
            api,
            status=Status.NO_DATA,
            data=[],
            time_range=time_range,
            text=f"nobody on call for {scope} {when}; check the schedule's coverage",
        )
    header = [f"on call {when} for {scope} (times {ctx.tz.key}):"]
    lines = []
    for r in rows:
        source = f"schedule {r['schedule']}" if r["schedule"] else "directly targeted"
        span = (
            f", {_local(r['start'], ctx.tz)} to {_local(r['end'], ctx.tz)}"
            if r["start"] and r["end"]
            else ", always"
        )
        level = f"level {r['level']}" if r["level"] is not None else "on call"
        lines.append(f"{r['escalation_policy']} {level}: {r['user']} ({source}{span})")
    text, truncated = fit_lines(header, lines, ctx.token_budget, noun="on-calls")
    return _result(
        "pagerduty_oncall",
        api,
        status=Status.OK,
        data=rows,
        text=text,
        truncated=truncated,
        time_range=time_range,
    )


def _schedule_oncall(api: _Api, schedule: JSONDict, at: datetime) -> list[JSONDict]:
    """A schedule no escalation policy uses has no /oncalls entries: read its final layer."""
    stamp = _utc(at)
    body = api.get(f"/schedules/{schedule['id']}", {"since": stamp, "until": stamp})
    final = (body.get("schedule") or {}).get("final_schedule") or {}
    return [
        {
            "escalation_policy": "(no escalation policy)",
            "escalation_policy_id": None,
            "level": None,
            "user": _name(entry.get("user")),
            "user_id": (entry.get("user") or {}).get("id"),
            "schedule": schedule.get("name"),
            "start": entry.get("start"),
            "end": entry.get("end"),
        }
        for entry in final.get("rendered_schedule_entries") or []
    ]


# --------------------------------------------------------------------------- services


class ListServicesArgs(ToolArgs):
    """Arguments of `pagerduty_list_services`."""

    query: str | None = Field(None, max_length=100, description="part of the service name")
    limit: int = Field(100, ge=1, le=500)


def list_services(ctx: ToolContext, args: ListServicesArgs) -> ToolResult:
    """PagerDuty services: name, id, status, escalation policy, teams, last incident."""
    api = _api(ctx)
    params = {"query": args.query} if args.query else {}
    services, more = api.list("/services", "services", params, limit=args.limit)
    rows: list[JSONDict] = [
        {
            "id": s.get("id"),
            "name": s.get("name"),
            "status": s.get("status"),
            "description": s.get("description"),
            "escalation_policy": _name(s.get("escalation_policy")),
            "escalation_policy_id": (s.get("escalation_policy") or {}).get("id"),
            "teams": [_name(t) for t in s.get("teams") or []],
            "last_incident_at": s.get("last_incident_timestamp"),
        }
        for s in services
    ]
    if not rows:
        return _result(
            "pagerduty_list_services",
            api,
            status=Status.NO_DATA,
            data=[],
            text=f"no PagerDuty service matches '{args.query}'; call again without `query`"
            if args.query
            else "this PagerDuty account has no services",
        )
    lines = []
    for r in rows:
        last = (
            f", last incident {_local(r['last_incident_at'], ctx.tz)}"
            if r["last_incident_at"]
            else ""
        )
        teams = ", ".join(r["teams"]) or "no team"
        lines.append(
            f"{r['name']} ({r['id']}) {r['status']}; policy {r['escalation_policy']}; "
            f"team {teams}{last}"
        )
    header = [f"{_count(len(rows), 'service')}{' (more exist)' if more else ''}:"]
    text, truncated = fit_lines(header, lines, ctx.token_budget, noun="services")
    return _result(
        "pagerduty_list_services",
        api,
        status=Status.OK,
        data=rows,
        text=text,
        truncated=truncated,
        warnings=(f"more services exist than the {args.limit} listed",) if more else (),
    )


# --------------------------------------------------------------------------- change events


class ChangeEventsArgs(ToolArgs):
    """Arguments of `pagerduty_change_events`."""

    service: str | None = Field(None, description="service name or id; empty for all")
    since: str | None = Field(None, description="default now-7d")
    until: str | None = Field(None, description="default now")
    limit: int = Field(30, ge=1, le=200, description="most events returned, newest first")


def change_events(ctx: ToolContext, args: ChangeEventsArgs) -> ToolResult:
    """Deploys and other change events, newest first, with their custom details."""
    api = _api(ctx)
    start, end = parse_range(args.since, args.until, ctx.now(), ctx.tz, default="now-7d")
    params = {"since": _utc(start), "until": _utc(end)}
    path = "/change_events"
    service: JSONDict | None = None
    if args.service:
        service = _find_object(api, args.service, "service")
        path = f"/services/{service['id']}/change_events"
    events, more = api.list(path, "change_events", params, limit=args.limit)
    events.sort(key=lambda e: str(e.get("timestamp", "")), reverse=True)
    rows: list[JSONDict] = [
        {
            "id": e.get("id"),
            "timestamp": e.get("timestamp"),
            "local": _local(e.get("timestamp"), ctx.tz),
            "summary": e.get("summary"),
            "source": e.get("source"),
            "services": [_name(s) for s in e.get("services") or []],
            "custom_details": e.get("custom_details") or {},
            "links": [link.get("href") for link in e.get("links") or [] if link.get("href")],
        }
        for e in events
    ]
    time_range = TimeRange(start=start, end=end)
    if not rows:
        where = service["name"] if service else "any service"
        return _result(
            "pagerduty_change_events",
            api,
            status=Status.NO_DATA,
            data=[],
            time_range=time_range,
            text=f"no change events for {where} in that window; widen `since`",
        )
    lines = []
    for r in rows:
        services = ", ".join(r["services"]) or "no service"
        details = _details(r["custom_details"], skip=("service",))
        source = f" (source {r['source']})" if r["source"] else ""
        lines.append(
            f"{r['local']} {services}: {r['summary']}{source}"
            + (f" — {details}" if details else "")
        )
    header = [f"{_count(len(rows), 'change event')}, newest first, times {ctx.tz.key}:"]
    text, truncated = fit_lines(header, lines, ctx.token_budget, noun="events")
    return _result(
        "pagerduty_change_events",
        api,
        status=Status.OK,
        data=rows,
        text=text,
        truncated=truncated,
        time_range=time_range,
        warnings=(f"more change events match than the {args.limit} shown",) if more else (),
    )


# --------------------------------------------------------------------------- declarations

PAGERDUTY_LIST_INCIDENTS = Tool(
    name="pagerduty_list_incidents",
    backend="pagerduty",
    description=description(
        "List PagerDuty incidents, newest first: number, status, urgency, local time, service, "
        "title, who is assigned (or acknowledged/resolved it).",
        "asked what is open or on fire, what happened on a service recently, or to find the "
        "number of an incident to open with pagerduty_get_incident.",
        "pagerduty_list_incidents(statuses=['open'], services=['payment-gateway'])",
        notes="`since`/`until` filter on creation time and accept now-2h, 'today 08:00', RFC "
        "3339; default the last 7 days, except open-only queries which see any age.",
    ),
    args=ListIncidentsArgs,
    fn=list_incidents,
    tags=("incidents",),
)

PAGERDUTY_GET_INCIDENT = Tool(
    name="pagerduty_get_incident",
    backend="pagerduty",
    description=description(
        "One PagerDuty incident in detail: status, service, assignees, its alerts (with their "
        "details such as measured values) and its timeline of log entries and notes, oldest "
        "first, in local time.",
        "you know an incident's number or id and need what happened, who was paged, who "
        "acknowledged, and what the responders wrote.",
        "pagerduty_get_incident(incident='1209')",
    ),
    args=GetIncidentArgs,
    fn=get_incident,
    tags=("incidents",),
)

PAGERDUTY_ONCALL = Tool(
    name="pagerduty_oncall",
    backend="pagerduty",
    description=description(
        "Who is on call, level by level (1 = paged first), now or at a given time, for a "
        "service (through its escalation policy), a schedule, or every policy.",
        "asked who to call, who was on call when something happened, or who can approve an "
        "action that requires the service's on-call.",
        "pagerduty_oncall(service='payment-gateway', at='yesterday 08:44')",
    ),
    args=OncallArgs,
    fn=oncall,
    tags=("oncall",),
)

PAGERDUTY_LIST_SERVICES = Tool(
    name="pagerduty_list_services",
    backend="pagerduty",
    description=description(
        "List PagerDuty services: name, id, status (critical = open triggered incident), "
        "escalation policy, team and last incident time.",
        "you need the exact service names PagerDuty knows, or which services are currently "
        "alerting.",
        "pagerduty_list_services(query='payment')",
    ),
    args=ListServicesArgs,
    fn=list_services,
    tags=("services",),
)

PAGERDUTY_CHANGE_EVENTS = Tool(
    name="pagerduty_change_events",
    backend="pagerduty",
    description=description(
        "Recent deploys and other change events from PagerDuty, newest first: local time, "
        "service, summary and custom details such as version and previous_version.",
        "correlating an incident or a regression with a deploy or configuration change.",
        "pagerduty_change_events(service='payment-gateway', since='today 00:00')",
        notes="Default window: the last 7 days.",
    ),
    args=ChangeEventsArgs,
    fn=change_events,
    tags=("changes", "deploys"),
)

TOOLS: tuple[Tool[Any], ...] = (
    PAGERDUTY_LIST_INCIDENTS,
    PAGERDUTY_GET_INCIDENT,
    PAGERDUTY_ONCALL,
    PAGERDUTY_LIST_SERVICES,
    PAGERDUTY_CHANGE_EVENTS,
)
