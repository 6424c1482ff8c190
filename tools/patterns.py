"""Log message patterns: the variable parts of a line masked, so lines of one kind group together.

`pattern_of("timeout after 3000ms for order 123")` and the same line with 4100ms and 987 both
give `"timeout after <duration> for order <num>"`. Elasticsearch (without ML plugins) and the
devstack's noida-db cannot group by pattern server-side, so `logs_top_messages` groups client-side
with this function.

Masks are applied most specific first (a UUID contains hex runs and numbers; a duration is a
number with a unit), and every placeholder is free of digits and quotes' contents, so masking a
pattern again changes nothing (`pattern_of` is idempotent).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_HEX = "0-9a-fA-F"


@dataclass(frozen=True)
class _Mask:
    regex: re.Pattern[str]
    placeholder: str
    # Cheap pre-checks: the regex only runs when the text has a digit (`digit`) and one of
    # `needs`, so lines without digits or quotes cost next to nothing.
    needs: tuple[str, ...] = ()
    digit: bool = True


# In the order they apply.
_MASKS: tuple[_Mask, ...] = (
    # ISO-8601 timestamps and dates before anything eats their digits.
    _Mask(
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
            r"(?:Z|[+-]\d{2}:?\d{2})?)?\b"
        ),
        "<ts>",
        ("-",),
    ),
    _Mask(re.compile(r"\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<ts>", (":",)),
    _Mask(
        re.compile(rf"\b[{_HEX}]{{8}}-[{_HEX}]{{4}}-[{_HEX}]{{4}}-[{_HEX}]{{4}}-[{_HEX}]{{12}}\b"),
        "<uuid>",
        ("-",),
    ),
    _Mask(re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "<email>", ("@",), digit=False),
    # IPv4 with an optional port; IPv6 only in its common full or "::"-compressed forms.
    _Mask(re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b"), "<ip>", (".",)),
    _Mask(
        re.compile(rf"(?<![\w:])(?:[{_HEX}]{{1,4}}:){{7}}[{_HEX}]{{1,4}}(?![\w:])"), "<ip>", (":",)
    ),
    _Mask(
        re.compile(
            rf"(?<![\w:])(?=[{_HEX}:]*[{_HEX}])(?:[{_HEX}]{{1,4}}(?::[{_HEX}]{{1,4}})*)?::"
            rf"(?:[{_HEX}]{{1,4}}(?::[{_HEX}]{{1,4}})*)?(?![\w:])"
        ),
        "<ip>",
        ("::",),
    ),
    # Quoted values (search terms, user input) vary freely; an apostrophe inside a word
    # ("can't") is not a quote, hence the look-arounds.
    _Mask(re.compile(r'(?<![\w"])"[^"\n]{0,200}"(?![\w"])'), '"<str>"', ('"',), digit=False),
    _Mask(re.compile(r"(?<![\w'])'[^'\n]{0,200}'(?![\w'])"), "'<str>'", ("'",), digit=False),
    _Mask(re.compile(rf"\b0x[{_HEX}]+\b"), "<hex>", ("0x",)),
    # Hex ids (trace ids, hashes, idempotency keys): 8+ hex digits with a digit and a letter,
    # so neither plain numbers nor English words ("deadbeef" aside) are taken. The
    # alternation finds the first letter/digit switch without scanning the token twice.
    _Mask(
        re.compile(rf"\b(?=[{_HEX}]{{8}})(?:[a-fA-F]+\d|\d+[a-fA-F])[{_HEX}]*\b"),
        "<hex>",
    ),
    # Durations: a number glued to (or one space from) a time unit.
    _Mask(
        re.compile(
            r"(?<![\w.])\d+(?:\.\d+)?\s?"
            r"(?:ns|us|µs|ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)\b"
        ),
        "<duration>",
    ),
    # Other opaque ids: 8+ letters and digits, mixed (base62 ids, tokens).
    _Mask(re.compile(r"\b(?=[A-Za-z0-9]{8})(?:[A-Za-z]+\d|\d+[A-Za-z])[A-Za-z0-9]*\b"), "<id>"),
    # Remaining numbers, decimals and versions ("2.14.3"); "v1" or "HTTP2" keep their digits
    # because a letter precedes them.
    _Mask(re.compile(r"(?<![A-Za-z0-9_])\d+(?:[.,]\d+)*(?![A-Za-z0-9_])"), "<num>"),
)
_DIGIT = re.compile(r"\d")
_SPACES = re.compile(r"\s+")
# HTTP status codes are kept: "GET /x 200 12ms" and "GET /x 503 3042ms" are different stories.
_HTTP_STATUS = re.compile(
    r"(?:\b(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S+ |"
    r"\b(?:status|returned|code|HTTP)[ =:]{1,3})(?P<status>[1-5]\d\d)\b",
    re.IGNORECASE,
)


# Windows asked about again (follow-ups, the histogram then the top messages) repeat the same
# messages: masking costs ~25 us a message, a cache hit well under 1 us.
@functools.lru_cache(maxsize=32768)
def pattern_of(message: str) -> str:
    """`message` with its variable parts masked: `<num>`, `<uuid>`, `<hex>`, `<ip>`, ...

    Placeholders: `<ts>` timestamps, `<uuid>`, `<email>`, `<ip>` (IPv4 with port, IPv6),
    `"<str>"` quoted strings, `<hex>` hex ids, `<duration>` (3000ms, 1.5s, 12 seconds),
    `<id>` mixed letter-digit ids, `<num>` other numbers (ids in paths included:
    `/v1/orders/123` -> `/v1/orders/<num>`). HTTP status codes after a method and path, or
    after "status"/"returned"/"code", are kept. Runs of whitespace become one space.
    """
    text = _SPACES.sub(" ", message.strip())
    parts: list[str] = []
    kept = 0
    for match in _HTTP_STATUS.finditer(text):
        parts += [_mask(text[kept : match.start("status")]), match.group("status")]
        kept = match.end("status")
    parts.append(_mask(text[kept:]))
    return "".join(parts)


def _mask(text: str) -> str:
    digit = _DIGIT.search(text) is not None
    for mask in _MASKS:
        if mask.digit and not digit:
            continue
        if mask.needs and not any(needle in text for needle in mask.needs):
            continue
        text = mask.regex.sub(mask.placeholder, text)
    return text
