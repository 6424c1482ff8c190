"""The signal catalog on real Prometheus servers: the devstack's world, OpenTelemetry, Istio.

Discovery runs over HTTP against each server, and the PromQL it renders is evaluated there: the
figures must be the world's known ones (P99 in seconds whatever the metric's unit, 5xx share,
request rate, pool saturation).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import promql_parser
import pytest
import requests

from bot.settings import Settings
from devstack.layout import StackInfo
from tests.catalog_worlds import (  # noqa: F401 - world_server_fixture is a fixture
    ISTIO,
    MEMORY_CONTAINERS,
    OTEL,
    SERVICES,
    WorldServer,
    world_server_fixture,
)
from tools.base import Status, ToolContext
from tools.catalog import TOOLS, Catalog, CatalogService, SignalName

pytestmark = pytest.mark.integration


def instant(url: str, promql: str, when: datetime) -> dict[str, float]:
    """The vector of an instant query, keyed by the labels' values joined with '/'."""
    promql_parser.parse(promql)
    response = requests.get(
        f"{url}/api/v1/query",
        params={"query": promql, "time": f"{when.timestamp():.3f}"},
        timeout=30,
    )
    response.raise_for_status()
    body = response.json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return {"/".join(r["metric"].values()): float(r["value"][1]) for r in result}


def one(url: str, promql: str, when: datetime) -> float:
    values = instant(url, promql, when)
    assert len(values) == 1, (promql, values)
    return next(iter(values.values()))


def past(stack: StackInfo, hhmm: str) -> datetime:
    when = stack.anchor.at(0, hhmm)
    if when > datetime.now(UTC):
        pytest.skip(f"D {hhmm} is still in the future")
    return when


# ------------------------------------------------------------------------------ the devstack


@pytest.fixture(scope="module")
def devstack_catalog(stack_settings: Settings) -> Iterator[Catalog]:
    service = CatalogService.from_settings(stack_settings)
    yield service.get()
    service.close()


def test_devstack_discovery(devstack_catalog: Catalog) -> None:
    b = devstack_catalog.bindings
    assert set(b) == set(SignalName)
    assert b[SignalName.LATENCY].metric == "http_request_duration_seconds"
    assert b[SignalName.ERROR_RATIO].status_label == "code"
    assert b[SignalName.MEMORY].service_label == "container"


def test_devstack_p99_of_payment_gateway(stack: StackInfo, devstack_catalog: Catalog) -> None:
    when = past(stack, "09:00")
    q = devstack_catalog.render(
        "latency", service="payment-gateway", namespace="prod", window="5m", by=("service",)
    )
    assert 0.80 <= one(stack.prometheus_url, q.promql, when) <= 0.90
    top = devstack_catalog.render("latency", namespace="prod", by=("service",), topk=1)
    assert list(instant(stack.prometheus_url, top.promql, when)) == ["payment-gateway"]


def test_devstack_memory_of_prod(stack: StackInfo, devstack_catalog: Catalog) -> None:
    when = past(stack, "09:00")
    url = stack.prometheus_url
    total = one(url, devstack_catalog.render("memory", namespace="prod").promql, when)
    direct = one(url, 'sum(container_memory_working_set_bytes{namespace="prod"})', when)
    assert total == pytest.approx(direct)
    per = instant(
        url, devstack_catalog.render("memory", namespace="prod", by=("service",)).promql, when
    )
    assert sum(per.values()) == pytest.approx(total)
    assert {"cache-service", "ml-inference", "payment-gateway"} <= set(per)


def test_devstack_error_ratio(stack: StackInfo, devstack_catalog: Catalog) -> None:
    q = devstack_catalog.render("error_ratio", service="payment-gateway", namespace="prod")
    assert 0.03 <= one(stack.prometheus_url, q.promql, past(stack, "09:00")) <= 0.05
    assert one(stack.prometheus_url, q.promql, past(stack, "08:20")) < 0.01


def test_devstack_pool_saturation(stack: StackInfo, devstack_catalog: Catalog) -> None:
    q = devstack_catalog.render("pool_saturation", service="payment-gateway", namespace="prod")
    assert one(stack.prometheus_url, q.promql, past(stack, "08:45")) == pytest.approx(1.0)


