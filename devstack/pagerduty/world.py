"""The PagerDuty side of the demo world: users, teams, services, policies, incidents, changes.

`build_state(anchor)` turns the shared facts of `devstack.world.scenario` into the simulator's
initial state: a plain JSON-serialisable dict of PagerDuty-shaped objects. Everything is derived
from the scenario and the anchor only (no randomness, no wall clock), so two builds for the same
anchor are identical and the three backends keep telling the same story.

The on-call arithmetic lives here too because both the world (who acknowledged a past incident)
and the server (`/oncalls`, rendered schedules) need the same answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from devstack.world import scenario
from devstack.world.scenario import Anchor, ScheduleSpec

JSONDict = dict[str, Any]

# Objects carry the real API's base URL; the server rewrites it to its own address on the way out
# so that `self` links stay usable even when the simulator restarts on another port.
API_BASE = "https://api.pagerduty.com"
WEB_BASE = "https://vigie-demo.pagerduty.com"

# Bump when build_state() output changes: simulators then rebuild their persisted state.
STATE_VERSION = 1
WEEK = timedelta(days=7)
FIRST_INCIDENT_NUMBER = 1201
# When the demo account was "created": before any event of the world, fixed for determinism.
ACCOUNT_CREATED_AT = "2025-09-01T08:00:00Z"

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class TeamSpec:
    id: str
    name: str
    escalation_policy_id: str


TEAMS: dict[str, TeamSpec] = {
    "payments": TeamSpec("PTPAYMT", "Payments", "PEPAYMT"),
    "platform": TeamSpec("PTPLATF", "Platform", "PEPLATF"),
}

INTEGRATION_ID = "PINTAMG"
INTEGRATION_NAME = "Prometheus Alertmanager"
CHANGE_INTEGRATION_ID = "PINTCDP"
CHANGE_INTEGRATION_NAME = "Deploy pipeline"


# --------------------------------------------------------------------------- helpers


def iso(when: datetime) -> str:
    """PagerDuty's timestamp form: UTC, second precision, `Z` suffix."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Parse a timestamp written by `iso` (or any aware ISO-8601 string)."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def stable_id(prefix: str, key: str, length: int = 7) -> str:
    """A PagerDuty-looking id derived from `key`, so it survives rebuilds of the world."""
    digest = hashlib.sha256(key.encode()).digest()
    tail = "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest)
    return (prefix + tail)[:length]


def service_id(name: str) -> str:
    """`PSVC` plus a short suffix stable for the service name."""
    return stable_id("PSVC", f"service|{name}")


_PLURALS = {
    "user": "users",
    "service": "services",
    "team": "teams",
    "schedule": "schedules",
    "escalation_policy": "escalation_policies",
    "incident": "incidents",
}
_WEB_PATHS = {**_PLURALS, "service": "service-directory"}


def reference(kind: str, object_id: str, summary: str) -> JSONDict:
    """A `<kind>_reference` object as the real API embeds it."""
    return {
        "id": object_id,
        "type": f"{kind}_reference",
        "summary": summary,
        "self": f"{API_BASE}/{_PLURALS[kind]}/{object_id}",
        "html_url": f"{WEB_BASE}/{_WEB_PATHS[kind]}/{object_id}",
    }


def user_ref(user_id: str) -> JSONDict:
    user = _user(user_id)
    return reference("user", user.id, user.name)


def _user(user_id: str) -> scenario.User:
    for user in scenario.USERS:
        if user.id == user_id:
            return user
    raise KeyError(user_id)


def schedule_for_team(team: str) -> ScheduleSpec:
    """The primary rotation of a team (level 1 of its escalation policy)."""
    for spec in scenario.SCHEDULES:
        if spec.team == team:
            return spec
    raise KeyError(team)


# --------------------------------------------------------------------------- on-call math


