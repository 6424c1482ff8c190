"""Elasticsearch log read tools: search, histogram, top messages by pattern, and the field list.

All four read through the `Elasticsearch` client of `Services` and call only the search and
mapping APIs (`search`, `indices.get_mapping`): nothing here writes. Index patterns are checked
against `elasticsearch.allowed_indices` before any request, so a model cannot read `.security`
or `*` by asking.

Queries stay within what real Elasticsearch 8/9 and the devstack's noida-db both accept:
`query_string` with an explicit default field, `term`/`terms`/`match_phrase`/`range` filters,
`terms`, `date_histogram` (fixed intervals, a "+01:00"-style offset rather than a zone name,
which noida-db ignores) and `top_hits`. First/last seen come from `top_hits` sorted on
`@timestamp`, not `min`/`max`, which noida-db returns as null on dates.

Field names used in filters and splits are checked against the merged mapping of the matched
indices first (cached a minute per client and pattern, re-read before reporting a field as
unknown), so a typo comes back with close names instead of an empty result. Times shown are
local (`VIGIE_TIMEZONE`); `ToolResult.data` keeps UTC ISO-8601.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import time
import weakref
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TransportError
from elasticsearch import ApiError, Elasticsearch
from pydantic import Field

from tools.base import (
    BackendError,
    Status,
    TimeRange,
    Tool,
    ToolArgs,
    ToolContext,
    ToolError,
    ToolInputError,
    ToolResult,
    description,
)
from tools.budget import estimate_tokens, fit_lines, truncate
from tools.patterns import pattern_of
from tools.timeexpr import parse_duration, parse_range

JSONDict = dict[str, Any]

TIMESTAMP = "@timestamp"
MESSAGE = "message"
LEVEL = "level"
SERVICE = "service"
NAMESPACE = "namespace"

# A mapping changes rarely; re-reading it on every call would cost more than the search on a
# cluster with hundreds of daily indices. Unknown names trigger a re-read before any error.
MAPPING_TTL_S = 60.0
# logs_top_messages: the terms aggregation is exact only while the window holds fewer distinct
# messages than this; beyond, a newest-first sample is the honest answer.
TERMS_SIZE = 5000
# Histogram bucket widths, smallest first; the first giving at most ~60 buckets is used.
_NICE_INTERVALS_S = (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
    86400, 2 * 86400, 7 * 86400,
)  # fmt: skip
_TARGET_BUCKETS = 60
_MAX_BUCKETS = 500
# Level spellings differ between stacks (log4j WARN, Python WARNING, Go "warn").
_LEVEL_ALIASES = {
    "warn": ("warn", "warning"),
    "warning": ("warn", "warning"),
    "error": ("error", "err"),
    "err": ("error", "err"),
    "fatal": ("fatal", "critical", "crit"),
    "critical": ("fatal", "critical", "crit"),
}
_AGGREGATABLE = frozenset(
    {
        "keyword", "constant_keyword", "wildcard", "long", "integer", "short", "byte", "double",
        "float", "half_float", "scaled_float", "unsigned_long", "date", "date_nanos", "boolean",
        "ip", "version",
    }
)  # fmt: skip
_QUERY_SYNTAX_HELP = (
    'Lucene syntax: words and "quoted phrases" search the message; field:value, with quotes '
    'around values holding hyphens or spaces (service:"payment-gateway"); AND/OR/NOT; ranges '
    "http.status:[500 TO 599] or http.status:>=500"
)
_QUERY_FIELD = re.compile(r'(?<![\w.\\"])([A-Za-z_@][\w.@-]*):(?!/)')


# --------------------------------------------------------------------------- arguments

Scalar = str | int | float | bool
Values = Scalar | list[Scalar]


class _WindowArgs(ToolArgs):
    """Which lines: index, query, filters and time range (shared by search/histogram/top)."""

    query: str | None = Field(
        None,
        description="Lucene query_string over the message by default, e.g. "
        '"connection AND pool", "\\"pool exhausted\\"", "http.status:>=500". Terms are ANDed.',
    )
    service: str | list[str] | None = Field(None, description="service name(s), exact")
    level: str | list[str] | None = Field(
        None, description="log level(s), case-insensitive: ERROR, WARN, INFO, DEBUG"
    )
    namespace: str | list[str] | None = Field(None, description="namespace(s), exact")
    filters: dict[str, Values] = Field(
        default_factory=dict,
        description='exact field filters, e.g. {"http.status": 503, "pod": "pg-1"}; a list '
        "means any of the values",
    )
    start: str | int | None = Field(
        None, description="start: now-2h, 'today 08:40', RFC 3339, Unix seconds; default now-1h"
    )
    end: str | int | None = Field(None, description="end, same forms; default now")
    index: str | None = Field(
        None, description="index pattern, default the configured one (logs-*)"
    )


class LogsSearchArgs(_WindowArgs):
    """Arguments of `logs_search`."""

    size: int = Field(20, ge=1, le=100, description="lines to return, newest first")


class LogsHistogramArgs(_WindowArgs):
    """Arguments of `logs_histogram`."""

    interval: str | None = Field(
        None, description="bucket width (1m, 5m, 1h); default: about 60 buckets over the range"
    )
    split_by: str | None = Field(
        None, description="split each bucket by a keyword field: level, service, namespace..."
    )
    top: int = Field(5, ge=1, le=20, description="split values shown (the most frequent)")


class LogsTopMessagesArgs(_WindowArgs):
    """Arguments of `logs_top_messages`."""

    top: int = Field(10, ge=1, le=50, description="patterns to show, most frequent first")
    sample_size: int = Field(
        2000,
        ge=100,
        le=5000,
        description="lines fetched when the window is too large to count every message",
    )


class LogsFieldsArgs(ToolArgs):
    """Arguments of `logs_fields`."""

    index: str | None = Field(
        None, description="index pattern, default the configured one (logs-*)"
    )
    match: str | None = Field(None, description="only fields whose name contains this text")


# --------------------------------------------------------------------------- indices


def resolve_index(ctx: ToolContext, index: str | None) -> str:
    """The index expression to read: `index` (or the default) if every part is allowed.

    A part is allowed when `elasticsearch.allowed_indices` has a pattern that matches it with
    the part's own wildcards taken literally: `logs-prod-*` is inside `logs-*`, while `*`,
    `logs*` or `.security` are not. Raises ToolInputError; sends nothing.
    """
    settings = ctx.services.settings.elasticsearch
    requested = (index if index is not None else settings.index).strip()
    allowed = ", ".join(settings.allowed_indices)
    parts = [part.strip() for part in requested.split(",")]
    for part in parts:
        if not part:
            raise ToolInputError(f"empty index name in '{requested}'; allowed: {allowed}")
        if not any(_inside(part, pattern) for pattern in settings.allowed_indices):
            raise ToolInputError(
                f"index '{part}' is not allowed: Vigie may only read indices matching "
                f"{allowed} (elasticsearch.allowed_indices); the default is {settings.index}"
            )
    return ",".join(parts)


def _inside(part: str, pattern: str) -> bool:
    # Elasticsearch index patterns only know `*`. Its stand-in here stops at ',' and ':' so a
    # remote cluster prefix ("other:logs-x") never slips through; a leading '-' (exclusion)
    # or date math ('<...>') cannot match a pattern that starts with a letter.
    regex = "[^,:]*".join(re.escape(piece) for piece in pattern.split("*"))
    return re.fullmatch(regex, part) is not None


# --------------------------------------------------------------------------- requests


def _client(ctx: ToolContext) -> Elasticsearch:
    # Per-call options: the timeout is the setting's whatever the client was built with, and
    # no retry can stretch a chat reply past it.
    return ctx.services.elasticsearch.options(
        request_timeout=ctx.services.settings.elasticsearch.timeout_s, max_retries=0
    )


def _compact(body: Mapping[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def search_text(index: str, body: Mapping[str, Any]) -> str:
    """A search as shown in `ToolResult.query`: method, path and compact JSON body."""
    return f"POST /{index}/_search {_compact(body)}"


def _search(ctx: ToolContext, index: str, body: JSONDict) -> JSONDict:
    query = search_text(index, body)
    try:
        response = _client(ctx).search(index=index, **body)
    except (ApiError, TransportError) as exc:
        raise _backend_error(ctx, exc, query, body) from None
    result: JSONDict = response.body
    return result


def _backend_error(
    ctx: ToolContext, exc: ApiError | TransportError, query: str, body: Mapping[str, Any] | None
) -> Exception:
    settings = ctx.services.settings.elasticsearch
    url = str(settings.url).rstrip("/")
    if isinstance(exc, ConnectionTimeout):
        return BackendError(
            f"Elasticsearch at {url} did not answer within {settings.timeout_s:g} s "
            "(elasticsearch.timeout_s); narrow the time range or the index pattern",
            query=query,
        )
    if isinstance(exc, TransportConnectionError):
        text = str(exc.message or exc)
        if "refused" in text.lower():
            return BackendError(
                f"connection refused to {url} (is Elasticsearch running? check elasticsearch.url)",
                query=query,
            )
        return BackendError(f"cannot connect to Elasticsearch at {url}: {text}", query=query)
    if isinstance(exc, TransportError):
        return BackendError(f"Elasticsearch at {url} failed: {exc}", query=query)
    status = exc.meta.status
    kind, reason = _error_reason(exc.body)
    syntax = "parse" in reason.lower() or "lexical" in reason.lower()
    if status == 400 and syntax and body is not None and "query_string" in _compact(body):
        return ToolInputError(
            f"query syntax error: {reason}. {_QUERY_SYNTAX_HELP}", query=query, status_code=status
        )
    if status == 400:
        return ToolInputError(
            f"Elasticsearch rejected the request ({kind}): {reason}",
            query=query,
            status_code=status,
        )
    if status == 404:
        return ToolInputError(
            f"{reason} (use a pattern such as logs-*; logs_fields lists what exists)",
            query=query,
            status_code=status,
        )
    if status in {401, 403}:
        return BackendError(
            f"Elasticsearch refused access ({status} {kind}): {reason} (check "
            "elasticsearch.username/password/api_key and the role's read privileges)",
            query=query,
            status_code=status,
        )
    return BackendError(
        f"Elasticsearch answered {status} ({kind}): {reason}", query=query, status_code=status
    )


def _error_reason(body: Any) -> tuple[str, str]:
    """(type, reason) from an Elasticsearch error body; the root cause says the most."""
    if not isinstance(body, dict):
        return "error", truncate(str(body), 300)
    error = body.get("error")
    if isinstance(error, str):
        return "error", truncate(error, 300)
    if not isinstance(error, dict):
        return "error", truncate(_compact(body), 300)
    causes = error.get("root_cause") or []
    best = causes[0] if causes and isinstance(causes[0], dict) else error
    if best.get("reason") in (None, "all shards failed") and isinstance(
        error.get("caused_by"), dict
    ):
        best = error["caused_by"]
    return str(best.get("type", "error")), truncate(str(best.get("reason", "")), 300)


# --------------------------------------------------------------------------- mappings


@dataclass(frozen=True)
class FieldMap:
    """The fields of the matched indices, merged: dotted name -> distinct types."""

    indices: tuple[str, ...]
    types: dict[str, tuple[str, ...]]
    # parent -> multi-fields, e.g. "message" -> ("message.keyword",)
    subfields: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.types

    def kind(self, name: str) -> str:
        return "|".join(self.types.get(name, ("unknown",)))

    def aggregatable(self, name: str) -> bool:
        return all(t in _AGGREGATABLE for t in self.types.get(name, ("unknown",)))

    def keyword_of(self, name: str) -> str | None:
        """An aggregatable multi-field of `name` (`message` -> `message.keyword`), if any."""
        return next((sub for sub in self.subfields.get(name, ()) if self.aggregatable(sub)), None)

    def close_to(self, name: str, limit: int = 5) -> list[str]:
        """Field names near `name`: spelling, then the same last segment or a containment."""
        names = [n for n, types in self.types.items() if types != ("object",)]
        found = difflib.get_close_matches(name, names, n=limit, cutoff=0.6)
        last = name.rsplit(".", 1)[-1].lower()
        for candidate in sorted(names):
            low = candidate.lower()
            if len(found) >= limit:
                break
            if candidate not in found and (
                low.rsplit(".", 1)[-1] == last or (len(last) >= 3 and last in low)
            ):
                found.append(candidate)
        return found


_MAPPINGS: weakref.WeakKeyDictionary[Elasticsearch, dict[str, tuple[float, FieldMap]]] = (
    weakref.WeakKeyDictionary()
)


def field_map(ctx: ToolContext, index: str, *, fresh: bool = False) -> FieldMap:
    """The merged mapping of `index` (cached `MAPPING_TTL_S` per client unless `fresh`)."""
    cache = _MAPPINGS.setdefault(ctx.services.elasticsearch, {})
    cached = cache.get(index)
    if cached is not None and not fresh and cached[0] > time.monotonic():
        return cached[1]
    try:
        response = _client(ctx).indices.get_mapping(index=index)
    except (ApiError, TransportError) as exc:
        raise _backend_error(ctx, exc, f"GET /{index}/_mapping", None) from None
    fields = merge_mappings(response.body)
    cache[index] = (time.monotonic() + MAPPING_TTL_S, fields)
    return fields


def merge_mappings(body: Mapping[str, Any]) -> FieldMap:
    """A `FieldMap` from a get-mapping response (index -> {"mappings": {...}})."""
    types: defaultdict[str, set[str]] = defaultdict(set)
    subfields: defaultdict[str, set[str]] = defaultdict(set)

    def walk(properties: Mapping[str, Any], prefix: str) -> None:
        for name, spec in properties.items():
            if not isinstance(spec, dict):
                continue
            path = f"{prefix}{name}"
            kind = spec.get("type", "object" if "properties" in spec else "unknown")
            if "properties" in spec:
                if kind == "nested":
                    types[path].add("nested")
                walk(spec["properties"], f"{path}.")
            else:
                types[path].add(kind)
            for sub, sub_spec in (spec.get("fields") or {}).items():
                types[f"{path}.{sub}"].add(str(sub_spec.get("type", "keyword")))
                subfields[path].add(f"{path}.{sub}")

    for body_of_index in body.values():
        mappings = body_of_index.get("mappings", {}) if isinstance(body_of_index, dict) else {}
        walk(mappings.get("properties", {}), "")
    return FieldMap(
        indices=tuple(sorted(body)),
        types={name: tuple(sorted(kinds)) for name, kinds in sorted(types.items())},
        subfields={name: tuple(sorted(subs)) for name, subs in subfields.items()},
    )


def _require(
    ctx: ToolContext, index: str, names: Iterable[str], *, aggregate: Sequence[str] = ()
) -> FieldMap:
    """The field map, once every name in `names` exists and those in `aggregate` can be
    aggregated; otherwise ToolInputError with close names. No index matched: no check."""
    wanted = [*names, *aggregate]
    fields = field_map(ctx, index)
    if fields.indices and any(not fields.has(name) for name in wanted):
        fields = field_map(ctx, index, fresh=True)  # a field added since the cache was filled
    if not fields.indices:
        return fields
    for name in wanted:
        if not fields.has(name):
            close = fields.close_to(name)
            hint = f"; close: {', '.join(close)}" if close else ""
            raise ToolInputError(
                f"unknown field '{name}' in {index}{hint} (logs_fields lists every field)",
                query=f"GET /{index}/_mapping",
            )
    for name in aggregate:
        if not fields.aggregatable(name):
            keyword = fields.keyword_of(name)
            instead = f"; use '{keyword}'" if keyword else ""
            raise ToolInputError(
                f"field '{name}' is {fields.kind(name)} and cannot be counted by value{instead}",
                query=f"GET /{index}/_mapping",
            )
    return fields


# --------------------------------------------------------------------------- query building


@dataclass(frozen=True)
class _Window:
    """A resolved `_WindowArgs`: index, UTC range, the bool query and the mapping."""

    index: str
    start: datetime
    end: datetime
    query: JSONDict
    fields: FieldMap
    args: _WindowArgs

    @property
    def time_range(self) -> TimeRange:
        return TimeRange(start=self.start, end=self.end)


def _as_list(value: object) -> list[Scalar]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, str | int | float | bool)]


def _window(ctx: ToolContext, args: _WindowArgs, *, aggregate: Sequence[str] = ()) -> _Window:
    index = resolve_index(ctx, args.index)
    start, end = parse_range(
        None if args.start is None else str(args.start),
        None if args.end is None else str(args.end),
        ctx.now(),
        ctx.tz,
    )
    equals: dict[str, list[Scalar]] = {}
    for name, value in ((SERVICE, args.service), (NAMESPACE, args.namespace)):
        if values := _as_list(value):
            equals[name] = values
    for name, given in args.filters.items():
        if values := _as_list(given):
            equals[name] = values
    levels = _as_list(args.level)
    names = [*equals, *([LEVEL] if levels else [])]
    fields = _require(ctx, index, names, aggregate=aggregate)
    clauses: list[JSONDict] = [{"range": {TIMESTAMP: {"gte": _iso(start), "lt": _iso(end)}}}]
    if args.query and args.query.strip():
        clauses.append(
            {
                "query_string": {
                    "query": args.query.strip(),
                    "default_field": MESSAGE,
                    "default_operator": "AND",
                }
            }
        )
    for name, values in equals.items():
        clauses.append(_equals(name, values, fields))
    if levels:
        clauses.append(_levels(levels))
    return _Window(index, start, end, {"bool": {"filter": clauses}}, fields, args)


def _equals(name: str, values: Sequence[Scalar], fields: FieldMap) -> JSONDict:
    # Text fields hold analysed tokens: an exact `term` on them misses, a phrase does not.
    if "text" in fields.types.get(name, ()):
        phrases = [{"match_phrase": {name: str(v)}} for v in values]
        return phrases[0] if len(phrases) == 1 else _any(phrases)
    if len(values) == 1:
        return {"term": {name: values[0]}}
    return {"terms": {name: list(values)}}


def _levels(levels: Sequence[Scalar]) -> JSONDict:
    # `case_insensitive` term (ES >= 7.10, noida-db too) rather than guessing the stack's case.
    spellings: list[str] = []
    for level in levels:
        for spelling in _LEVEL_ALIASES.get(str(level).lower(), (str(level).lower(),)):
            if spelling not in spellings:
                spellings.append(spelling)
    terms = [{"term": {LEVEL: {"value": s, "case_insensitive": True}}} for s in spellings]
    return terms[0] if len(terms) == 1 else _any(terms)


def _any(clauses: list[JSONDict]) -> JSONDict:
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_ts(value: Any) -> datetime | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


# --------------------------------------------------------------------------- rendering helpers


def _describe(window: _Window, tz: ZoneInfo) -> str:
    """`payment-gateway ERROR "pool", 2026-11-20 08:40 .. 10:00 Europe/Paris` for headers."""
    args = window.args
    parts = [str(v) for v in _as_list(args.service) + _as_list(args.namespace)]
    parts += [str(v).upper() for v in _as_list(args.level)]
    parts += [f"{k}={v}" for k, v in args.filters.items()]
    if args.query:
        parts.append(repr(args.query))
    what = " ".join(parts) if parts else "all lines"
    return f"{what} in {window.index}, {_local_range(window.start, window.end, tz)}"


def _local_range(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    a, b = start.astimezone(tz), end.astimezone(tz)
    tail = f"{b:%H:%M}" if a.date() == b.date() else f"{b:%Y-%m-%d %H:%M}"
    return f"{a:%Y-%m-%d %H:%M} .. {tail} {tz.key}"


def _clock(when: datetime, tz: ZoneInfo, *, day: bool, millis: bool = False) -> str:
    local = when.astimezone(tz)
    text = f"{local:%H:%M:%S}" + (f".{local.microsecond // 1000:03d}" if millis else "")
    return f"{local:%m-%d} {text}" if day else text


def _count(n: int, relation: str = "eq") -> str:
    return f"{n:,}+" if relation == "gte" else f"{n:,}"


def _fit(
    ctx: ToolContext, header: list[str], rows: list[str], query: str, noun: str
) -> tuple[str, bool]:
    # `render()` adds the status, query and range lines to the text: keep the whole within
    # the context's budget, with a floor so a long query never leaves room for nothing.
    overhead = estimate_tokens(query) + 40
    return fit_lines(header, rows, max(ctx.token_budget - overhead, 150), noun=noun)


def _flatten(source: Mapping[str, Any], prefix: str = "") -> JSONDict:
    out: JSONDict = {}
    for key, value in source.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _no_data(ctx: ToolContext, tool: str, window: _Window, query: str, what: str) -> ToolResult:
    hints = []
    if not window.fields.indices:
        hints.append(f"no index matches '{window.index}' (logs_fields shows what exists)")
    else:
        unknown = sorted(
            {
                name
                for name in _QUERY_FIELD.findall(window.args.query or "")
                if not window.fields.has(name)
            }
        )
        if unknown:
            hints.append(
                f"the query names field(s) absent from the mapping: {', '.join(unknown)} "
                "(such a clause matches nothing; logs_fields lists the fields)"
            )
        hints.extend(_values_present(ctx, window))
        hints.append(
            "widen the range (start='now-24h'), drop a filter, or quote hyphenated values "
            '(service:"payment-gateway")'
        )
    text = f"No {what} for {_describe(window, ctx.tz)}. Hint: " + "; ".join(hints) + "."
    return ToolResult(
        tool=tool,
        backend="elasticsearch",
        status=Status.NO_DATA,
        query=query,
        time_range=window.time_range,
        data={"index": window.index, "total": 0},
        text=text,
    )


def _values_present(ctx: ToolContext, window: _Window) -> list[str]:
    """For each exact filter of an empty result, the values that do occur in the range.

    One extra request, only on the no-data path: a misspelt service name is the usual cause,
    and the model can retry with a real one.
    """
    args = window.args
    given: dict[str, object] = {SERVICE: args.service, NAMESPACE: args.namespace, LEVEL: args.level}
    given |= args.filters
    names = [n for n, v in given.items() if _as_list(v) and window.fields.aggregatable(n)]
    if not names:
        return []
    body: JSONDict = {
        "query": {"range": {TIMESTAMP: {"gte": _iso(window.start), "lt": _iso(window.end)}}},
        "size": 0,
        "aggs": {f"values_{i}": {"terms": {"field": n, "size": 10}} for i, n in enumerate(names)},
    }
    try:
        aggregations = _search(ctx, window.index, body).get("aggregations") or {}
    except ToolError:
        return []
    hints = []
    for i, name in enumerate(names):
        values = [str(b["key"]) for b in (aggregations.get(f"values_{i}") or {}).get("buckets", [])]
        present = ", ".join(values) if values else "none"
        hints.append(f"{name} values with lines in this range: {present}")
    return hints


# --------------------------------------------------------------------------- logs_search


def logs_search(ctx: ToolContext, args: LogsSearchArgs) -> ToolResult:
    """Matching log lines, newest first, trimmed to the configured fields."""
    window = _window(ctx, args)
    settings = ctx.services.settings.tools
    body: JSONDict = {
        "query": window.query,
        "sort": [{TIMESTAMP: {"order": "desc"}}],
        "size": args.size,
        "_source": list(settings.log_fields),
    }
    query = search_text(window.index, body)
    response = _search(ctx, window.index, body)
    hits = response.get("hits", {})
    total_info = hits.get("total") or {}
    total = int(total_info.get("value", 0)) if isinstance(total_info, dict) else int(total_info)
    relation = total_info.get("relation", "eq") if isinstance(total_info, dict) else "eq"
    rows = [
        _trim(_flatten(hit.get("_source") or {}), settings.log_fields, settings.log_message_chars)
        | {"_index": hit.get("_index")}
        for hit in hits.get("hits", [])
    ]
    if not rows:
        return _no_data(ctx, "logs_search", window, query, "log lines")
    stamps = [_parse_ts(row.get(TIMESTAMP)) for row in rows]
    days = {s.astimezone(ctx.tz).date() for s in stamps if s is not None}
    lines = [
        _search_line(row, stamp, ctx.tz, day=len(days) > 1, fields=settings.log_fields)
        for row, stamp in zip(rows, stamps, strict=True)
    ]
    day_note = f" (local day {next(iter(days))})" if len(days) == 1 else ""
    header = [
        f"{len(rows)} of {_count(total, relation)} matching lines shown, newest first{day_note}: "
        f"{_describe(window, ctx.tz)}"
    ]
    text, truncated = _fit(ctx, header, lines, query, "lines")
    return ToolResult(
        tool="logs_search",
        backend="elasticsearch",
        status=Status.OK,
        query=query,
        time_range=window.time_range,
        data={"index": window.index, "total": total, "total_relation": relation, "rows": rows},
        text=text,
        truncated=truncated,
    )


def _trim(source: JSONDict, fields: Sequence[str], message_chars: int) -> JSONDict:
    row = {name: source[name] for name in fields if name in source}
    if isinstance(row.get(MESSAGE), str):
        row[MESSAGE] = truncate(row[MESSAGE], message_chars)
    return row


def _search_line(
    row: JSONDict, stamp: datetime | None, tz: ZoneInfo, *, day: bool, fields: Sequence[str]
) -> str:
    when = _clock(stamp, tz, day=day, millis=True) if stamp else str(row.get(TIMESTAMP, "?"))
    where = "/".join(str(row[k]) for k in (SERVICE, NAMESPACE) if k in row)
    parts = [when, str(row.get(LEVEL, "-")), where]
    shown = {TIMESTAMP, LEVEL, SERVICE, NAMESPACE, MESSAGE}
    parts += [f"{name}={row[name]}" for name in fields if name not in shown and name in row]
    message = str(row.get(MESSAGE, "")).replace("\n", "⏎ ")
    return " ".join(p for p in parts if p) + f" | {message}"


# --------------------------------------------------------------------------- logs_histogram


@dataclass(frozen=True)
class _Bucket:
    start: datetime
    count: int
    by: dict[str, int]

    def as_data(self) -> JSONDict:
        return {"start": _iso(self.start), "count": self.count, "by": self.by}


@dataclass(frozen=True)
class _Histogram:
    """A histogram response, decoded: buckets, split keys and totals."""

    interval_s: int
    split: str | None
    buckets: list[_Bucket]
    keys: list[str]
    totals_by: dict[str, int]
    other: int

    @property
    def total(self) -> int:
        return sum(b.count for b in self.buckets)

    @property
    def peak(self) -> _Bucket:
        return max(self.buckets, key=lambda b: b.count)


def logs_histogram(ctx: ToolContext, args: LogsHistogramArgs) -> ToolResult:
    """Line counts over time, optionally split by a keyword field (level, service...)."""
    split = args.split_by.strip() if args.split_by else None
    window = _window(ctx, args, aggregate=[split] if split else [])
    span_s = (window.end - window.start).total_seconds()
    interval_s = _interval(args.interval, span_s)
    histogram: JSONDict = {
        "field": TIMESTAMP,
        "fixed_interval": _es_interval(interval_s),
        "min_doc_count": 0,
        "extended_bounds": {"min": _millis(window.start), "max": _millis(window.end) - 1},
    }
    offset = _utc_offset(window.start, ctx.tz)
    if interval_s >= 3600 and offset != "+00:00":
        # Hour/day buckets start on local boundaries. A fixed offset (taken at the range's
        # start), since noida-db ignores zone names; across a DST change, real Elasticsearch
        # with a zone name would be exact, this is an hour off after the change.
        histogram["time_zone"] = offset
    aggs: JSONDict = {"over_time": {"date_histogram": histogram}}
    if split:
        aggs["over_time"]["aggs"] = {"split": {"terms": {"field": split, "size": args.top}}}
        aggs["split_totals"] = {"terms": {"field": split, "size": args.top}}
    body: JSONDict = {"query": window.query, "size": 0, "aggs": aggs}
    query = search_text(window.index, body)
    result = _decode_histogram(_search(ctx, window.index, body), interval_s, split)
    if result.total == 0:
        return _no_data(ctx, "logs_histogram", window, query, "log lines")
    text, truncated = _histogram_text(ctx, window, result, query)
    peak = result.peak
    return ToolResult(
        tool="logs_histogram",
        backend="elasticsearch",
        status=Status.OK,
        query=query,
        time_range=window.time_range,
        data={
            "index": window.index,
            "interval": _es_interval(interval_s),
            "interval_s": interval_s,
            "split_by": split,
            "keys": result.keys,
            "total": result.total,
            "totals_by": result.totals_by,
            "other": result.other,
            "peak": peak.as_data(),
            "buckets": [b.as_data() for b in result.buckets],
        },
        text=text,
        truncated=truncated,
    )


def _decode_histogram(response: JSONDict, interval_s: int, split: str | None) -> _Histogram:
    aggregations = response.get("aggregations") or {}
    totals = aggregations.get("split_totals") or {}
    buckets = []
    for raw in (aggregations.get("over_time") or {}).get("buckets", []):
        start = _parse_ts(raw.get("key"))
        if start is None:
            continue
        split_buckets = (raw.get("split") or {}).get("buckets", [])
        by = {str(b["key"]): int(b["doc_count"]) for b in split_buckets}
        buckets.append(_Bucket(start, int(raw.get("doc_count", 0)), by))
    return _Histogram(
        interval_s=interval_s,
        split=split,
        buckets=buckets,
        keys=[str(b["key"]) for b in totals.get("buckets", [])],
        totals_by={str(b["key"]): int(b["doc_count"]) for b in totals.get("buckets", [])},
        other=int(totals.get("sum_other_doc_count", 0)),
    )


def _interval(given: str | None, span_s: float) -> int:
    if given is None:
        wanted = span_s / _TARGET_BUCKETS
        return next((s for s in _NICE_INTERVALS_S if s >= wanted), _NICE_INTERVALS_S[-1])
    seconds = parse_duration(given).total_seconds()
    if seconds < 1 or seconds != int(seconds):
        raise ToolInputError(f"interval '{given}' must be a whole number of seconds, >= 1s")
    buckets = math.ceil(span_s / seconds)
    if buckets > _MAX_BUCKETS:
        least = next((s for s in _NICE_INTERVALS_S if span_s / s <= _MAX_BUCKETS), 7 * 86400)
        raise ToolInputError(
            f"interval '{given}' gives {buckets} buckets over this range (max {_MAX_BUCKETS}); "
            f"use {_es_interval(least)} or more, or omit it"
        )
    return int(seconds)


def _es_interval(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _millis(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _utc_offset(when: datetime, tz: ZoneInfo) -> str:
    raw = when.astimezone(tz).strftime("%z")  # "+0100"
    return f"{raw[:3]}:{raw[3:]}"


def _histogram_text(
    ctx: ToolContext, window: _Window, result: _Histogram, query: str
) -> tuple[str, bool]:
    tz = ctx.tz
    day = len({b.start.astimezone(tz).date() for b in result.buckets}) > 1

    def clock(when: datetime) -> str:
        local = when.astimezone(tz)
        return f"{local:%m-%d %H:%M}" if day else f"{local:%H:%M}"

    def breakdown(by: Mapping[str, int]) -> str:
        return ", ".join(f"{k} {v:,}" for k, v in by.items() if v)

    width = _es_interval(result.interval_s)
    header = [
        f"Log lines per {width}: {_describe(window, tz)}; {result.total:,} lines in "
        f"{len(result.buckets)} buckets."
    ]
    if result.split:
        others = f", other {result.other:,}" if result.other else ""
        header.append(f"By {result.split}: {breakdown(result.totals_by)}{others}")
    peak = result.peak
    peak_by = f" ({breakdown(peak.by)})" if result.split and peak.by else ""
    header.append(f"Peak {clock(peak.start)} (+{width}): {peak.count:,} lines{peak_by}")
    header.append(" ".join(["time", "total", *result.keys]))
    rows: list[str] = []
    quiet: list[_Bucket] = []
    for bucket in [*result.buckets, None]:
        if bucket is not None and bucket.count == 0:
            quiet.append(bucket)
            continue
        if quiet:
            # A quiet stretch is one line, not a column of zeros.
            first, last = clock(quiet[0].start), clock(quiet[-1].start)
            rows.append(f"{first} 0" if first == last else f"{first}-{last} 0")
            quiet = []
        if bucket is not None:
            cells = [clock(bucket.start), str(bucket.count)]
            rows.append(" ".join(cells + [str(bucket.by.get(k, 0)) for k in result.keys]))
    return _fit(ctx, header, rows, query, "buckets")


# --------------------------------------------------------------------------- logs_top_messages


@dataclass
class _Group:
    """One message pattern's tally."""

    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    levels: Counter[str] = field(default_factory=Counter)
    services: Counter[str] = field(default_factory=Counter)
    examples: Counter[str] = field(default_factory=Counter)

    def add(
        self,
        message: str,
        *,
        count: int,
        first: datetime | None,
        last: datetime | None,
        levels: Mapping[str, int],
        services: Mapping[str, int],
    ) -> None:
        self.count += count
        self.examples[message] += count
        self.levels.update(levels)
        self.services.update(services)
        if first is not None and (self.first is None or first < self.first):
            self.first = first
        if last is not None and (self.last is None or last > self.last):
            self.last = last


