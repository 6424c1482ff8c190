"""Slots of a question besides time and service: signal, quantile, how many, namespace.

Signals are the catalog's (`tools.catalog.SignalName`); the words that name them are listed here
in English and French. Namespaces are matched against the live namespace label values, so
"prod" is only a namespace where the server has one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bot.engine.planner.normalize import normalize
from tools.catalog import SignalName

# Order matters: the first signal whose words appear wins ("error rate latency" is rare; "pool
# saturation" must not read as "saturation" of CPU).
_SIGNAL_WORDS: Final[tuple[tuple[SignalName, str], ...]] = (
    (SignalName.POOL_SATURATION, r"\bpool\b|\bconnexions?\b|\bconnections?\b|\bmax_connections\b"),
    (
        SignalName.ERROR_RATIO,
        r"\berror[- ]?(?:rate|ratio)s?\b|\btaux "
        r"d'erreurs?\b|\b5xx\b|\berrors?\b|\berreurs?\b|\bfailures?\b|\bechecs?\b",
    ),
    (
        SignalName.LATENCY,
        r"\blatenc|\bp\d{2}(?:\.\d)?\b|\bslow|\blente?s?\b|\blenteur|\bresponse times?\b|\btemps "
        r"de reponse\b|\bduration\b",
    ),
    (SignalName.MEMORY, r"\bmemory\b|\bmemoire\b|\bram\b|\bmem\b|\bworking set\b|\boom"),
    (SignalName.CPU, r"\bcpu\b|\bprocesseur\b|\bcores?\b|\bcoeurs?\b"),
    (
        SignalName.THROUGHPUT,
        r"\bthroughput\b|\bdebit\b|\btraffic\b|\btrafic\b|\brequests?\b|\brequetes?\b|\brps\b|\bcharge\b|\bload\b|\bbusiest\b",
    ),
    (SignalName.RESTARTS, r"\brestarts?\b|\bredemarrages?\b|\bcrash"),
    (SignalName.AVAILABILITY, r"\bavailability\b|\bdisponibilite\b|\buptime\b"),
)
_COMPILED: Final = tuple((s, re.compile(p)) for s, p in _SIGNAL_WORDS)
_QUANTILE: Final = re.compile(
    r"\bp(\d{2})(?:\.(\d))?\b|\b(\d{2})(?:e|th)? (?:percentile|centile)\b"
)
_MEDIAN: Final = re.compile(r"\bmedian(?:e|es)?\b")
# "average error rate", "en moyenne", "avg", "mean": rank or compare by the average.
_AVERAGE: Final = re.compile(r"\baverage\b|\bavg\b|\bmean\b|\bmoyenne?s?\b|\bmoyen\b")
# Explicit ranking verbs: the answer lists the ranking, not only the first service.
_RANKING: Final = re.compile(
    r"\brank(?:s|ed|ing)?\b|\bclass(?:e|er|ez|ement)\b|\bsort(?:ed)?\b|\border(?:ed)? by\b|"
    r"\btrie[rz]?\b|\bordonne[rz]?\b"
)
_TOPK: Final = re.compile(
    r"\btop ?(\d{1,2})\b|\b(?:the |les |ces )?(\d{1,2}) "
    r"(?:services|premiers|plus|most|highest|worst|pires)\b"
)
_PRODUCTION: Final = re.compile(r"\bproduction\b")


def signal_of(question: str) -> SignalName | None:
    """The catalog signal a question names, or None."""
    text = normalize(question)
    for signal, pattern in _COMPILED:
        if pattern.search(text):
            return signal
    return None


def quantile_of(question: str, default: float = 0.99) -> float:
    """`P95` -> 0.95, `p99.9` -> 0.999, "50th percentile" -> 0.5; else `default`."""
    text = normalize(question)
    m = _QUANTILE.search(text)
    if m is None:
        return 0.5 if _MEDIAN.search(text) else default
    whole: str = m.group(1) or m.group(3)
    digits = whole + (m.group(2) or "")
    return float(int(digits) / 10 ** len(digits))


def names_quantile(question: str) -> bool:
    """True when the question names a quantile (`P95`, "median", "99th percentile")."""
    text = normalize(question)
    return bool(_QUANTILE.search(text) or _MEDIAN.search(text))


def stat_of(question: str) -> str | None:
    """ "mean" when the question asks for an average ("average error rate", "en moyenne")."""
    return "mean" if _AVERAGE.search(normalize(question)) else None


def ranks(question: str) -> bool:
    """True when the question asks for a ranking ("rank", "classe les services", "sort by")."""
    return bool(_RANKING.search(normalize(question)))


def topk_of(question: str) -> int | None:
    text = normalize(question)
    m = _TOPK.search(text)
    if m is None:
        return None
    n = int(m.group(1) or m.group(2))
    return n if 1 <= n <= 50 else None


def namespace_of(question: str, namespaces: Sequence[str]) -> str | None:
    """A live namespace value named in the question ("prod", or "production" for prod)."""
    text = normalize(question)
    for ns in sorted(namespaces, key=len, reverse=True):
        if re.search(rf"(?<![\w-]){re.escape(ns.lower())}(?![\w-])", text):
            return ns
    if _PRODUCTION.search(text):
        prod = [ns for ns in namespaces if ns.lower() in {"prod", "production", "prd"}]
        if len(prod) == 1:
            return prod[0]
    return None


@dataclass(frozen=True)
class Slots:
    """What a question fills; None where it says nothing (a handler or follow-up fills it)."""

    signal: SignalName | None
    quantile: float
    topk: int | None
    namespace: str | None
    stat: str | None = None  # "mean" when an average is asked for, else the signal's default
