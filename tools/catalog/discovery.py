"""Pure discovery: from a `ServerSnapshot` (and overrides) to one `Binding` per signal.

Discovery runs in two steps so that a server with thousands of metrics costs a handful of
requests: `candidate_metrics` lists, from names and metadata alone, the few metrics whose label
names are worth fetching; `discover` then resolves each signal from the snapshot holding those
labels. Both use the same per-signal candidate functions, so they cannot disagree.

Per signal, an override's pinned metric wins; otherwise the first candidate (tables in
`signals.py`, by preference) that carries a service label, else the first candidate at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from tools.catalog import signals as sg
from tools.catalog.model import Binding, Missing, ServerSnapshot, ServiceJoin, Shape
from tools.catalog.overrides import (
    BYTE_UNITS,
    NO_OVERRIDES,
    TIME_UNITS,
    Overrides,
    SignalOverride,
)
from tools.catalog.signals import SIGNALS, SignalName

# Generic (pattern-matched) candidates beyond the known names: bounded, so a server with many
# look-alike metrics still costs few label requests.
MAX_GENERIC = 5

_TIME_SUFFIXES = (
    ("_seconds", "seconds"),
    ("_milliseconds", "milliseconds"),
    ("_ms", "milliseconds"),
    ("_microseconds", "microseconds"),
    ("_nanoseconds", "nanoseconds"),
)
_OPENMETRICS_UNITS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds"}


@dataclass(frozen=True)
class Discovery:
    """The result of `discover`: the bindings, what is missing, and warnings worth showing."""

    bindings: dict[SignalName, Binding]
    missing: tuple[Missing, ...]
    warnings: tuple[str, ...]


def _internal(name: str) -> bool:
    return name.startswith(sg.INTERNAL_PREFIXES)


def _present(names: frozenset[str], known: Iterable[str]) -> list[str]:
    return [n for n in known if n in names and not _internal(n)]


def _generic(
    names: frozenset[str], accept: Callable[[str], bool], exclude: Sequence[str]
) -> list[str]:
    found = sorted(n for n in names if n not in exclude and not _internal(n) and accept(n))
    return found[:MAX_GENERIC]


# ------------------------------------------------------------------------ candidates per signal


def _histograms(names: frozenset[str]) -> frozenset[str]:
    return frozenset(n.removesuffix("_bucket") for n in names if n.endswith("_bucket"))


def latency_candidates(names: frozenset[str], override: SignalOverride | None) -> list[str]:
    """Histogram base names, best first."""
    if override is not None and override.metric:
        return [override.metric]
    bases = _histograms(names)
    known = _present(bases, sg.LATENCY_HISTOGRAMS)
    return known + _generic(bases, lambda n: bool(sg.LATENCY_PATTERN.match(n)), known)


def request_candidates(names: frozenset[str], override: SignalOverride | None) -> list[str]:
    """Request counters, best first, then the latency histograms' `_count`."""
    if override is not None and override.metric:
        return [override.metric]
    known = _present(names, sg.REQUEST_COUNTERS)
    generic = _generic(names, lambda n: bool(sg.REQUEST_PATTERN.match(n)), known)
    counts = [f"{h}_count" for h in latency_candidates(names, None) if f"{h}_count" in names]
    return [*known, *generic, *(c for c in counts if c not in known)]


def _simple(known: Sequence[str]) -> Callable[[frozenset[str], SignalOverride | None], list[str]]:
    def candidates(names: frozenset[str], override: SignalOverride | None) -> list[str]:
        if override is not None and override.metric:
            return [override.metric]
        return _present(names, known)

    return candidates