def logs_top_messages(ctx: ToolContext, args: LogsTopMessagesArgs) -> ToolResult:
    """The most frequent message patterns of a window, with counts and first/last seen.

    Newest-first sample of `sample_size` lines first: when it holds the whole window, every
    line was counted. Otherwise, unless the sample says the window has too many distinct
    messages, a `terms` aggregation on the message's keyword field counts every distinct
    message exactly; its keys are grouped by pattern here. When neither is complete, the
    sample's proportions are reported as such.
    """
    window = _window(ctx, args)
    sample_body: JSONDict = {
        "query": window.query,
        "sort": [{TIMESTAMP: {"order": "desc"}}],
        "size": args.sample_size,
        "_source": [TIMESTAMP, MESSAGE, LEVEL, SERVICE],
        "track_total_hits": True,
    }
    queries = [search_text(window.index, sample_body)]
    response = _search(ctx, window.index, sample_body)
    hits = response.get("hits", {})
    docs = [_flatten(hit.get("_source") or {}) for hit in hits.get("hits", [])]
    if not docs:
        return _no_data(ctx, "logs_top_messages", window, queries[0], "log lines")
    total = int((hits.get("total") or {}).get("value", 0))
    keyword = window.fields.keyword_of(MESSAGE)
    tally: _Tally | None = None
    other = 0
    if total > len(docs) and keyword and _few_distinct(docs, total):
        terms_body = _terms_body(window, keyword)
        queries.append(search_text(window.index, terms_body))
        exact = _group_terms(_search(ctx, window.index, terms_body), len(docs))
        tally, other = (exact, 0) if exact.other == 0 else (None, exact.other)
    if tally is None:
        # The sample is grouped only when used: masking is the tool's main client-side cost.
        tally = _Tally(
            mode="all" if total <= len(docs) else "sample",
            total=total,
            sampled=len(docs),
            distinct=len({str(d.get(MESSAGE, "")) for d in docs}),
            groups=_group_sample(docs),
            other=other,
        )
    query = "\n".join(queries)
    chars = ctx.services.settings.tools.log_message_chars
    rows = tally.rows(args.top, chars)
    text, truncated = _fit(
        ctx,
        _top_header(window, ctx.tz, tally),
        _top_lines(tally, rows, ctx.tz, args.top),
        query,
        "patterns",
    )
    return ToolResult(
        tool="logs_top_messages",
        backend="elasticsearch",
        status=Status.OK,
        query=query,
        time_range=window.time_range,
        data={
            "index": window.index,
            "mode": tally.mode,
            "total": tally.total,
            "sampled": tally.sampled,
            "distinct_messages": tally.distinct,
            "pattern_count": len(tally.groups),
            "other_doc_count": tally.other,
            "patterns": [row.as_data() for row in rows],
        },
        text=text,
        truncated=truncated,
    )


