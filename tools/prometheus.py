"""Read tools over the Prometheus HTTP API: queries, metric and label discovery, alerts, rules.

Every tool returns a `ToolResult`; backend trouble (timeout, connection refused, an HTTP error
with the server's own `error` text, `warnings` of a partial answer) comes back as values.
PromQL is parsed locally first (tools.promql): a syntax error, or a metric name the server has
never seen, is reported with its position or the closest existing names, and nothing is sent.

The transport is the composition root's pooled httpx client (`services.prometheus`) rather than
prometheus-api-client: that library drops `warnings` and `resultType`, rounds range bounds to
whole seconds, and mounts a retry adapter (3 retries, exponential backoff) that turns a refused
connection into seconds of waiting beyond the configured timeout. Speed is the same
(bench/tools_prometheus.py compares them).

Text for the model is compact and bounded by `ctx.token_budget`; `ToolResult.data` keeps the
raw points of the series shown, for charts.
"""

from __future__ import annotations

import heapq
import json
import math
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httpx
import promql_parser
from pydantic import Field

from tools import promql
from tools.base import (
    BackendError,
    Status,
    TimeRange,
    Tool,
    ToolArgs,
    ToolContext,
    ToolInputError,
    ToolResult,
    description,
)
from tools.budget import estimate_tokens, fit_lines, truncate
from tools.timeexpr import parse_duration, parse_range, parse_time

BACKEND: Literal["prometheus"] = "prometheus"

# ---------------------------------------------------------------------------- HTTP client


@dataclass(frozen=True)
class Reply:
    """The `data` of a successful API answer and the server's warnings (partial answers)."""

    data: Any
    warnings: tuple[str, ...] = ()


class PrometheusHTTP:
    """One Prometheus server: GET an API path, get `Reply` or a `BackendError` in plain words."""

    def __init__(self, base_url: str, timeout_s: float, client: httpx.Client | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._client = client or httpx.Client(timeout=timeout_s)

    def get(self, path: str, params: dict[str, Any] | None = None, *, query: str = "") -> Reply:
        """GET `path`; raise BackendError (naming the URL, the status, the server's text).

        No retries: a chat answer is better served by a prompt, clear error than by waiting.
        """
        url = f"{self.base_url}{path}"
        try:
            response = self._client.get(url, params=params, timeout=self.timeout_s)
        except httpx.TimeoutException:
            raise BackendError(
                f"Prometheus did not answer within {self.timeout_s:g} s "
                f"(prometheus.timeout_s) at {url}",
                query=query,
            ) from None
        except httpx.ConnectError as exc:
            reason = str(exc)
            message = (
                f"connection refused to {self.base_url}"
                if "refused" in reason.lower()
                else f"cannot connect to {self.base_url}: {reason}"
            )
            raise BackendError(message, query=query) from None
        except httpx.HTTPError as exc:
            raise BackendError(f"request to {url} failed: {exc}", query=query) from None
        return _decode(response, url, query)


def _decode(response: httpx.Response, url: str, query: str) -> Reply:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise BackendError(
            f"Prometheus answered HTTP {response.status_code} at {url} with no API body: "
            f"{truncate(response.text.strip(), 300)!r}",
            query=query,
            status_code=response.status_code,
        )
    # "infos" arrived in Prometheus 2.52; both are things the reader must know.
    warnings = tuple(f"Prometheus: {w}" for w in body.get("warnings") or ()) + tuple(
        f"Prometheus info: {w}" for w in body.get("infos") or ()
    )
    if response.status_code >= 400 or body.get("status") != "success":
        kind = body.get("errorType") or "error"
        error = body.get("error") or truncate(response.text.strip(), 300)
        raise BackendError(
            f"Prometheus rejected the request (HTTP {response.status_code}, {kind}): {error}",
            query=query,
            status_code=response.status_code,
        )
    return Reply(body.get("data"), warnings)


def client_for(ctx: ToolContext) -> PrometheusHTTP:
    """The context's Prometheus, over the composition root's pooled client."""
    settings = ctx.services.settings.prometheus
    return PrometheusHTTP(str(settings.url), settings.timeout_s, ctx.services.prometheus)


# ---------------------------------------------------------------------------- metric names

# Names change rarely; a name missing from a cache older than _NAMES_RECHECK_S is re-checked
# before it is called unknown, so a metric created a minute ago is not refused for long.
_NAMES_TTL_S = 300.0
_NAMES_RECHECK_S = 30.0
_NAMES: dict[str, tuple[float, frozenset[str]]] = {}
_NAMES_LOCK = threading.Lock()


def metric_names(prom: PrometheusHTTP, *, max_age_s: float = _NAMES_TTL_S) -> frozenset[str]:
    """Every metric name the server knows (/api/v1/label/__name__/values), cached."""
    with _NAMES_LOCK:
        cached = _NAMES.get(prom.base_url)
    if cached is not None and time.monotonic() - cached[0] < max_age_s:
        return cached[1]
    names = frozenset(prom.get("/api/v1/label/__name__/values").data or ())
    with _NAMES_LOCK:
        _NAMES[prom.base_url] = (time.monotonic(), names)
    return names


def check_metrics(prom: PrometheusHTTP, expr: Any, query: str) -> None:
    """Raise ToolInputError naming the closest names if `expr` reads a metric never seen."""
    wanted = promql.metric_names(expr)
    if not wanted:
        return
    known = metric_names(prom)
    if any(name not in known for name in wanted):
        known = metric_names(prom, max_age_s=_NAMES_RECHECK_S)
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ToolInputError(
            promql.unknown_metrics_message(unknown, sorted(known), prom.base_url), query=query
        )


# ---------------------------------------------------------------------------- rendering


def local_time(ts: float, tz: ZoneInfo, *, date: bool = True, seconds: bool = False) -> str:
    """`2026-11-20 09:12 CET` (or without the date), in the configured zone."""
    at = datetime.fromtimestamp(ts, tz)
    clock = "%H:%M:%S" if seconds or at.second else "%H:%M"
    return at.strftime(f"%Y-%m-%d {clock} %Z" if date else f"{clock} %Z")


def labels_text(metric: dict[str, str], drop: Iterable[str] = ()) -> str:
    """`{a="x",b="y"}`, sorted, without the labels in `drop`."""
    skip = set(drop)
    inner = ",".join(
        f"{k}={json.dumps(v, ensure_ascii=False)}"
        for k, v in sorted(metric.items())
        if k not in skip
    )
    return "{" + inner + "}"


def _shared_labels(metrics: Sequence[dict[str, str]]) -> dict[str, str]:
    """Labels with the same value in every series (none when there is only one series)."""
    if len(metrics) < 2:
        return {}
    first = metrics[0]
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in metrics[1:])}