def pool_candidates(names: frozenset[str], override: SignalOverride | None) -> list[sg.PoolPair]:
    """(in use, max) gauge pairs, known ones first, then `<stem>_in_use` / `<stem>_max` pairs."""
    if override is not None and override.metric and override.max_metric:
        return [sg.PoolPair(override.metric, override.max_metric, override.matchers)]
    pairs = [p for p in sg.POOL_PAIRS if p.in_use in names and p.maximum in names]
    known = {p.in_use for p in pairs}
    for name in sorted(names):
        if name in known or _internal(name) or not ("pool" in name or "connection" in name):
            continue
        for suffix in sg.POOL_IN_USE_SUFFIXES:
            if not name.endswith(suffix):
                continue
            stem = name.removesuffix(suffix)
            maximum = next((stem + m for m in sg.POOL_MAX_SUFFIXES if stem + m in names), None)
            if maximum is not None and len(pairs) < len(sg.POOL_PAIRS) + MAX_GENERIC:
                pairs.append(sg.PoolPair(name, maximum))
    return pairs


def deploy_candidates(names: frozenset[str], override: SignalOverride | None) -> list[str]:
    """Info metrics that may carry a version label, `*_build_info` first."""
    if override is not None and override.metric:
        return [override.metric]
    infos = [
        n
        for n in names
        if sg.BUILD_INFO_PATTERN.match(n)
        and not _internal(n)
        and not n.startswith(("kube_", "node_", "kubelet_", "container_", "process_"))
    ]
    infos.sort(key=lambda n: (n != "app_build_info", not n.endswith("build_info"), n))
    found = infos[: MAX_GENERIC * 2]
    if sg.DEPLOY_GENERATION in names:
        found.append(sg.DEPLOY_GENERATION)
    return found


_cpu = _simple(sg.CPU_COUNTERS)
_memory = _simple(sg.MEMORY_GAUGES)
_restarts = _simple(sg.RESTART_COUNTERS)
_availability = _simple(sg.AVAILABILITY_GAUGES)


def candidate_metrics(names: frozenset[str], overrides: Overrides = NO_OVERRIDES) -> list[str]:
    """Sample names whose label names discovery needs (histograms by their `_bucket`)."""
    o = overrides.for_signal
    wanted: list[str] = []
    wanted += [f"{h}_bucket" for h in latency_candidates(names, o(SignalName.LATENCY))]
    wanted += request_candidates(names, o(SignalName.THROUGHPUT))
    wanted += request_candidates(names, o(SignalName.ERROR_RATIO))
    wanted += _cpu(names, o(SignalName.CPU))
    wanted += _memory(names, o(SignalName.MEMORY))
    wanted += _restarts(names, o(SignalName.RESTARTS))
    wanted += _availability(names, o(SignalName.AVAILABILITY))
    for pair in pool_candidates(names, o(SignalName.POOL_SATURATION)):
        wanted += [pair.in_use, pair.maximum]
    wanted += deploy_candidates(names, o(SignalName.DEPLOYS))
    wanted += [metric for metric, _ in sg.POD_LABEL_JOINS if metric in names]
    return list(dict.fromkeys(wanted))


# ------------------------------------------------------------------------------- label choice


class _Resolver:
    """Discovery state for one snapshot: label choices and the warnings they produce."""

    def __init__(self, snapshot: ServerSnapshot, overrides: Overrides) -> None:
        self.snap = snapshot
        self.overrides = overrides
        self.warnings: list[str] = []

    def service_label(
        self, labels: frozenset[str], override: SignalOverride | None, workload: bool
    ) -> str | None:
        if override is not None and override.service_label:
            return override.service_label
        table = sg.WORKLOAD_SERVICE_LABELS if workload else sg.SERVICE_LABELS
        ordered: tuple[str, ...] = (*self.overrides.labels.service, *table)
        return next((name for name in ordered if name in labels), None)

    def namespace_label(
        self, labels: frozenset[str], service: str | None, override: SignalOverride | None
    ) -> str | None:
        if override is not None and override.namespace_label:
            return override.namespace_label
        affine = sg.NAMESPACE_AFFINITY.get(service or "", ())
        ordered: tuple[str, ...] = (*self.overrides.labels.namespace, *affine, *sg.NAMESPACE_LABELS)
        return next((n for n in ordered if n in labels), None)

    def status_label(self, labels: frozenset[str], override: SignalOverride | None) -> str | None:
        if override is not None and override.status_label:
            return override.status_label
        ordered = (*self.overrides.labels.status, *sg.STATUS_LABELS)
        return next((n for n in ordered if n in labels), None)

    def join(self, labels: frozenset[str], override: SignalOverride | None) -> ServiceJoin | None:
        """Reach the service through pod labels when the series only name pods."""
        if override is not None and override.service_join is not None:
            j = override.service_join
            return ServiceJoin(j.metric, j.label, j.on)
        if not {"namespace", "pod"} <= labels:
            return None
        for metric, label in sg.POD_LABEL_JOINS:
            if label in self.snap.labels_of(metric):
                return ServiceJoin(metric, label)
        return None

    def first_with_service(
        self, candidates: Sequence[str], override: SignalOverride | None
    ) -> str | None:
        """The first candidate with a service label (or join), else the first candidate."""
        for name in candidates:
            labels = self.snap.labels_of(name)
            workload = _is_workload(name)
            if self.service_label(labels, override, workload) or (
                workload and self.join(labels, override)
            ):
                return name
        return candidates[0] if candidates else None