@dataclass
class _Tally:
    """Patterns counted over a window: all lines, a terms count, or a newest-first sample."""

    mode: str  # "all" | "terms" | "sample"
    total: int  # lines matching in the window
    sampled: int  # lines fetched
    distinct: int  # distinct messages seen
    groups: dict[str, _Group]
    other: int = 0  # lines a terms count could not attribute

    @property
    def counted(self) -> int:
        return sum(g.count for g in self.groups.values())

    def rows(self, top: int, chars: int) -> list[_PatternRow]:
        ordered = sorted(self.groups.items(), key=lambda item: (-item[1].count, item[0]))
        counted = self.counted or 1
        return [
            _PatternRow(
                pattern=truncate(pattern, chars),
                count=group.count,
                share=round(group.count / counted, 4),
                first=group.first,
                last=group.last,
                levels=dict(group.levels.most_common()),
                services=dict(group.services.most_common(5)),
                distinct=len(group.examples),
                example=truncate(group.examples.most_common(1)[0][0], chars),
            )
            for pattern, group in ordered[:top]
        ]


@dataclass(frozen=True)
class _PatternRow:
    pattern: str
    count: int
    share: float
    first: datetime | None
    last: datetime | None
    levels: dict[str, int]
    services: dict[str, int]
    distinct: int
    example: str

    def as_data(self) -> JSONDict:
        return {
            "pattern": self.pattern,
            "count": self.count,
            "share": self.share,
            "first_seen": _iso(self.first) if self.first else None,
            "last_seen": _iso(self.last) if self.last else None,
            "levels": self.levels,
            "services": self.services,
            "distinct_messages": self.distinct,
            "example": self.example,
        }


