"""Follow-ups: "and yesterday?", "et pour checkout ?", "what about memory?".

A follow-up has no intent of its own but changes one slot of the previous turn: its window
(yesterday / last week shift the previous window by whole days, another expression replaces
it), its service, namespace, signal or quantile. The previous turn's context (Answer.context,
kept by the conversation) says what the rest was.
"""

from __future__ import annotations

import re
from typing import Final

from bot.engine.planner.normalize import normalize, words

_CUE: Final = re.compile(
    r"^(?:and|et|what about|how about|same for|same with|also|aussi|pareil pour|idem pour|"
    r"meme chose pour|la meme pour|and for|et pour|et sur|et du cote de|et cote|ok and|ok et|"
    r"what if|and now|et maintenant)\b"
)
MAX_WORDS: Final = 8
_YESTERDAY: Final = re.compile(r"\byesterday\b|\bhier\b|\bthe day before\b|\bla veille\b")
_LAST_WEEK: Final = re.compile(
    r"\blast week\b|\bsemaine (?:derniere|passee|precedente)\b|\ba week ago\b|\bil y a une "
    r"semaine\b"
)


def is_followup(question: str) -> bool:
    """Short, and phrased as a continuation ("and ...?", "et pour ... ?") or bare slots."""
    text = normalize(question)
    count = len(words(text))
    return count <= MAX_WORDS and (bool(_CUE.search(text)) or count <= 3)


def day_shift(question: str) -> int | None:
    """-1 for "yesterday", -7 for "last week": the previous window moved by whole days."""
    text = normalize(question)
    if _YESTERDAY.search(text):
        return -1
    if _LAST_WEEK.search(text):
        return -7
    return None