def _is_workload(metric: str) -> bool:
    """cAdvisor / kube-state-metrics series: `job` there is the exporter, not the service."""
    return metric.startswith(("container_", "kube_"))


def _time_unit(metric: str, snapshot: ServerSnapshot, override: SignalOverride | None) -> str:
    if override is not None and override.unit:
        return override.unit
    unit = snapshot.meta_of(f"{metric}_bucket").unit or snapshot.meta_of(metric).unit
    unit = _OPENMETRICS_UNITS.get(unit, unit)
    if unit in TIME_UNITS:
        return unit
    for suffix, name in _TIME_SUFFIXES:
        if metric.endswith(suffix):
            return name
    return ""


def _fixed_matchers(
    signal: SignalName, metric: str, labels: frozenset[str], override: SignalOverride | None
) -> tuple[str, ...]:
    # An override's matchers replace the discovered ones: the team knows its series better.
    if override is not None and override.matchers:
        return override.matchers
    out: list[str] = []
    if "reporter" in labels and signal in {
        SignalName.LATENCY,
        SignalName.THROUGHPUT,
        SignalName.ERROR_RATIO,
    }:
        # Istio reports each request from both sides; counting both doubles every rate.
        out.append('reporter="destination"')
    if metric.startswith("container_") and "container" in labels:
        # cAdvisor's pod-level and pause-container cgroups would count every container twice.
        out.append(sg.CGROUP_EXCLUSION)
    return tuple(out)


def discover(snapshot: ServerSnapshot, overrides: Overrides = NO_OVERRIDES) -> Discovery:
    """Resolve every signal on `snapshot`; see the module docstring for the rules."""
    r = _Resolver(snapshot, overrides)
    names = snapshot.names
    bindings: dict[SignalName, Binding] = {}
    missing: list[Missing] = []

    def add(binding: Binding | None, signal: SignalName, reason: str) -> None:
        if binding is None:
            missing.append(Missing(signal, reason))
        else:
            bindings[signal] = binding

    for signal in SignalName:
        override = overrides.for_signal(signal)
        if override is not None and override.disabled:
            missing.append(Missing(signal, "disabled in overrides"))
            continue
        builder = _BUILDERS[signal]
        binding, reason = builder(r, names, override)
        if override is not None and override.promql:
            bindings[signal] = _template_binding(signal, override, binding)
            continue
        if binding is not None and override is not None:
            binding = _mark_override(binding, override)
            metrics = [binding.metric, binding.max_metric]
            if signal is SignalName.LATENCY:
                metrics[0] = f"{binding.metric}_bucket"
            for metric in metrics:
                if metric and metric not in names:
                    r.warnings.append(f"{signal}: pinned metric {metric} is not on the server")
        add(binding, signal, reason)
    return Discovery(bindings, tuple(missing), tuple(r.warnings))


def _mark_override(binding: Binding, override: SignalOverride) -> Binding:
    if not override.model_dump(exclude_defaults=True):
        return binding
    return dataclasses.replace(binding, source="override")


