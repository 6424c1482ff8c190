"""The metrics generator of the demo world: determinism, continuity, calibration, rules."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import yaml

from devstack.world import scenario as sc
from devstack.world.backfill import (
    COARSE_RESOLUTION,
    FINE_RESOLUTION,
    Chunk,
    backfill,
    fine_resolution_from,
    history_end,
    plan_chunks,
    write_openmetrics,
)
from devstack.world.exporter import Exposition
from devstack.world.metrics import (
    DAY,
    LE_VALUES,
    World,
    bucket_fractions,
    prometheus_quantile,
)
from devstack.world.prometheus_config import render_prometheus_config

RULES = Path(__file__).resolve().parents[2] / "devstack" / "assets" / "prometheus-rules.yml"
ANCHOR = sc.compute_anchor(datetime(2026, 3, 10, 10, 17, 30, tzinfo=UTC), "Europe/Paris")
LINE = re.compile(r"^(?P<sel>\S+\{.*\}) (?P<value>\S+)(?: (?P<ts>\d+))?$")


@pytest.fixture(scope="module")
def world() -> World:
    return World(ANCHOR)


def _index(world: World, name: str, **labels: str) -> list[int]:
    return [
        i
        for i, s in enumerate(world.series)
        if s.name == name and all(dict(s.labels).get(k) == v for k, v in labels.items())
    ]


def test_same_anchor_same_samples(world: World) -> None:
    other = World(ANCHOR)
    # Early in the history, so the fresh world needs few days of counter offsets.
    day = int(ANCHOR.history_start.timestamp()) // DAY
    times = np.arange(day * DAY, day * DAY + DAY, 300, dtype=np.int64)
    assert np.array_equal(world.values(times), other.values(times), equal_nan=True)


def test_value_does_not_depend_on_the_window(world: World) -> None:
    t = int(ANCHOR.at(0, "09:00").timestamp())
    alone = world.values([t])[:, 0]
    window = world.values(np.arange(t - 3600, t + 3600, 60, dtype=np.int64))[:, 60]
    assert np.array_equal(alone, window, equal_nan=True)


def test_other_seed_other_noise() -> None:
    other = World(sc.compute_anchor(ANCHOR.created_at, ANCHOR.timezone, seed=7))
    t = [other.epoch_day * DAY + 15 * 3600]
    assert not np.array_equal(World(ANCHOR).values(t), other.values(t), equal_nan=True)


def test_counters_monotonic_across_days(world: World) -> None:
    counters = np.array([s.kind in ("counter", "histogram") for s in world.series])
    previous: np.ndarray | None = None
    start = int(ANCHOR.history_start.timestamp())
    for day in range(start // DAY, start // DAY + 4):
        values = world.values(np.arange(day * DAY, day * DAY + DAY, 300, dtype=np.int64))
        block = values[counters]
        if previous is not None:
            block = np.concatenate([previous, block], axis=1)
        diffs = np.diff(block, axis=1)
        assert not (diffs < 0).any()  # NaN (absent) compares False
        previous = values[counters][:, -1:]


def test_histogram_buckets_are_cumulative(world: World) -> None:
    t = [int(ANCHOR.at(0, "09:00").timestamp())]
    values = world.values(t)[:, 0]
    rows = _index(
        world,
        "http_request_duration_seconds_bucket",
        service="payment-gateway",
        namespace="prod",
        route="/v1/payments",
    )
    assert len(rows) == len(LE_VALUES)
    buckets = values[rows]
    assert (np.diff(buckets) >= 0).all()
    count = values[
        _index(
            world,
            "http_request_duration_seconds_count",
            service="payment-gateway",
            namespace="prod",
            route="/v1/payments",
        )
    ]
    assert buckets[-1] == count[0]


@pytest.mark.parametrize(
    ("p50", "p99"), [(s.p50_s, s.p99_s) for s in sc.SERVICES] + [(0.14, sc.REFERENCE.p99_s)]
)
def test_bucket_fractions_interpolate_to_the_target(p50: float, p99: float) -> None:
    fractions = bucket_fractions(p50, p99)
    assert (np.diff(fractions) >= 0).all()
    assert fractions[-1] == 1.0
    assert prometheus_quantile(0.99, fractions * 1e6) == pytest.approx(p99, rel=1e-9)


def _p99_at(world: World, hhmm: str) -> dict[str, float]:
    t1 = int(ANCHOR.at(0, hhmm).timestamp())
    delta = world.values([t1])[:, 0] - world.values([t1 - 300])[:, 0]
    sums: dict[str, np.ndarray] = {}
    for i, s in enumerate(world.series):
        labels = dict(s.labels)
        if s.name == "http_request_duration_seconds_bucket" and labels["namespace"] == "prod":
            position = LE_VALUES.index(float(labels["le"]))
            sums.setdefault(labels["service"], np.zeros(len(LE_VALUES)))[position] += delta[i]
    return {svc: prometheus_quantile(0.99, b) for svc, b in sums.items()}


def test_reference_incident_p99(world: World) -> None:
    at_nine = _p99_at(world, "09:00")
    assert max(at_nine, key=lambda s: at_nine[s]) == "payment-gateway"
    assert at_nine["payment-gateway"] == pytest.approx(0.847, abs=0.02)
    assert max(v for s, v in at_nine.items() if s != "payment-gateway") < 0.6
    at_eight = _p99_at(world, "08:00")
    assert at_eight["payment-gateway"] == pytest.approx(0.23, abs=0.03)
    assert max(at_eight, key=lambda s: at_eight[s]) == "ml-inference"


def test_db_pool_and_version_timeline(world: World) -> None:
    def pool_at(hhmm: str) -> list[float]:
        values = world.values([int(ANCHOR.at(0, hhmm).timestamp())])[:, 0]
        rows = _index(
            world, "db_pool_connections_in_use", service="payment-gateway", namespace="prod"
        )
        return [float(v) for v in values[rows] if not np.isnan(v)]

    assert pool_at("08:45") == [50.0] * 3
    assert max(pool_at("08:20")) < 35
    assert 15 <= np.mean(pool_at("08:20")) <= 30

    def version_at(hhmm: str) -> list[str]:
        values = world.values([int(ANCHOR.at(0, hhmm).timestamp())])[:, 0]
        rows = _index(world, "app_build_info", service="payment-gateway", namespace="prod")
        return [dict(world.series[i].labels)["version"] for i in rows if values[i] == 1]

    assert version_at("08:29") == ["2.14.2"]
    assert version_at("08:30") == ["2.14.3"]


@pytest.mark.parametrize(
    ("now", "zone"),
    [
        (datetime(2026, 3, 10, 10, 17, tzinfo=UTC), "Europe/Paris"),
        (datetime(2026, 4, 2, 5, 0, tzinfo=UTC), "Europe/Paris"),  # DST inside the history
        (datetime(2026, 11, 21, 22, 0, tzinfo=UTC), "America/New_York"),
        (datetime(2026, 7, 1, 1, 0, tzinfo=UTC), "Asia/Tokyo"),
    ],
)
def test_memory_calibration(now: datetime, zone: str) -> None:
    calibration = World(sc.compute_anchor(now, zone)).calibration
    mm = sc.MEMORY
    assert calibration.this_avg == pytest.approx(mm.this_week_avg_gb, rel=1e-3)
    assert calibration.last_avg == pytest.approx(mm.last_week_avg_gb, rel=1e-3)
    assert calibration.this_peak == pytest.approx(mm.this_week_peak_gb, rel=2e-3)
    assert calibration.last_peak == pytest.approx(mm.last_week_peak_gb, rel=2e-3)
    for service, gb in mm.contributors_gb:
        assert calibration.increases[service] == pytest.approx(gb, abs=0.05)
    rest = sum(v for s, v in calibration.increases.items() if s not in dict(mm.contributors_gb))
    assert rest == pytest.approx(2.0, abs=0.1)
    assert all(p > 0 for p in calibration.params)


def test_memory_stays_under_limits(world: World) -> None:
    day = int(ANCHOR.at(0, "01:30").timestamp()) // DAY
    values = world.values(np.arange(day * DAY, day * DAY + DAY, 300, dtype=np.int64))
    memory = _index(world, "container_memory_working_set_bytes")
    limits = _index(world, "container_spec_memory_limit_bytes")
    ratio = values[memory] / values[limits]
    assert np.nanmax(ratio) < 0.9


def test_only_real_containers(world: World) -> None:
    for s in world.series:
        labels = dict(s.labels)
        if s.name.startswith("container_"):
            assert labels["container"] not in ("", "POD")
            assert labels["job"] == "kubelet"
            assert re.fullmatch(r"node-\d+", labels["instance"])


def test_exporter_matches_backfill_sample(world: World, tmp_path: Path) -> None:
    t0 = int(ANCHOR.at(0, "08:40").timestamp())
    chunk = Chunk(t0, t0 + 180, FINE_RESOLUTION)
    _, samples, _ = write_openmetrics(world, chunk, tmp_path / "chunk.om")
    text = (tmp_path / "chunk.om").read_text(encoding="utf-8")
    assert text.endswith("# EOF\n")
    backfilled = {}
    for line in text.splitlines():
        match = LINE.match(line)
        if match and int(match["ts"]) == t0 + 60:
            backfilled[match["sel"]] = match["value"]
    exposition = Exposition(world).render(float(t0 + 60) + 0.25)
    live = {m["sel"]: m["value"] for m in map(LINE.match, exposition.splitlines()) if m}
    assert samples == 3 * len(live)
    assert live.keys() == backfilled.keys()
    mismatched = [k for k in live if float(live[k]) != float(backfilled[k])]
    assert not mismatched, mismatched[:5]


def test_exporter_counters_advance_within_a_minute(world: World) -> None:
    exposition = Exposition(world)
    t = int(ANCHOR.at(0, "15:00").timestamp())
    first = exposition.render(t + 10.0)
    second = exposition.render(t + 40.0)
    pattern = re.compile(
        r'^http_requests_total\{code="201".*route="/v1/payments".*\} (\d+)$', re.MULTILINE
    )
    a = [int(v) for v in pattern.findall(first)]
    b = [int(v) for v in pattern.findall(second)]
    assert a
    assert all(y > x for x, y in zip(a, b, strict=True))


def test_exporter_scrape_is_fast(world: World) -> None:
    exposition = Exposition(world)
    now = ANCHOR.at(0, "10:00").timestamp()
    exposition.render(now)
    began = time.perf_counter()
    body = exposition.render(now + 15)
    assert time.perf_counter() - began < 0.2
    assert "# TYPE http_requests_total counter" in body
    assert "# TYPE http_request_duration_seconds histogram" in body


def test_series_count_is_reasonable(world: World) -> None:
    assert 1000 < len(world.series) < 3000
    prod = {
        dict(s.labels)["pod"]
        for s in world.series
        if s.name == "kube_pod_labels" and dict(s.labels)["namespace"] == "prod"
    }
    assert len(prod) > sum(s.prod_pods for s in sc.SERVICES)  # deploys replaced pods


def test_chunks_cover_the_history_at_the_right_resolution() -> None:
    chunks = plan_chunks(ANCHOR, ANCHOR.history_start, ANCHOR.created_at)
    assert chunks[0].start == int(ANCHOR.history_start.timestamp())
    assert chunks[-1].end == int(ANCHOR.created_at.timestamp())
    for before, after in itertools.pairwise(chunks):
        assert before.end == after.start
    for chunk in chunks:
        assert chunk.start // DAY == (chunk.end - 1) // DAY
    fine = fine_resolution_from(ANCHOR)
    assert fine <= int(ANCHOR.local_midnight(0).timestamp())
    assert fine <= int((ANCHOR.created_at - timedelta(days=1)).timestamp())
    assert {c.resolution for c in chunks if c.start >= fine} == {FINE_RESOLUTION}
    assert {c.resolution for c in chunks if c.start < fine} == {COARSE_RESOLUTION}


def test_prometheus_config() -> None:
    config = yaml.safe_load(render_prometheus_config(19464, 19093, RULES))
    assert config["global"]["scrape_interval"] == "15s"
    assert config["global"]["evaluation_interval"] == "15s"
    job = config["scrape_configs"][0]
    assert job["honor_labels"] is True
    assert job["static_configs"][0]["targets"] == ["127.0.0.1:19464"]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "127.0.0.1:19093"
    ]
    assert config["rule_files"] == [str(RULES)]


def test_rules_have_required_labels() -> None:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert len(rules) >= 5
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert {"summary", "description"} <= set(rule["annotations"])
        assert "service" in rule["expr"] or "container" in rule["expr"]


promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")


@promtool
def test_rules_pass_promtool() -> None:
    result = subprocess.run(
        ["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@promtool
def test_small_backfill_builds_and_reuses_blocks(tmp_path: Path) -> None:
    start = ANCHOR.at(0, "08:00")
    end = ANCHOR.at(0, "08:30")
    first = backfill(ANCHOR, tmp_path / "data", tmp_path / "cache", tmp_path / "work", start, end)
    assert first.days_generated == 1
    assert first.days_reused == 0
    assert first.blocks >= 1
    assert first.samples > 0
    assert 1000 < first.series < 3000
    second = backfill(ANCHOR, tmp_path / "data2", tmp_path / "cache", tmp_path / "work", start, end)
    assert second.days_generated == 0
    assert second.days_reused == 1
    assert second.samples == first.samples
    assert sorted(p.name for p in (tmp_path / "data2").iterdir()) == sorted(
        p.name for p in (tmp_path / "data").iterdir()
    )
    assert not list((tmp_path / "work").glob("*.om"))
    last = history_end(tmp_path / "data")
    assert last is not None
    assert end - timedelta(minutes=1) < last <= end
    assert history_end(tmp_path / "empty") is None