@dataclass(frozen=True)
class Shift:
    """One weekly on-call turn of a schedule, in UTC."""

    schedule_id: str
    index: int  # whole weeks since the rotation epoch
    user_id: str
    start: datetime
    end: datetime


def _handoff_local(schedule: ScheduleSpec, index: int) -> datetime:
    hours, minutes = (int(part) for part in schedule.handoff.split(":"))
    return datetime.combine(scenario.ROTATION_EPOCH + timedelta(weeks=index), time(hours, minutes))


def shift_start(schedule: ScheduleSpec, index: int, tz: ZoneInfo) -> datetime:
    """UTC instant of the handoff that opens turn `index` (Monday, handoff time, local)."""
    return _handoff_local(schedule, index).replace(tzinfo=tz).astimezone(UTC)


def shift_index(schedule: ScheduleSpec, when: datetime, tz: ZoneInfo) -> int:
    """Which turn is running at `when`.

    Counted on local wall-clock time: the handoff is "Monday 09:00" in the schedule's zone, so a
    DST change moves it in UTC but never in local time.
    """
    local = when.astimezone(tz).replace(tzinfo=None)
    return (local - _handoff_local(schedule, 0)) // WEEK


def shift_at(schedule: ScheduleSpec, when: datetime, tz: ZoneInfo) -> Shift:
    """The turn of `schedule` covering `when`."""
    return _shift(schedule, shift_index(schedule, when, tz), tz)


def _shift(schedule: ScheduleSpec, index: int, tz: ZoneInfo) -> Shift:
    return Shift(
        schedule_id=schedule.id,
        index=index,
        user_id=schedule.rotation[index % len(schedule.rotation)],
        start=shift_start(schedule, index, tz),
        end=shift_start(schedule, index + 1, tz),
    )


def shifts_between(
    schedule: ScheduleSpec, since: datetime, until: datetime, tz: ZoneInfo
) -> list[Shift]:
    """Every turn overlapping [since, until]; the turn at `since` even when since == until."""
    first = shift_index(schedule, since, tz)
    shifts = [_shift(schedule, first, tz)]
    while shifts[-1].end < until:
        shifts.append(_shift(schedule, shifts[-1].index + 1, tz))
    return shifts


def oncall_user(team: str, when: datetime, tz: ZoneInfo) -> str:
    """The level-1 on-call of a team's policy at `when`."""
    return shift_at(schedule_for_team(team), when, tz).user_id


# --------------------------------------------------------------------------- static objects


def _users() -> list[JSONDict]:
    users = []
    for user in scenario.USERS:
        teams = sorted(
            {s.team for s in scenario.SCHEDULES if user.id in s.rotation}
            | {s.team for s in scenario.SCHEDULES if user.id == s.escalation_user}
        )
        manager = any(user.id == s.escalation_user for s in scenario.SCHEDULES)
        contact_id = stable_id("PC", f"contact|{user.id}")
        users.append(
            {
                "id": user.id,
                "type": "user",
                "summary": user.name,
                "self": f"{API_BASE}/users/{user.id}",
                "html_url": f"{WEB_BASE}/users/{user.id}",
                "name": user.name,
                "email": user.email,
                "time_zone": user.time_zone,
                "color": "purple" if manager else "green",
                "role": "admin" if manager else "user",
                "avatar_url": f"https://secure.gravatar.com/avatar/{user.id.lower()}.png?d=mm",
                "description": None,
                "invitation_sent": False,
                "job_title": "Engineering manager" if manager else "Site reliability engineer",
                "teams": [reference("team", TEAMS[t].id, TEAMS[t].name) for t in teams],
                "contact_methods": [
                    {
                        "id": contact_id,
                        "type": "email_contact_method_reference",
                        "summary": "Default",
                        "self": f"{API_BASE}/users/{user.id}/contact_methods/{contact_id}",
                        "html_url": None,
                    }
                ],
                "notification_rules": [],
            }
        )
    return users