def _template_binding(
    signal: SignalName, override: SignalOverride, discovered: Binding | None
) -> Binding:
    """A template keeps the discovered labels unless pinned; "service" and "namespace" else."""
    service = override.service_label or (discovered.service_label if discovered else "service")
    namespace = override.namespace_label or (
        discovered.namespace_label if discovered else "namespace"
    )
    return Binding(
        signal=signal,
        shape=Shape.TEMPLATE,
        metric=override.metric or (discovered.metric if discovered else "(template)"),
        unit=SIGNALS[signal].unit,
        service_label=service,
        namespace_label=namespace,
        matchers=override.matchers,
        template=override.promql,
        source="override",
        labels=discovered.labels if discovered else frozenset(),
    )


# ------------------------------------------------------------------------------ per signal

_Built = tuple[Binding | None, str]


def _latency_binding(r: _Resolver, names: frozenset[str], o: SignalOverride | None) -> _Built:
    candidates = latency_candidates(names, o)
    metric = r.first_with_service([f"{c}_bucket" for c in candidates], o)
    if metric is None:
        return None, "no request duration histogram (*_duration_seconds_bucket or similar)"
    base = metric.removesuffix("_bucket")
    labels = r.snap.labels_of(metric)
    unit = _time_unit(base, r.snap, o)
    if not unit:
        r.warnings.append(f"latency: unit of {base} unknown, assumed seconds")
        unit = "seconds"
    service = r.service_label(labels, o, workload=False)
    return Binding(
        signal=SignalName.LATENCY,
        shape=Shape.HISTOGRAM_QUANTILE,
        metric=base,
        unit="seconds",
        scale=TIME_UNITS[unit],
        base_unit=unit,
        service_label=service,
        namespace_label=r.namespace_label(labels, service, o),
        matchers=_fixed_matchers(SignalName.LATENCY, base, labels, o),
        labels=labels,
    ), ""


def _throughput_binding(r: _Resolver, names: frozenset[str], o: SignalOverride | None) -> _Built:
    metric = r.first_with_service(request_candidates(names, o), o)
    if metric is None:
        return None, "no request counter (http_requests_total or a duration histogram's _count)"
    labels = r.snap.labels_of(metric)
    service = r.service_label(labels, o, workload=False)
    return Binding(
        signal=SignalName.THROUGHPUT,
        shape=Shape.RATE,
        metric=metric,
        unit=SIGNALS[SignalName.THROUGHPUT].unit,
        service_label=service,
        namespace_label=r.namespace_label(labels, service, o),
        matchers=_fixed_matchers(SignalName.THROUGHPUT, metric, labels, o),
        labels=labels,
    ), ""


def _error_binding(r: _Resolver, names: frozenset[str], o: SignalOverride | None) -> _Built:
    candidates = request_candidates(names, o)
    with_status = [c for c in candidates if r.status_label(r.snap.labels_of(c), o)]
    metric = r.first_with_service(with_status, o)
    if metric is None:
        if candidates:
            return None, f"no status code label on {', '.join(candidates[:3])}"
        return None, "no request counter with a status code label"
    labels = r.snap.labels_of(metric)
    service = r.service_label(labels, o, workload=False)
    return Binding(
        signal=SignalName.ERROR_RATIO,
        shape=Shape.ERROR_RATIO,
        metric=metric,
        unit=SIGNALS[SignalName.ERROR_RATIO].unit,
        service_label=service,
        namespace_label=r.namespace_label(labels, service, o),
        status_label=r.status_label(labels, o),
        matchers=_fixed_matchers(SignalName.ERROR_RATIO, metric, labels, o),
        labels=labels,
    ), ""


