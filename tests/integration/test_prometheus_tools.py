"""The Prometheus tools against the devstack's real Prometheus, and against failing ones.

Expected figures come from the demo world's facts (`devstack.world.scenario.REFERENCE`), not
from the tools' output. Failure cases use their own endpoints (a closed port, a socket that
never answers, a tiny fake server for warnings and proxy errors), so the shared devstack is
only read.
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from pydantic import HttpUrl

from bot.settings import Settings
from devstack.layout import StackInfo
from devstack.process import free_port
from devstack.world.scenario import REFERENCE
from tools.base import Status, ToolContext, ToolResult
from tools.prometheus import (
    PROMETHEUS_ALERTS,
    PROMETHEUS_INSTANT_QUERY,
    PROMETHEUS_LABEL_VALUES,
    PROMETHEUS_LIST_METRICS,
    PROMETHEUS_RANGE_QUERY,
    PROMETHEUS_RULES,
    TOOLS,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

P99_BY_SERVICE = (
    "histogram_quantile(0.99, sum by (le, service) "
    '(rate(http_request_duration_seconds_bucket{namespace="prod"}[5m])))'
)


def past(stack: StackInfo, hhmm: str) -> datetime:
    when = stack.anchor.at(0, hhmm)
    if when > datetime.now(UTC):
        pytest.skip(f"D {hhmm} is still in the future")
    return when


def context_at(ctx: Any, settings: Settings, url: str, timeout_s: float) -> ToolContext:
    """`ctx` with Prometheus at `url`: same clients otherwise, nothing new to close."""
    assert isinstance(ctx, ToolContext)
    prometheus = settings.prometheus.model_copy(
        update={"url": HttpUrl(url), "timeout_s": timeout_s}
    )
    services = dataclasses.replace(
        ctx.services, settings=settings.model_copy(update={"prometheus": prometheus})
    )
    return dataclasses.replace(ctx, services=services)


def check_budget(result: ToolResult, ctx: ToolContext) -> None:
    assert result.tokens <= ctx.token_budget, (result.tokens, result.render())


# ---------------------------------------------------------------------------- the incident


def test_tools_are_declared_read_only_with_descriptions() -> None:
    names = [t.name for t in TOOLS]
    assert names == [
        "prometheus_instant_query",
        "prometheus_range_query",
        "prometheus_list_metrics",
        "prometheus_label_values",
        "prometheus_alerts",
        "prometheus_rules",
    ]
    for tool in TOOLS:
        assert tool.risk.value == "read"
        assert "Use it when:" in tool.description
        assert "Example:" in tool.description
        assert tool.json_schema()["type"] == "object"


def test_p99_ranking_puts_payment_gateway_first(tool_ctx: ToolContext, stack: StackInfo) -> None:
    at_nine = past(stack, "09:00")
    result = PROMETHEUS_INSTANT_QUERY.run(
        tool_ctx, {"query": P99_BY_SERVICE, "time": at_nine.isoformat()}
    )
    assert result.status is Status.OK, result.render()
    series = result.data["series"]
    assert series[0]["metric"] == {"service": "payment-gateway"}
    value = series[0]["stats"]["value"]
    assert abs(value - REFERENCE.p99_s) < 0.05
    assert [s["stats"]["value"] for s in series] == sorted(
        (s["stats"]["value"] for s in series), reverse=True
    )
    first_row = result.text.splitlines()[1]
    assert first_row == f'{{service="payment-gateway"}} {value * 1000:.4g} ms'
    local = at_nine.astimezone(tool_ctx.tz).strftime("%Y-%m-%d %H:%M %Z")  # 09:00 CET/CEST
    assert result.text.splitlines()[0] == (
        f"instant vector at {local}: 10 series, ranked by value (highest first)"
    )
    assert result.time_range is not None
    assert result.time_range.start == at_nine
    check_budget(result, tool_ctx)


def test_range_over_the_incident_shows_the_plateau_after_the_deploy(
    tool_ctx: ToolContext, stack: StackInfo
) -> None:
    start = stack.anchor.at(0, "07:00")
    end = min(stack.anchor.at(0, "11:00"), datetime.now(UTC))
    past(stack, REFERENCE.deploy_at)
    result = PROMETHEUS_RANGE_QUERY.run(
        tool_ctx, {"query": P99_BY_SERVICE, "start": start.isoformat(), "end": end.isoformat()}
    )
    assert result.status is Status.OK, result.render()
    top = result.data["series"][0]
    assert top["metric"] == {"service": "payment-gateway"}
    assert abs(top["stats"]["max"] - REFERENCE.p99_s) < 0.05
    assert top["stats"]["max_at"] > stack.anchor.at(0, REFERENCE.deploy_at).timestamp()
    assert len(top["points"]) == top["stats"]["points"] > 10
    max_points = tool_ctx.services.settings.tools.max_points
    assert len(top["points"]) <= max_points
    assert result.data["ranked_by"] == "max"
    row = next(line for line in result.text.splitlines() if "payment-gateway" in line)
    match = re.search(r"max (\d+(?:\.\d+)?) ms at (\d\d):(\d\d) (CES?T)", row)
    assert match is not None, row
    assert (int(match.group(2)), int(match.group(3))) > (8, 30)
    assert "ranked by max (highest first)" in result.text
    check_budget(result, tool_ctx)


def test_explicit_step_too_fine_is_raised_with_a_warning(tool_ctx: ToolContext) -> None:
    result = PROMETHEUS_RANGE_QUERY.run(
        tool_ctx, {"query": "sum(up)", "start": "now-1d", "end": "now", "step": "15s"}
    )
    assert result.status is Status.OK, result.render()
    assert any("raised to" in w for w in result.warnings)
    assert result.data["step_s"] > 15
    assert len(result.data["series"][0]["points"]) <= tool_ctx.services.settings.tools.max_points


# ---------------------------------------------------------------------------- checked locally


def test_bad_promql_is_reported_with_a_position_and_never_sent(
    tool_ctx: ToolContext, stack_settings: Settings
) -> None:
    # Prometheus "at" a closed port: any request would fail with connection refused.
    offline = context_at(tool_ctx, stack_settings, f"http://127.0.0.1:{free_port()}", 1.0)
    query = 'sum(rate(http_requests_total{code=~"5.."}[5m])'
    for ctx in (tool_ctx, offline):
        result = PROMETHEUS_INSTANT_QUERY.run(ctx, {"query": query})
        assert result.status is Status.ERROR
        assert result.error is not None
        assert result.error.splitlines()[0] == ("invalid PromQL: 1:4: unclosed left parenthesis")
        assert result.error.splitlines()[2] == "     ^"
        assert "refused" not in result.error
        assert result.query == query


def test_unknown_metric_names_the_closest_ones(tool_ctx: ToolContext) -> None:
    result = PROMETHEUS_INSTANT_QUERY.run(
        tool_ctx, {"query": "sum(rate(http_request_duration_second_bucket[5m]))"}
    )
    assert result.status is Status.ERROR
    assert result.error is not None
    assert "unknown metric 'http_request_duration_second_bucket'" in result.error
    assert "closest existing names: http_request_duration_seconds_bucket" in result.error
    assert "not sent" in result.error


def test_absent_of_a_missing_metric_is_a_valid_question(tool_ctx: ToolContext) -> None:
    result = PROMETHEUS_INSTANT_QUERY.run(tool_ctx, {"query": "absent(no_such_metric_here)"})
    assert result.status is Status.OK, result.render()
    assert result.data["series"][0]["stats"]["value"] == 1


# ---------------------------------------------------------------------------- failing backends


def test_unreachable_prometheus_is_connection_refused_within_the_timeout(
    tool_ctx: ToolContext, stack_settings: Settings
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    offline = context_at(tool_ctx, stack_settings, url, 1.0)
    started = time.monotonic()
    result = PROMETHEUS_INSTANT_QUERY.run(offline, {"query": "up"})
    assert time.monotonic() - started < 1.0
    assert result.status is Status.ERROR
    assert result.error == f"connection refused to {url}"
    for tool, args in (
        (PROMETHEUS_LIST_METRICS, {}),
        (PROMETHEUS_LABEL_VALUES, {"label": "service"}),
        (PROMETHEUS_ALERTS, {}),
        (PROMETHEUS_RULES, {}),
    ):
        assert tool.run(offline, args).error == f"connection refused to {url}"


def test_silent_prometheus_times_out(tool_ctx: ToolContext, stack_settings: Settings) -> None:
    # Listening but never accepting: the TCP handshake completes, no answer ever comes.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        silent = context_at(tool_ctx, stack_settings, url, 0.5)
        started = time.monotonic()
        result = PROMETHEUS_ALERTS.run(silent, {})
        elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 2.0
    assert result.status is Status.ERROR
    assert result.error is not None
    assert result.error.startswith("Prometheus did not answer within 0.5 s")


def test_server_error_carries_the_servers_text(tool_ctx: ToolContext) -> None:
    # The right-hand side has several pods per namespace: Prometheus refuses at execution.
    query = "http_request_duration_seconds_bucket * on(namespace) group_left(pod) kube_pod_labels"
    result = PROMETHEUS_INSTANT_QUERY.run(tool_ctx, {"query": query})
    assert result.status is Status.ERROR
    assert result.error is not None
    assert result.error.startswith("Prometheus rejected the request (HTTP 422, execution): ")
    assert "many-to-many matching not allowed" in result.error
    assert result.query == query


class _FakePrometheus(BaseHTTPRequestHandler):
    """Answers like a Prometheus behind Thanos (warnings) or behind a broken proxy (502)."""

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query).get("query", [""])[0]
        if url.path == "/api/v1/label/__name__/values":
            self._send(200, {"status": "success", "data": ["up"]})
        elif "502" in query:
            self._send(502, None, b"<html><body>502 Bad Gateway</body></html>")
        else:
            self._send(
                200,
                {
                    "status": "success",
                    "warnings": ["partial response: store 10.0.0.7:10901 unavailable"],
                    "data": {
                        "resultType": "vector",
                        "result": [{"metric": {"job": "a"}, "value": [1.0, "1"]}],
                    },
                },
            )

    def _send(self, code: int, body: Any, raw: bytes | None = None) -> None:
        payload = raw if raw is not None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: no stderr noise
        pass


@pytest.fixture
def fake_prometheus() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakePrometheus)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_warnings_of_a_partial_answer_are_reported(
    tool_ctx: ToolContext, stack_settings: Settings, fake_prometheus: str
) -> None:
    ctx = context_at(tool_ctx, stack_settings, fake_prometheus, 2.0)
    result = PROMETHEUS_INSTANT_QUERY.run(ctx, {"query": "up"})
    assert result.status is Status.OK, result.render()
    assert result.warnings == ("Prometheus: partial response: store 10.0.0.7:10901 unavailable",)
    assert "the result may be partial" in result.text
    assert "warning: Prometheus: partial response" in result.render()


def test_proxy_error_without_api_body_is_reported(
    tool_ctx: ToolContext, stack_settings: Settings, fake_prometheus: str
) -> None:
    ctx = context_at(tool_ctx, stack_settings, fake_prometheus, 2.0)
    result = PROMETHEUS_INSTANT_QUERY.run(ctx, {"query": 'up{x="502"}'})
    assert result.status is Status.ERROR
    assert result.error is not None
    assert "HTTP 502" in result.error
    assert "502 Bad Gateway" in result.error


# ---------------------------------------------------------------------------- big and odd results


def test_ten_thousand_series_stay_within_the_budget(
    tool_ctx: ToolContext, stack: StackInfo
) -> None:
    # count_values makes one series per distinct value per step: 48 histogram sums that
    # change every minute give 48 new series a step.
    max_points = tool_ctx.services.settings.tools.max_points
    start = stack.anchor.at(0, "03:30")
    end = start + timedelta(minutes=max_points - 1)
    result = PROMETHEUS_RANGE_QUERY.run(
        tool_ctx,
        {
            "query": 'count_values("v", http_request_duration_seconds_sum)',
            "start": start.isoformat(),
            "end": end.isoformat(),
            "step": "1m",
        },
    )
    assert result.status is Status.OK, result.render()
    total = result.data["total_series"]
    assert total >= 10_000
    shown = tool_ctx.max_series
    assert len(result.data["series"]) == shown
    assert f"{shown} of {total} series shown" in result.text
    assert result.warnings == ()
    check_budget(result, tool_ctx)

    tight = dataclasses.replace(tool_ctx, token_budget=300, max_series=200)
    cut = PROMETHEUS_RANGE_QUERY.run(
        tight,
        {"query": P99_BY_SERVICE.replace("service", "route"), "start": "now-2h"},
    )
    assert cut.status is Status.OK, cut.render()
    assert cut.truncated
    assert re.search(r"\(cut to fit \d+ tokens: \d+ of \d+ series shown\)", cut.text)
    check_budget(cut, tight)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("0/0", "scalar at .*: NaN\nnote: 1 value is NaN"),
        ("1/0", r"scalar at .*: \+Inf\nnote: 1 value is \+Inf"),
        ("-1/0", "scalar at .*: -Inf\nnote: 1 value is -Inf"),
        ('sum by (namespace) (up{namespace!=""}) / 0 * 0', "note: 2 values are NaN"),
        ('sum by (namespace) (up{namespace!=""}) / 0', r'{namespace="prod"} \+Inf'),
    ],
)
def test_nan_and_infinities_are_reported(tool_ctx: ToolContext, query: str, expected: str) -> None:
    result = PROMETHEUS_INSTANT_QUERY.run(tool_ctx, {"query": query})
    assert result.status is Status.OK, result.render()
    assert re.search(expected, result.text), result.text


def test_empty_result_is_no_data_with_a_hint(tool_ctx: ToolContext) -> None:
    query = 'http_requests_total{service="no-such-service"}'
    for tool, args in (
        (PROMETHEUS_INSTANT_QUERY, {"query": query}),
        (PROMETHEUS_RANGE_QUERY, {"query": query, "start": "now-30m"}),
    ):
        result = tool.run(tool_ctx, args)
        assert result.status is Status.NO_DATA, result.render()
        assert "no series matched" in result.text
        assert "label values" in result.text
        assert result.data["series"] == []


def test_shared_labels_are_said_once(tool_ctx: ToolContext) -> None:
    result = PROMETHEUS_INSTANT_QUERY.run(
        tool_ctx, {"query": 'container_memory_working_set_bytes{namespace="prod"}'}
    )
    assert result.status is Status.OK, result.render()
    assert "metric: container_memory_working_set_bytes" in result.text
    assert "labels shared by all" in result.text
    rows = result.text.splitlines()[3:]
    assert rows
    assert all("namespace=" not in row and "__name__" not in row for row in rows)
    assert all(row.endswith(" GB") or row.endswith(" MB") for row in rows)


# ---------------------------------------------------------------------------- discovery


def test_list_metrics_by_substring_and_regex(tool_ctx: ToolContext) -> None:
    result = PROMETHEUS_LIST_METRICS.run(tool_ctx, {"pattern": "DURATION"})
    assert result.status is Status.OK, result.render()
    names = [m["name"] for m in result.data]
    assert "http_request_duration_seconds_bucket" in names
    bucket = next(m for m in result.data if m["name"] == "http_request_duration_seconds_bucket")
    assert bucket["type"] == "histogram"
    assert bucket["help"] == "HTTP request latency."

    regex = PROMETHEUS_LIST_METRICS.run(tool_ctx, {"pattern": "^http_.*_total$", "regex": True})
    assert [m["name"] for m in regex.data] == ["http_requests_total"]
    assert regex.data[0]["type"] == "counter"

    limited = PROMETHEUS_LIST_METRICS.run(tool_ctx, {"pattern": "", "limit": 3})
    assert len(limited.data) == 3
    assert re.search(r"3 of \d+ matching names shown", limited.text)

    bad = PROMETHEUS_LIST_METRICS.run(tool_ctx, {"pattern": "(", "regex": True})
    assert bad.status is Status.ERROR
    none = PROMETHEUS_LIST_METRICS.run(tool_ctx, {"pattern": "zzz_nothing"})
    assert none.status is Status.NO_DATA


def test_label_values_with_selector_limit_and_typos(tool_ctx: ToolContext) -> None:
    result = PROMETHEUS_LABEL_VALUES.run(
        tool_ctx, {"label": "service", "selector": 'http_requests_total{namespace="prod"}'}
    )
    assert result.status is Status.OK, result.render()
    assert result.data["total"] == 10
    assert "payment-gateway" in result.data["values"]
    assert "label 'service': 10 values" in result.text

    limited = PROMETHEUS_LABEL_VALUES.run(
        tool_ctx, {"label": "service", "limit": 3, "start": "now-1h"}
    )
    assert "3 of 10 values shown" in limited.text
    assert limited.time_range is not None

    typo = PROMETHEUS_LABEL_VALUES.run(tool_ctx, {"label": "servce"})
    assert typo.status is Status.NO_DATA
    assert "closest label names: service" in typo.text

    not_selector = PROMETHEUS_LABEL_VALUES.run(
        tool_ctx, {"label": "service", "selector": "rate(http_requests_total[5m])"}
    )
    assert not_selector.status is Status.ERROR
    assert "series selector" in (not_selector.error or "")

    broken = PROMETHEUS_LABEL_VALUES.run(tool_ctx, {"label": "service", "selector": "up{"})
    assert broken.status is Status.ERROR
    assert "1:4" in (broken.error or "")


def test_alerts_list_state_labels_and_since(tool_ctx: ToolContext) -> None:
    result = PROMETHEUS_ALERTS.run(tool_ctx, {})
    assert result.status is Status.OK, result.render()
    alerts = result.data["alerts"]
    states = [a["state"] for a in alerts]
    assert states == sorted(states, key=lambda s: s != "firing")
    for alert, row in zip(alerts, result.text.splitlines()[1:], strict=False):
        assert row.startswith(f"{alert['state']} {alert['labels']['alertname']} ")
        assert re.search(r"since \d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? CES?T", row)

    firing = PROMETHEUS_ALERTS.run(tool_ctx, {"state": "firing"})
    assert all(a["state"] == "firing" for a in firing.data["alerts"])
    nothing = PROMETHEUS_ALERTS.run(tool_ctx, {"name": "NoSuchAlertName"})
    assert nothing.status is Status.OK
    assert nothing.text.startswith("no alerts matching 'NoSuchAlertName'")


def test_rules_with_expression_for_and_health(tool_ctx: ToolContext) -> None:
    result = PROMETHEUS_RULES.run(tool_ctx, {"type": "alert", "name": "latency"})
    assert result.status is Status.OK, result.render()
    names = {r["name"] for r in result.data["rules"]}
    assert names == {"PaymentGatewayHighLatencyP99", "ServiceHighLatencyP99"}
    assert "[http] alert PaymentGatewayHighLatencyP99 (for 5m, health ok" in result.text
    assert "expr: histogram_quantile(0.99," in result.text

    everything = PROMETHEUS_RULES.run(tool_ctx, {})
    assert everything.data["total"] >= 7
    assert "0 unhealthy" in everything.text
    recording = PROMETHEUS_RULES.run(tool_ctx, {"type": "record"})
    assert recording.status is Status.NO_DATA
