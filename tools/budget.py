"""Bounding what a model reads: a token estimate and a line-wise fit to a budget.

No tokenizer is loaded (they download their vocabularies at run time, which production
deployments and this project's machines may not allow); ~4 characters per token is the usual
estimate for English/French text and JSON-ish output, and errs on the generous side for
numbers. The budget is a ceiling for the model-facing text, not a billing figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def fit_lines(
    header: Sequence[str], rows: Sequence[str], budget_tokens: int, *, noun: str = "rows"
) -> tuple[str, bool]:
    """`header` then as many whole `rows` as fit in the budget; says so when rows were cut.

    Returns (text, truncated). The header is always kept; a row never appears half.
    """
    budget_chars = budget_tokens * CHARS_PER_TOKEN
    out = list(header)
    used = sum(len(line) + 1 for line in out)
    shown = 0
    for index, row in enumerate(rows):
        # Keep room for the cut notice unless this is the last row.
        reserve = 0 if index == len(rows) - 1 else 80
        if used + len(row) + 1 + reserve > budget_chars:
            break
        out.append(row)
        used += len(row) + 1
        shown += 1
    truncated = shown < len(rows)
    if truncated:
        out.append(f"(cut to fit {budget_tokens} tokens: {shown} of {len(rows)} {noun} shown)")
    return "\n".join(out), truncated


def truncate(text: str, max_chars: int) -> str:
    """`text` cut to `max_chars`, marked with its original length when cut."""
    if len(text) <= max_chars:
        return text
    return f"{text[: max(0, max_chars - 20)]}… [{len(text)} chars]"
