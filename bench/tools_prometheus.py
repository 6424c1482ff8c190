"""Benchmark: the Prometheus tools against the raw HTTP call they make, and their text size.

Run on demand against the running devstack; prints figures, asserts nothing.

    .venv/bin/python bench/tools_prometheus.py [-n 20]

Three tables:
1. clients: the same API call through prometheus-api-client (`services.prometheus`), a
   `requests.Session` and an `httpx.Client` (the tools' transport), body decoded, median ms;
2. tools: each tool's `run()` (validation, metric-name check from a warm cache, request,
   ranking, rendering) against the raw httpx call(s) doing the same request(s); goal <= 1.2x;
3. tokens of `ToolResult.render()`, what a model reads, for a typical and a worst-case result.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import requests  # noqa: E402
from prometheus_api_client import PrometheusConnect  # noqa: E402 - a dev dependency, compared

from bot.services import build_services  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from devstack.stack import Devstack  # noqa: E402
from tools.base import Tool, ToolContext  # noqa: E402
from tools.prometheus import (  # noqa: E402
    PROMETHEUS_ALERTS,
    PROMETHEUS_INSTANT_QUERY,
    PROMETHEUS_LABEL_VALUES,
    PROMETHEUS_LIST_METRICS,
    PROMETHEUS_RANGE_QUERY,
    PROMETHEUS_RULES,
)

P99 = (
    "histogram_quantile(0.99, sum by (le, service) "
    '(rate(http_request_duration_seconds_bucket{namespace="prod"}[5m])))'
)
MANY = 'count_values("v", http_request_duration_seconds_sum)'


def median_ms(*fns: Callable[[], object], n: int) -> list[float]:
    """Median wall time of each function, in ms, calls interleaved.

    Interleaving (a b a b ...) rather than n of a then n of b keeps drift in the machine's
    load (a 2-CPU box shared with Prometheus itself) from landing on one side of a ratio.
    """
    for fn in fns:
        fn()  # warm: connection pool, metric-name cache
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(n):
        for fn, bucket in zip(fns, times, strict=True):
            started = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - started)
    return [statistics.median(bucket) * 1000 for bucket in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="repetitions per measure (median)")
    n = parser.parse_args().n

    devstack = Devstack(load_settings())
    if not devstack.all_running():
        sys.exit("the devstack is not running: `vigie devstack up` first")
    settings = devstack.client_settings()
    anchor = devstack.info().anchor
    services = build_services(settings)
    ctx = ToolContext(
        services=services,
        now=lambda: datetime.now(UTC),
        token_budget=settings.tools.token_budget,
        max_series=settings.tools.max_series,
    )
    base = str(settings.prometheus.url).rstrip("/")
    timeout = settings.prometheus.timeout_s
    hx = httpx.Client(timeout=timeout)
    rq = requests.Session()
    api = PrometheusConnect(url=base, disable_ssl=False)

    nine = anchor.at(0, "09:00")
    seven, eleven = anchor.at(0, "07:00"), min(anchor.at(0, "11:00"), datetime.now(UTC))
    max_points = settings.tools.max_points
    many_start = anchor.at(0, "03:30")
    many_end = many_start + timedelta(minutes=max_points - 1)

    def ts(at: datetime) -> str:
        return f"{at.timestamp():.3f}"

    # (label, tool, args, [(path, params)] of the raw calls doing the same work)
    cases: list[tuple[str, Tool[Any], dict[str, Any], list[tuple[str, dict[str, Any]]]]] = [
        (
            "instant P99 by service (typical)",
            PROMETHEUS_INSTANT_QUERY,
            {"query": P99, "time": nine.isoformat()},
            [("/api/v1/query", {"query": P99, "time": ts(nine)})],
        ),
        (
            "instant all series (worst)",
            PROMETHEUS_INSTANT_QUERY,
            {"query": '{__name__=~".+"}'},
            [("/api/v1/query", {"query": '{__name__=~".+"}'})],
        ),
        (
            "range P99 07:00-11:00 (typical)",
            PROMETHEUS_RANGE_QUERY,
            {"query": P99, "start": seven.isoformat(), "end": eleven.isoformat()},
            [
                (
                    "/api/v1/query_range",
                    {"query": P99, "start": ts(seven), "end": ts(eleven), "step": "60"},
                )
            ],
        ),
        (
            "range count_values ~14k series (worst)",
            PROMETHEUS_RANGE_QUERY,
            {
                "query": MANY,
                "start": many_start.isoformat(),
                "end": many_end.isoformat(),
                "step": "1m",
            },
            [
                (
                    "/api/v1/query_range",
                    {"query": MANY, "start": ts(many_start), "end": ts(many_end), "step": "60"},
                )
            ],
        ),
        (
            "list_metrics 'http' (typical)",
            PROMETHEUS_LIST_METRICS,
            {"pattern": "http"},
            [("/api/v1/metadata", {})],
        ),
        (
            "list_metrics all, limit 1000 (worst)",
            PROMETHEUS_LIST_METRICS,
            {"pattern": "", "limit": 1000},
            [("/api/v1/metadata", {})],
        ),
        (
            "label_values service (typical)",
            PROMETHEUS_LABEL_VALUES,
            {"label": "service"},
            [("/api/v1/label/service/values", {})],
        ),
        (
            "label_values instance (worst)",
            PROMETHEUS_LABEL_VALUES,
            {"label": "instance", "limit": 2000},
            [("/api/v1/label/instance/values", {})],
        ),
        (
            "alerts firing (typical)",
            PROMETHEUS_ALERTS,
            {"state": "firing"},
            [("/api/v1/alerts", {})],
        ),
        ("alerts all (worst)", PROMETHEUS_ALERTS, {}, [("/api/v1/alerts", {})]),
        (
            "rules 'latency' (typical)",
            PROMETHEUS_RULES,
            {"name": "latency"},
            [("/api/v1/rules", {})],
        ),
        ("rules all (worst)", PROMETHEUS_RULES, {}, [("/api/v1/rules", {})]),
    ]

    print(f"Prometheus {base}, median of {n} runs, token budget {ctx.token_budget}\n")
    print("1. clients (same call, body decoded), ms")
    print(f"{'call':42} {'api-client':>10} {'requests':>10} {'httpx':>10}")
    for label, _tool, _args, calls in cases[:4]:
        path, params = calls[0]
        if path == "/api/v1/query":

            def via_api(p: dict[str, Any] = params) -> object:
                extra = {k: v for k, v in p.items() if k != "query"}
                return api.custom_query(p["query"], params=extra)

        else:

            def via_api(p: dict[str, Any] = params) -> object:
                return api.custom_query_range(
                    p["query"],
                    datetime.fromtimestamp(float(p["start"]), UTC),
                    datetime.fromtimestamp(float(p["end"]), UTC),
                    p["step"],
                )

        url = base + path
        a, r, h = median_ms(
            via_api,
            functools.partial(
                lambda u, p: rq.get(u, params=p, timeout=timeout).json(), url, params
            ),
            functools.partial(lambda u, p: hx.get(u, params=p).json(), url, params),
            n=n,
        )
        print(f"{label:42} {a:10.1f} {r:10.1f} {h:10.1f}")

    print("\n2. tools vs the raw httpx call(s), ms (goal: ratio <= 1.2)")
    print(f"{'tool call':42} {'tool':>8} {'raw':>8} {'ratio':>6} {'tokens':>7} {'status':>8}")
    for label, tool, args, calls in cases:
        result = tool.run(ctx, args)

        def raw(c: list[tuple[str, dict[str, Any]]] = calls) -> None:
            for path, params in c:
                hx.get(base + path, params=params).json()

        t, r = median_ms(functools.partial(tool.run, ctx, args), raw, n=n)
        print(
            f"{label:42} {t:8.1f} {r:8.1f} {t / r:6.2f} {result.tokens:7d} {result.status.value:>8}"
        )
    hx.close()
    rq.close()
    services.close()


if __name__ == "__main__":
    main()
