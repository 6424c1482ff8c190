"""The signal catalog without a server: discovery from recorded answers, rendering, overrides.

Snapshots below are what `/api/v1/label/__name__/values`, `/api/v1/metadata` and
`/api/v1/labels?match[]=...` answer on servers of three naming conventions (the devstack's
Prometheus client style, OpenTelemetry's exporter, Istio). `CatalogService` is exercised over
`httpx.MockTransport` serving the same answers.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import promql_parser
import pytest
import yaml

from bot.services import build_services
from bot.settings import Settings
from tools.base import Status, ToolContext
from tools.catalog import (
    TOOLS,
    Catalog,
    CatalogService,
    CatalogUnavailableError,
    MetricMeta,
    OverridesError,
    RenderError,
    ServerSnapshot,
    SignalName,
    SignalUnavailableError,
    candidate_metrics,
    escape,
    load_overrides,
    parse_overrides,
    resolve_signal,
)

REPO = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------------------------ recordings

DEVSTACK: dict[str, Any] = {
    "metadata": {
        "http_request_duration_seconds": {"type": "histogram", "unit": ""},
        "http_requests_total": {"type": "counter", "unit": ""},
        "container_memory_working_set_bytes": {"type": "gauge", "unit": ""},
        "up": {"type": "gauge", "unit": ""},
    },
    "labels": {
        "http_request_duration_seconds_bucket": [
            "instance",
            "job",
            "le",
            "method",
            "namespace",
            "route",
            "service",
        ],
        "http_request_duration_seconds_count": [
            "instance",
            "job",
            "method",
            "namespace",
            "route",
            "service",
        ],
        "http_requests_total": [
            "code",
            "instance",
            "job",
            "method",
            "namespace",
            "route",
            "service",
        ],
        "container_cpu_usage_seconds_total": ["container", "instance", "job", "namespace", "pod"],
        "container_memory_working_set_bytes": ["container", "instance", "job", "namespace", "pod"],
        "container_spec_memory_limit_bytes": ["container", "instance", "job", "namespace", "pod"],
        "kube_pod_container_status_restarts_total": [
            "container",
            "instance",
            "job",
            "namespace",
            "pod",
        ],
        "kube_pod_labels": ["instance", "job", "label_app", "namespace", "pod"],
        "db_pool_connections_in_use": [
            "db",
            "instance",
            "job",
            "namespace",
            "pod",
            "pool",
            "service",
        ],
        "db_pool_connections_max": ["db", "instance", "job", "namespace", "pod", "pool", "service"],
        "up": ["instance", "job", "namespace", "pod", "service"],
        "app_build_info": ["instance", "job", "namespace", "service", "version"],
        "prometheus_build_info": ["branch", "goversion", "instance", "job", "revision", "version"],
    },
    "extra_names": [
        "http_request_duration_seconds_sum",
        "scrape_duration_seconds",
        "prometheus_http_requests_total",
    ],
}
OTEL: dict[str, Any] = {
    "metadata": {
        "http_server_request_duration_seconds": {"type": "histogram", "unit": "s"},
    },
    "labels": {
        "http_server_request_duration_seconds_bucket": [
            "http_request_method",
            "http_response_status_code",
            "http_route",
            "job",
            "k8s_namespace_name",
            "le",
            "service_name",
        ],
        "http_server_request_duration_seconds_count": [
            "http_request_method",
            "http_response_status_code",
            "http_route",
            "job",
            "k8s_namespace_name",
            "service_name",
        ],
        "db_client_connections_usage": ["k8s_namespace_name", "pool_name", "service_name", "state"],
        "db_client_connections_max": ["k8s_namespace_name", "pool_name", "service_name"],
        "target_info": ["job", "service_name", "service_version", "k8s_namespace_name"],
    },
    "extra_names": ["http_server_request_duration_seconds_sum"],
}
ISTIO: dict[str, Any] = {
    "metadata": {},
    "labels": {
        "istio_request_duration_milliseconds_bucket": [
            "destination_service_name", "destination_workload", "destination_workload_namespace",
            "le", "namespace", "reporter", "response_code", "source_workload",
        ],
        "istio_request_duration_milliseconds_count": [
            "destination_service_name", "destination_workload", "destination_workload_namespace",
            "namespace", "reporter", "response_code", "source_workload",
        ],
        "istio_requests_total": [
            "destination_service_name", "destination_workload", "destination_workload_namespace",
            "namespace", "reporter", "response_code", "source_workload",
        ],
    },
    "extra_names": ["istio_request_duration_milliseconds_sum"],
}  # fmt: skip


def snapshot(recording: dict[str, Any], *, with_labels: bool = True) -> ServerSnapshot:
    names = frozenset([*recording["labels"], *recording["extra_names"]])
    metadata = {k: MetricMeta(v["type"], "", v["unit"]) for k, v in recording["metadata"].items()}
    labels = {k: frozenset(v) for k, v in recording["labels"].items()} if with_labels else {}
    return ServerSnapshot(names, metadata, labels)


def catalog_of(recording: dict[str, Any], overrides: str = "") -> Catalog:
    return Catalog.from_snapshot(snapshot(recording), parse_overrides(yaml.safe_load(overrides)))


def selectors(promql: str) -> list[tuple[str, dict[str, tuple[str, str]]]]:
    """(metric, {label: (op, value)}) of every vector selector, from promql_parser's AST."""
    found: list[tuple[str, dict[str, tuple[str, str]]]] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = {m.name: (str(m.op), m.value) for m in node.matchers.matchers}
            found.append((str(node.name), matchers))

    promql_parser.walk(promql_parser.parse(promql), visit)
    return found


