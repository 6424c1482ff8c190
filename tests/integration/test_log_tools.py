"""The log tools against the devstack's Elasticsearch-API server and the demo world's logs.

The reference incident: payment-gateway prod runs 2.14.3 from 08:30 local on day D and its
connection pool is exhausted from 08:42 (a burst of ERROR lines that lasts while the incident
is open). Failure paths use contexts pointed at a closed port or a socket that never answers.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import HttpUrl

from bot.services import build_services
from bot.settings import Settings
from devstack.layout import StackInfo
from tools.base import Status, ToolContext, ToolResult
from tools.budget import estimate_tokens
from tools.logs import LOGS_FIELDS, LOGS_HISTOGRAM, LOGS_SEARCH, LOGS_TOP_MESSAGES, TOOLS

pytestmark = pytest.mark.integration


def _needs_burst(stack: StackInfo) -> None:
    if datetime.now(UTC) < stack.anchor.at(0, "10:00"):
        pytest.skip("the 08:40-10:00 window of day D is not over yet")


def _iso(when: datetime) -> str:
    return when.isoformat()


def _ctx_at(settings: Settings, url: str, *, timeout_s: float = 2.0) -> Iterator[ToolContext]:
    es = settings.elasticsearch.model_copy(update={"url": HttpUrl(url), "timeout_s": timeout_s})
    services = build_services(settings.model_copy(update={"elasticsearch": es}))
    try:
        yield ToolContext(services=services, now=lambda: datetime.now(UTC))
    finally:
        services.close()


@pytest.fixture
def closed_port_ctx(stack_settings: Settings) -> Iterator[ToolContext]:
    """Elasticsearch expected on a port nobody listens on: any request is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield from _ctx_at(stack_settings, f"http://127.0.0.1:{port}")