def _group_sample(docs: Sequence[JSONDict]) -> dict[str, _Group]:
    groups: defaultdict[str, _Group] = defaultdict(_Group)
    patterns: dict[str, str] = {}  # exact message -> pattern: masking once per message
    for doc in docs:
        message = str(doc.get(MESSAGE, ""))
        pattern = patterns.get(message)
        if pattern is None:
            pattern = patterns[message] = pattern_of(message)
        stamp = _parse_ts(doc.get(TIMESTAMP))
        groups[pattern].add(
            message,
            count=1,
            first=stamp,
            last=stamp,
            levels={str(doc[LEVEL]): 1} if LEVEL in doc else {},
            services={str(doc[SERVICE]): 1} if SERVICE in doc else {},
        )
    return dict(groups)


def _few_distinct(docs: Sequence[JSONDict], total: int) -> bool:
    """Whether the window likely holds fewer distinct messages than the terms agg returns.

    Good-Turing: the share of sample lines seen once estimates the share of the window's
    lines whose message the sample has not met, so a UUID-laden window (almost every line
    unique) skips a terms request that could only come back incomplete.
    """
    seen = Counter(str(d.get(MESSAGE, "")) for d in docs)
    singletons = sum(1 for n in seen.values() if n == 1)
    unseen = singletons / len(docs) * (total - len(docs))
    return len(seen) + unseen < 0.8 * TERMS_SIZE