def _label_header(metrics: Sequence[dict[str, str]]) -> tuple[list[str], set[str]]:
    shared = _shared_labels(metrics)
    lines = []
    if "__name__" in shared:
        lines.append(f"metric: {shared['__name__']}")
    rest = {k: v for k, v in shared.items() if k != "__name__"}
    if rest:
        lines.append(f"labels shared by all {len(metrics)} series shown: {labels_text(rest)}")
    return lines, set(shared)


def _special_note(values: Iterable[float], noun: str) -> str | None:
    nan = pos = neg = 0
    for value in values:
        if math.isnan(value):
            nan += 1
        elif value == math.inf:
            pos += 1
        elif value == -math.inf:
            neg += 1
    parts = []
    if nan:
        parts.append(f"{nan} {noun} NaN (not a number: 0/0, or a ratio over no traffic)")
    if pos:
        parts.append(f"{pos} {noun} +Inf (division of a positive value by zero)")
    if neg:
        parts.append(f"{neg} {noun} -Inf (division of a negative value by zero)")
    return "note: " + "; ".join(parts) if parts else None


def _rank_key(value: float) -> float:
    # NaN ranks below everything, -Inf included: it is the absence of a value.
    return -math.inf if math.isnan(value) else value


def finish(
    ctx: ToolContext,
    tool: str,
    *,
    status: Status,
    query: str,
    header: Sequence[str],
    rows: Sequence[str],
    data: Any,
    warnings: Sequence[str] = (),
    time_range: TimeRange | None = None,
    noun: str = "rows",
) -> ToolResult:
    """The result with `header` and as many `rows` as fit the context's token budget.

    The budget bounds everything `render()` produces: the status, query and warning lines
    are counted first and the text gets what remains.
    """
    bare = ToolResult(
        tool=tool,
        backend=BACKEND,
        status=status,
        query=query,
        time_range=time_range,
        warnings=tuple(warnings),
    )
    left = ctx.token_budget - estimate_tokens(bare.render() + "\n") - 1
    text, truncated = fit_lines(header, rows, max(left, 40), noun=noun)
    return bare.model_copy(update={"text": text, "truncated": truncated, "data": data})


# ---------------------------------------------------------------------------- query results


@dataclass
class _Series:
    metric: dict[str, str]
    points: list[tuple[float, float]]
    stats: dict[str, float | int | None] = field(default_factory=dict)


def _rank_value(item: dict[str, Any], rank_by: str) -> float:
    """The value a raw result item is ranked by: its value, or the max/mean of its points."""
    if "value" in item:
        return float(item["value"][1])
    ordered = [x for x in (float(v) for _, v in item.get("values") or ()) if not math.isnan(x)]
    if not ordered:
        return math.nan
    if rank_by == "max":
        return max(ordered)
    finite = [x for x in ordered if math.isfinite(x)]
    return sum(finite) / len(finite) if finite else math.nan