def _teams() -> list[JSONDict]:
    return [
        {
            "id": team.id,
            "type": "team",
            "summary": team.name,
            "self": f"{API_BASE}/teams/{team.id}",
            "html_url": f"{WEB_BASE}/teams/{team.id}",
            "name": team.name,
            "description": f"{team.name} team",
        }
        for team in TEAMS.values()
    ]


def _services() -> list[JSONDict]:
    services = []
    seen: set[str] = set()
    for spec in scenario.SERVICES:
        sid = service_id(spec.name)
        if sid in seen:  # pragma: no cover - guards a future rename against id collisions
            raise ValueError(f"service id collision for {spec.name}")
        seen.add(sid)
        team = TEAMS[spec.team]
        services.append(
            {
                "id": sid,
                "type": "service",
                "summary": spec.name,
                "self": f"{API_BASE}/services/{sid}",
                "html_url": f"{WEB_BASE}/service-directory/{sid}",
                "name": spec.name,
                "description": spec.description,
                "auto_resolve_timeout": 14400,
                "acknowledgement_timeout": 1800,
                "created_at": ACCOUNT_CREATED_AT,
                "status": "active",
                "escalation_policy": reference(
                    "escalation_policy", team.escalation_policy_id, team.name
                ),
                "teams": [reference("team", team.id, team.name)],
                "integrations": [
                    {
                        "id": INTEGRATION_ID,
                        "type": "events_api_v2_inbound_integration_reference",
                        "summary": INTEGRATION_NAME,
                        "self": f"{API_BASE}/services/{sid}/integrations/{INTEGRATION_ID}",
                        "html_url": f"{WEB_BASE}/services/{sid}/integrations/{INTEGRATION_ID}",
                    }
                ],
                "incident_urgency_rule": {"type": "constant", "urgency": "high"},
                "scheduled_actions": [],
                "alert_creation": "create_alerts_and_incidents",
            }
        )
    return services


def _escalation_policies() -> list[JSONDict]:
    policies = []
    for team_key, team in TEAMS.items():
        schedule = schedule_for_team(team_key)
        escalation = _user(schedule.escalation_user)
        services = [
            reference("service", service_id(s.name), s.name)
            for s in scenario.SERVICES
            if s.team == team_key
        ]
        policies.append(
            {
                "id": team.escalation_policy_id,
                "type": "escalation_policy",
                "summary": team.name,
                "self": f"{API_BASE}/escalation_policies/{team.escalation_policy_id}",
                "html_url": f"{WEB_BASE}/escalation_policies/{team.escalation_policy_id}",
                "name": team.name,
                "description": f"{team.name}: primary rotation, then {escalation.name}",
                "num_loops": 0,
                "on_call_handoff_notifications": "if_has_services",
                "escalation_rules": [
                    {
                        "id": stable_id("PR", f"rule|{team.id}|1"),
                        "escalation_delay_in_minutes": 30,
                        "targets": [reference("schedule", schedule.id, schedule.name)],
                    },
                    {
                        "id": stable_id("PR", f"rule|{team.id}|2"),
                        "escalation_delay_in_minutes": 30,
                        "targets": [reference("user", escalation.id, escalation.name)],
                    },
                ],
                "services": services,
                "teams": [reference("team", team.id, team.name)],
            }
        )
    return policies