def _terms_body(window: _Window, keyword: str) -> JSONDict:
    def at(order: str) -> JSONDict:
        sort = [{TIMESTAMP: {"order": order}}]
        return {"top_hits": {"size": 1, "sort": sort, "_source": [TIMESTAMP]}}

    # First/last seen from top_hits: `min`/`max` on dates come back null on noida-db.
    sub: JSONDict = {"first": at("asc"), "last": at("desc")}
    for name in (LEVEL, SERVICE):
        if window.fields.aggregatable(name):
            sub[name] = {"terms": {"field": name, "size": 5}}
    return {
        "query": window.query,
        "size": 0,
        "track_total_hits": True,
        "aggs": {"messages": {"terms": {"field": keyword, "size": TERMS_SIZE}, "aggs": sub}},
    }


def _group_terms(response: JSONDict, sampled: int) -> _Tally:
    """The terms response as a tally; `other` counts the lines it could not attribute."""
    total = int(((response.get("hits") or {}).get("total") or {}).get("value", 0))
    agg = (response.get("aggregations") or {}).get("messages") or {}
    groups: defaultdict[str, _Group] = defaultdict(_Group)
    for bucket in agg.get("buckets", []):
        message = str(bucket["key"])
        groups[pattern_of(message)].add(
            message,
            count=int(bucket["doc_count"]),
            first=_top_hit_time(bucket.get("first")),
            last=_top_hit_time(bucket.get("last")),
            levels=_term_counts(bucket.get(LEVEL)),
            services=_term_counts(bucket.get(SERVICE)),
        )
    counted = sum(g.count for g in groups.values())
    # `sum_other_doc_count`, plus lines without a keyword value (longer than `ignore_above`).
    other = max(0, total - counted)
    return _Tally(
        mode="terms",
        total=total,
        sampled=sampled,
        distinct=len(agg.get("buckets", [])),
        groups=dict(groups),
        other=other,
    )