def _workload(
    signal: SignalName,
    shape: Shape,
    candidates: Callable[[frozenset[str], SignalOverride | None], list[str]],
    reason: str,
) -> Callable[[_Resolver, frozenset[str], SignalOverride | None], _Built]:
    """Builder for per-container series (cAdvisor, kube-state-metrics, process_*)."""

    def build(r: _Resolver, names: frozenset[str], o: SignalOverride | None) -> _Built:
        found = candidates(names, o)
        metric = r.first_with_service(found, o)
        if metric is None:
            return None, reason
        labels = r.snap.labels_of(metric)
        service = r.service_label(labels, o, workload=_is_workload(metric))
        join = None if service else r.join(labels, o)
        if o is not None and o.service_join is not None:
            service, join = None, r.join(labels, o)
        scale = 1.0
        if signal is SignalName.MEMORY and o is not None and o.unit:
            scale = BYTE_UNITS[o.unit]
        return Binding(
            signal=signal,
            shape=shape,
            metric=metric,
            unit=SIGNALS[signal].unit,
            scale=scale,
            service_label=service,
            namespace_label=r.namespace_label(labels, service, o),
            matchers=_fixed_matchers(signal, metric, labels, o),
            join=join,
            labels=labels,
        ), ""

    return build


def _pool_binding(r: _Resolver, names: frozenset[str], o: SignalOverride | None) -> _Built:
    pairs = pool_candidates(names, o)
    chosen = r.first_with_service([p.in_use for p in pairs], o)
    pair = next((p for p in pairs if p.in_use == chosen), None)
    if pair is None:
        return None, "no connection pool gauges (in use and max)"
    labels = r.snap.labels_of(pair.in_use)
    service = r.service_label(labels, o, workload=False)
    matchers = o.matchers if o is not None and o.matchers else pair.matchers
    return Binding(
        signal=SignalName.POOL_SATURATION,
        shape=Shape.POOL_RATIO,
        metric=pair.in_use,
        unit=SIGNALS[SignalName.POOL_SATURATION].unit,
        service_label=service,
        namespace_label=r.namespace_label(labels, service, o),
        max_metric=pair.maximum,
        matchers=matchers,
        labels=labels,
    ), ""


def _deploy_binding(r: _Resolver, names: frozenset[str], o: SignalOverride | None) -> _Built:
    for metric in deploy_candidates(names, o):
        labels = r.snap.labels_of(metric)
        if metric == sg.DEPLOY_GENERATION:
            owner = (o.service_label if o else None) or "deployment"
            return Binding(
                signal=SignalName.DEPLOYS,
                shape=Shape.GENERATION,
                metric=metric,
                unit="rollouts",
                service_label=owner if owner in labels or not labels else None,
                namespace_label=r.namespace_label(labels, owner, o),
                labels=labels,
            ), ""
        version = (o.version_label if o else None) or next(
            (v for v in sg.VERSION_LABELS if v in labels), None
        )
        service = r.service_label(labels, o, workload=False)
        pinned = o is not None and bool(o.metric)
        if version and (service or pinned):
            return Binding(
                signal=SignalName.DEPLOYS,
                shape=Shape.VERSIONS,
                metric=metric,
                unit=SIGNALS[SignalName.DEPLOYS].unit,
                service_label=service,
                namespace_label=r.namespace_label(labels, service, o),
                version_label=version,
                matchers=o.matchers if o is not None else (),
                labels=labels,
            ), ""
    return None, "no *_build_info metric with a version label, nor deployment generations"


_BUILDERS: dict[SignalName, Callable[[_Resolver, frozenset[str], SignalOverride | None], _Built]]
_BUILDERS = {
    SignalName.LATENCY: _latency_binding,
    SignalName.THROUGHPUT: _throughput_binding,
    SignalName.ERROR_RATIO: _error_binding,
    SignalName.CPU: _workload(
        SignalName.CPU, Shape.RATE, _cpu, "no CPU counter (container_cpu_usage_seconds_total)"
    ),
    SignalName.MEMORY: _workload(
        SignalName.MEMORY,
        Shape.GAUGE_SUM,
        _memory,
        "no memory gauge (container_memory_working_set_bytes)",
    ),
    SignalName.POOL_SATURATION: _pool_binding,
    SignalName.AVAILABILITY: _workload(
        SignalName.AVAILABILITY, Shape.UP_RATIO, _availability, "no `up` series"
    ),
    SignalName.RESTARTS: _workload(
        SignalName.RESTARTS,
        Shape.INCREASE,
        _restarts,
        "no restart counter (kube_pod_container_status_restarts_total)",
    ),
    SignalName.DEPLOYS: _deploy_binding,
}
