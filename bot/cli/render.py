"""An Answer for a person at a terminal: pure functions from data to text, tested as data.

`render_answer` prints the answer, then what backs it: proposals as drafts (approvals arrive
with Slack), each piece of evidence (backend, the exact query, the time range in local time, the
compact result) with a sparkline per series of range results, the charts' paths and the
timings. `color=False` gives plain text (pipes, files, NO_COLOR); colour never carries meaning
alone, so the two read the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.engine.answer import Answer, Evidence, Proposal
from bot.engine.charts import RangeResult, range_results
from tools import promql

BARS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 40
# Series per range result in the terminal; the rest is counted, not drawn.
MAX_SPARK_SERIES = 8
LABEL_WIDTH = 44
# Lines of each evidence summary shown; the rest is counted (`--json` has every line).
MAX_SUMMARY_LINES = 6

_BOLD, _DIM, _CYAN, _YELLOW, _RED, _RESET = "1", "2", "36", "33", "31", "0"


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[{_RESET}m" if color and text else text


def sparkline(values: Sequence[float], width: int = SPARK_WIDTH) -> str:
    """`▁▂▃▄▅▆▇█`: one character per value, or per bucket of values when there are more.

    Scaled from the series' own minimum to its maximum: it shows the shape, and the min/max
    printed beside it give the scale. A bucket shows the mean of its values (a max would draw
    noise as peaks in buckets that happen to hold more values). NaN (no sample) is a blank, as
    a gap in a graph; a flat series is drawn at mid height, so it does not read as "zero".
    """
    if not values or width < 1:
        return ""
    count = min(width, len(values))
    # Bucket sizes differ by at most one value, spread evenly along the series.
    return _bars(
        [
            _mean(values[i * len(values) // count : (i + 1) * len(values) // count])
            for i in range(count)
        ]
    )


def time_sparkline(
    points: Sequence[tuple[float, float]], start: float, end: float, width: int
) -> str:
    """A sparkline of (unix seconds, value) points placed by time over [start, end].

    Series of one result then line up: one that only began at 08:30 is blank before, instead
    of being stretched over the whole range as `sparkline` of its values would.
    """
    if not points or width < 1:
        return ""
    span = max(end - start, 1e-9)
    buckets: list[list[float]] = [[] for _ in range(width)]
    for t, v in points:
        index = min(width - 1, max(0, int((t - start) / span * width)))
        buckets[index].append(v)
    return _bars([_mean(bucket) for bucket in buckets])


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


def _bars(buckets: Sequence[float]) -> str:
    known = [v for v in buckets if math.isfinite(v)]
    if not known:
        return " " * len(buckets)
    lo, hi = min(known), max(known)
    top = len(BARS) - 1
    chars = []
    for v in buckets:
        if not math.isfinite(v):
            chars.append(" ")
        elif hi == lo:
            chars.append(BARS[top // 2])
        else:
            chars.append(BARS[round((v - lo) / (hi - lo) * top)])
    return "".join(chars)


def format_time_range(start: datetime | None, end: datetime | None, tz: ZoneInfo) -> str:
    """`2026-11-20 00:00 .. 10:00 CET` in local time; the date once when it is one day."""
    if start is None and end is None:
        return ""
    if start is None or end is None or start == end:
        at = next(t for t in (start, end) if t is not None).astimezone(tz)
        return f"at {at:%Y-%m-%d %H:%M %Z}"
    a, b = start.astimezone(tz), end.astimezone(tz)
    if a.date() == b.date() and a.tzname() == b.tzname():
        return f"{a:%Y-%m-%d %H:%M} .. {b:%H:%M %Z}"
    return f"{a:%Y-%m-%d %H:%M %Z} .. {b:%Y-%m-%d %H:%M %Z}"


def series_lines(rng: RangeResult, *, color: bool) -> list[str]:
    """One line per shown series: label, sparkline over the range, min and max in its unit."""
    shown = rng.series[:MAX_SPARK_SERIES]
    width = min(LABEL_WIDTH, max(len(s.label) for s in shown))
    # As many characters as the range has steps, up to SPARK_WIDTH: fewer points than
    # characters would leave blanks between them.
    spark_width = min(SPARK_WIDTH, max(len(s.points) for s in shown))
    start, end = rng.start.timestamp(), rng.end.timestamp()
    lines = []
    for series in shown:
        finite = [v for v in series.values if math.isfinite(v)]
        label = series.label if len(series.label) <= width else series.label[: width - 1] + "…"
        if finite:
            span = (
                f"min {promql.format_value(min(finite), rng.unit)}  "
                f"max {promql.format_value(max(finite), rng.unit)}"
            )
        else:
            span = "no finite value"
        spark = _paint(time_sparkline(series.points, start, end, spark_width), _CYAN, color)
        lines.append(f"{label:<{width}}  {spark}  {span}")
    hidden = rng.total_series - len(shown)
    if hidden > 0:
        lines.append(_paint(f"(+{hidden} more series not drawn)", _DIM, color))
    return lines


def _indent(lines: Sequence[str], prefix: str) -> list[str]:
    return [f"{prefix}{line}" if line else "" for line in lines]


def _proposal_lines(proposals: Sequence[Proposal], *, color: bool) -> list[str]:
    lines = [
        _paint("Proposed", _BOLD, color)
        + " (drafts: approvals arrive with Slack; nothing runs from the command line)"
    ]
    buttons = _paint("[Approve] [Reject]", _YELLOW, color)
    for number, proposal in enumerate(proposals, 1):
        lines.append(f"  {number}. {proposal.action} {proposal.target}  {buttons}")
        if proposal.parameters:
            params = ", ".join(f"{k}={v}" for k, v in proposal.parameters.items())
            lines.append(f"     parameters: {params}")
        lines.extend(_indent(proposal.rationale.splitlines(), "     "))
    return lines


def _evidence_lines(
    evidence: Sequence[Evidence], ranges: Sequence[RangeResult], tz: ZoneInfo, *, color: bool
) -> list[str]:
    lines = [_paint("Evidence", _BOLD, color)]
    for index, item in enumerate(evidence):
        failed = item.status == "error"
        backend = _paint(f"[{item.backend}]", _RED if failed else _DIM, color)
        query = _paint(item.query or "(no query)", _CYAN, color)
        lines.append(f"  {index + 1}. {backend} {query}")
        when = format_time_range(item.start, item.end, tz)
        if when:
            lines.append(f"     {when}")
        summary = item.summary.splitlines()
        if failed and summary:
            summary[0] = "FAILED: " + summary[0]
        if len(summary) > MAX_SUMMARY_LINES:
            more = len(summary) - MAX_SUMMARY_LINES + 1
            summary = [
                *summary[: MAX_SUMMARY_LINES - 1],
                _paint(f"… {more} more lines", _DIM, color),
            ]
        lines.extend(_indent(summary, "     "))
        for rng in ranges:
            if rng.evidence_index == index:
                lines.extend(_indent(series_lines(rng, color=color), "     "))
    # Range data without an evidence entry (should not happen): its series, not its query,
    # which only evidence shows, redacted.
    for rng in ranges:
        if rng.evidence_index is None:
            lines.append(f"  - range query, {format_time_range(rng.start, rng.end, tz)}")
            lines.extend(_indent(series_lines(rng, color=color), "     "))
    return lines


def _timing_line(answer: Answer) -> str:
    timings = dict(answer.timings)
    total = timings.pop("total_ms", 0.0)
    parts = [f"{answer.mode} mode", f"{total:.0f} ms"]
    if timings:
        per_backend = ", ".join(
            f"{key.removesuffix('_ms')} {value:.0f} ms" for key, value in sorted(timings.items())
        )
        parts[-1] += f" ({per_backend})"
    tokens = answer.tokens
    if tokens.prompt or tokens.completion:
        parts.append(
            f"{tokens.prompt} + {tokens.completion} tokens"
            + (f", ${tokens.cost:.4f}" if tokens.cost else "")
        )
    return " · ".join(parts)


def render_answer(answer: Answer, tz: ZoneInfo, *, color: bool) -> str:
    """The whole answer for a terminal, ending without a newline."""
    text = answer.answer.strip().splitlines() or [""]
    lines = [_paint("Vigie:", _BOLD, color) + f" {text[0]}", *_indent(text[1:], "  ")]
    if answer.proposals:
        lines += ["", *_proposal_lines(answer.proposals, color=color)]
    ranges = range_results(answer.results, answer.evidence)
    if answer.evidence or ranges:
        lines += ["", *_evidence_lines(answer.evidence, ranges, tz, color=color)]
    if answer.charts:
        lines += ["", _paint("Charts", _BOLD, color)]
        lines += [f"  {path}" for path in answer.charts]
    lines += ["", _paint(_timing_line(answer), _DIM, color)]
    return "\n".join(lines)