# ------------------------------------------------------------------------------- discovery


def test_devstack_convention() -> None:
    cat = catalog_of(DEVSTACK)
    b = cat.bindings
    assert not cat.missing
    assert (b[SignalName.LATENCY].metric, b[SignalName.LATENCY].scale) == (
        "http_request_duration_seconds",
        1.0,
    )
    assert b[SignalName.THROUGHPUT].metric == "http_requests_total"
    assert b[SignalName.ERROR_RATIO].status_label == "code"
    for signal in (SignalName.LATENCY, SignalName.ERROR_RATIO, SignalName.POOL_SATURATION):
        assert (b[signal].service_label, b[signal].namespace_label) == ("service", "namespace")
    # cAdvisor / kube-state-metrics: `job` is the exporter there; the container is the service.
    for signal in (SignalName.CPU, SignalName.MEMORY, SignalName.RESTARTS):
        assert b[signal].service_label == "container", signal
    assert b[SignalName.MEMORY].matchers == ('container!~"|POD"',)
    assert b[SignalName.POOL_SATURATION].max_metric == "db_pool_connections_max"
    assert (b[SignalName.DEPLOYS].metric, b[SignalName.DEPLOYS].version_label) == (
        "app_build_info",
        "version",
    )
    assert b[SignalName.AVAILABILITY].metric == "up"


def test_opentelemetry_convention() -> None:
    cat = catalog_of(OTEL)
    b = cat.bindings
    latency = b[SignalName.LATENCY]
    assert (latency.metric, latency.service_label, latency.namespace_label) == (
        "http_server_request_duration_seconds",
        "service_name",
        "k8s_namespace_name",
    )
    # No request counter: the histogram's _count is the request rate.
    assert b[SignalName.THROUGHPUT].metric == "http_server_request_duration_seconds_count"
    assert b[SignalName.ERROR_RATIO].status_label == "http_response_status_code"
    pool = b[SignalName.POOL_SATURATION]
    assert (pool.metric, pool.max_metric, pool.matchers) == (
        "db_client_connections_usage",
        "db_client_connections_max",
        ('state="used"',),
    )
    # target_info carries service_version: deploys are version changes there.
    assert b[SignalName.DEPLOYS].version_label == "service_version"
    missing = {m.signal for m in cat.missing}
    assert missing == {
        SignalName.CPU,
        SignalName.MEMORY,
        SignalName.AVAILABILITY,
        SignalName.RESTARTS,
    }