def test_devstack_deploy_is_two_versions(stack: StackInfo, devstack_catalog: Catalog) -> None:
    q = devstack_catalog.render(
        "deploys", service="payment-gateway", namespace="prod", window="10m"
    )
    versions = instant(stack.prometheus_url, q.promql, past(stack, "08:35"))
    assert set(versions) == {"payment-gateway/2.14.2", "payment-gateway/2.14.3"}


def test_catalog_describe_on_the_devstack(tool_ctx: ToolContext) -> None:
    [tool] = TOOLS
    result = tool.run(tool_ctx, {})
    assert result.status is Status.OK, result.error
    assert "http_request_duration_seconds" in result.text
    assert result.tokens < 700


# ------------------------------------------------------------------- other naming conventions


@pytest.fixture(scope="module")
def world_catalog(world_server: WorldServer) -> Iterator[Catalog]:
    service = CatalogService(world_server.url, overrides_path=None)
    yield service.get()
    service.close()


def test_world_discovery(world_server: WorldServer, world_catalog: Catalog) -> None:
    world = world_server.world
    for signal, metric in (
        (SignalName.LATENCY, world.latency_metric),
        (SignalName.THROUGHPUT, world.request_metric),
        (SignalName.ERROR_RATIO, world.request_metric),
    ):
        b = world_catalog.bindings[signal]
        assert (b.metric, b.service_label, b.namespace_label) == (
            metric,
            world.service_label,
            world.namespace_label,
        ), signal
    assert world_catalog.bindings[SignalName.ERROR_RATIO].status_label == world.status_label


def test_world_latency_in_seconds(world_server: WorldServer, world_catalog: Catalog) -> None:
    url, at = world_server.url, world_server.at
    for s in SERVICES:
        q = world_catalog.render("latency", service=s.name, namespace=s.namespace)
        assert q.unit == "seconds"
        assert one(url, q.promql, at) == pytest.approx(s.p99_s, rel=0.015), (s, q.promql)
    ranked = world_catalog.render("latency", namespace="shop", by=("service",), topk=1)
    assert list(instant(url, ranked.promql, at)) == ["payments"]
    if world_server.world is ISTIO:
        assert "milliseconds" in q.meaning


def test_world_error_ratio_and_rate(world_server: WorldServer, world_catalog: Catalog) -> None:
    url, at = world_server.url, world_server.at
    for s in SERVICES:
        errors = world_catalog.render("error_ratio", service=s.name, namespace=s.namespace)
        assert one(url, errors.promql, at) == pytest.approx(s.error_ratio, abs=0.002), s
        # Istio reports every request twice (source and destination): counted once here.
        rate = world_catalog.render("throughput", service=s.name)
        assert one(url, rate.promql, at) == pytest.approx(s.rps, rel=0.01), s
    by_ns = world_catalog.render("throughput", by=("namespace",))
    totals = instant(url, by_ns.promql, at)
    assert set(totals) == {"shop", "web"}


def test_world_memory(world_server: WorldServer, world_catalog: Catalog) -> None:
    """kubeletstats' working set per container (OpenTelemetry world only), by namespace."""
    if world_server.world is not OTEL:
        assert not world_catalog.has("memory")
        return
    memory = world_catalog.bindings[SignalName.MEMORY]
    assert (memory.metric, memory.service_label, memory.namespace_label) == (
        "container_memory_working_set_bytes",
        "k8s_container_name",
        "k8s_namespace_name",
    )
    q = world_catalog.render("memory", namespace="prod", by=("service",))
    got = instant(world_server.url, q.promql, world_server.at)
    want = {c.name: c.this_week_gb * 1e9 for c in MEMORY_CONTAINERS if c.namespace == "prod"}
    assert got == pytest.approx(want)


def test_world_pool_saturation(world_server: WorldServer, world_catalog: Catalog) -> None:
    if world_server.world is not OTEL:
        assert not world_catalog.has("pool_saturation")
        return
    q = world_catalog.render("pool_saturation", service="payments", by=("service",))
    assert one(world_server.url, q.promql, world_server.at) == pytest.approx(0.8)
