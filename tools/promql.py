"""PromQL checked before it is sent, and the pure arithmetic the Prometheus tools share.

`promql_parser` (the Rust parser) says *what* is wrong but not *where*: its `ValueError`
messages carry no position. `validate` adds one where it can be found honestly (an unclosed or
unexpected parenthesis, bracket or brace by scanning; a bad token by locating the offending
text the message quotes), and formats it as Prometheus does, `line:col: message`, with a caret
line under the query. When no position can be derived it says so instead of guessing.

Also here, all pure and unit-tested: metric names a query reads (for the unknown-metric check),
the closest known names, the automatic step of a range query, and value formatting with units
inferred from metric names (`_seconds`, `_bytes`) only where the query keeps them.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import promql_parser

from tools.base import ToolInputError

Unit = Literal["seconds", "bytes"]

# ---------------------------------------------------------------------------- parse errors


@dataclass(frozen=True)
class _Scan:
    """Where the code is in a query: outside string literals and `#` comments."""

    code: tuple[bool, ...]
    unterminated_quote: int | None


def _scan(query: str) -> _Scan:
    code = [True] * len(query)
    unterminated: int | None = None
    i = 0
    while i < len(query):
        char = query[i]
        if char in "\"'`":
            start = i
            i += 1
            while i < len(query) and query[i] != char:
                # Backticks are raw strings in PromQL: no escapes inside.
                i += 2 if query[i] == "\\" and char != "`" else 1
            if i >= len(query):
                unterminated = start
            for k in range(start, min(i + 1, len(query))):
                code[k] = False
            i += 1
        elif char == "#":
            end = query.find("\n", i)
            end = len(query) if end < 0 else end
            for k in range(i, end):
                code[k] = False
            i = end
        else:
            i += 1
    return _Scan(tuple(code), unterminated)


_PAIRS = {"(": ")", "[": "]", "{": "}"}


def _unbalanced(query: str, scan: _Scan, opener: str) -> tuple[int | None, int | None]:
    """(first closer without an opener, innermost opener left open) for one bracket kind."""
    closer = _PAIRS[opener]
    stack: list[int] = []
    for index, char in enumerate(query):
        if not scan.code[index]:
            continue
        if char == opener:
            stack.append(index)
        elif char == closer:
            if not stack:
                return index, None
            stack.pop()
    return None, (stack[-1] if stack else None)


def _inside(query: str, scan: _Scan, opener: str, target: str) -> int | None:
    """First `target` character in code while a group opened by `opener` is open."""
    depth = 0
    for index, char in enumerate(query):
        if not scan.code[index]:
            continue
        if depth > 0 and char == target:
            return index
        if char == opener:
            depth += 1
        elif char == _PAIRS[opener] and depth > 0:
            depth -= 1
    return None


def _find_code(query: str, scan: _Scan, pattern: str, group: int = 0) -> int | None:
    """Offset of the first regex match that starts in code (not in a string or comment)."""
    for match in re.finditer(pattern, query):
        if scan.code[match.start(group)]:
            return match.start(group)
    return None


def _find_string_literal(query: str, scan: _Scan, value: str) -> int | None:
    for quote in "\"'`":
        index = query.find(f"{quote}{value}{quote}")
        if index >= 0:
            return index
    return None


_GROUP_WORDS = {"parenthes": "(", "bracket": "[", "brace": "{"}

Locator = Callable[[str, _Scan, "re.Match[str]"], int | None]


def _group_of(word: str) -> str:
    return next(opener for stem, opener in _GROUP_WORDS.items() if word.startswith(stem))


# Each message of promql_parser we know how to place, with how to find its position. Ordered:
# the first regex that matches the message decides.
_LOCATORS: tuple[tuple[re.Pattern[str], Locator], ...] = (
    (
        re.compile(r"^unclosed left (parenthesis|bracket|brace)"),
        lambda q, s, m: _unbalanced(q, s, _group_of(m.group(1)))[1],
    ),
    (
        re.compile(r"^unexpected right (parenthesis|bracket|brace)"),
        lambda q, s, m: _unbalanced(q, s, _group_of(m.group(1)))[0],
    ),
    (re.compile(r"^unexpected end of input"), lambda q, s, m: len(q.rstrip())),
    (re.compile(r"^unterminated quoted string"), lambda q, s, m: s.unterminated_quote),
    (
        re.compile(r"^unexpected character inside (parenthes\w*|brackets?|braces?): '(.)'"),
        lambda q, s, m: _inside(q, s, _group_of(m.group(1)), m.group(2)),
    ),
    (
        re.compile(r"^unexpected character: '(.)'"),
        lambda q, s, m: _find_code(q, s, re.escape(m.group(1))),
    ),
    (
        re.compile(r"^bad number or duration syntax: (.+)$"),
        lambda q, s, m: _find_code(q, s, re.escape(m.group(1).strip())),
    ),
    (
        re.compile(r"^unknown function with name '([^']+)'"),
        lambda q, s, m: _find_code(q, s, rf"\b{re.escape(m.group(1))}\s*\("),
    ),
    (
        re.compile(r"^unexpected identifier '([^']+)'"),
        lambda q, s, m: _find_code(q, s, rf"(?<![\w:]){re.escape(m.group(1))}(?![\w:])"),
    ),
    (
        re.compile(r"in call to (?:function )?'([^']+)'"),
        lambda q, s, m: _find_code(q, s, rf"\b{re.escape(m.group(1))}\s*\("),
    ),
    (
        re.compile(r"^illegal regex for (.*)$"),
        lambda q, s, m: _find_string_literal(q, s, m.group(1)),
    ),
    (
        re.compile(r"^trailing commas not allowed"),
        lambda q, s, m: _find_code(q, s, r",\s*\)"),
    ),
    (
        re.compile(r"^set operator '(and|or|unless)' not allowed"),
        lambda q, s, m: _find_code(q, s, rf"\b{m.group(1)}\b"),
    ),
    (
        re.compile(r"^vector selector must contain at least one non-empty matcher"),
        # The selector without a metric name: a `{` not preceded by an identifier.
        lambda q, s, m: _find_code(q, s, r"(?:^|[^\w:\s])\s*(\{)", group=1),
    ),
    (
        re.compile(r"^ranges only allowed for vector selectors"),
        lambda q, s, m: _find_code(q, s, r"[\])]\s*(\[)", group=1),
    ),
)


def locate_error(query: str, message: str) -> int | None:
    """0-based offset of the error `message` (from promql_parser) in `query`, or None."""
    scan = _scan(query)
    for pattern, locator in _LOCATORS:
        match = pattern.search(message)
        if match is not None:
            return locator(query, scan, match)
    return None


def format_parse_error(query: str, message: str, offset: int | None) -> str:
    """`line:col: message` and the offending line with a caret, as Prometheus reports it."""
    if offset is None:
        return (
            f"invalid PromQL: {message} (the parser gives no position for this error; look for "
            "two expressions without an operator between them, a missing operand, or a "
            f"misplaced by/without clause)\n  {query}"
        )
    line_no = query.count("\n", 0, offset) + 1
    line_start = query.rfind("\n", 0, offset) + 1
    line_end = query.find("\n", offset)
    line = query[line_start : len(query) if line_end < 0 else line_end]
    column = offset - line_start + 1
    # Tabs would shift the caret: show each as one space.
    shown = line.replace("\t", " ")
    return f"invalid PromQL: {line_no}:{column}: {message}\n  {shown}\n  {' ' * (column - 1)}^"


def validate(query: str) -> Any:
    """The parsed expression of `query`; raises ToolInputError with a positioned message."""
    if not query.strip():
        raise ToolInputError("empty PromQL query", query=query)
    try:
        return promql_parser.parse(query)
    except ValueError as exc:
        message = str(exc)
        raise ToolInputError(
            format_parse_error(query, message, locate_error(query, message)), query=query
        ) from None


# ---------------------------------------------------------------------------- metric names

# absent(x) is how one asks "is x missing?": a missing x there is the point, not a mistake.
_ABSENCE_FUNCTIONS = frozenset({"absent", "absent_over_time"})


def _selector_name(node: Any) -> str | None:
    if not isinstance(node, promql_parser.VectorSelector):
        return None
    if node.name:
        return str(node.name)
    for matcher in node.matchers.matchers:
        if matcher.name == "__name__" and matcher.op == promql_parser.MatchOp.Equal:
            return str(matcher.value)
    return None


def _names(expr: Any) -> Counter[str]:
    found: Counter[str] = Counter()

    def visit(node: Any) -> bool:
        name = _selector_name(node)
        if name is not None:
            found[name] += 1
        return True

    promql_parser.walk(expr, visit)
    return found


def metric_names(expr: Any) -> list[str]:
    """Metric names the expression selects by exact name, in order, excluding names that
    appear only inside absent()/absent_over_time() (absence is what is asked there)."""
    total = _names(expr)
    exempt: Counter[str] = Counter()

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.Call) and node.func.name in _ABSENCE_FUNCTIONS:
            for arg in node.args:
                exempt.update(_names(arg))
        return True

    promql_parser.walk(expr, visit)
    return [name for name, count in total.items() if count > exempt[name]]


def closest_names(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Up to `n` known names closest to `name` (difflib ratio), best first."""
    return difflib.get_close_matches(name, list(known), n=n, cutoff=0.6)


