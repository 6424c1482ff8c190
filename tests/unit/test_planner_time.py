"""Time expressions of questions, English and French, in the configured zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.engine.planner.timewin import parse_comparison, parse_window, promql_duration

TZ = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # 10:00 in Paris


def local(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, 20 + day, hh, mm, tzinfo=TZ).astimezone(UTC)


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("depuis ce matin", local(0, 6), NOW),
        ("since this morning", local(0, 6), NOW),
        ("since 8am", local(0, 8), NOW),
        ("depuis 8h30", local(0, 8, 30), NOW),
        ("ces 2 dernières heures", NOW - timedelta(hours=2), NOW),
        ("last 2 hours", NOW - timedelta(hours=2), NOW),
        ("over the last 30 minutes", NOW - timedelta(minutes=30), NOW),
        ("depuis une heure", NOW - timedelta(hours=1), NOW),
        ("yesterday", local(-1, 0), local(0, 0)),
        ("hier", local(-1, 0), local(0, 0)),
        ("depuis hier", local(-1, 0), NOW),
        ("today", local(0, 0), NOW),
        ("entre 8h et 9h", local(0, 8), local(0, 9)),
    ],
)
def test_windows(question: str, start: datetime, end: datetime) -> None:
    window = parse_window(question, NOW, TZ)
    assert window is not None
    assert (window.start, window.end) == (start, end)


def test_no_expression() -> None:
    assert parse_window("is checkout latency normal?", NOW, TZ) is None


def test_morning_before_six_starts_at_midnight() -> None:
    early = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 05:00 Paris
    window = parse_window("since this morning", early, TZ)
    assert window is not None
    assert window.start == local(0, 0)


def test_week_over_week() -> None:
    for question in ("cette semaine vs la semaine dernière", "this week vs last week"):
        comparison = parse_comparison(question, NOW, TZ)
        assert comparison is not None
        assert comparison.kind == "week"
        assert comparison.current.end == NOW
        assert comparison.current.start == NOW - timedelta(days=7)
        assert comparison.previous.end == NOW - timedelta(days=7)


def test_today_vs_yesterday() -> None:
    comparison = parse_comparison("aujourd'hui vs hier", NOW, TZ)
    assert comparison is not None
    assert comparison.kind == "day"
    assert comparison.current.start == local(0, 0)
    assert comparison.previous.start == local(-1, 0)
    assert comparison.previous.end == NOW - timedelta(days=1)


def test_shift_and_durations() -> None:
    window = parse_window("since 8am", NOW, TZ)
    assert window is not None
    assert window.shifted(-1).start == local(-1, 8)
    assert promql_duration(4 * 3600) == "4h"
    assert promql_duration(7 * 86400) == "7d"
    assert promql_duration(95 * 60) == "95m"
