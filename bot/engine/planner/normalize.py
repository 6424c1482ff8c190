"""One normalisation for every matcher: lower case, no accents, plain apostrophes and spaces.

Routing, slot filling and service matching all read the question through `normalize`, so a
French question typed without accents ("depuis ce matin", "memoire") or with typographic
apostrophes matches the same rules as one typed carefully.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """`La latence P99 d’aujourd’hui ?` -> `la latence p99 d'aujourd'hui ?`."""
    lowered = strip_accents(text.lower()).replace("’", "'").replace("`", "'")
    lowered = lowered.replace("œ", "oe")
    return _SPACES.sub(" ", lowered).strip()


def words(text: str) -> list[str]:
    """Tokens of a normalised text: letters, digits, and inner hyphens or underscores."""
    return re.findall(r"[a-z0-9]+(?:[-_][a-z0-9]+)*", text)
