"""The concepts the catalog knows, and where each is usually found on a Prometheus server.

A *signal* is a question an on-call engineer asks ("latency", "errors", "memory"); the tables
below list, per signal, the metric names and label names that common instrumentation uses
(Prometheus client libraries, OpenTelemetry's Prometheus exporter, Istio, cAdvisor,
kube-state-metrics, HikariCP, Go's database/sql). Discovery (`discovery.py`) picks, on the
server at hand, the first candidate that exists; the tables are ordered by preference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class SignalName(StrEnum):
    """The signals; their values are the names used in overrides, tools and the planner."""

    LATENCY = "latency"
    THROUGHPUT = "throughput"
    ERROR_RATIO = "error_ratio"
    CPU = "cpu"
    MEMORY = "memory"
    POOL_SATURATION = "pool_saturation"
    AVAILABILITY = "availability"
    RESTARTS = "restarts"
    DEPLOYS = "deploys"


@dataclass(frozen=True)
class SignalInfo:
    """What a signal measures, once rendered: its unit and a one-line meaning."""

    unit: str
    meaning: str


SIGNALS: Final[dict[SignalName, SignalInfo]] = {
    SignalName.LATENCY: SignalInfo("seconds", "request latency quantile"),
    SignalName.THROUGHPUT: SignalInfo("requests/s", "request rate"),
    SignalName.ERROR_RATIO: SignalInfo("ratio", "share of requests answered 5xx (0..1)"),
    SignalName.CPU: SignalInfo("cores", "CPU used, in cores"),
    SignalName.MEMORY: SignalInfo("bytes", "memory working set"),
    SignalName.POOL_SATURATION: SignalInfo("ratio", "connections in use / pool maximum (0..1)"),
    SignalName.AVAILABILITY: SignalInfo("ratio", "share of scrape targets up (0..1)"),
    SignalName.RESTARTS: SignalInfo("restarts", "container restarts"),
    SignalName.DEPLOYS: SignalInfo("versions", "versions running (a change is a deploy)"),
}

# Words people and models use for a signal; `resolve_signal` accepts these too.
ALIASES: Final[dict[str, SignalName]] = {
    "p99": SignalName.LATENCY,
    "duration": SignalName.LATENCY,
    "response_time": SignalName.LATENCY,
    "rate": SignalName.THROUGHPUT,
    "request_rate": SignalName.THROUGHPUT,
    "requests": SignalName.THROUGHPUT,
    "rps": SignalName.THROUGHPUT,
    "traffic": SignalName.THROUGHPUT,
    "errors": SignalName.ERROR_RATIO,
    "error_rate": SignalName.ERROR_RATIO,
    "5xx": SignalName.ERROR_RATIO,
    "saturation": SignalName.POOL_SATURATION,
    "pool": SignalName.POOL_SATURATION,
    "connections": SignalName.POOL_SATURATION,
    "up": SignalName.AVAILABILITY,
    "uptime": SignalName.AVAILABILITY,
    "deploy": SignalName.DEPLOYS,
    "deployments": SignalName.DEPLOYS,
    "versions": SignalName.DEPLOYS,
    "version": SignalName.DEPLOYS,
    "restart": SignalName.RESTARTS,
    "mem": SignalName.MEMORY,
    "ram": SignalName.MEMORY,
}


def resolve_signal(name: str) -> SignalName | None:
    """The signal called `name` (value or alias, any case, '-' or ' ' for '_'), else None."""
    key = re.sub(r"[\s-]+", "_", name.strip().lower())
    try:
        return SignalName(key)
    except ValueError:
        return ALIASES.get(key)


# ------------------------------------------------------------------------------------ metrics

# Histogram base names (without _bucket), by preference. The unit comes from the suffix.
LATENCY_HISTOGRAMS: Final = (
    "http_request_duration_seconds",
    "http_server_request_duration_seconds",  # OpenTelemetry semconv >= 1.23
    "http_server_duration_milliseconds",  # OpenTelemetry semconv < 1.23
    "http_server_duration_seconds",
    "http_server_requests_seconds",  # Spring Boot / Micrometer
    "istio_request_duration_milliseconds",
    "istio_request_duration_seconds",
    "http_request_duration_milliseconds",
    "request_duration_seconds",
    "nginx_ingress_controller_request_duration_seconds",
    "traefik_service_request_duration_seconds",
    "grpc_server_handling_seconds",
)
# Any other server-side request duration histogram, when none of the above exists.
LATENCY_PATTERN: Final = re.compile(
    r"^(?!.*client).*(request|http|server|rpc).*(duration|latency|handling)"
    r"(_(seconds|milliseconds|microseconds|ms))?$"
)

# Request counters, by preference; a latency histogram's _count is the fallback.
REQUEST_COUNTERS: Final = (
    "http_requests_total",
    "http_server_requests_total",
    "istio_requests_total",
    "http_server_requests_seconds_count",
    "nginx_ingress_controller_requests",
    "traefik_service_requests_total",
    "requests_total",
)
REQUEST_PATTERN: Final = re.compile(r"^(?!.*client).*(http|request).*requests?_total$")

CPU_COUNTERS: Final = ("container_cpu_usage_seconds_total", "process_cpu_seconds_total")
MEMORY_GAUGES: Final = (
    "container_memory_working_set_bytes",
    "container_memory_rss",
    "process_resident_memory_bytes",
)
RESTART_COUNTERS: Final = ("kube_pod_container_status_restarts_total",)
AVAILABILITY_GAUGES: Final = ("up",)


@dataclass(frozen=True)
class PoolPair:
    """A pool's in-use gauge (with fixed matchers, if any) and its maximum gauge."""

    in_use: str
    maximum: str
    matchers: tuple[str, ...] = ()


