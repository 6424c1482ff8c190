"""Time expressions of questions, English and French, in the configured zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.engine.planner.timewin import (
    parse_comparison,
    parse_instant,
    parse_window,
    promql_duration,
)

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


def test_same_day_last_year() -> None:
    for question in (
        "What was the P99 latency on the same day last year?",
        "la latence le même jour l'année dernière",
    ):
        window = parse_window(question, NOW, TZ)
        assert window is not None
        assert window.kind == "past"
        assert window.start == datetime(2025, 11, 20, 0, 0, tzinfo=TZ).astimezone(UTC)
        assert window.end == datetime(2025, 11, 21, 0, 0, tzinfo=TZ).astimezone(UTC)


def test_last_year_and_last_month_are_calendar_periods() -> None:
    year = parse_window("incidents last year", NOW, TZ)
    assert year is not None
    assert year.start == datetime(2025, 1, 1, tzinfo=TZ).astimezone(UTC)
    assert year.end == datetime(2026, 1, 1, tzinfo=TZ).astimezone(UTC)
    month = parse_window("le mois dernier", NOW, TZ)
    assert month is not None
    assert month.start == datetime(2026, 10, 1, tzinfo=TZ).astimezone(UTC)
    assert month.end == datetime(2026, 11, 1, tzinfo=TZ).astimezone(UTC)


def test_months_and_years_as_units() -> None:
    window = parse_window("over the last 3 months", NOW, TZ)
    assert window is not None
    assert window.start == NOW - timedelta(days=90)
    window = parse_window("ces 2 dernières années", NOW, TZ)
    assert window is not None
    assert window.start == NOW - timedelta(days=730)


@pytest.mark.parametrize(
    ("question", "delta"),
    [
        ("who was on call for search a week ago?", timedelta(days=7)),
        ("qui était d'astreinte il y a 2 jours ?", timedelta(days=2)),
        ("an hour ago", timedelta(hours=1)),
        ("il y a une semaine", timedelta(days=7)),
    ],
)
def test_instants(question: str, delta: timedelta) -> None:
    assert parse_instant(question, NOW) == NOW - delta


def test_no_instant() -> None:
    assert parse_instant("who is on call?", NOW) is None
    assert parse_instant("y a-t-il eu des incidents hier ?", NOW) is None