def _schedules(anchor: Anchor) -> list[JSONDict]:
    """Schedules without their rendered entries: the server renders those per request."""
    schedules = []
    for spec in scenario.SCHEDULES:
        team = TEAMS[spec.team]
        start = iso(shift_start(spec, 0, anchor.tz))
        schedules.append(
            {
                "id": spec.id,
                "type": "schedule",
                "summary": spec.name,
                "self": f"{API_BASE}/schedules/{spec.id}",
                "html_url": f"{WEB_BASE}/schedules/{spec.id}",
                "name": spec.name,
                "time_zone": anchor.timezone,
                "description": f"Weekly rotation, handoff Monday {spec.handoff}",
                "escalation_policies": [
                    reference("escalation_policy", team.escalation_policy_id, team.name)
                ],
                "users": [user_ref(uid) for uid in spec.rotation],
                "teams": [reference("team", team.id, team.name)],
                "schedule_layers": [
                    {
                        "id": stable_id("PL", f"layer|{spec.id}"),
                        "name": "Weekly rotation",
                        "start": start,
                        "rotation_virtual_start": start,
                        "rotation_turn_length_seconds": int(WEEK.total_seconds()),
                        "users": [{"user": user_ref(uid)} for uid in spec.rotation],
                        "restrictions": [],
                    }
                ],
            }
        )
    return schedules


# --------------------------------------------------------------------------- incidents


@dataclass(frozen=True)
class _IncidentPlan:
    key: str
    service: str
    title: str
    urgency: str
    severity: str
    triggered: datetime
    acknowledged: datetime | None
    resolved: datetime | None
    note: str | None
    details: JSONDict


def _minutes(key: str, low: int, high: int) -> timedelta:
    """A deterministic 'few minutes' in [low, high], different per incident."""
    span = high - low + 1
    return timedelta(minutes=low + int(hashlib.sha256(key.encode()).hexdigest(), 16) % span)


_SIGNAL_ALERTS = {
    "latency": ("HighLatencyP99", "P99 latency above SLO"),
    "errors": ("HighErrorRate", "5xx ratio above threshold"),
    "memory": ("HighMemoryUsage", "Working set close to the memory limit"),
    "restarts": ("PodRestarting", "Containers restarting (OOMKilled)"),
}


def _plans(anchor: Anchor) -> list[_IncidentPlan]:
    plans = []
    for past in scenario.PAST_INCIDENTS:
        key = f"{past.service}|{past.day}|{past.at}"
        start = anchor.at(past.day, past.at)
        triggered = start + timedelta(minutes=2)
        alertname, what = _SIGNAL_ALERTS[past.signal]
        plans.append(
            _IncidentPlan(
                key=key,
                service=past.service,
                title=past.title,
                urgency=past.urgency,
                severity="critical" if past.urgency == "high" else "warning",
                triggered=triggered,
                acknowledged=triggered + _minutes(key + "|ack", 2, 6),
                resolved=start + timedelta(minutes=past.minutes) + _minutes(key + "|res", 2, 5),
                note=past.note,
                details={
                    "alertname": alertname,
                    "service": past.service,
                    "namespace": "prod",
                    "signal": past.signal,
                    "description": f"{what} on {past.service} (prod)",
                },
            )
        )
    ref = scenario.REFERENCE
    baseline_ms = round(ref.baseline_p99_s * 1000)
    p99_ms = round(ref.p99_s * 1000)
    plans.append(
        _IncidentPlan(
            key=f"{ref.service}|0|{ref.pagerduty_triggered_at}",
            service=ref.service,
            title=ref.title,
            urgency="high",
            severity="critical",
            triggered=anchor.at(0, ref.pagerduty_triggered_at),
            acknowledged=None,
            resolved=None,
            note=None,
            details={
                "alertname": "HighLatencyP99",
                "service": ref.service,
                "namespace": ref.namespace,
                "signal": "latency",
                "p99_ms": p99_ms,
                "baseline_p99_ms": baseline_ms,
                "threshold_ms": 500,
                "db_pool_in_use": f"{ref.pool_max}/{ref.pool_max}",
                "description": (
                    f"P99 latency of {ref.service} ({ref.namespace}) is ~{p99_ms} ms vs a "
                    f"{baseline_ms} ms baseline since {ref.latency_from}. PostgreSQL connection "
                    f"pool saturated ({ref.pool_max}/{ref.pool_max} in use per pod) since "
                    f"{ref.pool_saturated_at}; 5xx and timeouts rising."
                ),
            },
        )
    )
    plans = [p for p in plans if p.triggered <= anchor.created_at]
    plans.sort(key=lambda p: p.triggered)
    return plans