POOL_PAIRS: Final = (
    PoolPair("db_pool_connections_in_use", "db_pool_connections_max"),
    PoolPair("hikaricp_connections_active", "hikaricp_connections_max"),
    PoolPair("db_client_connections_usage", "db_client_connections_max", ('state="used"',)),
    PoolPair("go_sql_in_use_connections", "go_sql_max_open_connections"),
    PoolPair(
        "pgbouncer_pools_client_active_connections", "pgbouncer_config_max_client_connections"
    ),
)
# Generic pairs: <stem>_<in use suffix> with <stem>_<max suffix>, for pool/connection gauges.
POOL_IN_USE_SUFFIXES: Final = ("_in_use", "_active", "_used", "_busy")
POOL_MAX_SUFFIXES: Final = ("_max", "_limit", "_capacity")

BUILD_INFO_PATTERN: Final = re.compile(r"^[a-z0-9_:]*build_info$|^[a-z0-9_:]*_info$")
VERSION_LABELS: Final = ("version", "service_version", "app_version", "build_version")
DEPLOY_GENERATION: Final = "kube_deployment_metadata_generation"

# Prefixes of a monitoring stack's own metrics: never a service's signal.
INTERNAL_PREFIXES: Final = (
    "prometheus_",
    "promhttp_",
    "alertmanager_",
    "go_",
    "net_conntrack_",
    "scrape_",
    "grafana_",
    "thanos_",
    "cortex_",
    "loki_",
)

# ------------------------------------------------------------------------------------ labels

# Label names meaning "the service", by preference. `job` is last: it is often the scrape job.
SERVICE_LABELS: Final = (
    "service",
    "service_name",  # OpenTelemetry resource attribute service.name
    "destination_workload",  # Istio
    "destination_service_name",
    "destination_app",
    "app",
    "app_kubernetes_io_name",
    "application",
    "deployment",
    "job",
)
# For cAdvisor / kube-state-metrics series: `job` is kubelet or kube-state-metrics there, and
# `container` is the workload's container name.
WORKLOAD_SERVICE_LABELS: Final = (
    "service",
    "service_name",
    "app",
    "app_kubernetes_io_name",
    "container",
    # OpenTelemetry kubeletstats receiver, resource attribute k8s.container.name (its
    # `container.memory.working_set` is exported as `container_memory_working_set_bytes`).
    "k8s_container_name",
)
NAMESPACE_LABELS: Final = (
    "namespace",
    "kubernetes_namespace",
    "k8s_namespace_name",  # OpenTelemetry resource attribute k8s.namespace.name
    "exported_namespace",
    "kube_namespace",
    "service_namespace",
)
# A service label from a mesh's destination side goes with the namespace of the same side:
# Istio series also carry `namespace`, which is where the *scraped* proxy runs.
NAMESPACE_AFFINITY: Final[dict[str, tuple[str, ...]]] = {
    "destination_workload": ("destination_workload_namespace", "destination_service_namespace"),
    "destination_service_name": (
        "destination_service_namespace",
        "destination_workload_namespace",
    ),
    "destination_app": ("destination_workload_namespace", "destination_service_namespace"),
    "source_workload": ("source_workload_namespace",),
}
STATUS_LABELS: Final = (
    "code",
    "status_code",
    "http_response_status_code",  # OpenTelemetry semconv >= 1.23
    "http_status_code",  # OpenTelemetry semconv < 1.23
    "response_code",  # Istio
    "status",
    "http_status",
    "status_class",
)
# Pod-label info metrics, to reach a workload's name from (namespace, pod) series.
POD_LABEL_JOINS: Final = (
    ("kube_pod_labels", "label_app_kubernetes_io_name"),
    ("kube_pod_labels", "label_app"),
)
# Series that are not containers but cgroup aggregates (whole pod, pause container).
CGROUP_EXCLUSION: Final = 'container!~"|POD"'