def test_istio_convention() -> None:
    b = catalog_of(ISTIO).bindings
    latency = b[SignalName.LATENCY]
    assert (latency.metric, latency.base_unit, latency.scale, latency.unit) == (
        "istio_request_duration_milliseconds",
        "milliseconds",
        1000.0,
        "seconds",
    )
    # `namespace` is where the reporting proxy runs: the destination's namespace wins.
    assert latency.namespace_label == "destination_workload_namespace"
    assert latency.service_label == "destination_workload"
    assert 'reporter="destination"' in latency.matchers
    errors = b[SignalName.ERROR_RATIO]
    assert (errors.metric, errors.status_label) == ("istio_requests_total", "response_code")
    assert 'reporter="destination"' in b[SignalName.THROUGHPUT].matchers


def test_candidates_are_few_and_cover_the_choices() -> None:
    snap = snapshot(DEVSTACK)
    wanted = candidate_metrics(snap.names)
    assert "http_request_duration_seconds_bucket" in wanted
    assert "kube_pod_labels" in wanted
    assert not any(n.startswith(("prometheus_", "scrape_")) for n in wanted)
    assert len(wanted) <= 20


def test_unit_from_metadata_when_the_name_does_not_say() -> None:
    snap = ServerSnapshot(
        frozenset({"rpc_server_duration_bucket"}),
        {"rpc_server_duration": MetricMeta("histogram", "", "ms")},
        {"rpc_server_duration_bucket": frozenset({"le", "service"})},
    )
    latency = Catalog.from_snapshot(snap).bindings[SignalName.LATENCY]
    assert (latency.metric, latency.scale) == ("rpc_server_duration", 1000.0)


def test_unknown_unit_is_assumed_seconds_and_said() -> None:
    snap = ServerSnapshot(
        frozenset({"http_request_latency_bucket"}),
        {},
        {"http_request_latency_bucket": frozenset({"le", "app"})},
    )
    cat = Catalog.from_snapshot(snap)
    assert cat.bindings[SignalName.LATENCY].service_label == "app"
    assert any("assumed seconds" in w for w in cat.info.warnings)


def test_pod_label_join_when_series_only_name_pods() -> None:
    snap = ServerSnapshot(
        frozenset({"container_memory_working_set_bytes", "kube_pod_labels"}),
        {},
        {
            "container_memory_working_set_bytes": frozenset({"namespace", "pod", "id"}),
            "kube_pod_labels": frozenset({"namespace", "pod", "label_app"}),
        },
    )
    cat = Catalog.from_snapshot(snap)
    memory = cat.bindings[SignalName.MEMORY]
    assert memory.join is not None
    assert memory.service_key == "label_app"
    q = cat.render("memory", service="cart", namespace="prod", by=("service",))
    assert q.labels["service"] == "label_app"
    found = dict(selectors(q.promql))
    assert found["kube_pod_labels"]["label_app"] == ("MatchOp.Equal", "cart")
    assert found["container_memory_working_set_bytes"]["namespace"] == ("MatchOp.Equal", "prod")


