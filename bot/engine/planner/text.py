"""Rendering in English and French: values with units, times, windows, signal names.

Numbers keep the reference conversation's conventions in both languages (`847 ms`, `124 GB`,
`+26.5 %`: decimal point, SI units), which are also those of the evidence the numbers come
from, so a reader can find each figure in the queries' results. Values are shown with three
significant digits: the evidence keeps four.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.engine.answer import Language
from bot.engine.planner.timewin import Window
from tools.catalog import SignalName


def t(lang: Language, en: str, fr: str) -> str:
    """The English or the French wording."""
    return fr if lang == "fr" else en


def number(value: float, digits: int = 3) -> str:
    """Three significant digits, no exponent, no trailing zeros: 847, 97.2, 0.0412."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


_BYTES: Final = ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB"))


def value(v: float, unit: str) -> str:
    """A value in the catalog's unit: seconds -> ms/s, bytes -> GB, ratio -> %, cores, req/s."""
    if not math.isfinite(v):
        return "n/a"
    if unit == "seconds":
        return f"{number(v * 1000)} ms" if abs(v) < 1 else f"{number(v)} s"
    if unit == "bytes":
        for size, suffix in _BYTES:
            if abs(v) >= size:
                return f"{number(v / size)} {suffix}"
        return f"{number(v)} B"
    if unit == "ratio":
        return f"{number(v * 100)} %"
    if unit == "cores":
        return f"{number(v)} cores"
    if unit == "requests/s":
        return f"{number(v)} req/s"
    return number(v)


def delta(v: float, unit: str) -> str:
    """A signed difference: `+12 GB`, `-3 ms`."""
    sign = "+" if v >= 0 else "-"
    return sign + value(abs(v), unit)


def percent_change(current: float, previous: float) -> str:
    """`+26.5 %`; `n/a` when the previous value is zero."""
    if previous == 0 or not math.isfinite(previous) or not math.isfinite(current):
        return "n/a"
    change = (current - previous) / abs(previous) * 100
    return f"{'+' if change >= 0 else '-'}{number(abs(change))} %"


def clock(at: datetime | float, tz: ZoneInfo, now: datetime, lang: Language) -> str:
    """`08:42` today, `yesterday 16:00` / `hier 16:00`, else `Nov 18 13:07` / `18/11 13:07`."""
    when = datetime.fromtimestamp(at, tz) if isinstance(at, int | float) else at.astimezone(tz)
    today = now.astimezone(tz).date()
    hhmm = when.strftime("%H:%M")
    if when.date() == today:
        return hhmm
    if when.date() == today - timedelta(days=1):
        return t(lang, f"yesterday {hhmm}", f"hier {hhmm}")
    return t(lang, when.strftime("%b %d ") + hhmm, when.strftime("%d/%m ") + hhmm)


_UNITS_FR: Final = {
    "minute": "minute", "hour": "heure", "day": "jour", "week": "semaine", "month": "mois",
    "year": "année",
}  # fmt: skip


def _last_fr(amount: str) -> str:
    n_text, _, unit = amount.partition(" ")
    n = int(n_text) if n_text.isdigit() else 1
    base = unit.rstrip("s")
    fr = _UNITS_FR.get(base, base)
    feminine = fr in {"minute", "heure", "semaine", "année"}
    last = (
        ("dernière" if n == 1 else "dernières")
        if feminine
        else ("dernier" if n == 1 else "derniers")
    )
    if n == 1:
        return f"la {last} {fr}"
    return f"les {n} {last} {fr}" + ("" if fr.endswith("s") else "s")


def window(w: Window, tz: ZoneInfo, now: datetime, lang: Language) -> str:
    """How a window reads in an answer: `since 06:00`, `over the last 2 hours`, `yesterday`."""
    start = clock(w.start, tz, now, lang)
    end = clock(w.end, tz, now, lang)
    ends_now = abs((w.end - now).total_seconds()) < 60
    if w.kind in {"morning", "since", "today"} and ends_now:
        return t(lang, f"since {start}", f"depuis {start}")
    if w.kind == "last" and ends_now and w.amount:
        amount = w.amount.removeprefix("1 ")  # "the last hour", not "the last 1 hour"
        return t(lang, f"over the last {amount}", f"sur {_last_fr(w.amount)}")
    if w.kind == "yesterday":
        return t(lang, "yesterday", "hier")
    if w.kind == "since_yesterday" and ends_now:
        return t(lang, f"since {start}", f"depuis {start}")
    if w.kind == "past":
        return _dates(w, tz, lang)
    if w.kind == "week" and ends_now:
        return t(lang, "over the last 7 days", "sur les 7 derniers jours")
    return t(lang, f"from {start} to {end}", f"de {start} à {end}")


def _dates(w: Window, tz: ZoneInfo, lang: Language) -> str:
    """`on 2025-11-20` / `le 20/11/2025`, or `from 2025-01-01 to 2025-12-31` (whole days)."""
    first = w.start.astimezone(tz).date()
    last = (w.end - timedelta(seconds=1)).astimezone(tz).date()
    if first == last:
        return t(lang, f"on {first:%Y-%m-%d}", f"le {first:%d/%m/%Y}")
    return t(
        lang,
        f"from {first:%Y-%m-%d} to {last:%Y-%m-%d}",
        f"du {first:%d/%m/%Y} au {last:%d/%m/%Y}",
    )


_SIGNALS_EN: Final = {
    SignalName.LATENCY: "latency",
    SignalName.THROUGHPUT: "throughput",
    SignalName.ERROR_RATIO: "error rate",
    SignalName.CPU: "CPU",
    SignalName.MEMORY: "memory",
    SignalName.POOL_SATURATION: "connection pool usage",
    SignalName.AVAILABILITY: "availability",
    SignalName.RESTARTS: "restarts",
    SignalName.DEPLOYS: "versions",
}
_SIGNALS_FR: Final = {
    SignalName.LATENCY: "latence",
    SignalName.THROUGHPUT: "débit",
    SignalName.ERROR_RATIO: "taux d'erreur",
    SignalName.CPU: "CPU",
    SignalName.MEMORY: "mémoire",
    SignalName.POOL_SATURATION: "utilisation du pool de connexions",
    SignalName.AVAILABILITY: "disponibilité",
    SignalName.RESTARTS: "redémarrages",
    SignalName.DEPLOYS: "versions",
}


def quantile_name(q: float) -> str:
    return f"P{number(q * 100, 4)}"


def signal(s: SignalName, lang: Language, quantile: float = 0.99) -> str:
    """`P99 latency` / `latence P99`, `error rate` / `taux d'erreur`..."""
    if s is SignalName.LATENCY:
        return t(lang, f"{quantile_name(quantile)} latency", f"latence {quantile_name(quantile)}")
    return (_SIGNALS_FR if lang == "fr" else _SIGNALS_EN)[s]


def short_signal(s: SignalName, lang: Language, quantile: float = 0.99) -> str:
    """The label before a value: `P99`, `memory` / `mémoire`..."""
    if s is SignalName.LATENCY:
        return quantile_name(quantile)
    return signal(s, lang, quantile)


def where(service: str, namespace: str | None) -> str:
    """`payment-gateway (prod)`, or the bare name when there is no namespace."""
    return f"{service} ({namespace})" if namespace else service


def capital(phrase: str) -> str:
    """First letter upper case, the rest untouched (`latence P99` -> `Latence P99`)."""
    return phrase[:1].upper() + phrase[1:]


def join(items: list[str], lang: Language) -> str:
    """`a, b and c` / `a, b et c`."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + t(lang, " and ", " et ") + items[-1]