def log_entry(
    kind: str,
    incident: JSONDict,
    at: datetime,
    summary: str,
    *,
    agent: JSONDict,
    channel: JSONDict,
    **extra: Any,
) -> JSONDict:
    """A log entry of `kind` (e.g. "trigger") on `incident`; ids are stable per incident+time."""
    entry_id = stable_id("R", f"log|{incident['id']}|{kind}|{iso(at)}|{summary}", 14)
    entry: JSONDict = {
        "id": entry_id,
        "type": f"{kind}_log_entry",
        "summary": summary,
        "self": f"{API_BASE}/log_entries/{entry_id}",
        "html_url": f"{WEB_BASE}/incidents/{incident['id']}/log_entries/{entry_id}",
        "created_at": iso(at),
        "agent": agent,
        "channel": channel,
        "service": incident["service"],
        "incident": _incident_ref(incident),
        "teams": incident["teams"],
        "contexts": [],
        "event_details": {"description": incident["title"]},
    }
    entry.update(extra)
    return entry


def _incident_ref(incident: JSONDict) -> JSONDict:
    return {
        "id": incident["id"],
        "type": "incident_reference",
        "summary": incident["summary"],
        "self": incident["self"],
        "html_url": incident["html_url"],
    }


def note(incident: JSONDict, user_id: str, content: str, at: datetime) -> JSONDict:
    """An incident note written by a user through the web app or the API."""
    return {
        "id": stable_id("PN", f"note|{incident['id']}|{iso(at)}|{content}"),
        "user": user_ref(user_id),
        "channel": {"summary": "The PagerDuty website or APIs"},
        "content": content,
        "created_at": iso(at),
        "updated_at": iso(at),
    }