def _term_counts(agg: Any) -> dict[str, int]:
    return {str(b["key"]): int(b["doc_count"]) for b in (agg or {}).get("buckets", [])}


def _top_hit_time(agg: Any) -> datetime | None:
    hits = ((agg or {}).get("hits") or {}).get("hits") or []
    return _parse_ts(_flatten(hits[0].get("_source") or {}).get(TIMESTAMP)) if hits else None


def _top_header(window: _Window, tz: ZoneInfo, tally: _Tally) -> list[str]:
    what = f"Top message patterns: {_describe(window, tz)}."
    found = f"{tally.distinct:,} distinct messages in {len(tally.groups)} patterns"
    if tally.mode == "all":
        return [f"{what} All {tally.total:,} lines counted: {found}."]
    if tally.mode == "terms":
        return [f"{what} All {tally.total:,} lines counted (terms on the message): {found}."]
    missed = f" (a terms count left {tally.other:,} lines out)" if tally.other else ""
    oldest = min((g.first for g in tally.groups.values() if g.first), default=None)
    since = f" back to {_clock(oldest, tz, day=True)}" if oldest else ""
    return [
        f"{what} Sample: the newest {tally.sampled:,} of {tally.total:,} matching lines"
        f"{since}{missed}: {found}; counts, shares and first seen are within the sample."
    ]


