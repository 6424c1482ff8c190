"""Small Prometheus servers that name things differently, for the signal catalog's tests.

Each world is a few services over three hours (ending now), written as one OpenMetrics file,
turned into TSDB blocks by `promtool tsdb create-blocks-from openmetrics` (as the devstack's
backfill does) and served by a separate, real Prometheus on a free 127.0.0.1 port. Every service
has a known P99 (inside a bucket, with bucket counts chosen so that `histogram_quantile` lands on
it exactly), a known request rate and a known 5xx share (plus 4xx, which are not errors).

* `OTEL`: OpenTelemetry's Prometheus exporter: `http_server_request_duration_seconds` with
  `service_name`, `k8s_namespace_name`, `http_response_status_code`, no request counter (the
  histogram's `_count` is the rate), `job="<namespace>/<service>"`, and the `db.client`
  connection gauges (`db_client_connections_usage{state}` / `db_client_connections_max`);
  plus two weeks of container memory as the Collector's kubeletstats receiver reports it
  (`MEMORY_CONTAINERS`, below), for week-over-week questions.
* `ISTIO`: `istio_request_duration_milliseconds` and `istio_requests_total` with
  `destination_workload`, `destination_workload_namespace`, `response_code`, every request
  reported twice (`reporter="source"` and `"destination"`), and `namespace` being the namespace
  of the proxy that reported it.

Servers have no scrape targets, hence no `/api/v1/metadata`: discovery must work from names.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from devstack.process import free_port

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
HOURS = 3
STEP_S = 60
QUANTILE = 0.99
READY_TIMEOUT_S = 15.0
# The memory series span two weeks and a day, on the devstack's 5-minute scrape grid (the
# planner's subqueries step by 5 minutes: a coarser grid would leave half their points empty).
MEMORY_DAYS = 15
MEMORY_STEP_S = 300
# Where the world's answers are asked: 30 minutes before its last sample (`WorldServer.at`).
ASK_BEFORE_END_S = 30 * 60
WEEK_S = 7 * 86400
GB = 10**9

OTEL_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
ISTIO_BOUNDS_MS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)


@dataclass(frozen=True)
class Service:
    """One service of a world and the figures the catalog must find for it."""

    name: str
    namespace: str
    p99_s: float
    rps: float
    error_ratio: float  # 5xx share
    client_error_ratio: float = 0.03  # 4xx share: not errors
    pool_in_use: int | None = None
    pool_max: int | None = None

    @property
    def codes(self) -> tuple[tuple[str, float], ...]:
        ok = 1.0 - self.error_ratio - self.client_error_ratio
        return (
            ("200", ok),
            ("404", self.client_error_ratio),
            ("500", self.error_ratio * 0.6),
            ("503", self.error_ratio * 0.4),
        )


SERVICES = (
    Service("checkout", "shop", p99_s=0.3, rps=40.0, error_ratio=0.02),
    Service("payments", "shop", p99_s=0.9, rps=25.0, error_ratio=0.05, pool_in_use=8, pool_max=10),
    Service("search", "web", p99_s=0.12, rps=60.0, error_ratio=0.0),
)


@dataclass(frozen=True)
class MemoryContainer:
    """One container's working set: constant within each rolling week before the ask instant."""

    name: str
    namespace: str
    last_week_gb: float
    this_week_gb: float

    @property
    def pod(self) -> str:
        return f"{self.name}-7d9f8b6c5-x2k4q"


# Namespace `prod` averages 50 GB last week and 60 GB this week; `cache` grows most (+8 GB),
# then `cart` (+2 GB); `worker` is steady; `staging` must not be counted in prod.
MEMORY_CONTAINERS = (
    MemoryContainer("cart", "prod", last_week_gb=20.0, this_week_gb=22.0),
    MemoryContainer("cache", "prod", last_week_gb=15.0, this_week_gb=23.0),
    MemoryContainer("worker", "prod", last_week_gb=15.0, this_week_gb=15.0),
    MemoryContainer("cart", "staging", last_week_gb=5.0, this_week_gb=5.0),
)


def cumulative_fractions(p99: float, bounds: tuple[float, ...]) -> list[float]:
    """Share of requests at or under each bound, such that Prometheus' P99 is exactly `p99`.

    `histogram_quantile` interpolates linearly inside the bucket (lo, hi] holding the rank: with
    F(hi) = 1 and F(lo) = a, it returns lo + (hi - lo) * (0.99 - a) / (1 - a), solved for a.
    """
    i = next(k for k, b in enumerate(bounds) if b >= p99)
    lo = bounds[i - 1] if i > 0 else 0.0
    w = (p99 - lo) / (bounds[i] - lo)
    a = (QUANTILE - w) / (1 - w)
    out = []
    for k in range(len(bounds)):
        if k >= i:
            out.append(1.0)
        else:
            out.append(a * 0.5 ** (i - 1 - k))
    return out


