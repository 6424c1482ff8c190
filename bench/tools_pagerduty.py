"""Benchmark: each PagerDuty tool against the raw client making the same requests; tokens.

Run on demand; prints figures, asserts nothing. Starts its own PagerDuty simulator (a free
port, a rate limit high enough never to answer 429, a temporary directory), so neither the
running devstack's state nor its rate limit is touched.

For each case, the tool runs through `Tool.run` (validation, name resolution, rendering), and
the "raw" side replays the exact calls the tool reports in `ToolResult.query` with
`client.get(...).json()` on the same `RestApiV2Client`. Runs alternate so drift hits both.
Goal: tool median <= 1.2x raw. Tokens: `ToolResult.render()` of typical calls, then of
worst cases (widest windows, highest limits, an incident with a long timeline).

    .venv/bin/python bench/tools_pagerduty.py [--runs 30]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pydantic import HttpUrl, SecretStr  # noqa: E402

from bot.services import build_services  # noqa: E402
from bot.settings import Settings  # noqa: E402
from devstack.world import scenario  # noqa: E402
from tests.pagerduty_helpers import TOKEN, paris_anchor, start_simulator  # noqa: E402
from tools.base import Tool, ToolContext, ToolResult  # noqa: E402
from tools.pagerduty import (  # noqa: E402
    PAGERDUTY_CHANGE_EVENTS,
    PAGERDUTY_GET_INCIDENT,
    PAGERDUTY_LIST_INCIDENTS,
    PAGERDUTY_LIST_SERVICES,
    PAGERDUTY_ONCALL,
)

Case = tuple[str, Tool[Any], dict[str, Any]]

TYPICAL: list[Case] = [
    ("open incidents", PAGERDUTY_LIST_INCIDENTS, {"statuses": ["open"]}),
    ("incidents of a service, 7 d", PAGERDUTY_LIST_INCIDENTS, {"services": ["cart"]}),
    ("get incident (open one)", PAGERDUTY_GET_INCIDENT, {"incident": "OPEN"}),
    ("oncall for a service", PAGERDUTY_ONCALL, {"service": "payment-gateway"}),
    (
        "oncall for a schedule, past",
        PAGERDUTY_ONCALL,
        {"schedule": "Payments primary", "at": "now-9d"},
    ),
    ("list services", PAGERDUTY_LIST_SERVICES, {}),
    ("change events of a service", PAGERDUTY_CHANGE_EVENTS, {"service": "payment-gateway"}),
]
WORST: list[Case] = [
    (
        "incidents, 6 months, limit 100",
        PAGERDUTY_LIST_INCIDENTS,
        {"since": "now-180d", "limit": 100},
    ),
    (
        "get incident with 120 notes",
        PAGERDUTY_GET_INCIDENT,
        {"incident": "OPEN", "max_entries": 100},
    ),
    ("oncall, every policy", PAGERDUTY_ONCALL, {}),
    (
        "change events, all, 15 d, limit 200",
        PAGERDUTY_CHANGE_EVENTS,
        {"since": "now-15d", "limit": 200},
    ),
    ("list services, limit 500", PAGERDUTY_LIST_SERVICES, {"limit": 500}),
]


def raw(client: Any, query: str) -> list[Any]:
    """The calls a tool reported, replayed with the client's plain `get`."""
    bodies = []
    for call in query.split(" ; "):
        method, target = call.split(" ", 1)
        assert method == "GET"
        bodies.append(client.get(target).json())
    return bodies


def timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def resolve(args: dict[str, Any], open_number: int) -> dict[str, Any]:
    return {k: (str(open_number) if v == "OPEN" else v) for k, v in args.items()}


def compare(
    ctx: ToolContext, client: Any, name: str, tool: Tool[Any], args: dict[str, Any], *, runs: int
) -> float:
    """Print one line of tool vs raw medians; returns the ratio."""
    first = tool.run(ctx, args)
    assert first.status.value != "error", first.error
    tool_ms, raw_ms = [], []
    for _ in range(runs):
        tool_ms.append(timed(lambda: tool.run(ctx, args)))
        raw_ms.append(timed(lambda: raw(client, first.query)))
    t, r = statistics.median(tool_ms), statistics.median(raw_ms)
    calls = len(first.query.split(" ; "))
    print(f"{name:36} {t:8.2f} {r:8.2f} {t / r:6.2f} {t - r:6.2f} {calls:5d} {first.tokens:6d}")
    return t / r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    options = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="vigie-bench-pd-"))
    simulator = start_simulator(directory, paris_anchor(), rate_limit_per_minute=1_000_000)
    settings = Settings()
    section = settings.pagerduty.model_copy(
        update={
            "api_url": HttpUrl(simulator.url),
            "token": SecretStr(TOKEN),
            "ca_bundle": simulator.ca,
        }
    )
    services = build_services(settings.model_copy(update={"pagerduty": section}))
    ctx = ToolContext(
        services=services,
        now=lambda: datetime.now(UTC),
        token_budget=settings.tools.token_budget,
    )
    client = services.pagerduty
    assert client is not None
    try:
        listed = PAGERDUTY_LIST_INCIDENTS.run(ctx, {"statuses": ["open"]})
        open_incident = listed.data[0]
        open_number = open_incident["number"]
        print(f"simulator {simulator.url}; {options.runs} runs per case, medians in ms")
        print(
            f"{'case':36} {'tool':>8} {'raw':>8} {'ratio':>6} {'extra':>6} {'calls':>5} "
            f"{'tokens':>6}"
        )
        ratios = []
        for name, tool, case_args in TYPICAL:
            ratio = compare(
                ctx, client, name, tool, resolve(case_args, open_number), runs=options.runs
            )
            ratios.append(ratio)
        mean = statistics.geometric_mean(ratios)
        print(f"{'geometric mean of ratios':36} {'':8} {'':8} {mean:6.2f}")

        # A long timeline: notes written as the on-call would, through the API.
        oncall_email = next(
            u.email for u in scenario.USERS if u.name == open_incident["assignees"][0]
        )
        for n in range(120):
            simulator.request(
                "POST",
                f"/incidents/{open_incident['id']}/notes",
                headers={"From": oncall_email},
                body={"note": {"content": f"Investigation step {n}: " + "checked pool " * 20}},
            )
        print(f"\nworst cases (token budget {ctx.token_budget})")
        print(f"{'case':36} {'tool':>8} {'tokens':>6} {'cut':>5} {'rows':>5}")
        for name, tool, case_args in WORST:
            result: ToolResult = tool.run(ctx, resolve(case_args, open_number))
            rows = (
                len(result.data["timeline"])
                if isinstance(result.data, dict)
                else len(result.data or [])
            )
            print(
                f"{name:36} {result.elapsed_ms:8.2f} {result.tokens:6d} "
                f"{'yes' if result.truncated else 'no':>5} {rows:5d}"
            )
    finally:
        services.close()
        simulator.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
