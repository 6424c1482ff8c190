"""The demo world's logs: deterministic, window-independent, and telling the scenario's story."""

from __future__ import annotations

import re
import socket
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devstack import elasticsearch as des
from devstack.world import logs, scenario
from devstack.world.scenario import Anchor

# D = 2026-03-10 in Paris, the stack built at 16:00 local: the incident has been open 7.5 hours.
ANCHOR = scenario.compute_anchor(datetime(2026, 3, 10, 15, 0, tzinfo=UTC), "Europe/Paris")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _when(doc: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(doc["@timestamp"].replace("Z", "+00:00"))


def _docs(anchor: Anchor, day: int, start: str, end: str) -> list[dict[str, Any]]:
    return list(logs.documents(anchor, anchor.at(day, start), anchor.at(day, end)))


def _pool_exhausted(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        d
        for d in docs
        if d["service"] == "payment-gateway"
        and d["namespace"] == "prod"
        and d["message"] == logs.POOL_EXHAUSTED
    ]


@pytest.fixture(scope="module")
def world() -> list[dict[str, Any]]:
    """The two days the devstack loads for ANCHOR."""
    start, end = logs.window(ANCHOR)
    return list(logs.documents(ANCHOR, start, end))


def test_same_anchor_gives_the_same_documents() -> None:
    assert _docs(ANCHOR, 0, "08:00", "09:30") == _docs(ANCHOR, 0, "08:00", "09:30")


def test_another_seed_gives_other_documents() -> None:
    other = Anchor(ANCHOR.timezone, ANCHOR.incident_day, ANCHOR.created_at, seed=7)
    assert _docs(ANCHOR, 0, "10:00", "10:10") != _docs(other, 0, "10:00", "10:10")


def test_window_is_the_concatenation_of_its_parts() -> None:
    a = ANCHOR.at(0, "08:20")
    # A cut inside a minute, at a millisecond, is the hard case.
    b = a + timedelta(minutes=37, seconds=12, milliseconds=345)
    c = ANCHOR.at(0, "09:10")
    whole = list(logs.documents(ANCHOR, a, c))
    assert whole == list(logs.documents(ANCHOR, a, b)) + list(logs.documents(ANCHOR, b, c))
    assert all(_when(d) < b for d in logs.documents(ANCHOR, a, b))


def test_minute_by_minute_matches_one_window() -> None:
    """What a live feeder appends minute by minute is what a bulk load would have written."""
    start = ANCHOR.at(0, "08:38")
    minutes = [
        doc
        for step in range(8)
        for doc in logs.documents(
            ANCHOR, start + timedelta(minutes=step), start + timedelta(minutes=step + 1)
        )
    ]
    assert minutes == list(logs.documents(ANCHOR, start, start + timedelta(minutes=8)))


def test_documents_are_well_formed(world: list[dict[str, Any]]) -> None:
    start, end = logs.window(ANCHOR)
    ids = [d["_id"] for d in world]
    assert len(set(ids)) == len(ids)
    stamps = [d["@timestamp"] for d in world]
    assert stamps == sorted(stamps)
    for doc in world:
        assert ISO.match(doc["@timestamp"]), doc
        assert start <= _when(doc) < end
        assert doc["level"] in logs.LEVELS
        assert doc["namespace"] in scenario.NAMESPACES
        assert doc["service"] in scenario.SERVICE_NAMES
        assert doc["message"]
        assert doc["logger"]
        if "http" in doc:
            assert isinstance(doc["http"]["status"], int)
            assert doc["http"]["route"] in scenario.service(doc["service"]).routes
            assert isinstance(doc["duration_ms"], int)
            assert (doc["level"] == "ERROR") == (doc["http"]["status"] >= 500)


def test_pods_and_versions_follow_the_deploys(world: list[dict[str, Any]]) -> None:
    shutdowns = 0
    for doc in world[::7]:
        spec = scenario.service(doc["service"])
        count = spec.prod_pods if doc["namespace"] == "prod" else spec.staging_pods
        pods = scenario.pod_names(spec.name, doc["namespace"], doc["service_version"], count)
        assert doc["pod"] in pods, doc
        running = scenario.version_at(spec.name, doc["namespace"], _when(doc), ANCHOR)
        if doc["message"].startswith("Received SIGTERM"):
            shutdowns += 1  # the old pods drain during a rollout
        else:
            assert doc["service_version"] == running, doc
    pg = [
        d
        for d in world
        if d["service"] == "payment-gateway" and d["namespace"] == "prod" and "http" in d
    ]
    before = {d["service_version"] for d in pg if _when(d) < ANCHOR.at(0, "08:30")}
    after = {d["service_version"] for d in pg if _when(d) >= ANCHOR.at(0, "08:31")}
    assert before == {"2.14.2"}
    assert after == {"2.14.3"}


def test_volume_is_tens_of_thousands(world: list[dict[str, Any]]) -> None:
    namespaces = Counter(d["namespace"] for d in world)
    assert 30_000 <= len(world) <= 90_000
    assert namespaces["staging"] < 0.2 * namespaces["prod"]
    services = Counter(d["service"] for d in world if d["namespace"] == "prod")
    assert set(services) == set(scenario.SERVICE_NAMES)
    assert min(services.values()) > 1000


def test_messages_vary_in_their_variables(world: list[dict[str, Any]]) -> None:
    """Enough distinct lines per pattern for a "group by pattern" feature to work on."""
    authorized = {d["message"] for d in world if " authorized: " in d["message"]}
    assert len(authorized) > 200
    timeouts = {d["message"] for d in world if d["message"].startswith("timeout after 3000ms")}
    assert len(timeouts) > 100
    assert all(re.search(r"payment [0-9a-f-]{36}$", m) for m in timeouts)


def test_deploy_lines_in_the_window(world: list[dict[str, Any]]) -> None:
    start, end = logs.window(ANCHOR)
    deployed = {
        (d["service"], d["namespace"], d["@timestamp"], d["message"])
        for d in world
        if d["logger"] == logs.DEPLOYER_LOGGER
    }
    expected = {
        (
            dep.service,
            dep.namespace,
            ANCHOR.at(dep.day, dep.at).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            f"Deployed {dep.service} version {dep.version} (previous {dep.previous}): "
            f"{dep.summary}",
        )
        for name in scenario.SERVICE_NAMES
        for namespace in scenario.NAMESPACES
        for dep in scenario.deploys_of(name, namespace)
        if start <= ANCHOR.at(dep.day, dep.at) < end
    }
    assert deployed == expected
    reference = (
        "payment-gateway",
        "prod",
        "2026-03-10T07:30:00.000Z",
        "Deployed payment-gateway version 2.14.3 (previous 2.14.2): ORM upgrade: order lines "
        "lazy-loaded per payment",
    )
    assert reference in deployed


@pytest.mark.parametrize(
    ("timezone", "now"),
    [
        ("Europe/Paris", datetime(2026, 3, 10, 15, 0, tzinfo=UTC)),
        # D right after the spring DST change, so the window spans it.
        ("Europe/Paris", datetime(2026, 3, 30, 10, 0, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 7, 1, 20, 0, tzinfo=UTC)),
    ],
)
def test_reference_incident_burst(timezone: str, now: datetime) -> None:
    anchor = scenario.compute_anchor(now, timezone)
    before = _docs(anchor, 0, "07:00", "08:42")
    burst = _docs(anchor, 0, "08:42", "09:00")
    assert _pool_exhausted(before) == []
    exhausted = _pool_exhausted(burst)
    assert len(exhausted) > 100
    assert {d["level"] for d in exhausted} == {"ERROR"}
    # Every minute of the burst has some, from the first one.
    minutes = {_when(d).replace(second=0, microsecond=0) for d in exhausted}
    assert anchor.at(0, "08:42") in minutes
    assert len(minutes) >= 16
    failed = [
        d
        for d in burst
        if d["service"] == "payment-gateway" and d.get("http", {}).get("status") in (503, 504)
    ]
    assert len(failed) > 30
    timeouts = [d for d in burst if d["message"].startswith("timeout after 3000ms waiting")]
    assert len(timeouts) > 40


def test_slow_requests_start_with_the_rollout() -> None:
    def slow(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            d
            for d in docs
            if d["service"] == "payment-gateway"
            and d["namespace"] == "prod"
            and d["level"] == "WARN"
            and d["message"].startswith(("slow query", "slow request"))
        ]

    assert slow(_docs(ANCHOR, 0, "07:00", "08:30")) == []
    assert len(slow(_docs(ANCHOR, 0, "08:30", "08:42"))) > 10


def test_incident_stays_open_while_live() -> None:
    """The world never resolves the incident: a feeder hours later still sees the errors."""
    later = _docs(ANCHOR, 0, "20:00", "20:10")
    assert len(_pool_exhausted(later)) > 5


def test_errors_rank_payment_gateway_first_since_0840(world: list[dict[str, Any]]) -> None:
    since = ANCHOR.at(0, "08:40")
    errors = Counter(d["service"] for d in world if d["level"] == "ERROR" and _when(d) >= since)
    ranking = [name for name, _ in errors.most_common()]
    assert ranking[0] == "payment-gateway"
    assert errors["payment-gateway"] > 10 * errors[ranking[1]]


def test_past_incident_in_window_shows_a_burst(world: list[dict[str, Any]]) -> None:
    # The cart incident of D-1 19:30 (12 minutes, errors) is inside the two days.
    start = ANCHOR.at(-1, "19:30")
    during = [
        d
        for d in world
        if d["service"] == "cart"
        and d["namespace"] == "prod"
        and d["level"] == "ERROR"
        and start <= _when(d) < start + timedelta(minutes=12)
    ]
    day_before = [
        d
        for d in world
        if d["service"] == "cart"
        and d["namespace"] == "prod"
        and d["level"] == "ERROR"
        and ANCHOR.at(-1, "07:30") <= _when(d) < ANCHOR.at(-1, "19:30")
    ]
    assert len(during) > 50
    assert len(day_before) < 10


def test_naive_bounds_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next(logs.documents(ANCHOR, datetime(2026, 3, 10, 8), datetime(2026, 3, 10, 9)))


def test_index_names_are_daily_per_namespace() -> None:
    when = datetime(2026, 3, 10, 23, 59, tzinfo=UTC)
    assert des.index_name("prod", when) == "logs-prod-2026.03.10"
    assert des.indices_for(when, when + timedelta(minutes=2)) == [
        "logs-prod-2026.03.10",
        "logs-staging-2026.03.10",
        "logs-prod-2026.03.11",
        "logs-staging-2026.03.11",
    ]
    start, end = logs.window(ANCHOR)
    names = set(des.indices_for(start, end))
    for doc in logs.documents(ANCHOR, start, start + timedelta(minutes=5)):
        assert des.index_name(doc["namespace"], _when(doc)) in names


def test_noida_command_line(tmp_path: Path) -> None:
    command = des.noida_command(tmp_path / "es", 19299)
    assert Path(command[0]).name == "noida-db"
    assert command[1:] == [
        "start",
        "--only",
        "elasticsearch",
        "--data-dir",
        str(tmp_path / "es"),
        "--host",
        "127.0.0.1",
        "--elasticsearch-port",
        "19299",
    ]


def test_wait_ready_times_out_clearly() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        with pytest.raises(TimeoutError, match=f"127.0.0.1:{port}.*not ready"):
            des.wait_ready(f"http://127.0.0.1:{port}", timeout_s=0.3)