def test_opentelemetry_kubeletstats_memory() -> None:
    """The Collector's kubeletstats receiver, through its Prometheus exporter: cAdvisor's metric
    name, but the container under `k8s_container_name` and no cgroup aggregates to exclude."""
    otel = {**OTEL, "labels": dict(OTEL["labels"])}
    otel["labels"]["container_memory_working_set_bytes"] = [
        "k8s_container_name",
        "k8s_namespace_name",
        "k8s_node_name",
        "k8s_pod_name",
    ]
    cat = catalog_of(otel)
    memory = cat.bindings[SignalName.MEMORY]
    assert (memory.metric, memory.service_label, memory.namespace_label, memory.join) == (
        "container_memory_working_set_bytes",
        "k8s_container_name",
        "k8s_namespace_name",
        None,
    )
    assert memory.matchers == ()
    q = cat.render("memory", namespace="prod", by=("service",))
    assert q.labels["service"] == "k8s_container_name"
    found = dict(selectors(q.promql))
    assert found["container_memory_working_set_bytes"] == {
        "k8s_namespace_name": ("MatchOp.Equal", "prod")
    }
    assert "by (k8s_container_name)" in q.promql.replace("by(", "by (")


def test_signal_names_and_aliases() -> None:
    assert resolve_signal("Latency") is SignalName.LATENCY
    assert resolve_signal("errors") is SignalName.ERROR_RATIO
    assert resolve_signal("error-rate") is SignalName.ERROR_RATIO
    assert resolve_signal("pool saturation") is SignalName.POOL_SATURATION
    assert resolve_signal("mood") is None
    with pytest.raises(SignalUnavailableError, match="unknown signal 'mood'"):
        catalog_of(DEVSTACK).render("mood")


def test_missing_signal_says_why() -> None:
    with pytest.raises(SignalUnavailableError, match=r"cpu is not available.*container_cpu"):
        catalog_of(ISTIO).render("cpu")


# ------------------------------------------------------------------------------- rendering


@pytest.mark.parametrize("recording", [DEVSTACK, OTEL, ISTIO], ids=["devstack", "otel", "istio"])
def test_every_rendering_parses(recording: dict[str, Any]) -> None:
    cat = catalog_of(recording)
    for signal in cat.bindings:
        for kwargs in (
            {},
            {"service": "payment-gateway", "namespace": "prod"},
            {"by": ("service",), "topk": 5, "window": "1h30m", "quantile": 0.5},
            {"by": ("service", "namespace", "pod"), "namespace": "prod"},
        ):
            q = cat.render(signal, **kwargs)
            promql_parser.parse(q.promql)
            assert q.unit
            assert q.meaning


def test_latency_example_of_the_brief() -> None:
    q = catalog_of(DEVSTACK).render(
        "latency",
        service="payment-gateway",
        namespace="prod",
        window="5m",
        quantile=0.99,
        by=("service",),
    )
    assert q.promql == (
        "histogram_quantile(0.99, sum by (le, service) (rate(http_request_duration_seconds_bucket"
        '{service="payment-gateway", namespace="prod"}[5m])))'
    )
    assert q.unit == "seconds"
    assert "P99 latency" in q.meaning
    assert q.labels == {"service": "service", "namespace": "namespace"}


def test_milliseconds_are_rendered_in_seconds() -> None:
    q = catalog_of(ISTIO).render("latency", service="cart", by=("service",))
    assert q.promql.endswith(") / 1000")
    assert q.unit == "seconds"
    assert "milliseconds" in q.meaning
    [(metric, matchers)] = selectors(q.promql)
    assert metric == "istio_request_duration_milliseconds_bucket"
    assert matchers["reporter"] == ("MatchOp.Equal", "destination")
    assert matchers["destination_workload"] == ("MatchOp.Equal", "cart")


def test_overridden_unit_scales() -> None:
    override = "signals: {latency: {metric: http_request_duration_seconds, unit: microseconds}}"
    q = catalog_of(DEVSTACK, override).render("latency")
    assert q.promql.endswith(" / 1e+06")
    kib = catalog_of(DEVSTACK, "signals: {memory: {unit: kibibytes}}").render("memory")
    assert kib.promql.endswith(" * 1024")