def _top(items: list[dict[str, Any]], n: int, rank_by: str) -> list[_Series]:
    """The `n` highest-ranked raw items as series, NaN last.

    Only these are converted: a result of 10,000 series costs one float per point to rank,
    not 10,000 label dicts, point lists and summaries nobody reads.
    """
    top = heapq.nlargest(n, items, key=lambda item: _rank_key(_rank_value(item, rank_by)))
    out = []
    for item in top:
        raw = [item["value"]] if "value" in item else item.get("values") or ()
        out.append(_Series(dict(item["metric"]), [(float(t), float(v)) for t, v in raw]))
    return out


def _range_stats(points: list[tuple[float, float]]) -> dict[str, float | int | None]:
    values = [v for _, v in points]
    ordered = [v for v in values if not math.isnan(v)]
    finite = [v for v in ordered if math.isfinite(v)]
    stats: dict[str, float | int | None] = {
        "points": len(points),
        "nan": len(values) - len(ordered),
        "min": min(ordered) if ordered else math.nan,
        "max": max(ordered) if ordered else math.nan,
        # Over finite values: one +Inf sample would otherwise hide every other value.
        "mean": sum(finite) / len(finite) if finite else math.nan,
        "last": points[-1][1] if points else math.nan,
        "last_at": points[-1][0] if points else None,
        "max_at": None,
    }
    if ordered:
        stats["max_at"] = next(t for t, v in points if v == stats["max"])
    return stats


def _unit_for(series: _Series, query_unit: promql.Unit | None) -> promql.Unit | None:
    name = series.metric.get("__name__")
    return promql.unit_of_name(name) if name else query_unit


def _series_data(kind: str, shown: Sequence[_Series], total: int, **extra: Any) -> dict[str, Any]:
    return {
        "resultType": kind,
        "series": [
            {"metric": s.metric, "points": [[t, v] for t, v in s.points], "stats": s.stats}
            for s in shown
        ],
        "total_series": total,
        **extra,
    }


def _no_data(
    ctx: ToolContext,
    tool: str,
    query: str,
    *,
    when: str,
    time_range: TimeRange,
    warnings: Sequence[str],
) -> ToolResult:
    return finish(
        ctx,
        tool,
        status=Status.NO_DATA,
        query=query,
        header=[
            f"no series matched {when}.",
            "hint: the metric exists, so check the label values in the selectors "
            "(prometheus_label_values) and the time range; a rate() window shorter than two "
            "scrapes is empty too.",
        ],
        rows=[],
        data={"resultType": "vector", "series": [], "total_series": 0},
        warnings=warnings,
        time_range=time_range,
    )


def _partial_note(warnings: Sequence[str]) -> list[str]:
    if any(w.startswith("Prometheus: ") for w in warnings):
        return ["note: the server returned warnings (listed above); the result may be partial"]
    return []


def render_instant(
    ctx: ToolContext,
    tool: str,
    query: str,
    *,
    data: Any,
    at: datetime,
    unit: promql.Unit | None,
    warnings: Sequence[str],
) -> ToolResult:
    """Text and data for an instant query's answer (vector, scalar, string or matrix)."""
    tz = ctx.tz
    when = local_time(at.timestamp(), tz)
    time_range = TimeRange(start=at, end=at)
    kind = str(data.get("resultType", ""))
    result = data.get("result")
    if kind == "matrix":
        return render_matrix(
            ctx,
            tool,
            query,
            kind=kind,
            items=result or [],
            time_range=time_range,
            step_s=None,
            rank_by="max",
            unit=unit,
            warnings=warnings,
        )
    if not result:
        return _no_data(
            ctx, tool, query, when=f"at {when}", time_range=time_range, warnings=warnings
        )
    if kind in {"scalar", "string"}:
        ts, raw = result
        value = float(raw) if kind == "scalar" else math.nan
        series = [_Series({}, [(float(ts), value)], {"value": value})]
        shown_value = json.dumps(raw) if kind == "string" else promql.format_value(value, unit)
        header = [f"{kind} at {when}: {shown_value}"]
        note = _special_note([value], "value is") if kind == "scalar" else None
        header += [note] if note else []
        return finish(
            ctx,
            tool,
            status=Status.OK,
            query=query,
            header=header + _partial_note(warnings),
            rows=[],
            data=_series_data(kind, series, 1),
            warnings=warnings,
            time_range=time_range,
        )
    shown = _top(result, ctx.max_series, "value")
    for s in shown:
        s.stats = {"value": s.points[0][1]}
    count = (
        f"{len(shown)} of {len(result)} series shown"
        if len(shown) < len(result)
        else f"{len(result)} series"
    )
    header = [f"instant vector at {when}: {count}, ranked by value (highest first)"]
    label_lines, drop = _label_header([s.metric for s in shown])
    header += label_lines
    note = _special_note((float(item["value"][1]) for item in result), "values are")
    header += ([note] if note else []) + _partial_note(warnings)
    rows = [
        f"{labels_text(s.metric, drop)} {promql.format_value(s.points[0][1], _unit_for(s, unit))}"
        for s in shown
    ]
    return finish(
        ctx,
        tool,
        status=Status.OK,
        query=query,
        header=header,
        rows=rows,
        data=_series_data(kind, shown, len(result), ranked_by="value"),
        warnings=warnings,
        time_range=time_range,
        noun="series",
    )