def _top_lines(tally: _Tally, rows: Sequence[_PatternRow], tz: ZoneInfo, top: int) -> list[str]:
    stamps = [s for row in rows for s in (row.first, row.last) if s is not None]
    day = len({s.astimezone(tz).date() for s in stamps}) > 1
    lines = ["count share first..last levels [services] | pattern"]
    for row in rows:
        seen = "?"
        if row.first and row.last:
            seen = f"{_clock(row.first, tz, day=day)}..{_clock(row.last, tz, day=day)}"
        services = list(row.services)
        where = ""
        if services:
            where = (
                f" [{', '.join(services)}]"
                if len(services) <= 2
                else f" [{len(services)} services]"
            )
        levels = "/".join(row.levels) or "-"
        line = f"{row.count:,} {row.share:.0%} {seen} {levels}{where} | {row.pattern}"
        if row.example != row.pattern:
            line += f"\n    e.g. {row.example}"
        lines.append(line)
    if len(tally.groups) > top:
        rest = tally.counted - sum(row.count for row in rows)
        lines.append(f"(+{len(tally.groups) - top} more patterns, {rest:,} lines)")
    return lines


# --------------------------------------------------------------------------- logs_fields


def logs_fields(ctx: ToolContext, args: LogsFieldsArgs) -> ToolResult:
    """The fields of the matched indices (merged mappings), with types and keyword subfields."""
    index = resolve_index(ctx, args.index)
    query = f"GET /{index}/_mapping"
    fields = field_map(ctx, index, fresh=True)
    if not fields.indices:
        return ToolResult(
            tool="logs_fields",
            backend="elasticsearch",
            status=Status.NO_DATA,
            query=query,
            data={"index": index, "indices": [], "fields": []},
            text=f"No index matches '{index}'. Allowed patterns: "
            f"{', '.join(ctx.services.settings.elasticsearch.allowed_indices)}.",
        )
    subs = {sub for group in fields.subfields.values() for sub in group}
    needle = (args.match or "").lower()
    rows_data = [
        {
            "name": name,
            "type": fields.kind(name),
            "aggregatable": fields.aggregatable(name),
            "subfields": [
                {"name": sub, "type": fields.kind(sub)} for sub in fields.subfields.get(name, ())
            ],
            "conflict": len(types) > 1,
        }
        for name, types in fields.types.items()
        if name not in subs and types != ("object",) and needle in name.lower()
    ]
    if not rows_data:
        return ToolResult(
            tool="logs_fields",
            backend="elasticsearch",
            status=Status.NO_DATA,
            query=query,
            data={"index": index, "indices": list(fields.indices), "fields": []},
            text=f"No field of {index} contains '{args.match}'.",
        )
    names = [name for name in fields.types if name in {r["name"] for r in rows_data}]
    width = max(len(name) for name in names)
    rows = []
    for name in names:
        notes = [f"{sub}: {fields.kind(sub)}" for sub in fields.subfields.get(name, ())]
        if len(fields.types[name]) > 1:
            notes.append("type differs across indices")
        described = f" ({'; '.join(notes)})" if notes else ""
        rows.append(f"{name:<{width}} {fields.kind(name)}{described}")
    header = [
        f"{len(rows_data)} fields in {index} ({len(fields.indices)} indices). Filter and split "
        "on keyword, numeric, date fields; text fields are searched with `query`, counted by "
        "their keyword subfield."
    ]
    text, truncated = _fit(ctx, header, rows, query, "fields")
    return ToolResult(
        tool="logs_fields",
        backend="elasticsearch",
        status=Status.OK,
        query=query,
        data={"index": index, "indices": list(fields.indices), "fields": rows_data},
        text=text,
        truncated=truncated,
    )