@dataclass(frozen=True)
class World:
    """A naming convention: how to write it, and what the catalog should discover in it."""

    name: str
    latency_metric: str
    request_metric: str
    service_label: str
    namespace_label: str
    status_label: str

    def openmetrics(self, start: int, end: int) -> str:
        times = list(range(start, end + 1, STEP_S))
        if self.name == "otel":
            return _otel(times, end)
        return _istio(times)


OTEL = World(
    "otel",
    latency_metric="http_server_request_duration_seconds",
    request_metric="http_server_request_duration_seconds_count",
    service_label="service_name",
    namespace_label="k8s_namespace_name",
    status_label="http_response_status_code",
)
ISTIO = World(
    "istio",
    latency_metric="istio_request_duration_milliseconds",
    request_metric="istio_requests_total",
    service_label="destination_workload",
    namespace_label="destination_workload_namespace",
    status_label="response_code",
)


def _labels(pairs: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in pairs.items()) + "}"


def _counter_lines(name: str, labels: dict[str, str], per_s: float, times: list[int]) -> list[str]:
    """A counter growing at `per_s` from the first instant, as integer counts."""
    sel = name + _labels(labels)
    t0 = times[0]
    return [f"{sel} {math.floor(per_s * (t - t0) + 0.5)} {t}" for t in times]


def _histogram(
    family: str,
    base: dict[str, str],
    *,
    per_s: float,
    fractions: list[float],
    bounds: tuple[float, ...],
    mean: float,
    times: list[int],
) -> list[str]:
    lines: list[str] = []
    for bound, fraction in zip((*bounds, math.inf), (*fractions, 1.0), strict=True):
        le = "+Inf" if math.isinf(bound) else f"{bound:g}"
        lines += _counter_lines(f"{family}_bucket", {**base, "le": le}, per_s * fraction, times)
    lines += _counter_lines(f"{family}_count", base, per_s, times)
    lines += _counter_lines(f"{family}_sum", base, per_s * mean, times)
    return lines


def _otel_memory(end: int) -> list[str]:
    """`container.memory.working_set` of the OpenTelemetry Collector's kubeletstats receiver.

    Source: opentelemetry-collector-contrib, receiver/kubeletstatsreceiver/documentation.md
    (metric `container.memory.working_set`, unit `By`, gauge; resource attributes
    `k8s.namespace.name`, `k8s.pod.name`, `k8s.pod.uid`, `k8s.container.name`,
    `k8s.node.name`), exported by exporter/prometheusexporter: dots become underscores and the
    unit `By` the suffix `_bytes`, so `container_memory_working_set_bytes` (the same name as
    cAdvisor's, with other labels), resource attributes as labels with
    `resource_to_telemetry_conversion` enabled, and no `service_name` (the receiver sets none).
    The pod-level `k8s.pod.memory.working_set` (`k8s_pod_memory_working_set_bytes`) is left out.

    Values switch from last week's to this week's level just after `end - ASK_BEFORE_END_S -
    WEEK_S`, a sample instant: the planner's rolling weeks, asked at `WorldServer.at`, then see
    one level each, whatever the time of the run.
    """
    switch = end - ASK_BEFORE_END_S - WEEK_S
    first = end - MEMORY_DAYS * 86400
    times = range(first - (first - switch) % MEMORY_STEP_S, end + 1, MEMORY_STEP_S)
    out = ["# TYPE container_memory_working_set_bytes gauge"]
    for c in MEMORY_CONTAINERS:
        labels = _labels(
            {
                "k8s_container_name": c.name,
                "k8s_namespace_name": c.namespace,
                "k8s_node_name": "node-1",
                "k8s_pod_name": c.pod,
            }
        )
        before, after = round(c.last_week_gb * GB), round(c.this_week_gb * GB)
        out += [
            f"container_memory_working_set_bytes{labels} {after if t > switch else before} {t}"
            for t in times
        ]
    return out


