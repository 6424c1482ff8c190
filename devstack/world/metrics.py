"""Deterministic metrics of the demo world, as a function of absolute time.

`World(anchor)` lists every series (HTTP histograms and counters, cAdvisor and kube-state-metrics
style pod series, DB pool gauges, `up`, `app_build_info`) and gives their values at any instants.
Both the history backfill and the live exporter read values from here, so a sample at instant t
is the same whichever window is generated.

How values are made:

* Everything is piecewise constant per UTC minute. Noise comes from a numpy Generator seeded
  from (anchor.seed, series key, UTC day number), so a minute's value never depends on the
  window being generated.
* Counters are integrals, from a fixed world epoch, of a per-minute rate (linear within the
  minute), so they are continuous however the history is split, and the exporter continues the
  backfill exactly. Integer counters (request counts) are floored.
* Memory is linear in a handful of constants (base size, cache-service leak rate, the D-6 steps,
  a drift, nightly batch amplitudes) solved at construction so that Prometheus' own averages and
  peaks over the 5-minute grid hit `scenario.MEMORY`.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final

import numpy as np
from numpy.typing import NDArray

from devstack.world import scenario as sc
from devstack.world.scenario import Anchor

# Bump when the generated samples change, so cached TSDB blocks are regenerated.
GENERATOR_VERSION: Final = 3

MINUTE: Final = 60
DAY: Final = 86_400
MINUTES_PER_DAY: Final = 1440
STAGING_TRAFFIC: Final = 0.15
STAGING_MEMORY: Final = 0.4
POD_PORT: Final = 8080
NODES: Final = 6

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

LE_VALUES: Final = (*sc.LATENCY_BUCKETS, math.inf)
LE_LABELS: Final = (*(f"{le:g}" for le in sc.LATENCY_BUCKETS), "+Inf")
# The +Inf bucket's "midpoint", only used for the histogram's _sum.
_LAST_MID: Final = 12.5
_Z99: Final = 2.3263478740408408

# Per-pod working set of prod pods in GB before scaling: only the proportions matter, the scale
# is solved by the calibration. cache-service and ml-inference dominate on purpose.
_MEMORY_WEIGHTS: Final = {
    "api-gateway": 2.5,
    "payment-gateway": 1.6,
    "checkout": 1.5,
    "cart": 0.8,
    "catalog": 1.8,
    "search": 3.0,
    "auth": 0.7,
    "cache-service": 10.0,
    "ml-inference": 11.0,
    "notification": 0.5,
}
_LEAK_SERVICE: Final = "cache-service"
_LEAK_VERSION: Final = "5.2.0"
_BATCH_SERVICE: Final = "ml-inference"
# Memory steps: each listed version adds one more step of the service's step height. The two
# steps of a service are exactly 7 days apart (D-13 and D-6), which makes the week-over-week
# difference of its average equal to one step whatever the evaluation time in the anchor's
# validity: a single step's share of a sliding 7-day window would drift by ~1/7 over a day.
_STEPS: Final = {
    "ml-inference": {"3.0.2": 1, "3.1.0": 2},
    "api-gateway": {"1.7.5": 1, "1.8.0": 2},
}
_OTHERS: Final = tuple(n for n in sc.SERVICE_NAMES if n not in ("cache-service", *_STEPS))
# Unknowns of the memory calibration, in order.
PARAMS: Final = ("base", "leak", "step_ml", "step_api", "drift", "batch_last", "batch_this")
_POST_ROUTES: Final = frozenset(
    {
        "/v1/payments",
        "/v1/refunds",
        "/checkout",
        "/checkout/confirm",
        "/cart/items",
        "/login",
        "/token",
        "/logout",
        "/set",
        "/predict",
        "/batch-predict",
        "/notify",
        "/notify/bulk",
    }
)
_CREATED_ROUTES: Final = frozenset({"/v1/payments", "/v1/refunds", "/cart/items"})
CODES: Final = ("ok", "404", "500", "503", "504")


@dataclass(frozen=True)
class Series:
    """One time series: its sample name, labels, type and the interval it exists in."""

    name: str
    family: str  # OpenMetrics family name (counters without _total, histogram base name)
    kind: str  # "counter" | "gauge" | "histogram" (the family's type)
    labels: tuple[tuple[str, str], ...]
    start: float  # unix seconds, exists from (inclusive)
    end: float  # until (exclusive)
    integer: bool
    help: str

    def selector(self) -> str:
        """`name{k="v",...}` as written in expositions (label values need no escaping here)."""
        inner = ",".join(f'{k}="{v}"' for k, v in self.labels)
        return f"{self.name}{{{inner}}}"


@dataclass(frozen=True)
class Pod:
    service: str
    namespace: str
    name: str
    version: str
    start: float
    end: float
    ip: str
    node: str
    restarts: tuple[float, ...]  # restart instants (unix s)


@dataclass(frozen=True)
class Route:
    service: str
    namespace: str
    route: str
    method: str
    ok_code: str
    weight: float


@dataclass
class _DayTable:
    gauges: FloatArray  # (n_gauge_rows, 1440)
    rates: FloatArray  # (n_counter_rows, 1440), per second
    cum: FloatArray  # (n_counter_rows, 1440), integral from the day start to each minute start
    total: FloatArray  # (n_counter_rows,), integral over the whole day


@dataclass(frozen=True)
class MemoryCalibration:
    """The solved constants and the realised figures (GB) at the calibration instant."""

    params: tuple[float, ...]
    this_avg: float
    this_peak: float
    last_avg: float
    last_peak: float
    increases: dict[str, float]


# --------------------------------------------------------------------------------------------
# Small numeric helpers


def _hash32(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def _erf(x: FloatArray) -> FloatArray:
    # Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7): numpy has no erf and scipy is not a dependency.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return np.asarray(sign * (1.0 - poly * np.exp(-a * a)), dtype=np.float64)


def _phi(x: FloatArray) -> FloatArray:
    return np.asarray(0.5 * (1.0 + _erf(x / math.sqrt(2.0))), dtype=np.float64)


def prometheus_quantile(q: float, cumulative: FloatArray) -> float:
    """`histogram_quantile` on cumulative bucket counts ordered as LE_VALUES (Prometheus' rule)."""
    total = float(cumulative[-1])
    if total <= 0:
        return math.nan
    rank = q * total
    index = int(np.searchsorted(cumulative, rank, side="left"))
    if index == len(LE_VALUES) - 1:
        return float(LE_VALUES[-2])
    start = 0.0 if index == 0 else float(LE_VALUES[index - 1])
    below = 0.0 if index == 0 else float(cumulative[index - 1])
    count = float(cumulative[index]) - below
    return start + (float(LE_VALUES[index]) - start) * (rank - below) / count


def bucket_fractions(p50: float, p99: float) -> FloatArray:
    """Cumulative share of requests at each `le` for a log-normal latency with these quantiles.

    The two bounds around p99 are then nudged (least change) so that Prometheus' linear
    interpolation inside that bucket returns exactly p99.
    """
    sigma = math.log(p99 / p50) / _Z99
    finite = np.array(sc.LATENCY_BUCKETS)
    cdf = np.append(_phi((np.log(finite) - math.log(p50)) / sigma), 1.0)
    i = int(np.searchsorted(finite, p99, side="left"))  # bucket (le[i-1], le[i]] holds p99
    lo = 0.0 if i == 0 else finite[i - 1]
    w = (p99 - lo) / (finite[i] - lo)
    fa = 0.0 if i == 0 else float(cdf[i - 1])
    fb = float(cdf[i])
    residual = 0.99 - ((1 - w) * fa + w * fb)
    norm = (1 - w) ** 2 + w**2
    if i == 0:
        fb = 0.99 / w
    else:
        fa += residual * (1 - w) / norm
        fb += residual * w / norm
        # Keep the upper bound a proper fraction; the lower one then takes up the rest, and
        # lower buckets are lowered with it if needed (only the tail shape matters here).
        fb = min(max(fb, 0.99), 0.9999)
        fa = (0.99 - w * fb) / (1 - w)
        cdf[: i - 1] = np.minimum(cdf[: i - 1], fa)
        cdf[i - 1] = fa
    cdf[i] = fb
    cdf[i + 1 :] = np.maximum(cdf[i + 1 :], fb)
    cdf[-1] = 1.0
    return np.asarray(cdf, dtype=np.float64)


def _utc_day_start(when: datetime) -> datetime:
    return datetime.combine(when.astimezone(UTC).date(), time(0), tzinfo=UTC)


def _ts(when: datetime) -> float:
    return when.timestamp()


# --------------------------------------------------------------------------------------------


class World:
    """Every series of the demo world and its value at any instant (see the module docstring)."""

    def __init__(self, anchor: Anchor) -> None:
        self.anchor = anchor
        self.seed = anchor.seed
        # Counters integrate from here: a fixed point before any possible history start, that
        # depends only on the anchor's fingerprint, so every backfill and exporter agree.
        self.epoch_day = int(_ts(_utc_day_start(anchor.at(-sc.HISTORY_DAYS - 2, "00:00")))) // DAY
        self._tz = anchor.tz
        self._d0 = anchor.incident_day.toordinal()
        self._offset_cache: dict[int, int] = {}
        self._noise_cache: OrderedDict[tuple[str, int], FloatArray] = OrderedDict()
        self._tables: OrderedDict[int, _DayTable] = OrderedDict()
        self._offsets: dict[int, FloatArray] = {}
        # The backfill generates days from several threads: tables and offsets are shared.
        self._lock = threading.RLock()
        self._build_catalogue()
        self._fractions = self._latency_regimes()
        self.calibration = self._calibrate_memory()
        self._mem_x = np.array(self.calibration.params)

    # ---------------------------------------------------------------- catalogue

    def _build_catalogue(self) -> None:
        a = self.anchor
        far_past = float((self.epoch_day - 3) * DAY)
        self.routes: list[Route] = []
        self.svcns: list[tuple[sc.ServiceSpec, str]] = []
        self.pods: list[Pod] = []
        self.builds: list[tuple[str, str, str, float, float]] = []
        for spec in sc.SERVICES:
            for ns in sc.NAMESPACES:
                self.svcns.append((spec, ns))
                n = len(spec.routes)
                for j, route in enumerate(spec.routes):
                    weight = 0.5 if j == 0 else 0.5 / (n - 1)
                    if n == 1:
                        weight = 1.0
                    method = "POST" if route in _POST_ROUTES else "GET"
                    ok = "201" if route in _CREATED_ROUTES else "200"
                    self.routes.append(Route(spec.name, ns, route, method, ok, weight))
                deploys = sorted(
                    (d for d in sc.DEPLOYS if d.service == spec.name and d.namespace == ns),
                    key=lambda d: a.at(d.day, d.at),
                )
                version = sc.version_at(spec.name, ns, a.at(-sc.HISTORY_DAYS - 5, "00:00"), a)
                periods: list[tuple[str, float]] = [(version, far_past)]
                for d in deploys:
                    periods.append((d.version, _ts(a.at(d.day, d.at))))
                count = spec.prod_pods if ns == "prod" else spec.staging_pods
                for k, (ver, start) in enumerate(periods):
                    end = periods[k + 1][1] if k + 1 < len(periods) else math.inf
                    self.builds.append((spec.name, ns, ver, start, end))
                    for name in sc.pod_names(spec.name, ns, ver, count):
                        h = _hash32(name)
                        restarts = self._restarts_for(spec.name, ns, start, end, name)
                        self.pods.append(
                            Pod(
                                spec.name,
                                ns,
                                name,
                                ver,
                                start,
                                end,
                                f"10.42.{h % 250 + 1}.{(h >> 8) % 250 + 2}",
                                f"node-{(h >> 16) % NODES + 1}",
                                restarts,
                            )
                        )
        self._route_k = [
            self.svcns.index((sc.service(r.service), r.namespace)) for r in self.routes
        ]
        self._build_series()

    def _restarts_for(
        self, service: str, ns: str, start: float, end: float, pod: str
    ) -> tuple[float, ...]:
        out = []
        for inc in sc.PAST_INCIDENTS:
            if inc.signal != "restarts" or inc.service != service or ns != "prod":
                continue
            t0 = _ts(self.anchor.at(inc.day, inc.at))
            if start <= t0 < end:
                # Pods are OOMKilled a few minutes apart, one restart each.
                stagger = (_hash32(pod) % 5) * MINUTE
                out.append(t0 + stagger)
        return tuple(out)

    def _build_series(self) -> None:  # noqa: PLR0912, PLR0915 - a flat list of families
        series: list[Series] = []
        labels: tuple[tuple[str, str], ...]
        kinds: list[str] = []  # "g" (gauge table) or "c" (counter table)
        rows: list[int] = []
        g_rows = 0
        c_rows = 0

        def add(s: Series, table: str) -> None:
            nonlocal g_rows, c_rows
            series.append(s)
            kinds.append(table)
            if table == "g":
                rows.append(g_rows)
                g_rows += 1
            else:
                rows.append(c_rows)
                c_rows += 1

        inf = math.inf
        h_help = "HTTP request latency."
        self._hist_rows: list[int] = []
        for r in self.routes:
            base = (
                ("instance", f"{r.service}.{r.namespace}.svc:{POD_PORT}"),
                ("job", r.service),
                ("namespace", r.namespace),
                ("route", r.route),
                ("service", r.service),
            )
            self._hist_rows.append(c_rows)
            for le in LE_LABELS:
                labels = (*base[:2], ("le", le), *base[2:])
                add(
                    Series(
                        "http_request_duration_seconds_bucket",
                        "http_request_duration_seconds",
                        "histogram",
                        labels,
                        -inf,
                        inf,
                        True,
                        h_help,
                    ),
                    "c",
                )
            add(
                Series(
                    "http_request_duration_seconds_sum",
                    "http_request_duration_seconds",
                    "histogram",
                    base,
                    -inf,
                    inf,
                    False,
                    h_help,
                ),
                "c",
            )
            add(
                Series(
                    "http_request_duration_seconds_count",
                    "http_request_duration_seconds",
                    "histogram",
                    base,
                    -inf,
                    inf,
                    True,
                    h_help,
                ),
                "c",
            )
        self._req_rows: list[int] = []
        for r in self.routes:
            self._req_rows.append(c_rows)
            for code in CODES:
                value = r.ok_code if code == "ok" else code
                labels = (
                    ("code", value),
                    ("instance", f"{r.service}.{r.namespace}.svc:{POD_PORT}"),
                    ("job", r.service),
                    ("method", r.method),
                    ("namespace", r.namespace),
                    ("route", r.route),
                    ("service", r.service),
                )
                add(
                    Series(
                        "http_requests_total",
                        "http_requests",
                        "counter",
                        labels,
                        -inf,
                        inf,
                        True,
                        "HTTP requests by status code.",
                    ),
                    "c",
                )

        def kubelet(p: Pod) -> tuple[tuple[str, str], ...]:
            return (
                ("container", p.service),
                ("instance", p.node),
                ("job", "kubelet"),
                ("namespace", p.namespace),
                ("pod", p.name),
            )

        def ksm(p: Pod) -> tuple[tuple[str, str], ...]:
            return (
                ("container", p.service),
                ("instance", "kube-state-metrics.monitoring.svc:8080"),
                ("job", "kube-state-metrics"),
                ("namespace", p.namespace),
                ("pod", p.name),
            )

        self._mem_rows = []
        for p in self.pods:
            self._mem_rows.append(g_rows)
            add(
                Series(
                    "container_memory_working_set_bytes",
                    "container_memory_working_set_bytes",
                    "gauge",
                    kubelet(p),
                    p.start,
                    p.end,
                    True,
                    "Current working set of the container in bytes.",
                ),
                "g",
            )
        self._cpu_rows = []
        for p in self.pods:
            self._cpu_rows.append(c_rows)
            add(
                Series(
                    "container_cpu_usage_seconds_total",
                    "container_cpu_usage_seconds",
                    "counter",
                    kubelet(p),
                    p.start,
                    p.end,
                    False,
                    "Cumulative cpu time consumed in seconds.",
                ),
                "c",
            )
        self._limit_rows = []
        for p in self.pods:
            self._limit_rows.append(g_rows)
            add(
                Series(
                    "container_spec_memory_limit_bytes",
                    "container_spec_memory_limit_bytes",
                    "gauge",
                    kubelet(p),
                    p.start,
                    p.end,
                    True,
                    "Memory limit for the container.",
                ),
                "g",
            )
        self._restart_rows = []
        for p in self.pods:
            self._restart_rows.append(g_rows)
            add(
                Series(
                    "kube_pod_container_status_restarts_total",
                    "kube_pod_container_status_restarts",
                    "counter",
                    ksm(p),
                    p.start,
                    p.end,
                    True,
                    "The number of container restarts per container.",
                ),
                "g",
            )
        self._one_rows = []
        for p in self.pods:
            labels = (
                ("instance", "kube-state-metrics.monitoring.svc:8080"),
                ("job", "kube-state-metrics"),
                ("label_app", p.service),
                ("namespace", p.namespace),
                ("pod", p.name),
            )
            self._one_rows.append(g_rows)
            add(
                Series(
                    "kube_pod_labels",
                    "kube_pod_labels",
                    "gauge",
                    labels,
                    p.start,
                    p.end,
                    True,
                    "Kubernetes labels converted to Prometheus labels.",
                ),
                "g",
            )
        self._pool_rows = []
        self._pool_max_rows = []
        for p in self.pods:
            spec = sc.service(p.service)
            if spec.db_pool_max is None:
                continue
            labels = _pool_labels(p, spec)
            self._pool_rows.append((g_rows, self.pods.index(p)))
            add(
                Series(
                    "db_pool_connections_in_use",
                    "db_pool_connections_in_use",
                    "gauge",
                    labels,
                    p.start,
                    p.end,
                    True,
                    "Connections checked out of the pool.",
                ),
                "g",
            )
        for p in self.pods:
            spec = sc.service(p.service)
            if spec.db_pool_max is None:
                continue
            labels = _pool_labels(p, spec)
            self._pool_max_rows.append((g_rows, spec.db_pool_max))
            add(
                Series(
                    "db_pool_connections_max",
                    "db_pool_connections_max",
                    "gauge",
                    labels,
                    p.start,
                    p.end,
                    True,
                    "Maximum size of the connection pool.",
                ),
                "g",
            )
        for p in self.pods:
            labels = (
                ("instance", f"{p.ip}:{POD_PORT}"),
                ("job", p.service),
                ("namespace", p.namespace),
                ("pod", p.name),
                ("service", p.service),
            )
            self._one_rows.append(g_rows)
            add(
                Series(
                    "up",
                    "up",
                    "gauge",
                    labels,
                    p.start,
                    p.end,
                    True,
                    "1 if the target was scraped successfully.",
                ),
                "g",
            )
        for svc, ns, ver, start, end in self.builds:
            labels = (
                ("instance", f"{svc}.{ns}.svc:{POD_PORT}"),
                ("job", svc),
                ("namespace", ns),
                ("service", svc),
                ("version", ver),
            )
            self._one_rows.append(g_rows)
            add(
                Series(
                    "app_build_info",
                    "app_build_info",
                    "gauge",
                    labels,
                    start,
                    end,
                    True,
                    "Version of the running build.",
                ),
                "g",
            )

        self.series = series
        self._kind = np.array([k == "c" for k in kinds])
        self._row = np.array(rows, dtype=np.int64)
        self._n_gauges = g_rows
        self._n_counters = c_rows
        self._start = np.array([s.start for s in series])
        self._end = np.array([s.end for s in series])
        self._integer = np.array([s.integer for s in series])

    # ---------------------------------------------------------------- time features

    def _utc_offsets(self, times: IntArray) -> IntArray:
        hours = times // 3600
        uniq, inverse = np.unique(hours, return_inverse=True)
        offs = np.array([self._offset_for_hour(int(h)) for h in uniq], dtype=np.int64)
        return np.asarray(offs[inverse], dtype=np.int64)

    def _offset_for_hour(self, hour: int) -> int:
        cached = self._offset_cache.get(hour)
        if cached is None:
            moment = datetime.fromtimestamp(hour * 3600, tz=UTC).astimezone(self._tz)
            delta = moment.utcoffset() or timedelta(0)
            cached = int(delta.total_seconds())
            self._offset_cache[hour] = cached
        return cached

    def _local(self, times: IntArray) -> tuple[FloatArray, IntArray, IntArray]:
        """Local hour of day (float), weekday (Monday 0) and day relative to D."""
        local = times + self._utc_offsets(times)
        days = local // DAY
        hour = (local - days * DAY) / 3600.0
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
        rel = days - (self._d0 - datetime(1970, 1, 1).toordinal())
        return np.asarray(hour, dtype=np.float64), weekday, rel

    @staticmethod
    def _season(hour: FloatArray, weekday: IntArray) -> FloatArray:
        # Afternoon peak (~15:00 local), trough before dawn, quieter weekends.
        phase = 2 * np.pi * (hour - 15.0) / 24.0
        daily = 1.0 + 0.55 * np.cos(phase) + 0.12 * np.cos(2 * phase)
        weekly = np.where(weekday >= 5, 0.7, 1.0)
        return np.asarray(daily * weekly, dtype=np.float64)

    def _noise(self, key: str, day: int) -> FloatArray:
        """Standard normals for the 1440 minutes of UTC day `day` of series `key`."""
        cache_key = (key, day)
        cached = self._noise_cache.get(cache_key)
        if cached is not None:
            return cached
        rng = np.random.default_rng([self.seed & 0xFFFFFFFF, _hash32(key), day])
        values = rng.standard_normal(MINUTES_PER_DAY)
        self._noise_cache[cache_key] = values
        if len(self._noise_cache) > 4096:
            self._noise_cache.popitem(last=False)
        return values

    def _noise_at(self, key: str, times: IntArray) -> FloatArray:
        """The minute noise of `key` at each instant (any days)."""
        days = times // DAY
        minute = (times - days * DAY) // MINUTE
        out = np.empty(len(times))
        for d in np.unique(days):
            sel = days == d
            out[sel] = self._noise(key, int(d))[minute[sel]]
        return out

    def _window(self, times: IntArray, day: int, hhmm: str, minutes: float) -> FloatArray:
        """1 inside [local hhmm on D+day, + minutes), with 2-minute ramps at both edges."""
        t0 = _ts(self.anchor.at(day, hhmm))
        t1 = t0 + minutes * MINUTE
        up = np.clip((times - t0) / 120.0 + 0.5, 0.0, 1.0)
        down = np.clip((t1 - times) / 120.0 + 0.5, 0.0, 1.0)
        return np.asarray(np.minimum(up, down), dtype=np.float64)

    # ---------------------------------------------------------------- latency and errors

    def _latency_regimes(self) -> dict[str, FloatArray]:
        out: dict[str, FloatArray] = {}
        for spec in sc.SERVICES:
            for ns in sc.NAMESPACES:
                scale = 1.0 if ns == "prod" else 0.9
                p50, p99 = spec.p50_s * scale, spec.p99_s * scale
                key = f"{spec.name}|{ns}"
                out[key] = bucket_fractions(p50, p99)
                out[key + "|d"] = (
                    bucket_fractions(p50 * 0.95, p99 * 0.95)
                    - bucket_fractions(p50 * 1.05, p99 * 1.05)
                ) / 2
                out[key + "|slow"] = bucket_fractions(p50 * 1.6, p99 * 3.0)
        ref = sc.REFERENCE
        out["ref"] = bucket_fractions(0.14, ref.p99_s)
        out["ref|d"] = (
            bucket_fractions(0.14, ref.p99_s * 0.985) - bucket_fractions(0.14, ref.p99_s * 1.015)
        ) / 2
        out["staging-orm"] = bucket_fractions(0.07, 0.38)
        return out

    def _latency(
        self, spec: sc.ServiceSpec, ns: str, times: IntArray, day: int, season: FloatArray
    ) -> FloatArray:
        """Cumulative bucket fractions per minute, shape (n, 15)."""
        key = f"{spec.name}|{ns}"
        fr = self._fractions
        z = self._noise_at(f"lat|{key}", times)
        w = np.clip(0.4 * (season - 1.0) + 0.35 * z, -1.0, 1.0)
        f = fr[key][None, :] + w[:, None] * fr[key + "|d"][None, :]
        if ns == "prod":
            for inc in sc.PAST_INCIDENTS:
                if inc.service == spec.name and inc.signal == "latency":
                    b = self._window(times, inc.day, inc.at, inc.minutes)
                    f = f * (1 - b[:, None]) + b[:, None] * fr[key + "|slow"][None, :]
        ref = sc.REFERENCE
        if spec.name == ref.service:
            t0 = _ts(self.anchor.at(0, ref.latency_from))
            if ns == ref.namespace:
                b = np.clip((times - t0) / (3.0 * MINUTE) + 1.0 / 3.0, 0.0, 1.0)
                b = np.where(times >= t0, b, 0.0)
                inc_f = fr["ref"][None, :] + np.clip(0.4 * z, -1, 1)[:, None] * fr["ref|d"][None, :]
                f = f * (1 - b[:, None]) + b[:, None] * inc_f
            else:
                t_stg = _ts(self.anchor.at(-1, "16:00"))
                b = (times >= t_stg).astype(np.float64)
                f = f * (1 - b[:, None]) + b[:, None] * fr["staging-orm"][None, :]
        f = np.clip(np.maximum.accumulate(f, axis=1), 0.0, 1.0)
        f[:, -1] = 1.0
        return np.asarray(f, dtype=np.float64)

    def _errors(self, spec: sc.ServiceSpec, ns: str, times: IntArray, day: int) -> FloatArray:
        """Share of each of CODES per minute, shape (n, 5)."""
        key = f"{spec.name}|{ns}"
        z = self._noise_at(f"err|{key}", times)
        z4 = self._noise_at(f"404|{key}", times)
        base = spec.error_ratio * np.exp(0.25 * z)
        e500, e503, e504 = 0.5 * base, 0.3 * base, 0.2 * base
        if ns == "prod":
            for inc in sc.PAST_INCIDENTS:
                if inc.service == spec.name and inc.signal == "errors":
                    b = self._window(times, inc.day, inc.at, inc.minutes) * 0.06
                    e500, e503, e504 = e500 + 0.4 * b, e503 + 0.4 * b, e504 + 0.2 * b
            ref = sc.REFERENCE
            if spec.name == ref.service:
                b = np.where(times >= _ts(self.anchor.at(0, ref.errors_from)), 1.0, 0.0)
                extra = b * (ref.error_ratio * (1 + 0.04 * z) - base)
                e503, e504 = e503 + 0.6 * extra, e504 + 0.4 * extra
        e404 = 0.006 * (1 + 0.2 * np.clip(z4, -3, 3))
        ok = 1.0 - e404 - e500 - e503 - e504
        return np.stack([ok, e404, e500, e503, e504], axis=1)

    # ---------------------------------------------------------------- memory

    def _batch_factor(self, rel_days: IntArray) -> FloatArray:
        # The designated nights (D-7 and D) carry the weekly peaks; the others are smaller so
        # the maximum of each week is where the calibration put it. The nights at the edges of
        # the two 7-day windows (D-13, D-6, D+1) change window as the evaluation time moves
        # through the anchor's validity (D 10:00 to D+1 10:00), so they stay small: a this-week
        # sized job sliding into last week must not beat last week's peak.
        uniq, inverse = np.unique(rel_days, return_inverse=True)
        vals = np.array(
            [
                1.0
                if d in (-7, 0)
                else 0.3
                if d in (-13, -6, 1)
                else 0.55 + 0.3 * (_hash32(f"batch|{self.seed}|{d}") / 2**32)
                for d in uniq
            ]
        )
        return np.asarray(vals[inverse], dtype=np.float64)

    def _memory_basis(self, pod: Pod, times: IntArray, day: int) -> FloatArray:
        """Working set of `pod` (GB) per unit of each of PARAMS, shape (7, n)."""
        n = len(times)
        basis = np.zeros((len(PARAMS), n))
        z = self._noise_at(f"mem|{pod.name}", times)
        noise = 1.0 + 0.004 * np.clip(z, -3, 3)
        # A (re)started container warms up from 30 % of its steady working set.
        since = np.full(n, pod.start)
        for r in pod.restarts:
            since = np.where(times >= r, r, since)
        age = np.maximum(times - since, 0.0)
        warm = 0.3 + 0.7 * (1.0 - np.exp(-age / 1200.0))
        weight = _MEMORY_WEIGHTS[pod.service]
        if pod.namespace != "prod":
            basis[0] = weight * STAGING_MEMORY * warm * noise
            return basis
        basis[0] = weight * warm * noise
        if pod.service == _LEAK_SERVICE and pod.version == _LEAK_VERSION:
            basis[1] = np.maximum(times - pod.start, 0.0) / DAY * noise
        if level := _STEPS.get(pod.service, {}).get(pod.version, 0):
            basis[2 if pod.service == "ml-inference" else 3] = level * warm * noise
        if pod.service in _OTHERS:
            ref = _ts(self.anchor.at(-14, "12:00"))
            basis[4] = weight * (times - ref) / (7 * DAY) * warm * noise
        if pod.service == _BATCH_SERVICE:
            hour, _, rel = self._local(times)
            # Nightly batch-predict job: 01:00-02:00 local, a 50-minute plateau.
            on = np.clip(np.minimum(hour - 1.0, 2.0 - hour) * 12.0, 0.0, 1.0)
            on = on * self._batch_factor(rel)
            basis[5] = np.where(rel <= -7, on, 0.0)
            basis[6] = np.where(rel > -7, on, 0.0)
        return basis

    def _memory_incident(self, pod: Pod, times: IntArray) -> FloatArray:
        factor = np.ones(len(times))
        for inc in sc.PAST_INCIDENTS:
            if inc.signal == "memory" and inc.service == pod.service and pod.namespace == "prod":
                t0 = _ts(self.anchor.at(inc.day, inc.at))
                prog = np.clip((times - t0) / (inc.minutes * MINUTE), 0.0, 1.0)
                inside = (times >= t0) & (times < t0 + inc.minutes * MINUTE)
                factor = np.where(inside, 1.0 + 0.5 * prog, factor)
        return factor

    def _calibrate_memory(self) -> MemoryCalibration:
        """Solve PARAMS so that Prometheus' 7-day averages and peaks hit scenario.MEMORY."""
        a = self.anchor
        # The middle of the anchor's validity (D 10:00 to D+1 10:00): the leak makes the
        # averages drift by about +-0.7 % across it, instead of up to 2.5 % from one end.
        t_eval = int(_ts(a.at(0, "22:00")))
        grid = np.arange(t_eval - 14 * DAY, t_eval + 1, 300, dtype=np.int64)
        grid = grid[grid % 300 == 0]
        prod = [
            p
            for p in self.pods
            if p.namespace == "prod" and p.end > grid[0] and p.start <= grid[-1]
        ]
        names = sc.SERVICE_NAMES
        per_service = np.zeros((len(names), len(PARAMS), len(grid)))
        days = grid // DAY
        for d in np.unique(days):
            sel = days == d
            times = grid[sel]
            for p in prod:
                alive = (times >= p.start) & (times < p.end)
                if not alive.any():
                    continue
                basis = self._memory_basis(p, times, int(d)) * self._memory_incident(p, times)
                per_service[names.index(p.service)][:, sel] += basis * alive
        total = per_service.sum(axis=0)  # (params, grid)
        this = grid >= t_eval - 7 * DAY
        last = grid <= t_eval - 7 * DAY
        mm = sc.MEMORY
        t_pl = int(_ts(a.at(-7, "01:30")))
        t_pt = int(_ts(a.at(0, "01:30")))
        i_pl = int(np.searchsorted(grid, t_pl))
        i_pt = int(np.searchsorted(grid, t_pt))

        def increase(idx: list[int]) -> FloatArray:
            block = per_service[idx].sum(axis=0)
            return np.asarray(block[:, this].mean(axis=1) - block[:, last].mean(axis=1))

        rows = [
            total[:, last].mean(axis=1),
            total[:, this].mean(axis=1),
            increase([names.index("cache-service")]),
            increase([names.index("ml-inference")]),
            increase([names.index("api-gateway")]),
            total[:, i_pl],
            total[:, i_pt],
        ]
        matrix = np.array(rows)
        contributors = dict(mm.contributors_gb)
        goal = np.array(
            [
                mm.last_week_avg_gb,
                mm.this_week_avg_gb,
                contributors["cache-service"],
                contributors["ml-inference"],
                contributors["api-gateway"],
                mm.last_week_peak_gb,
                mm.this_week_peak_gb,
            ]
        )
        target = goal.copy()
        x = np.linalg.solve(matrix, target)
        for _ in range(4):
            series = x @ total
            # The noise of the other pods can lift a neighbouring grid point above the
            # designated one: correct the peak equations by the realised overshoot.
            target[5] -= series[last].max() - goal[5]
            target[6] -= series[this].max() - goal[6]
            x = np.linalg.solve(matrix, target)
        series = x @ total
        incs = {
            n: float((x @ per_service[i])[this].mean() - (x @ per_service[i])[last].mean())
            for i, n in enumerate(names)
        }
        return MemoryCalibration(
            params=tuple(float(v) for v in x),
            this_avg=float(series[this].mean()),
            this_peak=float(series[this].max()),
            last_avg=float(series[last].mean()),
            last_peak=float(series[last].max()),
            increases=incs,
        )

    # ---------------------------------------------------------------- per-day tables

    def _day_table(self, day: int) -> _DayTable:
        with self._lock:
            return self._day_table_locked(day)

    def _day_table_locked(self, day: int) -> _DayTable:
        cached = self._tables.get(day)
        if cached is not None:
            self._tables.move_to_end(day)
            return cached
        table = self._compute_day(day)
        self._tables[day] = table
        if len(self._tables) > 3:
            self._tables.popitem(last=False)
        return table

    def _compute_day(self, day: int) -> _DayTable:  # noqa: PLR0915 - one pass per signal
        times = day * DAY + MINUTE * np.arange(MINUTES_PER_DAY, dtype=np.int64)
        hour, weekday, _ = self._local(times)
        season = self._season(hour, weekday)
        gauges = np.zeros((self._n_gauges, MINUTES_PER_DAY))
        rates = np.zeros((self._n_counters, MINUTES_PER_DAY))
        mids = np.array(
            [
                *((np.array((0.0, *sc.LATENCY_BUCKETS[:-1])) + np.array(sc.LATENCY_BUCKETS)) / 2),
                _LAST_MID,
            ]
        )

        lat: list[FloatArray] = []
        mean: list[FloatArray] = []
        err: list[FloatArray] = []
        for spec, ns in self.svcns:
            f = self._latency(spec, ns, times, day, season)
            lat.append(f)
            mean.append(np.diff(f, axis=1, prepend=0.0) @ mids)
            err.append(self._errors(spec, ns, times, day))
        for i, r in enumerate(self.routes):
            spec = sc.service(r.service)
            k = self._route_k[i]
            scale = 1.0 if r.namespace == "prod" else STAGING_TRAFFIC
            z = self._noise(f"rps|{r.service}|{r.namespace}|{r.route}", day)
            rps = spec.prod_rps * scale * r.weight * season * (1.0 + 0.06 * np.clip(z, -3, 3))
            h0 = self._hist_rows[i]
            n_le = len(LE_VALUES)
            rates[h0 : h0 + n_le] = rps[None, :] * lat[k].T
            rates[h0 + n_le] = rps * mean[k]
            rates[h0 + n_le + 1] = rps
            q0 = self._req_rows[i]
            rates[q0 : q0 + len(CODES)] = rps[None, :] * err[k].T

        ref = sc.REFERENCE
        t_ref = _ts(self.anchor.at(0, ref.deploy_at))
        t_sat = _ts(self.anchor.at(0, ref.pool_saturated_at))
        x = self._mem_x
        for j, p in enumerate(self.pods):
            alive = (times >= p.start) & (times < p.end)
            if not alive.any():
                continue
            spec = sc.service(p.service)
            basis = self._memory_basis(p, times, day) * self._memory_incident(p, times)
            gauges[self._mem_rows[j]] = np.round((x @ basis) * sc.GB)
            gauges[self._limit_rows[j]] = spec.memory_limit_gib * sc.GIB
            gauges[self._restart_rows[j]] = (
                sum((times >= r).astype(np.float64) for r in p.restarts) if p.restarts else 0.0
            )
            zc = self._noise(f"cpu|{p.name}", day)
            cores = spec.cpu_cores_per_pod * (0.4 + 0.6 * season) * (1 + 0.08 * np.clip(zc, -3, 3))
            if p.namespace != "prod":
                cores = cores * 0.25
            if p.service == ref.service and p.namespace == ref.namespace:
                cores = np.where(times >= t_ref, cores * 1.3, cores)
            rates[self._cpu_rows[j]] = cores * alive
        for row, j in self._pool_rows:
            p = self.pods[j]
            spec = sc.service(p.service)
            pool_max = float(spec.db_pool_max or 0)
            zp = self._noise(f"pool|{p.name}", day)
            util = 0.45 * (0.5 + 0.5 * season) * (1 + 0.05 * np.clip(zp, -3, 3))
            if p.service == ref.service:
                if p.namespace == ref.namespace:
                    climb = np.clip((times - t_ref) / (t_sat - t_ref), 0.0, 1.0)
                    util = np.where(times >= t_ref, util + (1.0 - util) * climb, util)
                elif p.version == "2.14.3":
                    util = util * 1.5
            gauges[row] = np.round(np.clip(util, 0.02, 1.0) * pool_max)
        for row, pool_max in self._pool_max_rows:
            gauges[row] = pool_max
        for row in self._one_rows:
            gauges[row] = 1.0

        step = rates * MINUTE
        cum = np.cumsum(step, axis=1)
        total = cum[:, -1].copy()
        cum -= step
        return _DayTable(gauges=gauges, rates=rates, cum=cum, total=total)

    def _offset(self, day: int) -> FloatArray:
        """Integral of every counter from the world epoch to the start of UTC day `day`."""
        if day <= self.epoch_day:
            return np.zeros(self._n_counters)
        with self._lock:
            return self._offset_locked(day)

    def _offset_locked(self, day: int) -> FloatArray:
        cached = self._offsets.get(day)
        if cached is not None:
            return cached
        known = [d for d in self._offsets if d < day]
        d = max(known) if known else self.epoch_day
        acc = self._offsets.get(d, np.zeros(self._n_counters))
        while d < day:
            # Same accumulation order everywhere, so every process gets identical floats.
            acc = acc + self._day_table(d).total
            d += 1
            self._offsets[d] = acc
        return acc

    # ---------------------------------------------------------------- public

    def values(self, times: IntArray | list[int]) -> FloatArray:
        """Values of every series (rows, in `self.series` order) at instants within one UTC day.

        NaN where a series does not exist. Times are unix seconds (integers).
        """
        t = np.asarray(times, dtype=np.int64)
        days = np.unique(t // DAY)
        if len(days) != 1:
            raise ValueError("values() takes instants of a single UTC day")
        day = int(days[0])
        table = self._day_table(day)
        offset = self._offset(day)
        since = t - day * DAY
        m = since // MINUTE
        frac = (since - m * MINUTE).astype(np.float64)
        out = np.empty((len(self.series), len(t)))
        g = ~self._kind
        out[g] = table.gauges[self._row[g][:, None], m[None, :]]
        c = self._kind
        crow = self._row[c]
        out[c] = (
            offset[crow, None]
            + table.cum[crow[:, None], m[None, :]]
            + table.rates[crow[:, None], m[None, :]] * frac[None, :]
        )
        ints = self._integer & self._kind
        out[ints] = np.floor(out[ints])
        alive = (t[None, :] >= self._start[:, None]) & (t[None, :] < self._end[:, None])
        out[~alive] = np.nan
        return out

    def families(self) -> list[tuple[str, str, str, list[int]]]:
        """(family, type, help, series indices) in first-appearance order, families contiguous."""
        order: dict[str, list[int]] = {}
        meta: dict[str, tuple[str, str]] = {}
        for i, s in enumerate(self.series):
            order.setdefault(s.family, []).append(i)
            meta.setdefault(s.family, (s.kind, s.help))
        return [(f, meta[f][0], meta[f][1], idx) for f, idx in order.items()]


def utc_day(when: datetime) -> int:
    """The UTC day number (days since 1970-01-01) of an instant."""
    return int(when.timestamp()) // DAY


def _pool_labels(pod: Pod, spec: sc.ServiceSpec) -> tuple[tuple[str, str], ...]:
    """Labels of a pod's PostgreSQL pool gauges (in use and max share them)."""
    return (
        ("db", spec.db_name or ""),
        ("instance", f"{pod.ip}:{POD_PORT}"),
        ("job", pod.service),
        ("namespace", pod.namespace),
        ("pod", pod.name),
        ("pool", "postgresql"),
        ("service", pod.service),
    )
