"""Terminal rendering of an Answer (bot/cli/render.py), tested as data: text in, text out."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.cli.render import format_time_range, render_answer, sparkline, time_sparkline
from bot.engine.answer import Answer, Evidence, Proposal, Tokens
from tools.base import Status, TimeRange, ToolResult

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 11, 19, 23, 0, tzinfo=UTC)  # 00:00 in Paris (CET)
END = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # 10:00 in Paris
P99 = (
    "histogram_quantile(0.99, sum by (le, service) "
    '(rate(http_request_duration_seconds_bucket{namespace="prod"}[5m])))'
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def range_result(query: str = P99, status: Status = Status.OK) -> ToolResult:
    step = (END - START).total_seconds() / 4  # five points spanning the range
    base = START.timestamp()

    def points(values: list[float]) -> list[list[float]]:
        return [[base + i * step, v] for i, v in enumerate(values)]

    return ToolResult(
        tool="prometheus_range_query",
        backend="prometheus",
        status=status,
        query=query,
        time_range=TimeRange(start=START, end=END),
        data={
            "resultType": "matrix",
            "series": [
                {
                    "metric": {"service": "payment-gateway", "namespace": "prod"},
                    "points": points([0.23, 0.23, 0.24, 0.85, 0.847]),
                    "stats": {},
                },
                {
                    "metric": {"service": "checkout", "namespace": "prod"},
                    "points": points([0.31, 0.30, 0.31, 0.32, 0.31]),
                    "stats": {},
                },
            ],
            "total_series": 3,
        },
        text="2 of 3 series shown\n{service=payment-gateway} max 850 ms",
    )


def answer(**updates: object) -> Answer:
    result = range_result()
    base = Answer(
        answer="payment-gateway: P99 847 ms (baseline 230 ms).\nCorrelated with: deploy v2.14.3",
        language="en",
        mode="planner",
        evidence=[Evidence.from_result(result)],
        timings={"total_ms": 412.3, "prometheus_ms": 380.2},
        results=[result],
    )
    return base.model_copy(update=updates)


# ---- sparkline ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], ""),
        ([0, 1, 2, 3, 4, 5, 6, 7], "▁▂▃▄▅▆▇█"),
        ([7, 0], "█▁"),
        ([5.0, 5.0, 5.0], "▄▄▄"),  # flat reads as flat, not as zero
        ([0, math.nan, 7], "▁ █"),  # no sample is a gap
        ([math.nan, math.nan], "  "),
        ([0, math.inf, 7], "▁ █"),  # one +Inf sample must not flatten the rest
        ([-2, 0, 2], "▁▅█"),
    ],
)
def test_sparkline(values: list[float], expected: str) -> None:
    assert sparkline(values) == expected


def test_sparkline_squeezes_long_series_to_the_width_and_keeps_a_spike() -> None:
    values = [1.0] * 300
    values[150:160] = [9.0] * 10  # a 10-point burst in the middle
    line = sparkline(values, width=40)
    assert len(line) == 40
    assert line.count("▁") >= 37  # flat elsewhere
    assert line.index("█") in range(19, 22)  # the burst, where it happened


def test_time_sparklines_line_series_up_by_time() -> None:
    # Over 0..100 s in 10 characters: a series that starts at 50 s is blank before.
    early = [(float(t), float(t)) for t in range(0, 101, 10)]
    late = [(float(t), 1.0 if t < 80 else 3.0) for t in range(50, 101, 10)]
    assert time_sparkline(early, 0, 100, 10) == "▁▂▂▃▄▅▅▆▇█"  # the last bucket holds 90 and 100
    assert time_sparkline(late, 0, 100, 10) == "     ▁▁▁██"
    assert time_sparkline([], 0, 100, 10) == ""


# ---- time ranges ------------------------------------------------------------------------------


def test_time_ranges_are_local() -> None:
    assert format_time_range(START, END, PARIS) == "2026-11-20 00:00 .. 10:00 CET"
    week = datetime(2026, 11, 13, 9, 0, tzinfo=UTC)
    assert format_time_range(week, END, PARIS) == "2026-11-13 10:00 CET .. 2026-11-20 10:00 CET"
    assert format_time_range(END, END, PARIS) == "at 2026-11-20 10:00 CET"
    assert format_time_range(None, END, PARIS) == "at 2026-11-20 10:00 CET"
    assert format_time_range(None, None, PARIS) == ""


# ---- render_answer ------------------------------------------------------------------------------


def test_answer_then_evidence_with_the_exact_query_range_summary_and_sparklines() -> None:
    lines = render_answer(answer(), PARIS, color=False).splitlines()
    assert lines[:2] == [
        "Vigie: payment-gateway: P99 847 ms (baseline 230 ms).",
        "  Correlated with: deploy v2.14.3",
    ]
    evidence = lines[lines.index("Evidence") :]
    assert evidence[1] == f"  1. [prometheus] {P99}"
    assert evidence[2] == "     2026-11-20 00:00 .. 10:00 CET"
    assert evidence[3] == "     2 of 3 series shown"
    spark = [line.strip() for line in evidence if "min " in line and "max " in line]
    assert spark == [
        "service=payment-gateway  ▁▁▁██  min 230 ms  max 850 ms",
        "service=checkout         ▅▁▅█▅  min 300 ms  max 320 ms",
    ]
    assert "     (+1 more series not drawn)" in evidence
    assert lines[-1] == "planner mode · 412 ms (prometheus 380 ms)"


def test_proposals_are_drafts_with_buttons_and_the_slack_note() -> None:
    proposal = Proposal(
        action="rollback",
        target="payment-gateway (prod)",
        parameters={"to_version": "v2.14.2"},
        rationale="deploy v2.14.3 at 08:30 preceded the latency rise",
    )
    text = render_answer(answer(proposals=[proposal]), PARIS, color=False)
    assert "approvals arrive with Slack" in text
    assert "  1. rollback payment-gateway (prod)  [Approve] [Reject]" in text
    assert "     parameters: to_version=v2.14.2" in text
    assert "     deploy v2.14.3 at 08:30 preceded the latency rise" in text


def test_charts_failed_evidence_and_tokens() -> None:
    failed = ToolResult(
        tool="prometheus_instant_query",
        backend="prometheus",
        status=Status.ERROR,
        query="up",
        error="connection refused: http://127.0.0.1:9090",
    )
    text = render_answer(
        answer(
            mode="llm",
            evidence=[Evidence.from_result(failed)],
            results=[failed],
            charts=[".vigie/charts/chart-0123456789abcdef.png"],
            tokens=Tokens(prompt=1200, completion=300, cost=0.00036),
        ),
        PARIS,
        color=False,
    )
    assert "  1. [prometheus] up\n     FAILED: connection refused: http://127.0.0.1:9090" in text
    assert "Charts\n  .vigie/charts/chart-0123456789abcdef.png" in text
    assert text.splitlines()[-1] == (
        "llm mode · 412 ms (prometheus 380 ms) · 1200 + 300 tokens, $0.0004"
    )


def test_colour_adds_codes_and_nothing_else() -> None:
    plain = render_answer(answer(), PARIS, color=False)
    colored = render_answer(answer(), PARIS, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[" in colored
    assert ANSI.sub("", colored) == plain


def test_a_bare_answer_is_the_text_and_the_timings() -> None:
    bare = Answer(answer="Je ne sais pas répondre à cela.", language="fr", mode="planner")
    assert render_answer(bare, PARIS, color=False) == (
        "Vigie: Je ne sais pas répondre à cela.\n\nplanner mode · 0 ms"
    )


def test_range_data_without_evidence_shows_its_series_but_not_its_query() -> None:
    text = render_answer(answer(evidence=[]), PARIS, color=False)
    assert P99 not in text  # queries are shown from evidence only: it is the redacted copy
    assert "  - range query, 2026-11-20 00:00 .. 10:00 CET" in text
    assert "service=payment-gateway  ▁▁▁██  min 230 ms  max 850 ms" in text


def test_long_summaries_are_cut_to_a_few_lines() -> None:
    result = range_result()
    long = Evidence.from_result(result).model_copy(
        update={"summary": "\n".join(f"line {n}" for n in range(20))}
    )
    text = render_answer(answer(evidence=[long]), PARIS, color=False)
    assert "     line 4\n     … 15 more lines\n" in text
    assert "line 5" not in text
