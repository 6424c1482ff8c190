"""The demo world as seen through Prometheus' HTTP API: the acceptance queries of the metrics world.

Uses the session fixture `stack` (tests/conftest.py): a running devstack whose Prometheus holds
the backfilled history and scrapes the live exporter.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from devstack.layout import StackInfo
from devstack.world import scenario as sc
from devstack.world.scenario import Anchor

pytestmark = pytest.mark.integration

P99_BY_SERVICE = (
    "histogram_quantile(0.99, sum by (le, service) "
    '(rate(http_request_duration_seconds_bucket{namespace="prod"}[5m])))'
)
PROD_MEMORY = 'sum(container_memory_working_set_bytes{namespace="prod"})'


def instant(prometheus_url: str, query: str, when: datetime) -> list[dict[str, Any]]:
    """Result vector of an instant query evaluated at `when`."""
    response = requests.get(
        f"{prometheus_url}/api/v1/query",
        params={"query": query, "time": f"{when.timestamp():.3f}"},
        timeout=60,
    )
    response.raise_for_status()
    body = response.json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def by_label(result: list[dict[str, Any]], label: str) -> dict[str, float]:
    return {r["metric"].get(label, ""): float(r["value"][1]) for r in result}


def scalar(prometheus_url: str, query: str, when: datetime) -> float:
    result = instant(prometheus_url, query, when)
    assert len(result) == 1, (query, result)
    return float(result[0]["value"][1])


def past(anchor: Anchor, hhmm: str, day: int = 0) -> datetime:
    when = anchor.at(day, hhmm)
    if when > datetime.now(UTC):
        pytest.skip(f"D {hhmm} is still in the future")
    return when


# ---------------------------------------------------------------------------- checks
# Plain functions (prometheus_url, anchor) so they can also be run against a throwaway server.


def check_p99_ranking(prometheus_url: str, anchor: Anchor) -> dict[str, float]:
    at_nine = by_label(instant(prometheus_url, P99_BY_SERVICE, anchor.at(0, "09:00")), "service")
    ranking = sorted(at_nine, key=lambda s: -at_nine[s])
    assert ranking[0] == "payment-gateway", at_nine
    assert 0.80 <= at_nine["payment-gateway"] <= 0.90, at_nine
    others = [v for s, v in at_nine.items() if s != "payment-gateway"]
    assert max(others) < 0.8, at_nine
    assert abs(at_nine["ml-inference"] - 0.52) < 0.06, at_nine
    at_eight = by_label(instant(prometheus_url, P99_BY_SERVICE, anchor.at(0, "08:00")), "service")
    assert max(at_eight, key=lambda s: at_eight[s]) != "payment-gateway", at_eight
    assert abs(at_eight["payment-gateway"] - 0.23) < 0.04, at_eight
    return at_nine


def check_memory(prometheus_url: str, anchor: Anchor, when: datetime) -> dict[str, float]:
    mm = sc.MEMORY
    figures = {
        "this_avg": scalar(prometheus_url, f"avg_over_time({PROD_MEMORY}[7d:5m])", when),
        "this_peak": scalar(prometheus_url, f"max_over_time({PROD_MEMORY}[7d:5m])", when),
        "last_avg": scalar(prometheus_url, f"avg_over_time({PROD_MEMORY}[7d:5m] offset 7d)", when),
        "last_peak": scalar(prometheus_url, f"max_over_time({PROD_MEMORY}[7d:5m] offset 7d)", when),
    }
    figures = {k: v / sc.GB for k, v in figures.items()}
    targets = {
        "this_avg": mm.this_week_avg_gb,
        "this_peak": mm.this_week_peak_gb,
        "last_avg": mm.last_week_avg_gb,
        "last_peak": mm.last_week_peak_gb,
    }
    for key, target in targets.items():
        assert abs(figures[key] - target) <= 0.03 * target, (key, figures)
    per = 'sum by (container) (container_memory_working_set_bytes{namespace="prod"})'
    this = by_label(instant(prometheus_url, f"avg_over_time({per}[7d:5m])", when), "container")
    last = by_label(
        instant(prometheus_url, f"avg_over_time({per}[7d:5m] offset 7d)", when), "container"
    )
    increases = {c: (this[c] - last.get(c, 0.0)) / sc.GB for c in this}
    for service, target in mm.contributors_gb:
        assert abs(increases[service] - target) <= 1.0, (service, increases)
    rest = sum(v for c, v in increases.items() if c not in dict(mm.contributors_gb))
    assert 0.5 <= rest <= 4.0, increases
    top3 = sorted(increases, key=lambda c: -increases[c])[:3]
    assert set(top3) == {s for s, _ in mm.contributors_gb}, increases
    return {**figures, **{f"inc_{k}": v for k, v in increases.items()}}


def check_db_pool(prometheus_url: str, anchor: Anchor) -> None:
    sel = '{service="payment-gateway",namespace="prod"}'
    in_use = instant(prometheus_url, f"db_pool_connections_in_use{sel}", anchor.at(0, "08:45"))
    pool_max = instant(prometheus_url, f"db_pool_connections_max{sel}", anchor.at(0, "08:45"))
    assert len(in_use) == len(pool_max) == sc.service("payment-gateway").prod_pods
    assert {float(r["value"][1]) for r in in_use} == {50.0}
    assert {float(r["value"][1]) for r in pool_max} == {50.0}
    before = instant(prometheus_url, f"db_pool_connections_in_use{sel}", anchor.at(0, "08:20"))
    assert before
    assert all(float(r["value"][1]) < 35 for r in before), before


def check_versions(prometheus_url: str, anchor: Anchor) -> None:
    sel = 'app_build_info{service="payment-gateway",namespace="prod"}'
    before = instant(prometheus_url, sel, anchor.at(0, "08:25"))
    after = instant(prometheus_url, sel, anchor.at(0, "08:35"))
    assert [r["metric"]["version"] for r in before] == ["2.14.2"]
    assert [r["metric"]["version"] for r in after] == ["2.14.3"]


def check_error_ratio(prometheus_url: str, anchor: Anchor) -> float:
    query = (
        'sum(rate(http_requests_total{service="payment-gateway",namespace="prod",'
        'code=~"5.."}[5m])) / sum(rate(http_requests_total{service="payment-gateway",'
        'namespace="prod"}[5m]))'
    )
    ratio = scalar(prometheus_url, query, anchor.at(0, "09:00"))
    assert 0.03 <= ratio <= 0.05, ratio
    assert scalar(prometheus_url, query, anchor.at(0, "08:20")) < 0.01
    return ratio


def check_no_cgroup_series(prometheus_url: str, anchor: Anchor) -> None:
    query = 'count(container_memory_working_set_bytes{container=~"|POD"})'
    assert instant(prometheus_url, query, anchor.at(0, "09:00")) == []


def check_live_continuity(prometheus_url: str) -> None:
    """The scraped counters continue the backfill: no reset in the last hour."""
    now = datetime.now(UTC)
    query = 'sum(resets(http_requests_total{namespace="prod"}[1h]))'
    assert scalar(prometheus_url, query, now) == 0
    count = scalar(prometheus_url, 'count(up{job="payment-gateway",namespace="prod"})', now)
    assert count == sc.service("payment-gateway").prod_pods


def wait_for_alert(alertmanager_url: str, service: str, deadline: float) -> dict[str, Any]:
    """Poll Alertmanager until a firing alert for `service` arrives."""
    seen: list[str] = []
    while True:
        response = requests.get(f"{alertmanager_url}/api/v2/alerts", timeout=10)
        response.raise_for_status()
        for alert in response.json():
            labels = alert["labels"]
            seen.append(labels.get("alertname", "?"))
            if labels.get("service") == service and alert["status"]["state"] == "active":
                return dict(alert)
        if time.monotonic() > deadline:
            pytest.fail(f"no alert for {service} in Alertmanager (saw {sorted(set(seen))})")
        time.sleep(3)


def prometheus_started(prometheus_url: str) -> float:
    response = requests.get(f"{prometheus_url}/api/v1/status/runtimeinfo", timeout=10)
    response.raise_for_status()
    started = datetime.fromisoformat(response.json()["data"]["startTime"].replace("Z", "+00:00"))
    return started.timestamp()


# ---------------------------------------------------------------------------- tests


def test_payment_gateway_tops_p99_after_the_deploy(stack: StackInfo) -> None:
    past(stack.anchor, "09:00")
    check_p99_ranking(stack.prometheus_url, stack.anchor)


@pytest.mark.parametrize("hhmm", ["09:00", "12:00", "23:00"])
def test_prod_memory_week_over_week(stack: StackInfo, hhmm: str) -> None:
    check_memory(stack.prometheus_url, stack.anchor, past(stack.anchor, hhmm))


def test_db_pool_saturates(stack: StackInfo) -> None:
    past(stack.anchor, "08:45")
    check_db_pool(stack.prometheus_url, stack.anchor)


def test_deploy_is_a_version_change(stack: StackInfo) -> None:
    past(stack.anchor, "08:35")
    check_versions(stack.prometheus_url, stack.anchor)


def test_error_ratio_after_pool_saturation(stack: StackInfo) -> None:
    past(stack.anchor, "09:00")
    check_error_ratio(stack.prometheus_url, stack.anchor)


def test_only_real_containers(stack: StackInfo) -> None:
    check_no_cgroup_series(stack.prometheus_url, stack.anchor)


def test_live_scrapes_continue_the_history(stack: StackInfo) -> None:
    check_live_continuity(stack.prometheus_url)


def test_payment_gateway_alert_reaches_alertmanager(stack: StackInfo) -> None:
    # The fastest payment-gateway rule (5xx ratio) has `for: 1m`; `for` only counts from
    # Prometheus' start, so allow 90 s beyond the slowest relevant rule (5m) after start-up.
    started = prometheus_started(stack.prometheus_url)
    wait = max(90.0, started + 5 * 60 + 90 - time.time())
    alert = wait_for_alert(stack.alertmanager_url, "payment-gateway", time.monotonic() + wait)
    assert alert["labels"]["severity"] in {"critical", "warning"}
    assert alert["labels"]["namespace"] == "prod"
    assert alert["annotations"]["summary"]