@pytest.mark.parametrize("value", ['a"b', "back\\slash", "new\nline", 'x"} or vector(1) #', "été"])
def test_service_values_are_escaped(value: str) -> None:
    cat = catalog_of(DEVSTACK)
    for signal in ("latency", "error_ratio", "memory", "pool_saturation"):
        q = cat.render(signal, service=value, namespace=value)
        for _, matchers in selectors(q.promql):
            for label in ("service", "container", "namespace"):
                if label in matchers:
                    assert matchers[label] == ("MatchOp.Equal", value)
    assert escape('a"b\\') == 'a\\"b\\\\'


def test_error_ratio_counts_5xx_only_and_is_zero_without_errors() -> None:
    q = catalog_of(OTEL).render("error_ratio", service="checkout")
    found = selectors(q.promql)
    statuses = [m.get("http_response_status_code") for _, m in found]
    assert ("MatchOp.Re", "5..") in statuses
    assert " or " in q.promql
    assert "* 0" in q.promql


def test_pool_saturation_matchers_on_the_numerator_only() -> None:
    q = catalog_of(OTEL).render("pool_saturation", service="payments")
    found = dict(selectors(q.promql))
    assert found["db_client_connections_usage"]["state"] == ("MatchOp.Equal", "used")
    assert "state" not in found["db_client_connections_max"]
    assert found["db_client_connections_max"]["service_name"] == ("MatchOp.Equal", "payments")


def test_deploys_group_by_service_and_version() -> None:
    q = catalog_of(DEVSTACK).render("deploys", namespace="prod", window="1h")
    assert q.promql.startswith("count by (service, version) (last_over_time(app_build_info")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": "5 minutes"}, "window must be a PromQL duration"),
        ({"window": "5m]) or vector(1"}, "window must be"),
        ({"quantile": 99}, "quantile must be between 0 and 1"),
        ({"topk": 0}, "topk must be at least 1"),
        ({"by": ("bad-label",)}, "not a label name"),
    ],
)
def test_bad_render_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(RenderError, match=message):
        catalog_of(DEVSTACK).render("latency", **kwargs)


def test_missing_label_is_an_input_error() -> None:
    snap = ServerSnapshot(
        frozenset({"http_requests_total"}), {}, {"http_requests_total": frozenset({"code"})}
    )
    cat = Catalog.from_snapshot(snap)
    assert cat.render("throughput").promql == "sum(rate(http_requests_total[5m]))"
    with pytest.raises(SignalUnavailableError, match="no service label"):
        cat.render("throughput", service="cart")
    with pytest.raises(SignalUnavailableError, match="no namespace label"):
        cat.render("throughput", by=("namespace",))


def test_describe_is_short_and_complete() -> None:
    text = catalog_of(ISTIO).describe()
    assert "istio_request_duration_milliseconds" in text
    assert "metric in milliseconds" in text
    assert "service=destination_workload" in text
    assert "unavailable: cpu" in text
    assert len(text) / 4 < 700
    one = catalog_of(ISTIO).describe("errors")
    assert one.startswith("- error_ratio [ratio]: istio_requests_total")


# ------------------------------------------------------------------------------- overrides


def test_overrides_pin_metric_labels_and_matchers() -> None:
    cat = catalog_of(
        ISTIO,
        """
signals:
  latency:
    metric: istio_request_duration_milliseconds
    service_label: destination_service_name
    matchers: ['reporter="source"']
  restarts: {disabled: true}
""",
    )
    latency = cat.bindings[SignalName.LATENCY]
    assert latency.source == "override"
    assert latency.service_label == "destination_service_name"
    assert latency.matchers == ('reporter="source"',)
    assert latency.namespace_label == "destination_workload_namespace"
    assert any(m.signal is SignalName.RESTARTS and "disabled" in m.reason for m in cat.missing)


