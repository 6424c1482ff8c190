"""Time expressions tools accept: RFC 3339, Unix seconds, `now-2h`, and local `today 08:00`.

Named local times are read in the configured zone (`VIGIE_TIMEZONE`): "today 08:00" on a
Paris deployment is 08:00 Paris time, whatever the server's clock zone. French day words are
accepted too (`aujourd'hui 08:00`, `hier`), since models copy the user's words.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tools.base import ToolInputError

ACCEPTED = (
    "RFC 3339 (2026-11-21T08:30:00Z, 2026-11-21T09:30:00+01:00), Unix seconds (1795250520), "
    "relative (now, now-2h, now-1d12h, now-30m), or local named times (today 08:00, "
    "yesterday 14:30, today, yesterday, monday 09:00)"
)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_RELATIVE = re.compile(r"^now(?:\s*([+-])\s*((?:\d+(?:\.\d+)?[smhdw])+))?$")
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_DAY_WORDS = {
    "today": 0,
    "aujourd'hui": 0,
    "aujourdhui": 0,
    "yesterday": -1,
    "hier": -1,
    "tomorrow": 1,
    "demain": 1,
}
_WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
}
_CLOCK = re.compile(r"^(\d{1,2})(?:[:h](\d{2})?)?$")


def parse_duration(text: str) -> timedelta:
    """`1h30m`, `2d`, `90s` -> timedelta; raises ToolInputError."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned or _PART.sub("", cleaned):
        raise ToolInputError(f"not a duration: '{text}' (use e.g. 30m, 2h, 1d12h)")
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in _PART.findall(cleaned)))


def parse_time(text: str | int | float | datetime, now: datetime, tz: ZoneInfo) -> datetime:
    """An aware UTC datetime for `text`; raises ToolInputError naming the accepted forms."""
    if isinstance(text, datetime):
        return (text if text.tzinfo else text.replace(tzinfo=tz)).astimezone(UTC)
    if isinstance(text, int | float):
        return datetime.fromtimestamp(float(text), tz=UTC)
    raw = text.strip()
    lowered = raw.lower()
    if re.fullmatch(r"\d{9,11}(\.\d+)?", raw):
        return datetime.fromtimestamp(float(raw), tz=UTC)
    if match := _RELATIVE.match(lowered.replace(" ", "")):
        sign, amount = match.groups()
        if not amount:
            return now.astimezone(UTC)
        delta = parse_duration(amount)
        return (now - delta if sign == "-" else now + delta).astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is not None:
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)
    named = _named(lowered, now, tz)
    if named is not None:
        return named
    raise ToolInputError(f"not a time: '{text}'; accepted: {ACCEPTED}")


def _named(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    words = text.replace(",", " ").split()
    if not words or len(words) > 3:
        return None
    if words[0] == "at":
        words = words[1:]
    local_now = now.astimezone(tz)
    day_word, clock = words[0], words[1] if len(words) > 1 else None
    if len(words) == 3 and words[1] in {"at", "à", "a"}:
        clock = words[2]
    if day_word in _DAY_WORDS:
        day = local_now.date() + timedelta(days=_DAY_WORDS[day_word])
    elif day_word in _WEEKDAYS:
        back = (local_now.weekday() - _WEEKDAYS[day_word]) % 7
        day = local_now.date() - timedelta(days=back)
    elif _CLOCK.match(day_word) and len(words) == 1:
        day, clock = local_now.date(), day_word
    else:
        return None
    at = time(0)
    if clock is not None:
        match = _CLOCK.match(clock)
        if match is None:
            return None
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if hour > 23 or minute > 59:
            raise ToolInputError(f"not a time of day: '{clock}'")
        at = time(hour, minute)
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def parse_range(
    start: str | None, end: str | None, now: datetime, tz: ZoneInfo, *, default: str = "now-1h"
) -> tuple[datetime, datetime]:
    """(start, end) in UTC; end defaults to now, start to `default`; start must precede end."""
    end_at = parse_time(end, now, tz) if end else now.astimezone(UTC)
    start_at = parse_time(start or default, now, tz)
    if start_at >= end_at:
        raise ToolInputError(
            f"start ({start_at.isoformat()}) must be before end ({end_at.isoformat()})"
        )
    return start_at, end_at