def _build_incident(
    plan: _IncidentPlan, number: int, anchor: Anchor
) -> tuple[JSONDict, list[JSONDict], list[JSONDict], list[JSONDict]]:
    spec = scenario.service(plan.service)
    team = TEAMS[spec.team]
    sid = service_id(spec.name)
    incident_id = stable_id("Q", f"incident|{plan.key}", 14)
    service = reference("service", sid, spec.name)
    oncall = oncall_user(spec.team, plan.triggered, anchor.tz)
    alert_key = hashlib.sha256(f"alert|{plan.key}".encode()).hexdigest()[:32]
    incident: JSONDict = {
        "id": incident_id,
        "type": "incident",
        "summary": f"[#{number}] {plan.title}",
        "self": f"{API_BASE}/incidents/{incident_id}",
        "html_url": f"{WEB_BASE}/incidents/{incident_id}",
        "incident_number": number,
        "title": plan.title,
        "description": plan.title,
        "created_at": iso(plan.triggered),
        "updated_at": iso(plan.triggered),
        "status": "triggered",
        "incident_key": alert_key,
        "service": service,
        "assignments": [{"at": iso(plan.triggered), "assignee": user_ref(oncall)}],
        "assigned_via": "escalation_policy",
        "acknowledgements": [],
        "last_status_change_at": iso(plan.triggered),
        "last_status_change_by": service,
        "resolved_at": None,
        "alert_counts": {"all": 1, "triggered": 1, "resolved": 0},
        "pending_actions": [],
        "is_mergeable": True,
        "incident_type": {"name": "incident_default"},
        "escalation_policy": reference("escalation_policy", team.escalation_policy_id, team.name),
        "teams": [reference("team", team.id, team.name)],
        "urgency": plan.urgency,
    }
    integration = {
        "id": INTEGRATION_ID,
        "type": "events_api_v2_inbound_integration_reference",
        "summary": INTEGRATION_NAME,
        "self": f"{API_BASE}/services/{sid}/integrations/{INTEGRATION_ID}",
        "html_url": f"{WEB_BASE}/services/{sid}/integrations/{INTEGRATION_ID}",
    }
    trigger = log_entry(
        "trigger",
        incident,
        plan.triggered,
        "Triggered through the API.",
        agent=service,
        channel={"type": "api", "summary": plan.title, "details": plan.details},
    )
    incident["first_trigger_log_entry"] = {
        "id": trigger["id"],
        "type": "trigger_log_entry_reference",
        "summary": trigger["summary"],
        "self": f"{trigger['self']}?incident_id={incident_id}",
        "html_url": trigger["html_url"],
    }
    oncall_name = _user(oncall).name
    entries = [
        trigger,
        log_entry(
            "notify",
            incident,
            plan.triggered,
            f"Notified {oncall_name} by push notification.",
            agent=service,
            channel={"type": "auto"},
            user=user_ref(oncall),
        ),
    ]
    alert_id = stable_id("P", f"alert|{plan.key}")
    alert: JSONDict = {
        "id": alert_id,
        "type": "alert",
        "summary": plan.title,
        "self": f"{API_BASE}/incidents/{incident_id}/alerts/{alert_id}",
        "html_url": f"{WEB_BASE}/alerts/{alert_id}",
        "created_at": iso(plan.triggered),
        "status": "triggered",
        "alert_key": alert_key,
        "service": service,
        "first_trigger_log_entry": incident["first_trigger_log_entry"],
        "incident": _incident_ref(incident),
        "suppressed": False,
        "severity": plan.severity,
        "integration": integration,
        "body": {"type": "alert_body", "contexts": [], "details": plan.details},
    }
    notes: list[JSONDict] = []
    if plan.acknowledged is not None:
        acknowledge(incident, entries, oncall, plan.acknowledged)
    if plan.resolved is not None:
        if plan.note:
            written = plan.resolved - timedelta(minutes=1)
            notes.append(note(incident, oncall, plan.note, written))
            entries.append(
                log_entry(
                    "annotate",
                    incident,
                    written,
                    f"Note added by {oncall_name}.",
                    agent=user_ref(oncall),
                    channel={"type": "note", "summary": plan.note},
                )
            )
        resolve(incident, [alert], entries, user_id=oncall, at=plan.resolved, resolution=None)
    return incident, entries, [alert], notes


def acknowledge(incident: JSONDict, entries: list[JSONDict], user_id: str, at: datetime) -> None:
    """Move an incident to acknowledged (the caller checked it is not resolved)."""
    who = user_ref(user_id)
    incident["status"] = "acknowledged"
    incident["acknowledgements"] = [{"at": iso(at), "acknowledger": who}]
    incident["last_status_change_at"] = iso(at)
    incident["last_status_change_by"] = who
    incident["updated_at"] = iso(at)
    entries.append(
        log_entry(
            "acknowledge",
            incident,
            at,
            f"Acknowledged by {who['summary']}.",
            agent=who,
            channel={"type": "website"},
            acknowledgement_timeout=1800,
        )
    )


def resolve(
    incident: JSONDict,
    alerts: list[JSONDict],
    entries: list[JSONDict],
    *,
    user_id: str,
    at: datetime,
    resolution: str | None,
) -> None:
    """Resolve an incident and its alerts; resolved incidents have no assignments."""
    who = user_ref(user_id)
    incident["status"] = "resolved"
    incident["resolved_at"] = iso(at)
    incident["assignments"] = []
    incident["acknowledgements"] = []
    incident["last_status_change_at"] = iso(at)
    incident["last_status_change_by"] = who
    incident["updated_at"] = iso(at)
    for alert in alerts:
        alert["status"] = "resolved"
    incident["alert_counts"] = {"all": len(alerts), "triggered": 0, "resolved": len(alerts)}
    extra: JSONDict = {"note": resolution} if resolution else {}
    entries.append(
        log_entry(
            "resolve",
            incident,
            at,
            f"Resolved by {who['summary']}.",
            agent=who,
            channel={"type": "website"},
            **extra,
        )
    )