def test_override_template() -> None:
    cat = catalog_of(
        DEVSTACK,
        "signals: {throughput: {promql: 'sum by ($by) (job:http_requests:rate5m$selector)'}}",
    )
    q = cat.render("throughput", service="cart", by=("service",))
    assert q.promql == 'sum by (service) (job:http_requests:rate5m{service="cart"})'
    assert cat.bindings[SignalName.THROUGHPUT].source == "override"


def test_pinned_metric_absent_from_the_server_is_a_warning() -> None:
    cat = catalog_of(DEVSTACK, "signals: {cpu: {metric: node_cpu_seconds_total}}")
    assert any("node_cpu_seconds_total is not on the server" in w for w in cat.info.warnings)


def test_label_candidates_come_first() -> None:
    cat = catalog_of(DEVSTACK, "labels: {service: [job]}")
    assert cat.bindings[SignalName.LATENCY].service_label == "job"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("signals: {latencyy: {metric: x}}", "signals.latencyy: unknown signal"),
        ("signals: {latency: {unit: sec}}", "signals.latency.unit: 'sec' is not one of"),
        ("signals: {cpu: {unit: seconds}}", "signals.cpu.unit: only latency and memory"),
        ("signals: {latency: {metrc: x}}", "signals.latency.metrc: unknown key"),
        ("signals: {latency: {metric: 'a b'}}", "signals.latency.metric: not a metric name"),
        ("signals: {latency: {service_label: 'a-b'}}", "signals.latency.service_label: not a"),
        ("signals: {latency: {matchers: ['a=']}}", "signals.latency.matchers.0: not a label"),
        ("signals: {memory: {promql: 'sum($nope)'}}", "signals.memory.promql: unknown placeholder"),
        ("signals: {memory: {promql: 'sum(x$selector'}}", "signals.memory.promql: not valid"),
        ("signals: {pool_saturation: {metric: x}}", "pool_saturation.max_metric: required"),
        ("labels: {service: ['not ok']}", "labels.service.0: not a label name"),
        ("- a list", "expected a mapping"),
    ],
)
def test_invalid_overrides_name_the_key(text: str, message: str) -> None:
    with pytest.raises(OverridesError) as info:
        parse_overrides(yaml.safe_load(text), source="signals.yaml")
    assert message in str(info.value)
    assert str(info.value).startswith("signals.yaml: ")


def test_shipped_file_is_pure_discovery_and_its_examples_are_valid(tmp_path: Path) -> None:
    shipped = REPO / "config" / "signals.yaml"
    assert load_overrides(shipped).empty
    assert load_overrides(tmp_path / "absent.yaml").empty
    text = shipped.read_text(encoding="utf-8")
    examples = text[text.index("# Examples") :].splitlines()[2:]
    uncommented = "\n".join(line.removeprefix("# ") for line in examples if line != "#")
    overrides = parse_overrides(yaml.safe_load(uncommented))
    assert set(overrides.signals) >= {SignalName.LATENCY, SignalName.POOL_SATURATION}
    bad = tmp_path / "bad.yaml"
    bad.write_text("signals: {latency: [", encoding="utf-8")
    with pytest.raises(OverridesError, match="cannot read"):
        load_overrides(bad)


# ------------------------------------------------------------------------------- service


class FakePrometheus:
    """Answers the discovery endpoints from a recording; can be made to fail."""

    def __init__(self, recording: dict[str, Any]) -> None:
        self.recording = recording
        self.failing = False
        self.calls = 0
        self._lock = threading.Lock()

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.calls += 1
        if self.failing:
            return httpx.Response(503, text="service unavailable")
        rec = self.recording
        path = request.url.path
        if path == "/api/v1/label/__name__/values":
            data: Any = sorted([*rec["labels"], *rec["extra_names"]])
        elif path == "/api/v1/metadata":
            data = {k: [{**v, "help": ""}] for k, v in rec["metadata"].items()}
        elif path == "/api/v1/labels":
            metric = request.url.params["match[]"]
            data = sorted(["__name__", *rec["labels"].get(metric, [])])
        else:
            return httpx.Response(404, json={"status": "error", "error": "not found"})
        return httpx.Response(200, json={"status": "success", "data": data})


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def service_over(fake: FakePrometheus, clock: Clock, refresh_s: float = 600) -> CatalogService:
    return CatalogService(
        "http://prometheus.test:9090",
        refresh_s=refresh_s,
        transport=httpx.MockTransport(fake.handler),
        clock=clock,
    )