RankBy = Literal["max", "mean"]


def render_matrix(
    ctx: ToolContext,
    tool: str,
    query: str,
    *,
    kind: str,
    items: list[dict[str, Any]],
    time_range: TimeRange,
    step_s: float | None,
    rank_by: RankBy,
    unit: promql.Unit | None,
    warnings: Sequence[str],
) -> ToolResult:
    """Per-series summary (min, mean, max with its local time, last) of a range result."""
    tz = ctx.tz
    start, end = time_range.start, time_range.end
    span = (
        f"{local_time(start.timestamp(), tz)} .. {local_time(end.timestamp(), tz)}"
        if start != end
        else f"range vector ending {local_time(end.timestamp(), tz)}"
    )
    if not any(item.get("values") for item in items):
        return _no_data(
            ctx, tool, query, when=f"between {span}", time_range=time_range, warnings=warnings
        )
    same_day = start.astimezone(tz).date() == end.astimezone(tz).date()
    seconds = step_s is not None and step_s < 60
    shown = _top(items, ctx.max_series, rank_by)
    for s in shown:
        s.stats = _range_stats(s.points)
    count = (
        f"{len(shown)} of {len(items)} series shown"
        if len(shown) < len(items)
        else f"{len(items)} series"
    )
    step_text = (
        f", step {promql.format_duration(step_s)}"
        f" (at most {promql.points(end - start, step_s)} points per series)"
        if step_s
        else ""
    )
    header = [
        f"{span}{step_text}: {count}, ranked by {rank_by} (highest first)",
        "per series: min, mean, max (local time of max), last",
    ]
    label_lines, drop = _label_header([s.metric for s in shown])
    header += label_lines
    note = _special_note((v for s in shown for _, v in s.points), "points are")
    header += ([note] if note else []) + _partial_note(warnings)

    def when(ts: float | int | None) -> str:
        if ts is None:
            return "-"
        at = local_time(float(ts), tz, date=False, seconds=seconds)
        if same_day:
            return at
        return datetime.fromtimestamp(float(ts), tz).strftime("%m-%d ") + at

    rows = []
    for s in shown:
        u = _unit_for(s, unit)
        st = s.stats

        def fmt(key: str, u: promql.Unit | None = u, st: dict[str, Any] = st) -> str:
            return promql.format_value(float(st[key]), u)

        rows.append(
            f"{labels_text(s.metric, drop)} min {fmt('min')}, mean {fmt('mean')}, "
            f"max {fmt('max')} at {when(st['max_at'])}, last {fmt('last')}"
            + (f" ({st['points']} points)" if step_s is None else "")
        )
    return finish(
        ctx,
        tool,
        status=Status.OK,
        query=query,
        header=header,
        rows=rows,
        data=_series_data(kind, shown, len(items), ranked_by=rank_by, step_s=step_s),
        warnings=warnings,
        time_range=time_range,
        noun="series",
    )


def _checked(ctx: ToolContext, query: str) -> tuple[PrometheusHTTP, Any]:
    """Parse locally (no request on a syntax error), then check the metric names exist."""
    expr = promql.validate(query)
    prom = client_for(ctx)
    check_metrics(prom, expr, query)
    return prom, expr


# ---------------------------------------------------------------------------- instant query


class InstantQueryArgs(ToolArgs):
    """Arguments of prometheus_instant_query."""

    query: str = Field(min_length=1, description="PromQL expression")
    time: str | None = Field(
        None,
        description="evaluation time: RFC 3339, Unix seconds, now-2h, 'today 09:00' "
        "(local time); default now",
    )


def instant_query(ctx: ToolContext, args: InstantQueryArgs) -> ToolResult:
    """Evaluate PromQL at one instant; series ranked by value, highest first."""
    query = args.query.strip()
    prom, expr = _checked(ctx, query)
    at = parse_time(args.time or "now", ctx.now(), ctx.tz)
    reply = prom.get(
        "/api/v1/query",
        {"query": query, "time": f"{at.timestamp():.3f}", "timeout": f"{prom.timeout_s:g}s"},
        query=query,
    )
    return render_instant(
        ctx,
        "prometheus_instant_query",
        query,
        data=reply.data,
        at=at,
        unit=promql.unit_of_expr(expr),
        warnings=reply.warnings,
    )


