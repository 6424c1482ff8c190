"""Benchmark: the log tools against the raw Elasticsearch client running the same requests.

Run on demand against a running devstack (`vigie devstack up`); prints figures, asserts
nothing. For each case: the tool's median wall time (`Tool.run`, validation, mapping check,
rendering included); the median of the raw `es.search`/`get_mapping` calls it makes (bodies
taken from `ToolResult.query`, so exactly the same requests); their ratio (goal <= 1.2x); the
tool's own time outside the client's transport (validation, mapping merge, masking, rendering:
the figure server noise does not blur); the tokens of `ToolResult.render()`. Tool and raw runs
alternate, each going first every other run. By default `pattern_of`'s cache is emptied
before each tool run (a first question about a window); `--warm` keeps it (follow-ups).

    .venv/bin/python bench/tools_logs.py [-n 15] [--warm]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.services import build_services  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from devstack.layout import StackLayout  # noqa: E402
from devstack.world.scenario import Anchor  # noqa: E402
from tools.base import Tool, ToolContext, ToolResult  # noqa: E402
from tools.logs import LOGS_FIELDS, LOGS_HISTOGRAM, LOGS_SEARCH, LOGS_TOP_MESSAGES  # noqa: E402
from tools.patterns import pattern_of  # noqa: E402


def raw_calls(ctx: ToolContext, result: ToolResult) -> Callable[[], None]:
    """A function replaying, with the bare client, every request `result.query` lists."""
    es = ctx.services.elasticsearch
    calls: list[Callable[[], object]] = []
    for line in result.query.splitlines():
        _method, path, *rest = line.split(" ", 2)
        index = path.strip("/").split("/")[0]
        if path.endswith("/_mapping"):
            calls.append(functools.partial(es.indices.get_mapping, index=index))
        else:
            calls.append(functools.partial(es.search, index=index, **json.loads(rest[0])))

    def replay() -> None:
        for call in calls:
            call()

    return replay


class TransportClock:
    """Time spent inside the client's transport (request, wait, response decoding)."""

    def __init__(self, ctx: ToolContext) -> None:
        transport = ctx.services.elasticsearch.transport
        inner = transport.perform_request
        self.spent = 0.0

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent += time.perf_counter() - started

        transport.perform_request = timed  # type: ignore[method-assign]


def measure(
    ctx: ToolContext,
    clock: TransportClock,
    tool: Tool[Any],
    args: dict[str, Any],
    runs: int,
    *,
    cold: bool,
) -> tuple[ToolResult, float, float, float]:
    result = tool.run(ctx, args)  # warm: mapping cache, server caches
    replay = raw_calls(ctx, result)
    replay()
    tool_s: list[float] = []
    raw_s: list[float] = []
    own_s: list[float] = []  # the tool's time outside the transport: its own overhead
    for run in range(runs):
        if cold:
            pattern_of.cache_clear()  # measure masking, not the cache of the previous run

        def tool_run() -> ToolResult:
            clock.spent = 0.0
            started = time.perf_counter()
            outcome = tool.run(ctx, args)
            tool_s.append(time.perf_counter() - started)
            own_s.append(tool_s[-1] - clock.spent)
            return outcome

        def raw_run() -> None:
            started = time.perf_counter()
            replay()
            raw_s.append(time.perf_counter() - started)

        # Alternate who goes first: noida-db answers a request right after a large one
        # measurably slower, which would otherwise always penalise the same side.
        if run % 2:
            raw_run()
            result = tool_run()
        else:
            result = tool_run()
            raw_run()
    return (
        result,
        statistics.median(tool_s) * 1000,
        statistics.median(raw_s) * 1000,
        statistics.median(own_s) * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--runs", type=int, default=15)
    parser.add_argument(
        "--warm", action="store_true", help="keep pattern_of's cache between runs (follow-ups)"
    )
    options = parser.parse_args()
    settings = load_settings()
    anchor = Anchor.load(StackLayout(settings.devstack.dir).anchor_file)
    services = build_services(settings)
    ctx = ToolContext(
        services=services,
        now=lambda: datetime.now(UTC),
        token_budget=settings.tools.token_budget,
    )

    def at(hhmm: str) -> str:
        return anchor.at(0, hhmm).isoformat()

    incident = {"service": "payment-gateway", "level": "ERROR", "start": at("08:40")}
    incident_window = {**incident, "end": at("10:00")}
    cases: list[tuple[str, Tool[Any], dict[str, Any]]] = [
        ("search: incident errors, 20 lines", LOGS_SEARCH, incident_window),
        (
            "search: query_string 'connection pool'",
            LOGS_SEARCH,
            {**incident_window, "query": "connection pool"},
        ),
        ("search worst: 100 lines, 2 days, all", LOGS_SEARCH, {"size": 100, "start": "now-2d"}),
        (
            "histogram: payment-gateway by level, 2h",
            LOGS_HISTOGRAM,
            {
                "service": "payment-gateway",
                "split_by": "level",
                "start": at("08:00"),
                "end": at("10:00"),
            },
        ),
        (
            "histogram worst: 2 days by service, top 20",
            LOGS_HISTOGRAM,
            {"split_by": "service", "top": 20, "start": "now-2d"},
        ),
        ("top messages: incident errors (all lines)", LOGS_TOP_MESSAGES, incident_window),
        (
            "top messages: 3 days of errors (terms)",
            LOGS_TOP_MESSAGES,
            {**incident, "start": "now-3d"},
        ),
        (
            "top messages worst: 3 days, all (sample 5000)",
            LOGS_TOP_MESSAGES,
            {"start": "now-3d", "sample_size": 5000, "top": 50},
        ),
        ("fields: logs-*", LOGS_FIELDS, {}),
    ]
    clock = TransportClock(ctx)
    print(
        f"{'case':<48} {'tool ms':>8} {'raw ms':>8} {'ratio':>6} {'own ms':>7} {'tokens':>6}  notes"
    )
    for label, tool, args in cases:
        result, tool_ms, raw_ms, own_ms = measure(
            ctx, clock, tool, args, options.runs, cold=not options.warm
        )
        notes = result.status.value
        if isinstance(result.data, dict) and "mode" in result.data:
            notes += f", mode={result.data['mode']}"
        if result.truncated:
            notes += ", cut"
        print(
            f"{label:<48} {tool_ms:>8.1f} {raw_ms:>8.1f} {tool_ms / raw_ms:>5.2f}x "
            f"{own_ms:>7.1f} {result.tokens:>6}  {notes}"
        )
    services.close()


if __name__ == "__main__":
    main()
