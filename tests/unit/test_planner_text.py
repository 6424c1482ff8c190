"""EN/FR rendering of values, times and windows, and pure readings of results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.engine.planner import analysis, text
from bot.engine.planner.planner import RulePlanner
from bot.engine.planner.timewin import Window
from tools.base import Status, TimeRange, ToolResult

TZ = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_values() -> None:
    assert text.value(0.8473, "seconds") == "847 ms"
    assert text.value(1.5, "seconds") == "1.5 s"
    assert text.value(123.6e9, "bytes") == "124 GB"
    assert text.value(97.23e9, "bytes") == "97.2 GB"
    assert text.value(0.0412, "ratio") == "4.12 %"
    assert text.delta(12.04e9, "bytes") == "+12 GB"
    assert text.percent_change(124, 98) == "+26.5 %"
    assert text.percent_change(1, 0) == "n/a"


def test_clock_and_windows() -> None:
    assert text.clock(NOW - timedelta(minutes=18), TZ, NOW, "en") == "09:42"
    assert text.clock(NOW - timedelta(days=1), TZ, NOW, "fr") == "hier 10:00"
    last = Window(NOW - timedelta(hours=2), NOW, "last", "2 hours")
    assert text.window(last, TZ, NOW, "en") == "over the last 2 hours"
    assert text.window(last, TZ, NOW, "fr") == "sur les 2 dernières heures"
    hour = Window(NOW - timedelta(hours=1), NOW, "last", "1 hour")
    assert text.window(hour, TZ, NOW, "en") == "over the last hour"
    assert text.window(hour, TZ, NOW, "fr") == "sur la dernière heure"
    morning = Window(NOW - timedelta(hours=4), NOW, "morning")
    assert text.window(morning, TZ, NOW, "fr") == "depuis 06:00"


def _range(points: list[tuple[float, float]]) -> ToolResult:
    return ToolResult(
        tool="prometheus_range_query",
        backend="prometheus",
        status=Status.OK,
        data={"series": [{"metric": {}, "points": points, "stats": {"last": points[-1][1]}}]},
        time_range=TimeRange(start=NOW - timedelta(hours=2), end=NOW),
    )


def test_onset_and_saturation() -> None:
    base = NOW.timestamp() - 3600
    points = [(base + 60 * i, 0.23 if i < 30 else 0.85) for i in range(60)]
    series = analysis.first(_range(points))
    assert series is not None
    assert analysis.onset(series.points, 0.23) == base + 60 * 30
    assert analysis.onset([(base, 0.23), (base + 60, 0.24)], 0.23) is None
    assert analysis.first_at_least(points, 0.85) == base + 1800


def test_steady_growth_is_a_leak() -> None:
    day = 86400.0
    start = NOW.timestamp() - 7 * day
    leak = [(start + h * 3600, 40 + h * 0.07) for h in range(7 * 24)]
    step = [(start + h * 3600, 22 if h < 24 else 30) for h in range(7 * 24)]
    assert analysis.grows_steadily(leak, TZ)
    assert not analysis.grows_steadily(step, TZ)


def test_cannot_answer_has_no_numbers() -> None:
    for language in ("en", "fr"):
        answer = RulePlanner().cannot_answer("write a poem", language)  # type: ignore[arg-type]
        assert answer.language == language
        assert answer.mode == "planner"
        assert not any(c.isdigit() for c in answer.answer)
        assert not answer.evidence


def test_past_and_long_windows() -> None:
    day = Window(
        datetime(2025, 11, 20, tzinfo=TZ).astimezone(UTC),
        datetime(2025, 11, 21, tzinfo=TZ).astimezone(UTC),
        "past",
    )
    assert text.window(day, TZ, NOW, "en") == "on 2025-11-20"
    assert text.window(day, TZ, NOW, "fr") == "le 20/11/2025"
    year = Window(
        datetime(2025, 1, 1, tzinfo=TZ).astimezone(UTC),
        datetime(2026, 1, 1, tzinfo=TZ).astimezone(UTC),
        "past",
    )
    assert text.window(year, TZ, NOW, "en") == "from 2025-01-01 to 2025-12-31"
    months = Window(NOW - timedelta(days=90), NOW, "last", "3 months")
    assert text.window(months, TZ, NOW, "fr") == "sur les 3 derniers mois"
    years = Window(NOW - timedelta(days=730), NOW, "last", "2 years")
    assert text.window(years, TZ, NOW, "fr") == "sur les 2 dernières années"