# ---------------------------------------------------------------------------- range query


class RangeQueryArgs(ToolArgs):
    """Arguments of prometheus_range_query."""

    query: str = Field(min_length=1, description="PromQL expression")
    start: str = Field("now-1h", description="RFC 3339, Unix seconds, now-6h, 'today 08:00'")
    end: str = Field("now", description="same forms as start; default now")
    step: str | None = Field(
        None,
        description="resolution (30s, 5m, or seconds); default: chosen so that a series has "
        "at most tools.max_points points; a smaller step is raised, with a warning",
    )
    rank_by: RankBy = Field("max", description="rank series by their max or mean, highest first")


def _step_seconds(text: str) -> float:
    cleaned = text.strip()
    seconds = (
        float(cleaned)
        if re.fullmatch(r"\d+(\.\d+)?", cleaned)
        else parse_duration(cleaned).total_seconds()
    )
    if seconds <= 0:
        raise ToolInputError(f"step must be positive, got '{text}'")
    return seconds


def range_query(ctx: ToolContext, args: RangeQueryArgs) -> ToolResult:
    """Evaluate PromQL over a time range; per-series min/mean/max/last, raw points in data."""
    query = args.query.strip()
    prom, expr = _checked(ctx, query)
    start, end = parse_range(args.start, args.end, ctx.now(), ctx.tz)
    requested = _step_seconds(args.step) if args.step else None
    max_points = ctx.services.settings.tools.max_points
    step_s, step_warning = promql.choose_step(end - start, max_points, requested)
    reply = prom.get(
        "/api/v1/query_range",
        {
            "query": query,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": f"{step_s:g}",
            "timeout": f"{prom.timeout_s:g}s",
        },
        query=query,
    )
    warnings = ((step_warning,) if step_warning else ()) + reply.warnings
    return render_matrix(
        ctx,
        "prometheus_range_query",
        query,
        kind=str(reply.data.get("resultType", "")),
        items=reply.data.get("result") or [],
        time_range=TimeRange(start=start, end=end),
        step_s=step_s,
        rank_by=args.rank_by,
        unit=promql.unit_of_expr(expr),
        warnings=warnings,
    )


# ---------------------------------------------------------------------------- list metrics


class ListMetricsArgs(ToolArgs):
    """Arguments of prometheus_list_metrics."""

    pattern: str = Field(
        "", description="substring of the metric name (case-insensitive), or a regex"
    )
    regex: bool = Field(False, description="treat pattern as a Python regex (re.search)")
    limit: int = Field(50, ge=1, le=1000, description="how many names to list at most")


_FAMILY_SUFFIXES = ("_bucket", "_sum", "_count", "_total", "_created", "_info")


def _metadata_for(name: str, metadata: dict[str, Any]) -> dict[str, str]:
    """A name's metadata, looked up under its family name for histogram/summary/counter parts."""
    entries = metadata.get(name)
    if not entries:
        for suffix in _FAMILY_SUFFIXES:
            family = name.removesuffix(suffix)
            if family != name and metadata.get(family):
                entries = metadata[family]
                break
    entry = entries[0] if entries else {}
    return {
        "type": str(entry.get("type") or "unknown"),
        "help": str(entry.get("help") or ""),
        "unit": str(entry.get("unit") or promql.unit_of_name(name.removesuffix("_total")) or ""),
    }


def list_metrics(ctx: ToolContext, args: ListMetricsArgs) -> ToolResult:
    """Metric names matching a substring or regex, with type, unit and help."""
    if args.regex:
        try:
            pattern = re.compile(args.pattern)
        except re.error as exc:
            raise ToolInputError(f"invalid regex '{args.pattern}': {exc}") from None
        how = f"regex /{args.pattern}/"
    else:
        # A substring search is a regex too: one matching path below.
        pattern = re.compile(re.escape(args.pattern), re.IGNORECASE)
        how = f"substring '{args.pattern}'" if args.pattern else "any name"
    prom = client_for(ctx)
    names = sorted(metric_names(prom, max_age_s=_NAMES_RECHECK_S))
    found = [n for n in names if pattern.search(n)]
    query = f"metric names matching {how}"
    if not found:
        return finish(
            ctx,
            "prometheus_list_metrics",
            status=Status.NO_DATA,
            query=query,
            header=[
                f"no metric name of {len(names)} matches {how}; try a shorter substring, "
                "or another word (latency/duration, memory/bytes, errors/status code)"
            ],
            rows=[],
            data=[],
        )
    warnings: tuple[str, ...] = ()
    try:
        metadata = prom.get("/api/v1/metadata").data or {}
    except BackendError as exc:
        # Names are still useful without types (older Thanos has no metadata endpoint).
        metadata, warnings = {}, (f"metadata unavailable: {exc}",)
    shown = found[: args.limit]
    rows_data = [{"name": n, **_metadata_for(n, metadata)} for n in shown]
    count = (
        f"{len(shown)} of {len(found)} matching names shown"
        if len(shown) < len(found)
        else f"{len(found)} names"
    )
    header = [f"{count} ({how}, out of {len(names)} metrics); name, type, unit, help"]
    rows = [
        f"{r['name']}  {r['type']}{'  ' + r['unit'] if r['unit'] else ''}"
        f"{'  ' + truncate(r['help'], 120) if r['help'] else ''}"
        for r in rows_data
    ]
    return finish(
        ctx,
        "prometheus_list_metrics",
        status=Status.OK,
        query=query,
        header=header,
        rows=rows,
        data=rows_data,
        warnings=warnings,
        noun="metrics",
    )