def unknown_metrics_message(unknown: Sequence[str], known: Iterable[str], server: str) -> str:
    """The error for metric names the server has never seen, with the closest existing names."""
    known_list = list(known)
    parts = []
    for name in unknown:
        close = closest_names(name, known_list)
        hint = (
            f"closest existing names: {', '.join(close)}"
            if close
            else "no similar name; search with prometheus_list_metrics"
        )
        parts.append(f"unknown metric '{name}' (no series of that name on {server}); {hint}")
    return "; ".join(parts) + ". The query was not sent."


# ---------------------------------------------------------------------------- range steps

# Steps a person would pick; a range query's step is rounded up to one of these.
NICE_STEPS_S: tuple[int, ...] = (
    15,
    30,
    60,
    2 * 60,
    5 * 60,
    10 * 60,
    15 * 60,
    30 * 60,
    3600,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86400,
    2 * 86400,
    7 * 86400,
)


def points(span: timedelta, step_s: float) -> int:
    """Samples per series Prometheus returns for a range of `span` at `step_s` (both ends)."""
    return math.floor(span.total_seconds() / step_s) + 1


def choose_step(
    span: timedelta, max_points: int, requested_s: float | None = None
) -> tuple[float, str | None]:
    """(step in seconds, warning or None) so that a series has at most `max_points` points.

    Without a request: the smallest nice step that fits. An explicit step is kept when it
    fits and otherwise raised to the smallest nice step that does, with a warning saying so.
    """
    if requested_s is not None and points(span, requested_s) <= max_points:
        return requested_s, None
    floor_s = max(requested_s or 0.0, 1.0)
    step: float = next(
        (s for s in NICE_STEPS_S if s >= floor_s and points(span, s) <= max_points),
        0.0,
    )
    if not step:  # beyond the table: the exact minimum, in whole seconds
        step = float(math.ceil(span.total_seconds() / max(max_points - 1, 1)))
    if requested_s is None:
        return step, None
    return step, (
        f"step {format_duration(requested_s)} would give {points(span, requested_s)} points "
        f"per series (limit {max_points}); raised to {format_duration(step)}"
    )


