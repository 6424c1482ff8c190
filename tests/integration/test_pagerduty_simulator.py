"""The PagerDuty simulator through the official `pagerduty.RestApiV2Client`, over real HTTPS.

Each simulator here is a real `python -m devstack.pagerduty` subprocess on a port picked by the
OS. Tests that change state get their own simulator so that the read-only ones stay independent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pagerduty
import pytest

from devstack.pagerduty import world
from devstack.world import scenario
from tests.pagerduty_helpers import TOKEN, Simulator, paris_anchor, start_simulator

pytestmark = pytest.mark.integration

PAYMENTS_POLICY = world.TEAMS["payments"].escalation_policy_id
PAYMENT_GATEWAY = world.service_id("payment-gateway")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    simulator = start_simulator(tmp_path_factory.mktemp("pagerduty"), paris_anchor())
    yield simulator
    simulator.stop()


@pytest.fixture
def fresh_sim(tmp_path: Path) -> Iterator[Simulator]:
    simulator = start_simulator(tmp_path / "pagerduty", paris_anchor())
    yield simulator
    simulator.stop()


def _open_incident(client: Any) -> dict[str, Any]:
    incidents = client.list_all("incidents", params={"statuses[]": ["triggered", "acknowledged"]})
    assert len(incidents) == 1
    return dict(incidents[0])


def test_open_incidents_is_the_payment_gateway_one(sim: Simulator) -> None:
    incident = _open_incident(sim.client())
    reference = scenario.REFERENCE
    assert incident["title"] == reference.title
    assert incident["status"] == "triggered"
    assert incident["urgency"] == "high"
    assert incident["service"]["id"] == PAYMENT_GATEWAY
    assert incident["service"]["summary"] == "payment-gateway"
    assert incident["created_at"] == world.iso(sim.anchor.at(0, reference.pagerduty_triggered_at))
    assert incident["escalation_policy"]["id"] == PAYMENTS_POLICY
    # `self` links point back at the simulator, so the client can follow them.
    assert incident["self"] == f"{sim.url}/incidents/{incident['id']}"
    assert sim.client().rget(incident)["id"] == incident["id"]


def test_incident_with_log_entries_alerts_and_notes(sim: Simulator) -> None:
    client = sim.client()
    incident = _open_incident(client)
    fetched = client.rget(f"/incidents/{incident['id']}")
    oncall = world.oncall_user("payments", world.parse_iso(incident["created_at"]), sim.anchor.tz)
    assert [a["assignee"]["id"] for a in fetched["assignments"]] == [oncall]

    entries = list(client.iter_all(f"/incidents/{incident['id']}/log_entries"))
    assert {e["type"] for e in entries} == {"trigger_log_entry", "notify_log_entry"}
    notify = next(e for e in entries if e["type"] == "notify_log_entry")
    assert notify["user"]["id"] == oncall

    alerts = client.list_all(f"/incidents/{incident['id']}/alerts")
    details = alerts[0]["body"]["details"]
    assert "847 ms" in details["description"]
    assert "230 ms" in details["description"]
    assert "pool saturated" in details["description"]

    past = next(
        i
        for i in client.iter_all("incidents", params={"date_range": "all"})
        if i["title"] == "Checkout latency above SLO"
    )
    assert past["status"] == "resolved"
    notes = client.rget(f"/incidents/{past['id']}/notes")
    assert [n["content"] for n in notes] == [
        "Slow address provider; switched to fallback provider."
    ]
    kinds = [e["type"] for e in client.iter_all(f"/incidents/{past['id']}/log_entries")]
    # Newest first, like PagerDuty's timeline.
    assert kinds == [
        "resolve_log_entry",
        "annotate_log_entry",
        "acknowledge_log_entry",
        "notify_log_entry",
        "trigger_log_entry",
    ]


def test_oncalls_for_the_payments_policy_now(sim: Simulator) -> None:
    client = sim.client()
    oncalls = client.list_all("oncalls", params={"escalation_policy_ids[]": [PAYMENTS_POLICY]})
    by_level = {o["escalation_level"]: o for o in oncalls}
    assert set(by_level) == {1, 2}
    now = datetime.now(UTC)
    expected = world.oncall_user("payments", now, sim.anchor.tz)
    assert by_level[1]["user"]["id"] == expected
    assert by_level[1]["schedule"]["id"] == "PSPAYMT"
    start, end = world.parse_iso(by_level[1]["start"]), world.parse_iso(by_level[1]["end"])
    assert start <= now < end
    assert start.astimezone(sim.anchor.tz).strftime("%a %H:%M") == "Mon 09:00"
    assert by_level[2]["user"]["id"] == "PUHUGO"
    assert by_level[2]["start"] is None


def test_change_events(sim: Simulator) -> None:
    client = sim.client()
    since = world.iso(sim.anchor.local_midnight(-1))
    events = client.list_all("change_events", params={"since": since})
    deploy = next(e for e in events if e["summary"] == "Deploy payment-gateway v2.14.3 to prod")
    assert deploy["timestamp"] == world.iso(sim.anchor.at(0, "08:30"))
    assert deploy["custom_details"]["version"] == "2.14.3"
    assert deploy["custom_details"]["previous_version"] == "2.14.2"
    assert deploy["custom_details"]["summary"].startswith("ORM upgrade")
    assert deploy["services"][0]["id"] == PAYMENT_GATEWAY
    service_events = client.list_all(f"/services/{PAYMENT_GATEWAY}/change_events")
    assert {e["custom_details"]["version"] for e in service_events} == {
        "2.14.1",
        "2.14.2",
        "2.14.3",
    }
    assert client.rget(f"/change_events/{deploy['id']}")["id"] == deploy["id"]


def test_classic_pagination(sim: Simulator) -> None:
    client = sim.client()
    params = {"date_range": "all"}
    paged = [i["id"] for i in client.iter_all("incidents", params=params, page_size=2)]
    whole = [i["id"] for i in client.iter_all("incidents", params=params, page_size=100)]
    assert paged == whole
    assert len(set(paged)) == len(scenario.PAST_INCIDENTS) + 1
    assert client.get_total("incidents", params=params) == len(paged)

    status, _, body = sim.request("GET", "/services?limit=4&offset=8")
    assert status == 200
    assert (len(body["services"]), body["limit"], body["offset"]) == (2, 4, 8)
    assert body["more"] is False
    assert body["total"] is None
    status, _, body = sim.request("GET", "/services?limit=4&total=true")
    assert (body["more"], body["total"]) == (True, len(scenario.SERVICES))


def test_acknowledge_requires_a_from_header(fresh_sim: Simulator) -> None:
    client = fresh_sim.client()
    incident = _open_incident(client)
    update = {"incident": {"type": "incident_reference", "status": "acknowledged"}}

    response = client.put(f"/incidents/{incident['id']}", json=update)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 2001

    response = client.put(
        f"/incidents/{incident['id']}", json=update, headers={"From": "nobody@example.com"}
    )
    assert response.status_code == 400

    oncall = incident["assignments"][0]["assignee"]["id"]
    email = next(u.email for u in scenario.USERS if u.id == oncall)
    acked = fresh_sim.client(default_from=email).rput(
        incident, json={"type": "incident_reference", "status": "acknowledged"}
    )
    assert acked["status"] == "acknowledged"
    assert acked["acknowledgements"][0]["acknowledger"]["id"] == oncall
    kinds = [e["type"] for e in client.iter_all(f"/incidents/{incident['id']}/log_entries")]
    assert kinds[0] == "acknowledge_log_entry"

    resolver = fresh_sim.client(default_from="hugo.moreau@example.com")
    response = resolver.put(
        "/incidents",
        json={
            "incidents": [
                {
                    "id": incident["id"],
                    "type": "incident_reference",
                    "status": "resolved",
                    "resolution": "Rolled back to v2.14.2",
                }
            ]
        },
    )
    assert response.status_code == 200
    assert response.json()["incidents"][0]["status"] == "resolved"
    # A resolved incident cannot be acknowledged any more.
    response = resolver.put(f"/incidents/{incident['id']}", json=update)
    assert response.status_code == 400
    assert "Incident Already Resolved" in response.json()["error"]["errors"]


def test_bad_token_is_401(sim: Simulator) -> None:
    client = sim.client(token="not-the-token")
    with pytest.raises(pagerduty.HttpError) as caught:
        client.rget("/incidents")
    response = caught.value.response
    assert response is not None
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 2006


def test_rate_limit_is_429_with_retry_after(tmp_path: Path) -> None:
    simulator = start_simulator(tmp_path / "pd", paris_anchor(), rate_limit_per_minute=3)
    try:
        client = simulator.client()
        # The client retries 429 forever by default; allow one quick retry so the test ends.
        client.retry[429] = 1
        client.sleep_timer = 0.01
        for _ in range(3):
            assert client.get("/users").status_code == 200
        response = client.get("/users")
        assert response.status_code == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert response.json()["error"]["message"] == "Rate Limit Exceeded"
    finally:
        simulator.stop()


def test_state_persists_across_a_restart(tmp_path: Path) -> None:
    directory = tmp_path / "pd"
    anchor = paris_anchor()
    first = start_simulator(directory, anchor)
    try:
        client = first.client(default_from="alice.martin@example.com")
        incident = _open_incident(client)
        created = client.rpost(
            f"/incidents/{incident['id']}/notes",
            json={"content": "Rolling back payment-gateway to v2.14.2"},
        )
        assert created["user"]["id"] == "PUALICE"
        ca_before = first.ca.read_bytes()
    finally:
        assert first.stop() == 0  # SIGTERM is a clean shutdown

    state = json.loads((directory / "state.json").read_text(encoding="utf-8"))
    assert state["fingerprint"] == anchor.fingerprint()

    second = start_simulator(directory, anchor)
    try:
        assert second.ca.read_bytes() == ca_before  # certificates are reused
        notes = second.client().rget(f"/incidents/{incident['id']}/notes")
        assert [n["content"] for n in notes] == ["Rolling back payment-gateway to v2.14.2"]
    finally:
        second.stop()
    log = first.log() + second.log()
    assert f"POST /incidents/{incident['id']}/notes 200" in log
    assert TOKEN not in log


def test_state_of_another_world_is_rebuilt(tmp_path: Path) -> None:
    directory = tmp_path / "pd"
    old = paris_anchor(datetime.now(UTC) - timedelta(days=3))
    simulator = start_simulator(directory, old)
    simulator.stop()
    anchor = paris_anchor()
    simulator = start_simulator(directory, anchor)
    try:
        incident = _open_incident(simulator.client())
        assert incident["created_at"] == world.iso(
            anchor.at(0, scenario.REFERENCE.pagerduty_triggered_at)
        )
    finally:
        simulator.stop()
