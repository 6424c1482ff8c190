"""Time expressions and the token budget, as tools read and bound them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tools.base import ToolInputError
from tools.budget import estimate_tokens, fit_lines, truncate
from tools.timeexpr import parse_duration, parse_range, parse_time

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)  # 11:00 in Paris


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("now-2h", NOW - timedelta(hours=2)),
        ("now - 1d12h", NOW - timedelta(days=1, hours=12)),
        ("2026-11-21T08:30:00Z", datetime(2026, 11, 21, 8, 30, tzinfo=UTC)),
        ("2026-11-21T09:30:00+01:00", datetime(2026, 11, 21, 8, 30, tzinfo=UTC)),
        ("2026-11-21T09:30:00", datetime(2026, 11, 21, 8, 30, tzinfo=UTC)),  # local
        ("1795250520", datetime.fromtimestamp(1795250520, tz=UTC)),
        ("today 08:00", datetime(2026, 11, 21, 7, 0, tzinfo=UTC)),
        ("yesterday 14:30", datetime(2026, 11, 20, 13, 30, tzinfo=UTC)),
        ("hier 8h", datetime(2026, 11, 20, 7, 0, tzinfo=UTC)),
        ("aujourd'hui à 08:00", datetime(2026, 11, 21, 7, 0, tzinfo=UTC)),
        ("today", datetime(2026, 11, 20, 23, 0, tzinfo=UTC)),
        ("monday 09:00", datetime(2026, 11, 16, 8, 0, tzinfo=UTC)),  # 21 Nov 2026 is a Saturday
    ],
)
def test_accepted_time_expressions(text: str, expected: datetime) -> None:
    assert parse_time(text, NOW, PARIS) == expected


def test_named_times_follow_daylight_saving() -> None:
    summer_now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert parse_time("today 08:00", summer_now, PARIS) == datetime(2026, 7, 1, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["next week", "now-2x", "2026-13-01", "someday 08:00"])
def test_rejected_expressions_name_the_accepted_forms(text: str) -> None:
    with pytest.raises(ToolInputError, match="accepted: RFC 3339"):
        parse_time(text, NOW, PARIS)


def test_bad_clock_is_named() -> None:
    with pytest.raises(ToolInputError, match="not a time of day: '25:00'"):
        parse_time("today 25:00", NOW, PARIS)


def test_range_defaults_and_order() -> None:
    assert parse_range(None, None, NOW, PARIS) == (NOW - timedelta(hours=1), NOW)
    with pytest.raises(ToolInputError, match="must be before end"):
        parse_range("now", "now-1h", NOW, PARIS)


def test_durations() -> None:
    assert parse_duration("1h30m") == timedelta(minutes=90)
    with pytest.raises(ToolInputError, match="not a duration"):
        parse_duration("soon")


def test_fit_lines_keeps_whole_rows_and_says_what_was_cut() -> None:
    rows = [f"series {i:04d} value {i * 1.5:.1f}" for i in range(1000)]
    text, truncated = fit_lines(["header"], rows, budget_tokens=200)
    assert truncated
    assert estimate_tokens(text) <= 200
    assert text.splitlines()[0] == "header"
    shown = len(text.splitlines()) - 2
    assert text.endswith(f"{shown} of 1000 rows shown)")
    assert all(line in rows for line in text.splitlines()[1:-1])


def test_fit_lines_untouched_when_it_fits() -> None:
    text, truncated = fit_lines(["h"], ["a", "b"], budget_tokens=100)
    assert (text, truncated) == ("h\na\nb", False)


def test_truncate_marks_the_original_length() -> None:
    assert truncate("x" * 1000, 100).endswith("[1000 chars]")
    assert len(truncate("x" * 1000, 100)) <= 100
    assert truncate("short", 100) == "short"