@pytest.fixture
def silent_ctx(stack_settings: Settings) -> Iterator[ToolContext]:
    """A server that accepts connections and never answers; 1 s timeout."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        yield from _ctx_at(stack_settings, f"http://127.0.0.1:{port}", timeout_s=1.0)


def test_declarations() -> None:
    assert [t.name for t in TOOLS] == [
        "logs_search",
        "logs_histogram",
        "logs_top_messages",
        "logs_fields",
    ]
    for tool in TOOLS:
        assert tool.backend == "elasticsearch"
        assert tool.risk.value == "read"
        assert "Use it when:" in tool.description
        assert "Example:" in tool.description
        assert tool.json_schema()["type"] == "object"


def test_search_finds_the_pool_exhaustion_newest_first(
    tool_ctx: ToolContext, stack: StackInfo, stack_settings: Settings
) -> None:
    _needs_burst(stack)
    result = LOGS_SEARCH.run(
        tool_ctx,
        {
            "service": "payment-gateway",
            "level": "ERROR",
            "start": _iso(stack.anchor.at(0, "08:40")),
            "end": _iso(stack.anchor.at(0, "10:00")),
        },
    )
    assert result.status is Status.OK, result.render()
    rows = result.data["rows"]
    assert len(rows) == 20
    assert result.data["total"] > 500
    stamps = [row["@timestamp"] for row in rows]
    assert stamps == sorted(stamps, reverse=True)
    allowed = set(stack_settings.tools.log_fields) | {"_index"}
    for row in rows:
        assert set(row) <= allowed
        assert row["service"] == "payment-gateway"
        assert row["level"] == "ERROR"
        assert "service_version" not in row
    assert any("connection pool exhausted" in row["message"] for row in rows)
    assert f"20 of {result.data['total']:,} matching lines shown" in result.text
    assert "connection pool exhausted" in result.text
    assert '"service":"payment-gateway"' in result.query
    assert result.time_range is not None
    assert result.time_range.start == stack.anchor.at(0, "08:40")


def test_histogram_by_level_shows_the_burst_from_0842(
    tool_ctx: ToolContext, stack: StackInfo
) -> None:
    if datetime.now(UTC) < stack.anchor.at(0, "09:00"):
        pytest.skip("the 08:42 burst is not complete yet")
    result = LOGS_HISTOGRAM.run(
        tool_ctx,
        {
            "service": "payment-gateway",
            "namespace": "prod",
            "split_by": "level",
            "start": _iso(stack.anchor.at(0, "08:00")),
            "end": _iso(stack.anchor.at(0, "09:00")),
        },
    )
    assert result.status is Status.OK, result.render()
    data = result.data
    assert data["interval"] == "1m"
    assert len(data["buckets"]) == 60
    assert "ERROR" in data["keys"]
    burst_from = stack.anchor.at(0, "08:42")

    def errors(bucket: dict[str, Any]) -> int:
        return int(bucket["by"].get("ERROR", 0))

    starts = [datetime.fromisoformat(b["start"].replace("Z", "+00:00")) for b in data["buckets"]]
    before = sum(errors(b) for b, s in zip(data["buckets"], starts, strict=True) if s < burst_from)
    during = [errors(b) for b, s in zip(data["buckets"], starts, strict=True) if s >= burst_from]
    assert before <= 3
    assert sum(during) > 150
    assert min(during) > 0
    peak = datetime.fromisoformat(data["peak"]["start"].replace("Z", "+00:00"))
    assert peak >= burst_from
    assert "Peak 08:4" in result.text or "Peak 08:5" in result.text
    assert "By level: ERROR" in result.text
    assert "time total ERROR" in result.text


def test_top_messages_groups_the_burst_into_few_patterns(
    tool_ctx: ToolContext, stack: StackInfo
) -> None:
    _needs_burst(stack)
    result = LOGS_TOP_MESSAGES.run(
        tool_ctx,
        {
            "service": "payment-gateway",
            "level": "ERROR",
            "start": _iso(stack.anchor.at(0, "08:40")),
            "end": _iso(stack.anchor.at(0, "10:00")),
        },
    )
    assert result.status is Status.OK, result.render()
    data = result.data
    assert data["mode"] == "all"
    assert data["distinct_messages"] > 100  # UUIDs and durations vary...
    assert data["pattern_count"] <= 10  # ...but the lines are of a few kinds
    by_pattern = {p["pattern"]: p for p in data["patterns"]}
    pool = by_pattern["connection pool exhausted (<num>/<num> in use), waited <duration>"]
    timeout = by_pattern["timeout after <duration> waiting for a connection for payment <uuid>"]
    assert pool["count"] > 200
    assert timeout["count"] > 100
    assert pool["levels"] == {"ERROR": pool["count"]}
    first = datetime.fromisoformat(pool["first_seen"].replace("Z", "+00:00"))
    assert stack.anchor.at(0, "08:42") <= first < stack.anchor.at(0, "08:45")
    assert data["patterns"][0] is pool or data["patterns"][0] == pool
    assert "All " in result.text
    assert "lines counted" in result.text
    assert "e.g. timeout after 3000ms waiting for a connection for payment" in result.text


def test_fields_lists_the_log_fields(tool_ctx: ToolContext) -> None:
    result = LOGS_FIELDS.run(tool_ctx, {})
    assert result.status is Status.OK, result.render()
    fields = {f["name"]: f for f in result.data["fields"]}
    for name in ("service", "level", "message", "http.status", "@timestamp"):
        assert name in fields
    assert fields["http.status"]["type"] == "integer"
    assert fields["message"]["type"] == "text"
    assert fields["message"]["subfields"] == [{"name": "message.keyword", "type": "keyword"}]
    assert "message.keyword" not in fields
    assert "http.status" in result.text
    only_http = LOGS_FIELDS.run(tool_ctx, {"match": "http"})
    assert {f["name"] for f in only_http.data["fields"]} == {
        "http.method",
        "http.route",
        "http.status",
    }


def test_query_syntax_error_is_an_input_error_with_the_reason(tool_ctx: ToolContext) -> None:
    result = LOGS_SEARCH.run(tool_ctx, {"query": "message:(pool AND", "start": "now-10m"})
    assert result.status is Status.ERROR
    assert result.error is not None
    assert result.error.startswith("query syntax error: ")
    assert "Failed to parse query" in result.error
    assert "quoted phrases" in result.error  # how to fix it
    assert "query_string" in result.query


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        (LOGS_SEARCH, {"filters": {"http_status": 503}}, "close: http.status"),
        (LOGS_HISTOGRAM, {"split_by": "levle"}, "close: level"),
        (LOGS_TOP_MESSAGES, {"filters": {"servce": "cart"}}, "close: service"),
        (LOGS_HISTOGRAM, {"split_by": "message"}, "use 'message.keyword'"),
    ],
)
def test_unknown_or_unusable_field_gets_suggestions(
    tool_ctx: ToolContext, tool: Any, args: dict[str, Any], expected: str
) -> None:
    result: ToolResult = tool.run(tool_ctx, args)
    assert result.status is Status.ERROR
    assert result.error is not None
    assert expected in result.error
    assert "_search" not in result.query  # refused before searching


@pytest.mark.parametrize("index", [".security", "*", "logs-*,secrets", "logs*", "_all", "-logs-x"])
def test_disallowed_index_is_refused_without_a_request(
    closed_port_ctx: ToolContext, index: str
) -> None:
    # The closed port proves no request went out: any would have come back "refused".
    for tool in TOOLS:
        result = tool.run(closed_port_ctx, {"index": index})
        assert result.status is Status.ERROR
        assert result.error is not None
        assert "is not allowed" in result.error
        assert "refused" not in result.error
        assert result.query == ""


def test_allowed_narrower_pattern_passes_the_allowlist(closed_port_ctx: ToolContext) -> None:
    result = LOGS_FIELDS.run(closed_port_ctx, {"index": "logs-prod-*"})
    assert result.error is not None
    assert result.error.startswith("connection refused to http://127.0.0.1:")


def test_connection_refused_is_a_clear_error(closed_port_ctx: ToolContext) -> None:
    result = LOGS_SEARCH.run(closed_port_ctx, {"service": "cart"})
    assert result.status is Status.ERROR
    assert result.error is not None
    assert result.error.startswith("connection refused to http://127.0.0.1:")


def test_unresponsive_server_times_out_within_the_setting(silent_ctx: ToolContext) -> None:
    started = time.monotonic()
    result = LOGS_FIELDS.run(silent_ctx, {})
    elapsed = time.monotonic() - started
    assert result.status is Status.ERROR
    assert result.error is not None
    assert "did not answer within 1 s" in result.error
    assert elapsed < 3.0


def test_huge_search_stays_within_the_budget(
    stack_settings: Settings, tool_ctx: ToolContext
) -> None:
    small = ToolContext(services=tool_ctx.services, now=tool_ctx.now, token_budget=600)
    result = LOGS_SEARCH.run(small, {"size": 100, "start": "now-2d"})
    assert result.status is Status.OK, result.render()
    assert len(result.data["rows"]) == 100  # data stays complete...
    assert result.truncated  # ...the text is cut, and says so
    assert "(cut to fit" in result.text
    assert result.tokens <= 600
    assert estimate_tokens(result.text) < 600


def test_no_match_is_no_data_with_a_hint(tool_ctx: ToolContext) -> None:
    result = LOGS_TOP_MESSAGES.run(tool_ctx, {"service": "no-such-service", "start": "now-2h"})
    assert result.status is Status.NO_DATA
    assert "Hint:" in result.text
    assert "api-gateway" in result.text  # the services that do have lines