def _change_events(anchor: Anchor) -> list[JSONDict]:
    events = []
    for deploy in scenario.DEPLOYS:
        when = anchor.at(deploy.day, deploy.at)
        if when > anchor.created_at:
            continue
        spec = scenario.service(deploy.service)
        sid = service_id(spec.name)
        event_id = stable_id(
            "01", f"change|{deploy.service}|{deploy.namespace}|{deploy.version}", 26
        )
        events.append(
            {
                "id": event_id,
                "type": "change_event",
                "summary": f"Deploy {deploy.service} v{deploy.version} to {deploy.namespace}",
                "self": f"{API_BASE}/change_events/{event_id}",
                "html_url": None,
                "timestamp": iso(when),
                "source": "argocd",
                "services": [reference("service", sid, spec.name)],
                "integration": {
                    "id": CHANGE_INTEGRATION_ID,
                    "type": "inbound_integration_reference",
                    "summary": CHANGE_INTEGRATION_NAME,
                    "self": f"{API_BASE}/services/{sid}/integrations/{CHANGE_INTEGRATION_ID}",
                    "html_url": None,
                },
                "links": [
                    {
                        "href": f"https://git.example.com/shop/{deploy.service}/releases/"
                        f"tag/v{deploy.version}",
                        "text": f"{deploy.service} v{deploy.version} release notes",
                    }
                ],
                "images": [],
                "custom_details": {
                    "service": deploy.service,
                    "namespace": deploy.namespace,
                    "version": deploy.version,
                    "previous_version": deploy.previous,
                    "summary": deploy.summary,
                    "team": spec.team,
                },
            }
        )
    events.sort(key=lambda e: (e["timestamp"], e["id"]))
    return events


def build_state(anchor: Anchor) -> JSONDict:
    """The simulator's initial state for `anchor`: deterministic, JSON-serialisable."""
    incidents: list[JSONDict] = []
    log_entries: dict[str, list[JSONDict]] = {}
    alerts: dict[str, list[JSONDict]] = {}
    notes: dict[str, list[JSONDict]] = {}
    for number, plan in enumerate(_plans(anchor), start=FIRST_INCIDENT_NUMBER):
        incident, entries, incident_alerts, incident_notes = _build_incident(plan, number, anchor)
        incidents.append(incident)
        log_entries[incident["id"]] = entries
        alerts[incident["id"]] = incident_alerts
        notes[incident["id"]] = incident_notes
    return {
        "state_version": STATE_VERSION,
        "fingerprint": anchor.fingerprint(),
        "anchor": {
            "timezone": anchor.timezone,
            "incident_day": anchor.incident_day.isoformat(),
            "created_at": iso(anchor.created_at),
        },
        "next_incident_number": FIRST_INCIDENT_NUMBER + len(incidents),
        "users": _users(),
        "teams": _teams(),
        "services": _services(),
        "escalation_policies": _escalation_policies(),
        "schedules": _schedules(anchor),
        "incidents": incidents,
        "log_entries": log_entries,
        "alerts": alerts,
        "notes": notes,
        "change_events": _change_events(anchor),
    }


def schedule_spec(schedule_id: str) -> ScheduleSpec:
    """The scenario rotation behind a PagerDuty schedule id."""
    for spec in scenario.SCHEDULES:
        if spec.id == schedule_id:
            return spec
    raise KeyError(schedule_id)


__all__ = [
    "API_BASE",
    "WEB_BASE",
    "JSONDict",
    "Shift",
    "acknowledge",
    "build_state",
    "iso",
    "log_entry",
    "note",
    "oncall_user",
    "parse_iso",
    "reference",
    "resolve",
    "schedule_for_team",
    "schedule_spec",
    "service_id",
    "shift_at",
    "shift_index",
    "shift_start",
    "shifts_between",
    "stable_id",
    "user_ref",
]