# ---------------------------------------------------------------------------- label values


class LabelValuesArgs(ToolArgs):
    """Arguments of prometheus_label_values."""

    label: str = Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$", description="label name, e.g. service")
    selector: str | None = Field(
        None, description='series selector restricting the series, e.g. up{namespace="prod"}'
    )
    start: str | None = Field(None, description="only series present after this time")
    end: str | None = Field(None, description="only series present before this time")
    limit: int = Field(100, ge=1, le=2000, description="how many values to list at most")


def _label_range(
    ctx: ToolContext, start: str | None, end: str | None
) -> tuple[datetime, datetime] | None:
    if start is None and end is None:
        return None
    now = ctx.now()
    if start is None:
        end_at = parse_time(end or "now", now, ctx.tz)
        return end_at - timedelta(hours=1), end_at
    return parse_range(start, end, now, ctx.tz)


def label_values(ctx: ToolContext, args: LabelValuesArgs) -> ToolResult:
    """Values of one label, optionally for the series of a selector and a time range."""
    params: dict[str, Any] = {}
    query = f"label {args.label}"
    if args.selector:
        selector = args.selector.strip()
        expr = promql.validate(selector)
        if not isinstance(expr, promql_parser.VectorSelector):
            raise ToolInputError(
                f"selector must be a series selector such as up{{job=\"api\"}}, got '{selector}'",
                query=selector,
            )
        prom = client_for(ctx)
        check_metrics(prom, expr, selector)
        params["match[]"] = selector
        query += f" of {selector}"
    else:
        prom = client_for(ctx)
    bounds = _label_range(ctx, args.start, args.end)
    time_range = None
    if bounds is not None:
        params["start"] = f"{bounds[0].timestamp():.3f}"
        params["end"] = f"{bounds[1].timestamp():.3f}"
        time_range = TimeRange(start=bounds[0], end=bounds[1])
    reply = prom.get(f"/api/v1/label/{args.label}/values", params, query=query)
    values = sorted(str(v) for v in reply.data or ())
    if not values:
        hint = "check the selector and the time range"
        known = prom.get("/api/v1/labels", params, query=query).data or []
        if args.label not in known:
            close = promql.closest_names(args.label, known)
            hint = f"no series has a label '{args.label}'" + (
                f"; closest label names: {', '.join(close)}" if close else ""
            )
        return finish(
            ctx,
            "prometheus_label_values",
            status=Status.NO_DATA,
            query=query,
            header=[f"no values of label '{args.label}'; {hint}"],
            rows=[],
            data={"label": args.label, "values": [], "total": 0},
            warnings=reply.warnings,
            time_range=time_range,
        )
    shown = values[: args.limit]
    count = (
        f"{len(shown)} of {len(values)} values shown"
        if len(shown) < len(values)
        else f"{len(values)} values"
    )
    return finish(
        ctx,
        "prometheus_label_values",
        status=Status.OK,
        query=query,
        header=[f"label '{args.label}': {count}"],
        rows=shown,
        data={"label": args.label, "values": shown, "total": len(values)},
        warnings=reply.warnings,
        time_range=time_range,
        noun="values",
    )


# ---------------------------------------------------------------------------- alerts


class AlertsArgs(ToolArgs):
    """Arguments of prometheus_alerts."""

    state: Literal["any", "firing", "pending"] = Field("any", description="alert state")
    name: str | None = Field(None, description="substring of the alert name (case-insensitive)")
    limit: int = Field(50, ge=1, le=1000, description="how many alerts to list at most")


