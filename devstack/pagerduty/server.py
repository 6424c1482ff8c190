"""A PagerDuty REST API v2 simulator: the subset Vigie uses, over HTTPS, with persisted state.

`Simulator` is the application (routing, auth, rate limit, pagination, state); it takes a
`Request` and returns a `Response`, so it can be exercised in-process. `SimulatorServer` puts it
behind `http.server` with TLS, and `serve()` runs that in the foreground until SIGTERM/SIGINT.

Behaviour follows PagerDuty's documented API where Vigie depends on it: `Token token=...` auth,
error bodies `{"error": {"message", "code", "errors"}}`, classic offset pagination, the `From`
header on writes, `Retry-After` on 429. Timestamps are always rendered in UTC (`Z`); the
`time_zone` query parameter is accepted and ignored.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devstack.pagerduty import tls, world
from devstack.pagerduty.world import API_BASE, JSONDict, iso, parse_iso
from devstack.world.scenario import Anchor

STATE_FILE = "state.json"
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
# PagerDuty refuses classic pagination beyond this many records (offset + limit).
ITERATION_LIMIT = 10_000
RATE_WINDOW_S = 60.0
INCIDENT_DEFAULT_WINDOW = timedelta(days=30)
INCIDENT_MAX_WINDOW = timedelta(days=183)
ONCALL_MAX_FUTURE = timedelta(days=90)
SCHEDULE_DEFAULT_WINDOW = timedelta(days=14)

# PagerDuty's error codes (https://developer.pagerduty.com/docs/rest-api-v2/errors/).
CODE_INVALID_INPUT = 2001
CODE_AUTH_FAILED = 2006
CODE_RATE_LIMITED = 2020
CODE_NOT_FOUND = 2100

_HOST_RE = re.compile(r"^(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?$")
_SORT_FIELDS = ("incident_number", "created_at", "resolved_at", "urgency")
_INCIDENT_STATUSES = ("triggered", "acknowledged", "resolved")
_URGENCIES = ("high", "low")


class ApiError(Exception):
    """An error response in PagerDuty's format."""

    def __init__(
        self,
        status: int,
        message: str,
        code: int,
        errors: Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.errors = list(errors)
        self.headers = dict(headers or {})

    def body(self) -> JSONDict:
        error: JSONDict = {"message": self.message, "code": self.code}
        if self.errors:
            error["errors"] = self.errors
        return {"error": error}


def invalid(*errors: str) -> ApiError:
    """400 Invalid Input Provided, with human-readable details."""
    return ApiError(400, "Invalid Input Provided", CODE_INVALID_INPUT, errors)


def not_found() -> ApiError:
    return ApiError(404, "Not Found", CODE_NOT_FOUND)


@dataclass(frozen=True)
class Request:
    """What the application needs from an HTTP request. Header names are lower-case."""

    method: str
    path: str
    query: Mapping[str, list[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def build(
        cls,
        method: str,
        target: str,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> Request:
        """From a request target such as `/incidents?statuses[]=triggered`."""
        parts = urlsplit(target)
        return cls(
            method=method.upper(),
            path=parts.path.rstrip("/") or "/",
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in (headers or {}).items()},
            body=body,
        )


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Handler = Callable[[Request, re.Match[str]], tuple[int, JSONDict]]


class RateLimiter:
    """A sliding one-minute window of accepted requests, per token."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, token: str) -> float | None:
        """Record a request; None when allowed, else the seconds to wait before retrying."""
        now = self._clock()
        with self._lock:
            window = self._seen.setdefault(token, deque())
            while window and window[0] <= now - RATE_WINDOW_S:
                window.popleft()
            if len(window) >= self.per_minute:
                return window[0] + RATE_WINDOW_S - now
            window.append(now)
            return None


class Simulator:
    """The PagerDuty API application over a state dict persisted in `directory`."""

    def __init__(
        self,
        directory: Path,
        token: str,
        rate_limit_per_minute: int,
        anchor: Anchor,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.directory = directory
        self.token = token
        self.anchor = anchor
        self.clock = clock or (lambda: datetime.now(UTC))
        self.limiter = RateLimiter(rate_limit_per_minute)
        self._lock = threading.RLock()
        self.state = self._load_state()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._route("GET", r"/incidents", self._list_incidents)
        self._route("PUT", r"/incidents", self._update_incidents)
        self._route("GET", r"/incidents/(?P<id>[^/]+)", self._get_incident)
        self._route("PUT", r"/incidents/(?P<id>[^/]+)", self._update_incident)
        self._route("GET", r"/incidents/(?P<id>[^/]+)/log_entries", self._list_log_entries)
        self._route("GET", r"/incidents/(?P<id>[^/]+)/notes", self._list_notes)
        self._route("POST", r"/incidents/(?P<id>[^/]+)/notes", self._create_note)
        self._route("GET", r"/incidents/(?P<id>[^/]+)/alerts", self._list_alerts)
        self._route("GET", r"/log_entries/(?P<id>[^/]+)", self._get_log_entry)
        self._route("GET", r"/oncalls", self._list_oncalls)
        self._route("GET", r"/schedules", self._list_schedules)
        self._route("GET", r"/schedules/(?P<id>[^/]+)", self._get_schedule)
        self._route("GET", r"/services", self._list_services)
        self._route("GET", r"/services/(?P<id>[^/]+)", self._get_service)
        self._route("GET", r"/services/(?P<id>[^/]+)/change_events", self._service_changes)
        self._route("GET", r"/users", self._list_users)
        self._route("GET", r"/users/(?P<id>[^/]+)", self._get_user)
        self._route("GET", r"/teams", self._list_teams)
        self._route("GET", r"/teams/(?P<id>[^/]+)", self._get_team)
        self._route("GET", r"/escalation_policies", self._list_policies)
        self._route("GET", r"/escalation_policies/(?P<id>[^/]+)", self._get_policy)
        self._route("GET", r"/change_events", self._list_changes)
        self._route("GET", r"/change_events/(?P<id>[^/]+)", self._get_change)

    # ------------------------------------------------------------------ state

    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILE

    def _load_state(self) -> JSONDict:
        path = self.state_path
        if path.is_file():
            try:
                state: JSONDict = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                _log(f"state file {path} unreadable ({exc}); rebuilding it")
            else:
                if (
                    state.get("fingerprint") == self.anchor.fingerprint()
                    and state.get("state_version") == world.STATE_VERSION
                ):
                    return state
                _log(f"state file {path} belongs to another world; rebuilding it")
        state = world.build_state(self.anchor)
        self._write_state(state)
        return state

    def _write_state(self, state: JSONDict) -> None:
        # Atomic replace: a crash mid-write leaves the previous state, never a truncated file.
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(f"{STATE_FILE}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.state_path)

    # ------------------------------------------------------------------ dispatch

    def _route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(f"^{pattern}$"), handler))

    def handle(self, request: Request) -> Response:
        """Authenticate, rate-limit, route and render one request."""
        try:
            self._authenticate(request)
            wait = self.limiter.check(self.token)
            if wait is not None:
                raise ApiError(
                    429,
                    "Rate Limit Exceeded",
                    CODE_RATE_LIMITED,
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )
            handler, match = self._resolve(request)
            with self._lock:
                status, body = handler(request, match)
                payload = json.dumps(body, ensure_ascii=False)
        except ApiError as exc:
            return _json_response(exc.status, json.dumps(exc.body()), request, exc.headers)
        return _json_response(status, payload, request)

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        token = value.strip().removeprefix("token=") if scheme.lower() == "token" else None
        if token is None or token != self.token:
            raise ApiError(401, "Authentication failed", CODE_AUTH_FAILED)

    def _resolve(self, request: Request) -> tuple[Handler, re.Match[str]]:
        allowed = False
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match is None:
                continue
            if method == request.method:
                return handler, match
            allowed = True
        if allowed:
            raise ApiError(405, "Method Not Allowed", CODE_INVALID_INPUT)
        raise not_found()

    # ------------------------------------------------------------------ lookups

    def _find(self, collection: str, object_id: str) -> JSONDict:
        for item in self.state[collection]:
            if item["id"] == object_id:
                return item  # type: ignore[no-any-return]
        raise not_found()

    def _incident(self, object_id: str) -> JSONDict:
        # The real API also accepts the incident number in place of the id.
        for incident in self.state["incidents"]:
            if incident["id"] == object_id or str(incident["incident_number"]) == object_id:
                return incident  # type: ignore[no-any-return]
        raise not_found()

    def _requester(self, request: Request) -> str:
        """The user id named by the `From` header, required on writes."""
        email = request.headers.get("from", "").strip()
        if not email:
            raise invalid(
                'You must specify a user\'s email address in the "From" header '
                "to perform this action"
            )
        for user in self.state["users"]:
            if user["email"].lower() == email.lower():
                return str(user["id"])
        raise invalid("Requester User Not Found")

    # ------------------------------------------------------------------ incidents

    def _list_incidents(self, request: Request, _: re.Match[str]) -> tuple[int, JSONDict]:
        q = request.query
        now = self.clock()
        statuses = _choices(q, "statuses", _INCIDENT_STATUSES)
        urgencies = _choices(q, "urgencies", _URGENCIES)
        service_ids = set(_list(q, "service_ids"))
        team_ids = set(_list(q, "team_ids"))
        user_ids = set(_list(q, "user_ids"))
        incident_key = _single(q, "incident_key")
        date_range = _single(q, "date_range")
        if date_range is not None and date_range != "all":
            raise invalid("date_range must be 'all'")
        since, until = None, None
        if date_range is None:
            until = _time(q, "until") or now
            since = _time(q, "since") or until - INCIDENT_DEFAULT_WINDOW
            if since > until:
                raise invalid("'since' must be before 'until'")
            if until - since > INCIDENT_MAX_WINDOW:
                raise invalid("The date range may not exceed 6 months")
        sort_keys = _sort_by(q)

        def keep(incident: JSONDict) -> bool:
            created = parse_iso(incident["created_at"])
            return (
                (not statuses or incident["status"] in statuses)
                and (not urgencies or incident["urgency"] in urgencies)
                and (not service_ids or incident["service"]["id"] in service_ids)
                and (not team_ids or any(t["id"] in team_ids for t in incident["teams"]))
                and (
                    not user_ids
                    or any(a["assignee"]["id"] in user_ids for a in incident["assignments"])
                )
                and (incident_key is None or incident["incident_key"] == incident_key)
                and (since is None or since <= created)
                and (until is None or created < until)
            )

        incidents = [i for i in self.state["incidents"] if keep(i)]
        for key, descending in reversed(sort_keys):
            incidents.sort(key=_sort_key(key), reverse=descending)
        return 200, _paginate(q, incidents, "incidents")

    def _get_incident(self, request: Request, match: re.Match[str]) -> tuple[int, JSONDict]:
        return 200, {"incident": self._incident(match["id"])}

    def _update_incident(self, request: Request, match: re.Match[str]) -> tuple[int, JSONDict]:
        user_id = self._requester(request)
        body = _json_body(request)
        update = body.get("incident")
        if not isinstance(update, dict):
            raise invalid("incident is required")
        incident = self._incident(match["id"])
        self._check_update(incident, update)
        self._apply_update(incident, update, user_id)
        self._write_state(self.state)
        return 200, {"incident": incident}

    def _update_incidents(self, request: Request, _: re.Match[str]) -> tuple[int, JSONDict]:
        user_id = self._requester(request)
        body = _json_body(request)
        updates = body.get("incidents")
        if not isinstance(updates, list) or not updates:
            raise invalid("incidents must be a non-empty array")
        if len(updates) > 250:
            raise invalid("At most 250 incidents can be updated at once")
        pairs = []
        # Validate every item before touching any, so a bad item leaves the state unchanged.
        for update in updates:
            if not isinstance(update, dict) or not isinstance(update.get("id"), str):
                raise invalid("Each incident must be an object with an id")
            incident = self._incident(update["id"])
            self._check_update(incident, update)
            pairs.append((incident, update))
        for incident, update in pairs:
            self._apply_update(incident, update, user_id)
        self._write_state(self.state)
        return 200, {"incidents": [incident for incident, _ in pairs]}

    def _check_update(self, incident: JSONDict, update: JSONDict) -> None:
        kind = update.get("type", "incident_reference")
        if kind not in ("incident", "incident_reference"):
            raise invalid("type must be 'incident' or 'incident_reference'")
        status = update.get("status")
        if status is not None:
            if status not in _INCIDENT_STATUSES:
                raise invalid("Status must be one of triggered, acknowledged, or resolved.")
            if status == "triggered":
                raise invalid("The simulator does not support re-triggering incidents")
            if incident["status"] == "resolved":
                raise invalid("Incident Already Resolved")
        urgency = update.get("urgency")
        if urgency is not None and urgency not in _URGENCIES:
            raise invalid("Urgency must be one of high or low.")
        title = update.get("title")
        if title is not None and (not isinstance(title, str) or not title.strip()):
            raise invalid("title must be a non-empty string")
        resolution = update.get("resolution")
        if resolution is not None and not isinstance(resolution, str):
            raise invalid("resolution must be a string")

    def _apply_update(self, incident: JSONDict, update: JSONDict, user_id: str) -> None:
        now = self.clock()
        entries = self.state["log_entries"].setdefault(incident["id"], [])
        if isinstance(update.get("title"), str):
            incident["title"] = update["title"]
            incident["description"] = update["title"]
            incident["summary"] = f"[#{incident['incident_number']}] {update['title']}"
        urgency = update.get("urgency")
        if urgency is not None and urgency != incident["urgency"]:
            incident["urgency"] = urgency
            entries.append(
                world.log_entry(
                    "urgency_change",
                    incident,
                    now,
                    f"Urgency changed to {urgency}.",
                    agent=world.user_ref(user_id),
                    channel={"type": "website"},
                )
            )
        status = update.get("status")
        if status == "acknowledged":
            previous = list(incident["acknowledgements"])
            world.acknowledge(incident, entries, user_id, now)
            # Several people may acknowledge; the real API lists each acknowledger once.
            others = [a for a in previous if a["acknowledger"]["id"] != user_id]
            incident["acknowledgements"] = others + incident["acknowledgements"]
        elif status == "resolved":
            alerts = self.state["alerts"].setdefault(incident["id"], [])
            world.resolve(
                incident,
                alerts,
                entries,
                user_id=user_id,
                at=now,
                resolution=update.get("resolution"),
            )
        incident["updated_at"] = iso(now)

    def _list_log_entries(self, request: Request, match: re.Match[str]) -> tuple[int, JSONDict]:
        q = request.query
        incident = self._incident(match["id"])
        since, until = _time(q, "since"), _time(q, "until")
        overview = _bool(q, "is_overview", default=False)
        entries = [
            e
            for e in self.state["log_entries"].get(incident["id"], [])
            if (since is None or parse_iso(e["created_at"]) >= since)
            and (until is None or parse_iso(e["created_at"]) < until)
            and not (overview and e["type"] == "notify_log_entry")
        ]
        # Newest first, like the incident timeline. Entries are stored in the order they
        # happened, so the position breaks ties between entries of the same second.
        order = sorted(range(len(entries)), key=lambda n: (entries[n]["created_at"], n))
        entries = [entries[n] for n in reversed(order)]
        return 200, _paginate(q, entries, "log_entries")

    def _get_log_entry(self, request: Request, match: re.Match[str]) -> tuple[int, JSONDict]:
        for entries in self.state["log_entries"].values():
            for entry in entries:
                if entry["id"] == match["id"]:
                    return 200, {"log_entry": entry}
        raise not_found()

    def _list_notes(self, request: Request, match: re.Match[str]) -> tuple[int, JSONDict]:
        incident = self._incident(match["id"])
        return 200, {"notes": self.state["notes"].get(incident["id"], [])}

    def _create_note(self, request: Request, match: re.Match[str]) -> tuple[int, JSONDict]:
        user_id = self._requester(request)
        body = _json_body(request)
        content = (
            body.get("note", {}).get("content") if isinstance(body.get("note"), dict) else None
        )
        if not isinstance(content, str) or not content.strip():
            raise invalid("Note content can't be blank")
        if len(content) > 25_000:
            raise invalid("Note content is too long (maximum is 25000 characters)")
        incident = self._incident(match["id"])
        now = self.clock()
        created = world.note(incident, user_id, content, now)
        self.state["notes"].setdefault(incident["id"], []).append(created)
        who = world.user_ref(user_id)
        self.state["log_entries"].setdefault(incident["id"], []).append(
            world.log_entry(
                "annotate",
                incident,
                now,
                f"Note added by {who['summary']}.",
                agent=who,
                channel={"type": "note", "summary": content[:100]},
            )
        )
        incident["updated_at"] = iso(now)
        self._write_state(self.state)
        # The published schema documents 200 (not 201) for this operation.
        return 200, {"note": created}

    def _list_alerts(self, request: Request, match: re.Match[str]) -> tuple[int, JSONDict]:
        q = request.query
        incident = self._incident(match["id"])
        statuses = _choices(q, "statuses", ("triggered", "resolved"))
        alerts = [
            a
            for a in self.state["alerts"].get(incident["id"], [])
            if not statuses or a["status"] in statuses
        ]
        return 200, _paginate(q, alerts, "alerts")

    # ------------------------------------------------------------------ on-call

    def _list_oncalls(self, request: Request, _: re.Match[str]) -> tuple[int, JSONDict]:
        q = request.query
        now = self.clock()
        since = _time(q, "since")
        until = _time(q, "until")
        since = since or (until if until is not None and until < now else now)
        until = until or max(since, now)
        if until < since:
            raise invalid("The 'until' time cannot be before the 'since' time")
        if until > now + ONCALL_MAX_FUTURE:
            raise invalid("On-call shifts are limited to 90 days in the future")
        policy_ids = set(_list(q, "escalation_policy_ids"))
        schedule_ids = set(_list(q, "schedule_ids"))
        user_ids = set(_list(q, "user_ids"))
        earliest = _bool(q, "earliest", default=False)
        tz = self.anchor.tz
        oncalls: list[JSONDict] = []
        for policy in sorted(self.state["escalation_policies"], key=lambda p: p["name"]):
            if policy_ids and policy["id"] not in policy_ids:
                continue
            policy_ref = world.reference("escalation_policy", policy["id"], policy["name"])
            for level, rule in enumerate(policy["escalation_rules"], start=1):
                for target in rule["targets"]:
                    if target["type"] == "schedule_reference":
                        spec = world.schedule_spec(target["id"])
                        for shift in world.shifts_between(spec, since, until, tz):
                            oncalls.append(
                                {
                                    "escalation_policy": policy_ref,
                                    "escalation_level": level,
                                    "schedule": target,
                                    "user": world.user_ref(shift.user_id),
                                    "start": iso(shift.start),
                                    "end": iso(shift.end),
                                }
                            )
                    else:
                        # A user targeted directly is permanently on call: no schedule, no
                        # start/end, exactly as PagerDuty reports it.
                        oncalls.append(
                            {
                                "escalation_policy": policy_ref,
                                "escalation_level": level,
                                "schedule": None,
                                "user": world.user_ref(target["id"]),
                                "start": None,
                                "end": None,
                            }
                        )
        oncalls = [
            o
            for o in oncalls
            if (not user_ids or o["user"]["id"] in user_ids)
            and (
                not schedule_ids
                or (o["schedule"] is not None and o["schedule"]["id"] in schedule_ids)
            )
        ]
        if earliest:
            seen: set[tuple[str, int, str]] = set()
            firsts = []
            for o in oncalls:  # already in start order within a policy level
                key = (o["escalation_policy"]["id"], o["escalation_level"], o["user"]["id"])
                if key not in seen:
                    seen.add(key)
                    firsts.append(o)
            oncalls = firsts
        return 200, _paginate(q, oncalls, "oncalls")

    def _list_schedules(self, request: Request, _: re.Match[str]) -> tuple[int, JSONDict]:
        q = request.query
        query = (_single(q, "query") or "").lower()
        schedules = [
            _schedule_summary(s) for s in self.state["schedules"] if query in s["name"].lower()
        ]
        return 200, _paginate(q, schedules, "schedules")

    def _get_schedule(self, request: Request, match: re.Match[str]) -> tuple[int, JSONDict]:
        q = request.query
        schedule = copy.deepcopy(self._find("schedules", match["id"]))
        since, until = _time(q, "since"), _time(q, "until")
        if since is None and until is None:
            schedule["final_schedule"] = {"name": "Final Schedule", "rendered_schedule_entries": []}
            schedule["overrides_subschedule"] = {
                "name": "Overrides",
                "rendered_schedule_entries": [],
            }
            return 200, {"schedule": schedule}
        if since is None:
            assert until is not None
            since = until - SCHEDULE_DEFAULT_WINDOW
        if until is None:
            until = since + SCHEDULE_DEFAULT_WINDOW
        if until < since:
            raise invalid("'until' must be after 'since'")
        overflow = _bool(q, "overflow", default=False)
        spec = world.schedule_spec(schedule["id"])
        entries = []
        for shift in world.shifts_between(spec, since, until, self.anchor.tz):
            if shift.start >= until and since != until:
                continue
            start = shift.start if overflow else max(shift.start, since)
            end = shift.end if overflow else min(shift.end, until)
            entries.append(
                {"start": iso(start), "end": iso(end), "user": world.user_ref(shift.user_id)}
            )
        for layer in schedule["schedule_layers"]:
            layer["rendered_schedule_entries"] = entries
            layer["rendered_coverage_percentage"] = 100.0
        schedule["final_schedule"] = {
            "name": "Final Schedule",
            "rendered_schedule_entries": entries,
            "rendered_coverage_percentage": 100.0,
        }
        schedule["overrides_subschedule"] = {
            "name": "Overrides",
            "rendered_schedule_entries": [],
            "rendered_coverage_percentage": 0.0,
        }
        return 200, {"schedule": schedule}

    # ------------------------------------------------------------------ directory objects

    def _service_view(self, service: JSONDict) -> JSONDict:
        view = dict(service)
        mine = [i for i in self.state["incidents"] if i["service"]["id"] == service["id"]]
        open_statuses = {i["status"] for i in mine}
        if "triggered" in open_statuses:
            view["status"] = "critical"
        elif "acknowledged" in open_statuses:
            view["status"] = "warning"
        if mine:
            view["last_incident_timestamp"] = max(i["created_at"] for i in mine)
        return view

    def _list_services(self, request: Request, _: re.Match[str]) -> tuple[int, JSONDict]:
        q = request.query
        query = (_single(q, "query") or "").lower()
        team_ids = set(_list(q, "team_ids"))
        services = [
            self._service_view(s)
            for s in sorted(self.state["services"], key=lambda s: s["name"])
            if query in s["name"].lower()
            and (not team_ids or any(t["id"] in team_ids for t in s["teams"]))
        ]
        return 200, _paginate(q, services, "services")

    def _get_service(self, request: Request, match: re.Match[str]) -> tuple[int, JSONDict]:
        return 200, {"service": self._service_view(self._find("services", match["id"]))}

    def _list_users(self, request: Request, _: re.Match[str]) -> tuple[int, JSONDict]:
        q = request.query
        query = (_single(q, "query") or "").lower()
        team_ids = set(_list(q, "team_ids"))
        users = [
            u
            for u in sorted(self.state["users"], key=lambda u: u["name"])
            if (query in u["name"].lower() or query in u["email"].lower())
            and (not team_ids or any(t["id"] in team_ids for t in u["teams"]))
        ]
        return 200, _paginate(q, users, "users")

    def _get_user(self, request: Request, match: re.Match[str]) -> tuple[int, JSONDict]:
        return 200, {"user": self._find("users", match["id"])}

    def _list_teams(self, request: Request, _: re.Match[str]) -> tuple[int, JSONDict]:
        q = request.query
        query = (_single(q, "query") or "").lower()
        teams = [t for t in self.state["teams"] if query in t["name"].lower()]
        return 200, _paginate(q, teams, "teams")

    def _get_team(self, request: Request, match: re.Match[str]) -> tuple[int, JSONDict]:
        return 200, {"team": self._find("teams", match["id"])}

    def _list_policies(self, request: Request, _: re.Match[str]) -> tuple[int, JSONDict]:
        q = request.query
        query = (_single(q, "query") or "").lower()
        team_ids = set(_list(q, "team_ids"))
        user_ids = set(_list(q, "user_ids"))

        def targets_user(policy: JSONDict) -> bool:
            users = set()
            for rule in policy["escalation_rules"]:
                for target in rule["targets"]:
                    if target["type"] == "user_reference":
                        users.add(target["id"])
                    else:
                        users.update(world.schedule_spec(target["id"]).rotation)
            return bool(users & user_ids)

        policies = [
            p
            for p in self.state["escalation_policies"]
            if query in p["name"].lower()
            and (not team_ids or any(t["id"] in team_ids for t in p["teams"]))
            and (not user_ids or targets_user(p))
        ]
        return 200, _paginate(q, policies, "escalation_policies")

    def _get_policy(self, request: Request, match: re.Match[str]) -> tuple[int, JSONDict]:
        return 200, {"escalation_policy": self._find("escalation_policies", match["id"])}

    # ------------------------------------------------------------------ change events

    def _changes(self, request: Request, service_id: str | None) -> JSONDict:
        q = request.query
        # The real endpoint refuses non-UTC bounds.
        since = _time(q, "since", utc_only=True)
        until = _time(q, "until", utc_only=True)
        team_ids = set(_list(q, "team_ids"))
        integration_ids = set(_list(q, "integration_ids"))
        team_services = {
            s["id"] for s in self.state["services"] if any(t["id"] in team_ids for t in s["teams"])
        }
        events = [
            e
            for e in self.state["change_events"]
            if (since is None or parse_iso(e["timestamp"]) >= since)
            and (until is None or parse_iso(e["timestamp"]) < until)
            and (service_id is None or any(s["id"] == service_id for s in e["services"]))
            and (not team_ids or any(s["id"] in team_services for s in e["services"]))
            and (not integration_ids or e["integration"]["id"] in integration_ids)
        ]
        events = sorted(events, key=lambda e: e["timestamp"], reverse=True)
        return _paginate(q, events, "change_events")

    def _list_changes(self, request: Request, _: re.Match[str]) -> tuple[int, JSONDict]:
        return 200, self._changes(request, None)

    def _service_changes(self, request: Request, match: re.Match[str]) -> tuple[int, JSONDict]:
        service = self._find("services", match["id"])
        return 200, self._changes(request, service["id"])

    def _get_change(self, request: Request, match: re.Match[str]) -> tuple[int, JSONDict]:
        return 200, {"change_event": self._find("change_events", match["id"])}


# ---------------------------------------------------------------------- request helpers


def _list(q: Mapping[str, list[str]], name: str) -> list[str]:
    """A filter array: `name[]` (what clients send) or bare `name`; comma lists are split."""
    values = q.get(f"{name}[]", []) + q.get(name, [])
    return [part for value in values for part in value.split(",") if part]


def _choices(q: Mapping[str, list[str]], name: str, allowed: tuple[str, ...]) -> set[str]:
    values = set(_list(q, name))
    wrong = sorted(values - set(allowed))
    if wrong:
        raise invalid(f"{name} must be a list of {', '.join(allowed)}; got {', '.join(wrong)}")
    return values


def _single(q: Mapping[str, list[str]], name: str) -> str | None:
    values = q.get(name)
    return values[-1] if values else None


def _int(q: Mapping[str, list[str]], name: str, default: int) -> int:
    raw = _single(q, name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid(f"{name} must be an integer") from None


def _bool(q: Mapping[str, list[str]], name: str, *, default: bool) -> bool:
    raw = _single(q, name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise invalid(f"{name} must be true or false")


def _time(q: Mapping[str, list[str]], name: str, *, utc_only: bool = False) -> datetime | None:
    raw = _single(q, name)
    if raw is None or raw == "":
        return None
    # A literal '+' in an unencoded query string arrives as a space.
    text = raw.strip().replace(" ", "+")
    if utc_only and not (text.endswith("Z") or text.endswith("+00:00")):
        raise invalid(f"{name} must be a UTC ISO 8601 datetime (YYYY-MM-DDThh:mm:ssZ)")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"{name} is not a valid ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _sort_by(q: Mapping[str, list[str]]) -> list[tuple[str, bool]]:
    raw = [part for value in q.get("sort_by", []) for part in value.split(",") if part]
    raw += q.get("sort_by[]", [])
    if len(raw) > 2:
        raise invalid("sort_by accepts at most two fields")
    keys = []
    for item in raw:
        name, _, direction = item.partition(":")
        if name not in _SORT_FIELDS or direction not in ("", "asc", "desc"):
            raise invalid(f"Invalid sort_by value: {item}")
        keys.append((name, direction == "desc"))
    return keys or [("created_at", False)]


def _sort_key(key: str) -> Callable[[JSONDict], Any]:
    def value(incident: JSONDict) -> Any:
        if key == "urgency":
            return 1 if incident["urgency"] == "high" else 0
        if key == "resolved_at":
            return incident["resolved_at"] or ""
        return incident[key]

    return value


def _paginate(q: Mapping[str, list[str]], items: list[JSONDict], key: str) -> JSONDict:
    limit = _int(q, "limit", DEFAULT_LIMIT)
    offset = _int(q, "offset", 0)
    if limit < 1:
        raise invalid("limit must be a positive integer")
    if offset < 0:
        raise invalid("offset must be zero or positive")
    limit = min(limit, MAX_LIMIT)
    if offset + limit > ITERATION_LIMIT:
        raise invalid(f"offset + limit may not exceed {ITERATION_LIMIT}")
    total = _bool(q, "total", default=False)
    page = items[offset : offset + limit]
    return {
        key: page,
        "limit": limit,
        "offset": offset,
        "more": offset + len(page) < len(items),
        "total": len(items) if total else None,
    }


def _json_body(request: Request) -> JSONDict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise invalid("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object")
    return body


def _schedule_summary(schedule: JSONDict) -> JSONDict:
    # The index omits the layers, like the real list endpoint.
    return {k: v for k, v in schedule.items() if k != "schedule_layers"}


def _json_response(
    status: int, payload: str, request: Request, headers: Mapping[str, str] | None = None
) -> Response:
    host = request.headers.get("host", "")
    if _HOST_RE.match(host):
        payload = payload.replace(API_BASE, f"https://{host}")
    return Response(status, payload.encode("utf-8"), dict(headers or {}))


def _log(message: str) -> None:
    sys.stderr.write(f"pagerduty-sim: {message}\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------- HTTP(S) server


class _Handler(BaseHTTPRequestHandler):
    server: SimulatorServer
    protocol_version = "HTTP/1.1"
    server_version = "PagerDutySimulator/1.0"
    # Headers and body go out in two writes; without TCP_NODELAY each response waits ~40 ms.
    disable_nagle_algorithm = True

    def _dispatch(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = Request.build(self.command, self.path, dict(self.headers.items()), body)
        try:
            response = self.server.app.handle(request)
        except Exception as exc:  # a bug must not kill the connection thread silently
            _log(f"internal error on {self.command} {request.path}: {exc!r}")
            error = ApiError(500, "Internal Error", 2000)
            response = Response(500, json.dumps(error.body()).encode())
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        elapsed = (time.perf_counter() - started) * 1000
        # Path and query only: the token lives in a header and is never logged.
        _log(f"{self.command} {self.path} {response.status} {elapsed:.1f}ms")

    def do_GET(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        # The one-line-per-request log above replaces http.server's own access log.
        return


class SimulatorServer(ThreadingHTTPServer):
    """`ThreadingHTTPServer` speaking TLS, with the TLS handshake done in the worker thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: Simulator, context: ssl.SSLContext) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.context = context

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        # Handshaking here rather than in accept() keeps one slow client from stalling the loop.
        assert isinstance(request, socket.socket)
        request.settimeout(30)
        try:
            tls_socket = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            _log(f"TLS handshake with {client_address[0]} failed: {exc}")
            return
        try:
            super().finish_request(tls_socket, client_address)
        finally:
            with contextlib.suppress(OSError):
                tls_socket.close()

    def shutdown_request(self, request: Any) -> None:
        with contextlib.suppress(OSError):
            request.close()


def make_server(
    directory: Path,
    port: int,
    token: str,
    rate_limit_per_minute: int,
    anchor: Anchor,
    *,
    clock: Callable[[], datetime] | None = None,
) -> SimulatorServer:
    """Build (but do not start) the HTTPS simulator on 127.0.0.1:`port` (0 picks a free port)."""
    files = tls.ensure_certificates(directory)
    app = Simulator(directory, token, rate_limit_per_minute, anchor, clock=clock)
    return SimulatorServer(("127.0.0.1", port), app, tls.server_context(files))


def serve(dir: Path, port: int, token: str, rate_limit_per_minute: int, anchor: Anchor) -> None:
    """Run the simulator in the foreground until SIGTERM or SIGINT."""
    server = make_server(dir, port, token, rate_limit_per_minute, anchor)

    def stop(signum: int, _frame: object) -> None:
        _log(f"received signal {signum}, shutting down")
        # shutdown() waits for serve_forever() to return, so it must run on another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    _log(f"listening on {server.url} (state in {dir / STATE_FILE}, CA {dir / 'ca.pem'})")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        _log("stopped")
