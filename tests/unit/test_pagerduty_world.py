"""The PagerDuty demo world (devstack.pagerduty.world) and the simulator app, in-process."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devstack.pagerduty import world
from devstack.pagerduty.server import RateLimiter, Request, Simulator
from devstack.world import scenario
from devstack.world.scenario import Anchor, compute_anchor

PARIS = ZoneInfo("Europe/Paris")
PAYMENTS = world.schedule_for_team("payments")


def _anchor(local: str) -> Anchor:
    """The anchor computed at a Paris wall-clock time such as "2026-03-18 12:00"."""
    return compute_anchor(datetime.fromisoformat(local).replace(tzinfo=PARIS), "Europe/Paris")


def _paris(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=PARIS)


# ------------------------------------------------------------------------- the world


def test_build_is_deterministic() -> None:
    anchor = _anchor("2026-03-18 12:00")
    first, second = world.build_state(anchor), world.build_state(anchor)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    # Object ids depend on the scenario only, not on the day the world is placed.
    other = world.build_state(_anchor("2026-06-02 15:00"))
    assert [i["id"] for i in other["incidents"]] == [i["id"] for i in first["incidents"]]
    assert [s["id"] for s in other["services"]] == [s["id"] for s in first["services"]]


def test_services_policies_users_and_schedules() -> None:
    state = world.build_state(_anchor("2026-03-18 12:00"))
    services = {s["name"]: s for s in state["services"]}
    assert set(services) == set(scenario.SERVICE_NAMES)
    gateway = services["payment-gateway"]
    assert gateway["id"].startswith("PSVC")
    assert gateway["description"] == scenario.service("payment-gateway").description
    assert gateway["escalation_policy"]["summary"] == "Payments"
    assert services["search"]["escalation_policy"]["summary"] == "Platform"
    assert len({s["id"] for s in state["services"]}) == len(scenario.SERVICES)

    policies = {p["name"]: p for p in state["escalation_policies"]}
    assert set(policies) == {"Payments", "Platform"}
    rules = policies["Payments"]["escalation_rules"]
    assert rules[0]["targets"][0] == world.reference("schedule", "PSPAYMT", "Payments primary")
    assert rules[1]["targets"][0]["id"] == "PUHUGO"

    assert [u["id"] for u in state["users"]] == [u.id for u in scenario.USERS]
    assert {s["id"] for s in state["schedules"]} == {"PSPAYMT", "PSPLATF"}
    assert state["schedules"][0]["time_zone"] == "Europe/Paris"


def test_the_open_reference_incident() -> None:
    anchor = _anchor("2026-03-18 12:00")
    state = world.build_state(anchor)
    open_incidents = [i for i in state["incidents"] if i["status"] != "resolved"]
    assert len(open_incidents) == 1
    incident = open_incidents[0]
    assert incident["title"] == scenario.REFERENCE.title
    assert incident["status"] == "triggered"
    assert incident["urgency"] == "high"
    assert incident["service"]["summary"] == "payment-gateway"
    assert incident["service"]["html_url"].endswith(
        f"/service-directory/{incident['service']['id']}"
    )
    assert incident["created_at"] == "2026-03-18T07:44:00Z"  # 08:44 in Paris (UTC+1)
    assert incident["resolved_at"] is None
    oncall = world.oncall_user("payments", world.parse_iso(incident["created_at"]), PARIS)
    assert incident["assignments"][0]["assignee"]["id"] == oncall
    assert incident["summary"] == f"[#{incident['incident_number']}] {incident['title']}"

    kinds = [e["type"] for e in state["log_entries"][incident["id"]]]
    assert kinds == ["trigger_log_entry", "notify_log_entry"]
    assert state["log_entries"][incident["id"]][1]["user"]["id"] == oncall
    alert = state["alerts"][incident["id"]][0]
    assert alert["status"] == "triggered"
    description = alert["body"]["details"]["description"]
    assert "~847 ms" in description
    assert "230 ms baseline" in description
    assert "pool saturated (50/50" in description


def test_past_incidents_are_resolved_with_notes_and_a_full_timeline() -> None:
    anchor = _anchor("2026-03-18 12:00")
    state = world.build_state(anchor)
    resolved = [i for i in state["incidents"] if i["status"] == "resolved"]
    assert len(resolved) == len(scenario.PAST_INCIDENTS)
    by_title = {i["title"]: i for i in resolved}
    numbers = [i["incident_number"] for i in state["incidents"]]
    assert numbers == sorted(numbers)  # numbered in trigger order
    for past in scenario.PAST_INCIDENTS:
        incident = by_title[past.title]
        symptom = anchor.at(past.day, past.at)
        triggered = world.parse_iso(incident["created_at"])
        resolved_at = world.parse_iso(incident["resolved_at"])
        assert triggered == symptom + timedelta(minutes=2)
        assert symptom + timedelta(minutes=past.minutes) < resolved_at
        assert resolved_at <= symptom + timedelta(minutes=past.minutes + 5)
        assert incident["urgency"] == past.urgency
        assert incident["assignments"] == []
        notes = state["notes"][incident["id"]]
        assert [n["content"] for n in notes] == [past.note]
        team = scenario.service(past.service).team
        assert notes[0]["user"]["id"] == world.oncall_user(team, triggered, PARIS)
        kinds = [e["type"].removesuffix("_log_entry") for e in state["log_entries"][incident["id"]]]
        assert kinds == ["trigger", "notify", "acknowledge", "annotate", "resolve"]
        ack = world.parse_iso(state["log_entries"][incident["id"]][2]["created_at"])
        assert triggered < ack <= triggered + timedelta(minutes=6)


def test_change_events_follow_the_deploys() -> None:
    anchor = _anchor("2026-03-18 12:00")
    events = world.build_state(anchor)["change_events"]
    assert len(events) == len(scenario.DEPLOYS)
    last = events[-1]
    assert last["summary"] == "Deploy payment-gateway v2.14.3 to prod"
    assert last["timestamp"] == world.iso(anchor.at(0, "08:30"))
    assert last["custom_details"] == {
        "service": "payment-gateway",
        "namespace": "prod",
        "version": "2.14.3",
        "previous_version": "2.14.2",
        "summary": "ORM upgrade: order lines lazy-loaded per payment",
        "team": "payments",
    }
    assert last["services"][0]["id"] == world.service_id("payment-gateway")


def _built_at(local: str) -> Anchor:
    """An anchor on that day built at that time (compute_anchor would shift it before 10:00)."""
    at = _paris(local)
    return Anchor(timezone="Europe/Paris", incident_day=at.date(), created_at=at.astimezone(UTC))


def test_nothing_after_the_anchor_creation_time() -> None:
    # Built at 08:40 on D: the 08:30 deploy happened, the 08:44 page has not fired yet.
    state = world.build_state(_built_at("2026-03-18 08:40"))
    assert all(i["status"] == "resolved" for i in state["incidents"])
    assert state["change_events"][-1]["summary"] == "Deploy payment-gateway v2.14.3 to prod"
    early = world.build_state(_built_at("2026-03-18 08:35"))
    assert len(early["incidents"]) == len(scenario.PAST_INCIDENTS)


def test_the_devstack_never_anchors_to_a_half_made_incident() -> None:
    for local in ("2026-03-18 08:31", "2026-03-18 08:50", "2026-03-18 09:59"):
        anchor = _anchor(local)
        assert anchor.shifted
        assert str(anchor.incident_day) == "2026-03-17"
    today = _anchor("2026-03-18 10:00")
    assert not today.shifted
    state = world.build_state(today)
    assert any(i["status"] == "triggered" for i in state["incidents"])


# ------------------------------------------------------------------------- on-call math


def test_rotation_hands_off_on_monday_at_nine_local() -> None:
    # Week 1 after the epoch (Monday 2026-01-12): Alice hands over to Bruno at 09:00 Paris.
    assert world.shift_index(PAYMENTS, _paris("2026-01-05 09:00"), PARIS) == 0
    assert world.oncall_user("payments", _paris("2026-01-12 08:59"), PARIS) == "PUALICE"
    assert world.oncall_user("payments", _paris("2026-01-12 09:00"), PARIS) == "PUBRUNO"
    assert world.oncall_user("payments", _paris("2026-01-19 09:00"), PARIS) == "PUCHLOE"
    assert world.oncall_user("payments", _paris("2026-01-26 09:00"), PARIS) == "PUALICE"
    # Before the epoch the rotation runs backwards consistently.
    assert world.oncall_user("payments", _paris("2026-01-05 08:59"), PARIS) == "PUCHLOE"
    # Platform has four people.
    assert world.oncall_user("platform", _paris("2026-02-02 09:00"), PARIS) == "PUDAVID"


def test_handoff_stays_at_nine_local_across_dst() -> None:
    # DST starts on Sunday 2026-03-29 in Paris: the handoff moves from 08:00Z to 07:00Z.
    before = world.shift_at(PAYMENTS, _paris("2026-03-24 12:00"), PARIS)
    after = world.shift_at(PAYMENTS, _paris("2026-03-31 12:00"), PARIS)
    assert before.start == datetime(2026, 3, 23, 8, 0, tzinfo=UTC)
    assert before.end == after.start == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert after.index == before.index + 1
    assert after.end - after.start == timedelta(days=7)
    assert before.end - before.start == timedelta(days=7, hours=-1)


def test_shifts_between_covers_the_window_without_gaps() -> None:
    shifts = world.shifts_between(
        PAYMENTS, _paris("2026-02-04 00:00"), _paris("2026-02-25 00:00"), PARIS
    )
    assert [s.user_id for s in shifts] == ["PUBRUNO", "PUCHLOE", "PUALICE", "PUBRUNO"]
    assert all(a.end == b.start for a, b in itertools.pairwise(shifts))
    instant = world.shifts_between(
        PAYMENTS, _paris("2026-02-04 00:00"), _paris("2026-02-04 00:00"), PARIS
    )
    assert len(instant) == 1


# ------------------------------------------------------------------------- the app, in-process


@pytest.fixture
def app(tmp_path: Path) -> Simulator:
    anchor = _anchor("2026-03-18 12:00")
    now = _paris("2026-03-18 12:30")
    return Simulator(tmp_path, "tok", 1000, anchor, clock=lambda: now)


def _get(app: Simulator, target: str, **headers: str) -> tuple[int, Any]:
    response = app.handle(
        Request.build("GET", target, {"Authorization": "Token token=tok", **headers})
    )
    return response.status, response.json()


def test_app_persists_its_initial_state(app: Simulator, tmp_path: Path) -> None:
    saved = json.loads((tmp_path / "state.json").read_text(encoding="utf-8"))
    assert saved["fingerprint"] == app.anchor.fingerprint()
    assert saved == app.state


def test_app_oncalls_and_schedule_rendering(app: Simulator) -> None:
    status, body = _get(app, "/oncalls?escalation_policy_ids[]=PEPAYMT")
    assert status == 200
    oncalls = body["oncalls"]
    assert isinstance(oncalls, list)
    level1 = next(o for o in oncalls if o["escalation_level"] == 1)
    assert level1["user"]["id"] == world.oncall_user("payments", app.clock(), PARIS)

    status, body = _get(
        app, "/schedules/PSPAYMT?since=2026-03-18T00:00:00Z&until=2026-04-01T00:00:00Z"
    )
    assert status == 200
    schedule = body["schedule"]
    assert isinstance(schedule, dict)
    entries = schedule["final_schedule"]["rendered_schedule_entries"]
    # Truncated at the window bounds (overflow=false), handoffs at 09:00 Paris in between.
    assert entries[0]["start"] == "2026-03-18T00:00:00Z"
    assert entries[1]["start"] == "2026-03-23T08:00:00Z"
    assert entries[2]["start"] == "2026-03-30T07:00:00Z"
    assert entries[-1]["end"] == "2026-04-01T00:00:00Z"


def test_app_incident_filters_and_sorting(app: Simulator) -> None:
    status, body = _get(app, "/incidents?date_range=all&sort_by=incident_number:desc&limit=100")
    assert status == 200
    numbers = [i["incident_number"] for i in body["incidents"]]
    assert numbers == sorted(numbers, reverse=True)
    status, body = _get(app, "/incidents?urgencies[]=low&date_range=all")
    assert {i["urgency"] for i in body["incidents"]} == {"low"}
    status, body = _get(app, "/incidents?since=2026-03-18T00:00:00Z")
    assert [i["title"] for i in body["incidents"]] == [scenario.REFERENCE.title]
    status, body = _get(app, "/incidents?limit=500")
    assert body["limit"] == 100
    status, body = _get(app, "/incidents?offset=-1")
    assert status == 400


def test_app_rewrites_self_links_to_the_host_it_is_called_on(app: Simulator) -> None:
    _, body = _get(app, "/services", Host="127.0.0.1:4321")
    services = body["services"]
    assert isinstance(services, list)
    assert services[0]["self"].startswith("https://127.0.0.1:4321/services/")
    _, body = _get(app, "/services", Host="evil host/")
    assert body["services"][0]["self"].startswith(world.API_BASE)


def test_rate_limiter_is_a_sliding_minute() -> None:
    now = [1000.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.check("t") is None
    now[0] += 30
    assert limiter.check("t") is None
    assert limiter.check("t") == pytest.approx(30.0)
    now[0] += 30.5  # the first request left the window
    assert limiter.check("t") is None
    assert limiter.check("other") is None