def _parse_instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _age(since: datetime, now: datetime) -> str:
    return promql.format_duration(max(60.0, (now - since).total_seconds()) // 60 * 60)


def alerts(ctx: ToolContext, args: AlertsArgs) -> ToolResult:
    """Alerts Prometheus holds as firing or pending, oldest firing first."""
    prom = client_for(ctx)
    reply = prom.get("/api/v1/alerts")
    items = list((reply.data or {}).get("alerts") or [])
    needle = (args.name or "").lower()
    chosen = [
        a
        for a in items
        if (args.state == "any" or a.get("state") == args.state)
        and needle in str(a.get("labels", {}).get("alertname", "")).lower()
    ]
    now = ctx.now()
    epoch = datetime.fromtimestamp(0, UTC)
    chosen.sort(
        key=lambda a: (a.get("state") != "firing", _parse_instant(a.get("activeAt")) or epoch)
    )
    query = f"alerts state={args.state}" + (f" name~{args.name}" if args.name else "")
    firing = sum(1 for a in chosen if a.get("state") == "firing")
    shown = chosen[: args.limit]
    rows, data = [], []
    for a in shown:
        labels = dict(a.get("labels") or {})
        name = labels.pop("alertname", "?")
        since = _parse_instant(a.get("activeAt"))
        try:
            value: float | None = float(a.get("value"))
        except (TypeError, ValueError):
            value = None
        summary = (a.get("annotations") or {}).get("summary", "")
        since_text = (
            f"since {local_time(since.timestamp(), ctx.tz)} ({_age(since, now)} ago)"
            if since
            else "since ?"
        )
        rows.append(
            f"{a.get('state')} {name} {labels_text(labels)} {since_text}"
            + (f", value {promql.format_number(value)}" if value is not None else "")
            + (f" - {truncate(summary, 160)}" if summary else "")
        )
        data.append({**a, "value": value})
    if not chosen:
        header = [
            f"no {'' if args.state == 'any' else args.state + ' '}alerts"
            + (f" matching '{args.name}'" if args.name else "")
            + f" ({len(items)} active in total)"
        ]
    else:
        count = (
            f"{len(shown)} of {len(chosen)} alerts shown"
            if len(shown) < len(chosen)
            else f"{len(chosen)} alerts"
        )
        header = [f"{count} ({firing} firing, {len(chosen) - firing} pending)"]
    return finish(
        ctx,
        "prometheus_alerts",
        status=Status.OK,
        query=query,
        header=header,
        rows=rows,
        data={"alerts": data, "total": len(chosen)},
        warnings=reply.warnings,
        noun="alerts",
    )


# ---------------------------------------------------------------------------- rules


class RulesArgs(ToolArgs):
    """Arguments of prometheus_rules."""

    type: Literal["any", "alert", "record"] = Field(
        "any", description="alerting rules, recording rules, or both"
    )
    name: str | None = Field(None, description="substring of the rule name (case-insensitive)")
    group: str | None = Field(None, description="substring of the group name (case-insensitive)")
    limit: int = Field(50, ge=1, le=1000, description="how many rules to list at most")


def rules(ctx: ToolContext, args: RulesArgs) -> ToolResult:
    """Alerting and recording rules: group, expression, for, health and last error."""
    prom = client_for(ctx)
    params = {} if args.type == "any" else {"type": args.type}
    reply = prom.get("/api/v1/rules", params)
    name_needle, group_needle = (args.name or "").lower(), (args.group or "").lower()
    found: list[dict[str, Any]] = []
    for group in (reply.data or {}).get("groups") or []:
        if group_needle not in str(group.get("name", "")).lower():
            continue
        for rule in group.get("rules") or []:
            if name_needle in str(rule.get("name", "")).lower():
                found.append({"group": group.get("name"), **rule})
    # Broken rules first: they are what an on-call needs to see.
    found.sort(key=lambda r: r.get("health") == "ok")
    shown = found[: args.limit]
    rows = []
    for r in shown:
        kind = "alert" if r.get("type") == "alerting" else "record"
        details = [f"health {r.get('health', '?')}"]
        if kind == "alert":
            details.insert(0, f"for {promql.format_duration(float(r.get('duration') or 0))}")
            details.append(f"state {r.get('state', '?')} ({len(r.get('alerts') or [])} active)")
        expr = " ".join(str(r.get("query", "")).split())
        row = (
            f"[{r['group']}] {kind} {r.get('name')} ({', '.join(details)})\n    expr: "
            + truncate(expr, 300)
        )
        if r.get("lastError"):
            row += f"\n    last error: {truncate(str(r['lastError']), 300)}"
        rows.append(row)
    unhealthy = sum(1 for r in found if r.get("health") != "ok")
    alerting = sum(1 for r in found if r.get("type") == "alerting")
    count = (
        f"{len(shown)} of {len(found)} rules shown"
        if len(shown) < len(found)
        else f"{len(found)} rules"
    )
    header = [
        f"{count} ({alerting} alerting, {len(found) - alerting} recording; {unhealthy} unhealthy)"
    ]
    query = (
        "rules type="
        + args.type
        + "".join(f" {k}~{v}" for k, v in (("name", args.name), ("group", args.group)) if v)
    )
    return finish(
        ctx,
        "prometheus_rules",
        status=Status.OK if found else Status.NO_DATA,
        query=query,
        header=header if found else ["no rule matches; list them all with no filter"],
        rows=rows,
        data={"rules": shown, "total": len(found)},
        warnings=reply.warnings,
        noun="rules",
    )


# ---------------------------------------------------------------------------- declarations

PROMETHEUS_INSTANT_QUERY: Tool[InstantQueryArgs] = Tool(
    name="prometheus_instant_query",
    backend=BACKEND,
    description=description(
        "Evaluate a PromQL expression at one instant (default now). Series come back ranked "
        "by value, highest first, with units from the metric name (ms, GB); at most a few "
        "are shown and the text says how many of how many.",
        "you need the current (or at a given time) value of a metric, a top-N ranking, or a "
        "ratio; for a trend over time use prometheus_range_query.",
        'query="histogram_quantile(0.99, sum by (le, service) '
        '(rate(http_request_duration_seconds_bucket{namespace=\\"prod\\"}[5m])))", '
        'time="today 09:00"',
        notes="The query is parsed before it is sent: syntax errors come back with line:col, "
        "unknown metric names with the closest existing names.",
    ),
    args=InstantQueryArgs,
    fn=instant_query,
    tags=("metrics", "query"),
)

PROMETHEUS_RANGE_QUERY: Tool[RangeQueryArgs] = Tool(
    name="prometheus_range_query",
    backend=BACKEND,
    description=description(
        "Evaluate a PromQL expression over a time range. Each series is summarised (min, "
        "mean, max with the local time of the max, last); series are ranked by max (or "
        "mean) and the step is chosen automatically.",
        "you need how a metric evolved: when a latency peaked, whether memory grows, "
        "before/after a deploy.",
        'query="sum by (service) (rate(http_requests_total{code=~\\"5..\\"}[5m]))", '
        'start="today 08:00", end="today 10:00"',
    ),
    args=RangeQueryArgs,
    fn=range_query,
    tags=("metrics", "query"),
)

PROMETHEUS_LIST_METRICS: Tool[ListMetricsArgs] = Tool(
    name="prometheus_list_metrics",
    backend=BACKEND,
    description=description(
        "List metric names of the Prometheus server matching a substring (or a regex), "
        "with their type (counter, gauge, histogram), unit and help text.",
        "you do not know the exact metric name for a concept (latency, memory, errors), "
        "or a query failed with an unknown metric.",
        'pattern="duration"',
    ),
    args=ListMetricsArgs,
    fn=list_metrics,
    tags=("metrics", "discovery"),
)

PROMETHEUS_LABEL_VALUES: Tool[LabelValuesArgs] = Tool(
    name="prometheus_label_values",
    backend=BACKEND,
    description=description(
        "List the values of one label (service, namespace, pod...), optionally only for the "
        "series of a selector and a time range.",
        "you need the exact spelling of a label value before filtering on it, or which "
        "services/namespaces exist.",
        'label="service", selector="http_requests_total{namespace=\\"prod\\"}"',
    ),
    args=LabelValuesArgs,
    fn=label_values,
    tags=("metrics", "discovery"),
)

PROMETHEUS_ALERTS: Tool[AlertsArgs] = Tool(
    name="prometheus_alerts",
    backend=BACKEND,
    description=description(
        "List the alerts Prometheus currently holds as firing or pending: name, labels, "
        "since when (local time), value and summary.",
        "someone asks what is alerting right now, or before investigating a service.",
        'state="firing"',
    ),
    args=AlertsArgs,
    fn=alerts,
    tags=("alerts",),
)

PROMETHEUS_RULES: Tool[RulesArgs] = Tool(
    name="prometheus_rules",
    backend=BACKEND,
    description=description(
        "List Prometheus alerting and recording rules: group, expression, for duration, "
        "health and last evaluation error, broken rules first.",
        "you need what an alert means (its expression and threshold), or whether rules "
        "evaluate without errors.",
        'type="alert", name="latency"',
    ),
    args=RulesArgs,
    fn=rules,
    tags=("alerts",),
)

TOOLS: tuple[Tool[Any], ...] = (
    PROMETHEUS_INSTANT_QUERY,
    PROMETHEUS_RANGE_QUERY,
    PROMETHEUS_LIST_METRICS,
    PROMETHEUS_LABEL_VALUES,
    PROMETHEUS_ALERTS,
    PROMETHEUS_RULES,
)