def test_service_caches_and_refreshes_when_stale() -> None:
    fake, clock = FakePrometheus(DEVSTACK), Clock()
    service = service_over(fake, clock)
    first = service.get()
    calls = fake.calls
    assert service.get() is first
    assert fake.calls == calls
    clock.t += 601
    second = service.get()
    assert second is not first
    assert fake.calls > calls
    assert service.status().refreshes == 2
    assert service.refresh() is not second  # forced
    service.close()


def test_failed_refresh_keeps_the_previous_catalog_and_reports() -> None:
    fake, clock = FakePrometheus(OTEL), Clock()
    service = service_over(fake, clock)
    first = service.get()
    fake.failing = True
    clock.t += 601
    assert service.get() is first
    status = service.status()
    assert status.has_catalog
    assert status.last_error is not None
    assert "HTTP 503" in status.last_error
    calls = fake.calls
    assert service.get() is first  # no retry storm: the next attempt waits
    assert fake.calls == calls
    fake.failing = False
    clock.t += 61
    assert service.get() is not first
    assert service.status().last_error is None
    service.close()


def test_first_failure_raises_a_backend_error() -> None:
    fake, clock = FakePrometheus(OTEL), Clock()
    fake.failing = True
    service = service_over(fake, clock)
    with pytest.raises(CatalogUnavailableError, match="HTTP 503"):
        service.get()
    service.close()


def test_concurrent_callers_share_one_discovery() -> None:
    fake, clock = FakePrometheus(ISTIO), Clock()
    service = service_over(fake, clock)
    results: list[Catalog] = []
    threads = [threading.Thread(target=lambda: results.append(service.get())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(c) for c in results}) == 1
    assert service.status().refreshes == 1
    service.close()


def test_invalid_overrides_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "signals.yaml"
    path.write_text("signals: {latency: {unit: sec}}", encoding="utf-8")
    service = CatalogService(
        "http://prometheus.test:9090",
        overrides_path=path,
        transport=httpx.MockTransport(FakePrometheus(DEVSTACK).handler),
    )
    with pytest.raises(CatalogUnavailableError, match=r"signals\.latency\.unit"):
        service.get()
    service.close()


# ------------------------------------------------------------------------------- the tool


@pytest.fixture
def describe_ctx() -> Any:
    services = build_services(Settings())
    catalog = CatalogService(
        "http://prometheus.test:9090",
        transport=httpx.MockTransport(FakePrometheus(ISTIO).handler),
    )
    services.catalog = catalog  # the composition root's catalog, faked at its seam
    yield ToolContext(services=services, now=lambda: datetime.now(UTC))
    catalog.close()
    services.close()


def test_catalog_describe_tool(describe_ctx: ToolContext) -> None:
    [tool] = TOOLS
    assert (tool.name, tool.backend, tool.risk.value) == ("catalog_describe", "catalog", "read")
    result = tool.run(describe_ctx, {})
    assert result.status is Status.OK
    assert "istio_requests_total" in result.text
    assert result.tokens < 700
    one = tool.run(describe_ctx, {"signal": "latency"})
    assert set(one.data["signals"]) == {"latency"}
    assert one.data["signals"]["latency"]["metric_unit"] == "milliseconds"
    bad = tool.run(describe_ctx, {"signal": "mood"})
    assert bad.status is Status.ERROR
    assert bad.error is not None
    assert "unknown signal" in bad.error
    assert tool.run(describe_ctx, {"sig": "x"}).status is Status.ERROR