def _otel(times: list[int], end: int) -> str:
    family = "http_server_request_duration_seconds"
    out = [f"# TYPE {family} histogram"]
    for s in SERVICES:
        fractions = cumulative_fractions(s.p99_s, OTEL_BOUNDS)
        for code, share in s.codes:
            if share <= 0:
                continue
            base = {
                "http_request_method": "GET",
                "http_response_status_code": code,
                "http_route": "/api",
                "job": f"{s.namespace}/{s.name}",
                "k8s_namespace_name": s.namespace,
                "service_name": s.name,
            }
            out += _histogram(
                family,
                base,
                per_s=s.rps * share,
                fractions=fractions,
                bounds=OTEL_BOUNDS,
                mean=0.05,
                times=times,
            )
    pools = [s for s in SERVICES if s.pool_max is not None]
    out.append("# TYPE db_client_connections_usage gauge")
    for s in pools:
        for state, value in (("used", s.pool_in_use or 0), ("idle", (s.pool_max or 0) - 2)):
            labels = {
                "k8s_namespace_name": s.namespace,
                "pool_name": "main",
                "service_name": s.name,
                "state": state,
            }
            out += [f"db_client_connections_usage{_labels(labels)} {value} {t}" for t in times]
    out.append("# TYPE db_client_connections_max gauge")
    for s in pools:
        labels = {"k8s_namespace_name": s.namespace, "pool_name": "main", "service_name": s.name}
        out += [f"db_client_connections_max{_labels(labels)} {s.pool_max} {t}" for t in times]
    out += _otel_memory(end)
    out.append("# EOF")
    return "\n".join(out) + "\n"


def _istio(times: list[int]) -> str:
    family = "istio_request_duration_milliseconds"
    histogram = [f"# TYPE {family} histogram"]
    counter = ["# TYPE istio_requests counter"]
    for s in SERVICES:
        fractions = cumulative_fractions(s.p99_s * 1000, ISTIO_BOUNDS_MS)
        for reporter, proxy_namespace in (("source", "frontend"), ("destination", s.namespace)):
            for code, share in s.codes:
                if share <= 0:
                    continue
                base = {
                    "destination_service_name": s.name,
                    "destination_workload": s.name,
                    "destination_workload_namespace": s.namespace,
                    "namespace": proxy_namespace,
                    "reporter": reporter,
                    "response_code": code,
                    "source_workload": "web-frontend",
                    "source_workload_namespace": "frontend",
                }
                rate = s.rps * share
                histogram += _histogram(
                    family,
                    base,
                    per_s=rate,
                    fractions=fractions,
                    bounds=ISTIO_BOUNDS_MS,
                    mean=50.0,
                    times=times,
                )
                counter += _counter_lines("istio_requests_total", base, rate, times)
    return "\n".join([*histogram, *counter, "# EOF"]) + "\n"


@dataclass(frozen=True)
class WorldServer:
    """A running Prometheus holding one world: where it listens and when to query it."""

    world: World
    url: str
    at: datetime  # an instant with 5 minutes of history behind it


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/-/ready", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def serve_world(world: World) -> Generator[WorldServer, None, None]:
    """Build the world's blocks, start Prometheus on them, yield, then stop and clean up."""
    root = Path(tempfile.mkdtemp(prefix=f"vigie-catalog-{world.name}-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        end = int(time.time()) // STEP_S * STEP_S
        start = end - HOURS * 3600
        source = root / "world.om"
        source.write_text(world.openmetrics(start, end), encoding="utf-8")
        data = root / "data"
        result = subprocess.run(
            [
                PROMTOOL,
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "--quiet",
                # One pass over the file per block: few, long blocks keep two weeks fast.
                "--max-block-duration=486h",
                str(source),
                str(data),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"promtool failed: {result.stderr.strip()[-2000:]}")
        config = root / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n", encoding="utf-8")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with (root / "prometheus.log").open("wb") as log:
            proc = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={data}",
                    "--storage.tsdb.retention.time=30d",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not _ready(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (root / "prometheus.log").read_text(errors="replace")[-1000:]
                raise RuntimeError(f"prometheus for world {world.name} did not start: {tail}")
            time.sleep(0.1)
        yield WorldServer(world, url, datetime.fromtimestamp(end - ASK_BEFORE_END_S, tz=UTC))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session", params=[OTEL, ISTIO], ids=lambda w: w.name, name="world_server")
def world_server_fixture(request: pytest.FixtureRequest) -> Iterator[WorldServer]:
    """A real Prometheus per naming convention, one at a time, stopped and removed after."""
    yield from serve_world(request.param)


@pytest.fixture(scope="module", name="otel_server")
def otel_server_fixture() -> Iterator[WorldServer]:
    """The OpenTelemetry world alone: the only one with memory series."""
    yield from serve_world(OTEL)