def format_duration(seconds: float) -> str:
    """`90` -> `1m30s`, `3600` -> `1h`, `0.5` -> `500ms` (Prometheus duration syntax)."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    remaining = round(seconds)
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if remaining >= size:
            out.append(f"{remaining // size}{unit}")
            remaining %= size
    return "".join(out)


# ---------------------------------------------------------------------------- units and values


def unit_of_name(name: str | None) -> Unit | None:
    """The unit a metric name declares by convention (`_seconds`, `_bytes`), else None."""
    if not name:
        return None
    if name.endswith("_seconds"):
        return "seconds"
    if name.endswith("_bytes"):
        return "bytes"
    return None


# Functions and aggregations whose result is in the unit of their (vector) argument.
_SAME_UNIT_FUNCTIONS = frozenset(
    {
        "abs",
        "ceil",
        "floor",
        "round",
        "clamp",
        "clamp_min",
        "clamp_max",
        "min_over_time",
        "max_over_time",
        "avg_over_time",
        "last_over_time",
        "quantile_over_time",
        "label_replace",
        "label_join",
        "sort",
        "sort_desc",
        "delta",
        "idelta",
    }
)
_SAME_UNIT_AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "topk", "bottomk", "quantile", "stddev"}
)
_COMPARISONS = frozenset({"==", "!=", ">", "<", ">=", "<="})


def unit_of_expr(expr: Any) -> Unit | None:
    """The unit of the values `expr` returns, when the query keeps one; None when unsure.

    Conservative on purpose: rate() of seconds is not seconds, a ratio has no unit, and a
    wrong "ms" is worse than a bare number.
    """
    p = promql_parser
    if isinstance(expr, p.VectorSelector):
        return unit_of_name(_selector_name(expr))
    if isinstance(expr, p.MatrixSelector):
        return unit_of_expr(expr.vector_selector)
    if isinstance(expr, p.ParenExpr | p.UnaryExpr | p.SubqueryExpr):
        return unit_of_expr(expr.expr)
    if isinstance(expr, p.AggregateExpr):
        return unit_of_expr(expr.expr) if str(expr.op) in _SAME_UNIT_AGGREGATIONS else None
    if isinstance(expr, p.Call):
        name = expr.func.name
        if name == "histogram_quantile" and len(expr.args) == 2:
            bucket = _bucket_metric(expr.args[1])
            return unit_of_name(bucket.removesuffix("_bucket")) if bucket else None
        if name in _SAME_UNIT_FUNCTIONS:
            vectors = [a for a in expr.args if not isinstance(a, p.NumberLiteral | p.StringLiteral)]
            return unit_of_expr(vectors[0]) if vectors else None
        return None
    if isinstance(expr, p.BinaryExpr):
        return _unit_of_binary(expr)
    return None


def _unit_of_binary(expr: Any) -> Unit | None:
    p = promql_parser
    op = str(expr.op)
    returns_bool = expr.modifier is not None and expr.modifier.return_bool
    lhs, rhs = unit_of_expr(expr.lhs), unit_of_expr(expr.rhs)
    if op in _COMPARISONS and not returns_bool:
        # A filter keeps the vector side's values (`0.5 < x` returns x).
        return rhs if isinstance(expr.lhs, p.NumberLiteral) else lhs
    if op in {"and", "unless"}:
        return lhs
    if op in {"+", "-", "or"} and lhs == rhs:
        return lhs
    return None


def _bucket_metric(expr: Any) -> str | None:
    """The `_bucket` metric under a histogram_quantile argument, if there is exactly one."""
    names = {n for n in _names(expr) if n.endswith("_bucket")}
    return names.pop() if len(names) == 1 else None


def format_number(value: float) -> str:
    """Four significant digits, whole numbers up to 1e15 with thousands separators."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if abs(value) >= 1e4 and abs(value) < 1e15:
        return f"{value:,.0f}"
    if value == 0:
        return "0"
    return f"{value:.4g}"


_BYTE_STEPS = ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB"))


def format_value(value: float, unit: Unit | None = None) -> str:
    """`0.8473, seconds` -> `847.3 ms`; `1.243e11, bytes` -> `124.3 GB` (decimal units)."""
    if unit is None or not math.isfinite(value):
        return format_number(value)
    if unit == "seconds":
        if value != 0 and abs(value) < 1:
            return f"{value * 1000:.4g} ms"
        return f"{value:.4g} s"
    for size, suffix in _BYTE_STEPS:
        if abs(value) >= size:
            return f"{value / size:.4g} {suffix}"
    return f"{value:.4g} B"