# --------------------------------------------------------------------------- declarations

LOGS_SEARCH = Tool(
    name="logs_search",
    backend="elasticsearch",
    description=description(
        "Search application logs (Elasticsearch): matching lines newest first, each with local "
        "time, level, service/namespace, pod, logger, trace id, HTTP status and the message, "
        "plus how many lines matched in total.",
        "you need the actual log lines behind a symptom: errors of a service since a time, "
        "lines with a given trace id, HTTP 5xx responses, a specific exception text.",
        'logs_search(service="payment-gateway", level="ERROR", query="\\"pool exhausted\\"", '
        'start="today 08:40")',
        notes="`query` is Lucene query_string on the message (terms ANDed); quote phrases and "
        'values with hyphens (pod:"pg-7f9-x"); ranges as http.status:[500 TO 599]. '
        "Use logs_top_messages to see which messages dominate, logs_histogram for when.",
    ),
    args=LogsSearchArgs,
    fn=logs_search,
    tags=("logs",),
)

LOGS_HISTOGRAM = Tool(
    name="logs_histogram",
    backend="elasticsearch",
    description=description(
        "Count log lines over time (about 60 buckets unless `interval` is given), optionally "
        "split by level, service or another keyword field: a compact table, the peak bucket "
        "and the totals.",
        "asked when errors started or stopped, whether a burst is still going on, or how log "
        "volume of a service changed around a deploy or an incident.",
        'logs_histogram(service="payment-gateway", split_by="level", start="today 08:00", '
        'end="today 10:00")',
    ),
    args=LogsHistogramArgs,
    fn=logs_histogram,
    tags=("logs",),
)

LOGS_TOP_MESSAGES = Tool(
    name="logs_top_messages",
    backend="elasticsearch",
    description=description(
        "The most frequent log messages of a window, grouped by pattern (numbers, ids, UUIDs, "
        "hex, IPs, durations, emails and quoted values masked), each with its count and "
        "share, first and last seen (local time), levels and one example line.",
        "asked what a service is logging or failing with, which errors dominate, or to "
        "summarise an error burst before reading individual lines.",
        'logs_top_messages(service="payment-gateway", level="ERROR", start="today 08:40", '
        'end="today 10:00")',
        notes="Every line is counted when the window is small enough; otherwise the text says "
        "it is a sample of the newest lines.",
    ),
    args=LogsTopMessagesArgs,
    fn=logs_top_messages,
    tags=("logs",),
)

LOGS_FIELDS = Tool(
    name="logs_fields",
    backend="elasticsearch",
    description=description(
        "The fields of the log indices (merged mappings): name, type, keyword subfields.",
        "before filtering or splitting on a field you are not sure exists, or when another "
        "logs tool says a field is unknown.",
        'logs_fields(match="http")',
    ),
    args=LogsFieldsArgs,
    fn=logs_fields,
    tags=("logs",),
)

TOOLS: tuple[Tool[Any], ...] = (LOGS_SEARCH, LOGS_HISTOGRAM, LOGS_TOP_MESSAGES, LOGS_FIELDS)
