"""Time expressions of a question, English and French, as windows in UTC.

Local times are read in the configured zone (`ctx.tz`) and "now" is `ctx.now()`, so a pinned
clock (`vigie ask --now`) gives reproducible answers. Choices, documented because they are
choices:

* "this morning" / "ce matin" / "depuis ce matin" starts at 06:00 local (the start of a working
  morning; the reference incident starts at 08:30), or at 00:00 when asked before 06:00.
* "today" / "aujourd'hui" starts at local midnight; "yesterday" / "hier" is the whole previous
  local day (and "since yesterday" runs from its midnight to now).
* "this week" is the 7 days ending now and "last week" the 7 days before (rolling weeks, so
  a Monday morning question still compares a full week); "today vs yesterday" compares midnight
  to now with the same hours of the previous day.
* "last year" / "l'année dernière" is the previous calendar year ("the same day last year" that
  day), "last month" the previous calendar month; "a week ago" / "il y a 2 jours" is an instant
  (`parse_instant`), used where a question is about a moment (who was on call).
* No expression: the handler's default (e.g. the last hour).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.engine.planner.normalize import normalize

MORNING: Final = time(6, 0)


@dataclass(frozen=True)
class Window:
    """A time range [start, end] in UTC, with the key of its wording (for rendering)."""

    start: datetime
    end: datetime
    # "morning", "today", "since", "since_yesterday", "last", "yesterday", "week", "last_week",
    # "between", "past" (whole days long gone: "the same day last year"): how the window reads
    # in an answer (text.window)
    kind: str
    amount: str = ""  # "2 hours", "08:00"...: the part of the wording that varies

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def shifted(self, days: int) -> Window:
        """The same hours `days` days earlier (negative) or later; the wording becomes 'shifted'."""
        delta = timedelta(days=days)
        return replace(self, start=self.start + delta, end=self.end + delta)

    def to_context(self) -> dict[str, str]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "kind": self.kind,
            "amount": self.amount,
        }

    @classmethod
    def from_context(cls, data: object) -> Window | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                start=datetime.fromisoformat(str(data["start"])),
                end=datetime.fromisoformat(str(data["end"])),
                kind=str(data.get("kind", "since")),
                amount=str(data.get("amount", "")),
            )
        except (KeyError, ValueError):
            return None


@dataclass(frozen=True)
class Comparison:
    """Two windows of the same length: the current one and the one it is compared with."""

    current: Window
    previous: Window
    kind: str  # "week" (this week vs last week) or "day" (today vs yesterday)


_UNITS: Final = {
    "minute": 60, "minutes": 60, "min": 60, "mins": 60, "mn": 60, "m": 60,
    "hour": 3600, "hours": 3600, "heure": 3600, "heures": 3600, "h": 3600, "hr": 3600,
    "hrs": 3600, "day": 86400, "days": 86400, "jour": 86400, "jours": 86400, "d": 86400,
    "j": 86400, "week": 604800, "weeks": 604800, "semaine": 604800, "semaines": 604800,
    "month": 30 * 86400, "months": 30 * 86400, "mois": 30 * 86400, "year": 365 * 86400,
    "years": 365 * 86400, "an": 365 * 86400, "ans": 365 * 86400, "annee": 365 * 86400,
    "annees": 365 * 86400,
}  # fmt: skip
_NUMBER_WORDS: Final = {
    "a": 1, "an": 1, "one": 1, "une": 1, "un": 1, "two": 2, "deux": 2, "three": 3, "trois": 3,
    "four": 4, "quatre": 4, "five": 5, "cinq": 5, "six": 6, "ten": 10, "dix": 10,
    "twelve": 12, "douze": 12, "24": 24,
}  # fmt: skip
_UNIT_RE: Final = (
    r"(minutes?|mins?|mn|m|hours?|heures?|hrs?|h|days?|jours?|d|j|weeks?|semaines?|months?|mois|"
    r"years?|annees?)"
)
_COUNT_RE: Final = (
    r"(\d+|a|an|one|une|un|two|deux|three|trois|four|quatre|five|cinq|six|ten|dix|twelve|douze)"
)
# "last 2 hours", "past hour", "in the last 30 min", "over the last day"
_LAST_EN: Final = re.compile(rf"\b(?:last|past|previous)\s+(?:{_COUNT_RE}\s*)?{_UNIT_RE}\b")
# "ces 2 dernières heures", "les 30 dernières minutes", "dernière heure", "depuis 2 heures",
# "sur les dernières 24h", "depuis une heure"
_LAST_FR: Final = re.compile(
    rf"\b(?:(?:ces|les|sur "
    rf"les)\s+)?(?:{_COUNT_RE}\s+)?dernier(?:e|es|s)?\s+(?:{_COUNT_RE}\s*)?{_UNIT_RE}\b"
)
_FOR_FR: Final = re.compile(rf"\bdepuis\s+{_COUNT_RE}\s*{_UNIT_RE}\b")
_AGO_EN: Final = re.compile(rf"\b(?:in|over|for|during)\s+the\s+(?:last|past)\s+{_UNIT_RE}\b")
# "since 8am", "since 08:30", "depuis 8h", "depuis 8h30", "since 8", "from 9:15"
_SINCE_CLOCK: Final = re.compile(
    r"\b(?:since|depuis|from|a partir de|starting)\s+(?:(?:today|aujourd'hui|ce matin)\s+)?"
    r"(\d{1,2})(?:(?::|h)(\d{2})?)?\s*(am|pm)?(?![\d.])"
    r"(?!\s*(?:hours?|heures?|minutes?|mins?|mn|days?|jours?|weeks?|semaines?)\b)"
)
_BETWEEN: Final = re.compile(
    r"\b(?:between|entre)\s+(\d{1,2})(?:(?::|h)(\d{2})?)?\s*(am|pm)?\s+(?:and|et)\s+"
    r"(\d{1,2})(?:(?::|h)(\d{2})?)?\s*(am|pm)?"
)
_MORNING: Final = re.compile(r"\bthis morning\b|\bce matin\b|\bdepuis le matin\b")
_TODAY: Final = re.compile(
    r"\btoday\b|\baujourd'hui\b|\bsince midnight\b|\bdepuis minuit\b|\bde la journee\b"
)
_SINCE_YESTERDAY: Final = re.compile(r"\bsince yesterday\b|\bdepuis hier\b")
_YESTERDAY: Final = re.compile(r"\byesterday\b|\bhier\b")
_THIS_WEEK: Final = re.compile(
    r"\bthis week\b|\bcette semaine\b|\bpast week\b|\b7 derniers jours\b|\blast 7 days\b"
)
_LAST_WEEK: Final = re.compile(
    r"\blast week\b|\bprevious week\b|\bsemaine (?:derniere|passee|precedente)\b|\bweek before\b"
)
# "on the same day last year", "l'année dernière", "a year ago", "le mois dernier"
_SAME_DAY: Final = re.compile(r"\b(?:same|this) day\b|\bmeme jour\b|\bce jour-la\b")
_LAST_YEAR: Final = re.compile(
    r"\blast year\b|\bprevious year\b|\ba year ago\b|\bl'annee (?:derniere|passee|precedente)\b|"
    r"\bl'an (?:dernier|passe)\b|\bil y a (?:un|1) an\b"
)
_LAST_MONTH: Final = re.compile(
    r"\blast month\b|\bprevious month\b|\ba month ago\b|\ble mois (?:dernier|passe|precedent)\b|"
    r"\bil y a (?:un|1) mois\b"
)
# "a week ago", "3 days ago", "il y a une semaine", "il y a 2 heures"
_AGO_COUNT: Final = r"(\d+|a|an|one|une|un|two|deux|three|trois|four|quatre|five|cinq|six|ten|dix)"
_AGO: Final = re.compile(rf"\b{_AGO_COUNT}\s*{_UNIT_RE}\s+ago\b")
_IL_Y_A: Final = re.compile(rf"\bil y a\s+{_AGO_COUNT}\s*{_UNIT_RE}\b")
_WEEK_VS: Final = re.compile(r"\bweek over week\b|\bwow\b|\bd'une semaine (?:sur|a) l'autre\b")
_DAY_VS: Final = re.compile(r"\bday over day\b|\bd'un jour (?:sur|a) l'autre\b")


def _count(text: str | None) -> int:
    if not text:
        return 1
    return int(text) if text.isdigit() else _NUMBER_WORDS.get(text, 1)


def _clock(hour: str, minute: str | None, meridiem: str | None) -> time | None:
    h, m = int(hour), int(minute or 0)
    if meridiem == "pm" and h < 12:
        h += 12
    if meridiem == "am" and h == 12:
        h = 0
    if h > 23 or m > 59:
        return None
    return time(h, m)


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _plural(n: int, unit_s: int) -> str:
    names = {
        60: "minute", 3600: "hour", 86400: "day", 604800: "week", 30 * 86400: "month",
        365 * 86400: "year",
    }  # fmt: skip
    return f"{n} {names[unit_s]}{'s' if n > 1 else ''}"


def parse_window(question: str, now: datetime, tz: ZoneInfo) -> Window | None:
    """The window a question names, or None when it names none (see the module docstring)."""
    text = normalize(question)
    now = now.astimezone(UTC)
    return (
        _past_window(text, now, tz)
        or _clock_window(text, now, tz)
        or _relative_window(text, now)
        or _named_window(text, now, tz)
    )


def parse_instant(question: str, now: datetime) -> datetime | None:
    """The instant a question asks about ("a week ago", "il y a 2 heures"), in UTC, or None."""
    text = normalize(question)
    now = now.astimezone(UTC)
    for pattern in (_AGO, _IL_Y_A):
        if m := pattern.search(text):
            unit_s = _UNITS[m.group(2)]
            if unit_s == 60 and m.group(2) == "m":
                continue
            return now - timedelta(seconds=_count(m.group(1)) * unit_s)
    return None


def _past_window(text: str, now: datetime, tz: ZoneInfo) -> Window | None:
    """Long-gone periods: "the same day last year", "last year", "last month", "a year ago"."""
    today = now.astimezone(tz).date()
    if _LAST_YEAR.search(text):
        if _SAME_DAY.search(text) or re.search(r"\bago\b|\bil y a\b", text):
            day = _year_before(today)
            return Window(
                _local(day, time(0), tz), _local(day + timedelta(days=1), time(0), tz), "past"
            )
        first = date(today.year - 1, 1, 1)
        return Window(
            _local(first, time(0), tz), _local(date(today.year, 1, 1), time(0), tz), "past"
        )
    if _LAST_MONTH.search(text):
        if _SAME_DAY.search(text) or re.search(r"\bago\b|\bil y a\b", text):
            day = today - timedelta(days=30)
            return Window(
                _local(day, time(0), tz), _local(day + timedelta(days=1), time(0), tz), "past"
            )
        first = date(today.year, today.month, 1)
        previous = (first - timedelta(days=1)).replace(day=1)
        return Window(_local(previous, time(0), tz), _local(first, time(0), tz), "past")
    return None


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # February 29th
        return day.replace(year=day.year - 1, day=28)


def _clock_window(text: str, now: datetime, tz: ZoneInfo) -> Window | None:
    """ "between 8 and 9", "since 8am", "depuis 8h30"."""
    today = now.astimezone(tz).date()
    if m := _BETWEEN.search(text):
        a = _clock(m.group(1), m.group(2), m.group(3) or m.group(6))
        b = _clock(m.group(4), m.group(5), m.group(6))
        if a is not None and b is not None and a < b:
            day = today - timedelta(days=1) if _YESTERDAY.search(text) else today
            start, end = _local(day, a, tz), min(_local(day, b, tz), now)
            if start < end:
                return Window(start, end, "between", f"{a:%H:%M}-{b:%H:%M}")
    if m := _SINCE_CLOCK.search(text):
        at = _clock(m.group(1), m.group(2), m.group(3))
        if at is not None:
            start = _local(today, at, tz)
            if start >= now:  # "since 23:00" asked at 01:00 means last night
                start -= timedelta(days=1)
            return Window(start, now, "since", f"{at:%H:%M}")
    return None


def _relative_window(text: str, now: datetime) -> Window | None:
    """ "last 2 hours", "ces 30 dernières minutes", "depuis une heure"."""
    for pattern in (_LAST_EN, _LAST_FR, _FOR_FR, _AGO_EN):
        if m := pattern.search(text):
            groups = list(m.groups())
            unit = groups[-1]
            counts = [g for g in groups[:-1] if g]
            n = _count(counts[0] if counts else None)
            unit_s = _UNITS[unit]
            if unit_s == 60 and unit == "m" and n < 5:
                continue
            return Window(now - timedelta(seconds=n * unit_s), now, "last", _plural(n, unit_s))
    return None


def _named_window(text: str, now: datetime, tz: ZoneInfo) -> Window | None:
    """ "this morning", "yesterday", "since yesterday", "today", "this week", "last week"."""
    today = now.astimezone(tz).date()
    if _MORNING.search(text):
        start = _local(today, MORNING, tz)
        if start >= now:
            start = _local(today, time(0), tz)
        return Window(start, now, "morning", "06:00")
    if _SINCE_YESTERDAY.search(text):
        return Window(_local(today - timedelta(days=1), time(0), tz), now, "since_yesterday")
    if _YESTERDAY.search(text):
        start = _local(today - timedelta(days=1), time(0), tz)
        return Window(start, _local(today, time(0), tz), "yesterday")
    if _TODAY.search(text):
        return Window(_local(today, time(0), tz), now, "today")
    if _LAST_WEEK.search(text):
        return Window(now - timedelta(days=14), now - timedelta(days=7), "last_week")
    if _THIS_WEEK.search(text):
        return Window(now - timedelta(days=7), now, "week")
    return None


def parse_comparison(question: str, now: datetime, tz: ZoneInfo) -> Comparison | None:
    """'this week vs last week' or 'today vs yesterday' (both languages), else None."""
    text = normalize(question)
    now = now.astimezone(UTC)
    if (_THIS_WEEK.search(text) and _LAST_WEEK.search(text)) or _WEEK_VS.search(text):
        return week_over_week(now)
    if (_TODAY.search(text) and _YESTERDAY.search(text)) or _DAY_VS.search(text):
        return day_over_day(now, tz)
    if _LAST_WEEK.search(text):  # "compared to last week"
        return week_over_week(now)
    if _YESTERDAY.search(text) and not _SINCE_YESTERDAY.search(text):  # "par rapport à hier"
        return day_over_day(now, tz)
    return None


def week_over_week(now: datetime) -> Comparison:
    current = Window(now - timedelta(days=7), now, "week")
    return Comparison(current, current.shifted(-7), "week")


def day_over_day(now: datetime, tz: ZoneInfo) -> Comparison:
    today = now.astimezone(tz).date()
    current = Window(_local(today, time(0), tz), now, "today")
    if current.seconds < 3600:  # just after midnight: compare the last 24 hours instead
        current = Window(now - timedelta(days=1), now, "last", "24 hours")
    return Comparison(current, current.shifted(-1), "day")


def default_window(now: datetime, seconds: float, kind: str = "last") -> Window:
    """The last `seconds` before now (a handler's default when the question names no time)."""
    now = now.astimezone(UTC)
    amount = (
        _plural(int(seconds // 3600), 3600) if seconds >= 3600 else _plural(int(seconds // 60), 60)
    )
    return Window(now - timedelta(seconds=seconds), now, kind, amount)


def promql_duration(seconds: float) -> str:
    """A PromQL duration for a window length, in whole minutes (at least 1m): `4h`, `95m`."""
    minutes = max(1, round(seconds / 60))
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"
