"""Charts: PNG line charts of the range results behind an Answer, and the series they show.

`range_results(results)` reads the raw points that `prometheus_range_query` keeps in
`ToolResult.data` (the same data the terminal sparklines use); `render_charts(answer, dir, tz=)`
draws one chart per range result: the shown series, local-time x axis, a y axis in the unit of
the query (ms, GB...), titled with the query. File names hash the query and its time range, so
asking the same thing again rewrites one file instead of piling up new ones.

matplotlib is imported only when a chart is drawn (it costs ~0.5 s), through the object API
(`matplotlib.figure.Figure`): no pyplot global state, no display, safe in threads.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import tempfile
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.engine.answer import Answer, Evidence
from tools import promql
from tools.base import Status, TimeRange, ToolResult

log = logging.getLogger(__name__)

RANGE_TOOL = "prometheus_range_query"
# More lines than this make a chart nobody can read; the legend says how many were left out.
MAX_CHART_SERIES = 8
TITLE_CHARS = 90
# Charts per answer: each costs ~150 ms to draw, and the first range results are the ones the
# answer is about (the ranking before its correlations).
MAX_CHARTS = 4
# Seconds after a range's end when its samples are final (scrape interval, rule evaluation).
SETTLED_S = 600
# Bump when the drawing changes, so that reused files are drawn anew.
CHART_VERSION = 1
# Legend labels beyond this are cut: the legend column is about this wide at 8 pt.
LEGEND_CHARS = 36
TITLE_WIDTH = 100


@dataclass(frozen=True)
class Series:
    """One series of a range result: labels and its (unix seconds, value) points.

    `label` names it alone (`namespace=prod,service=checkout`); `short` is only the values
    (`prod · checkout`), for a legend whose title names the keys.
    """

    label: str
    points: tuple[tuple[float, float], ...]
    short: str = ""

    @property
    def values(self) -> list[float]:
        return [v for _, v in self.points]


@dataclass(frozen=True)
class RangeResult:
    """The chartable part of one range query: what was asked, over when, in which unit.

    `query` is the query as its Evidence shows it (redacted like everything a person sees), or
    "" when no evidence entry matches; `evidence_index` is that entry's position. `key` is the
    query as run, used only for the file name.
    """

    query: str
    start: datetime
    end: datetime
    unit: promql.Unit | None
    series: tuple[Series, ...]
    total_series: int
    evidence_index: int | None = None
    key: str = ""
    label_keys: tuple[str, ...] = ()  # the labels that tell its series apart


def range_results(
    results: Iterable[ToolResult], evidence: Sequence[Evidence] = ()
) -> list[RangeResult]:
    """The range query results with points, in order, each paired with its evidence entry."""
    found = []
    used: set[int] = set()
    for result in results:
        data = result.data
        if (
            result.tool != RANGE_TOOL
            or result.status is not Status.OK
            or result.time_range is None
            or not isinstance(data, dict)
            or data.get("resultType") != "matrix"
        ):
            continue
        raw = [s for s in data.get("series") or () if isinstance(s, dict) and s.get("points")]
        if not raw:
            continue
        metrics = [dict(s.get("metric") or {}) for s in raw]
        labels = series_labels(metrics)
        keys = _varying(metrics) if len(metrics) > 1 else []
        series = tuple(
            Series(
                label,
                tuple((float(t), float(v)) for t, v in s["points"]),
                " · ".join(metric.get(k, "-") for k in keys) or label,
            )
            for label, metric, s in zip(labels, metrics, raw, strict=True)
        )
        index = _evidence_for(result.query, result.time_range, evidence, used)
        found.append(
            RangeResult(
                query=evidence[index].query if index is not None else "",
                start=result.time_range.start,
                end=result.time_range.end,
                unit=_unit(result.query, raw),
                series=series,
                total_series=int(data.get("total_series") or len(series)),
                evidence_index=index,
                key=result.query,
                label_keys=tuple(keys),
            )
        )
    return found


def _evidence_for(
    query: str, time_range: TimeRange, evidence: Sequence[Evidence], used: set[int]
) -> int | None:
    """The first unused evidence entry of a result: same tool and range, same query if any.

    The evidence query is the redacted one, so it may differ from the query as run: the
    range decides then, in order.
    """
    candidates = [
        i
        for i, e in enumerate(evidence)
        if i not in used
        and e.tool in {RANGE_TOOL, ""}
        and (e.start, e.end) == (time_range.start, time_range.end)
    ]
    pool = [i for i in candidates if evidence[i].query == query] or candidates
    if not pool:
        return None
    used.add(pool[0])
    return pool[0]


def series_labels(metrics: Sequence[dict[str, str]]) -> list[str]:
    """Short labels: only the labels that differ between series (`service=checkout`).

    Labels every series shares say nothing to tell lines apart; a lone series keeps all its
    labels, and a series without any is the query's value.
    """
    varying = _varying(metrics) if len(metrics) > 1 else sorted(metrics[0] if metrics else {})
    labels = []
    for metric in metrics:
        parts = [f"{k}={metric[k]}" for k in varying if k in metric and k != "__name__"]
        name = metric.get("__name__") if "__name__" in varying else None
        text = ",".join(parts)
        labels.append((f"{name}{{{text}}}" if text else name) if name else text or "value")
    return labels


def _varying(metrics: Sequence[dict[str, str]]) -> list[str]:
    keys = sorted({k for m in metrics for k in m})
    return [k for k in keys if len({m.get(k) for m in metrics}) > 1]


def _unit(query: str, series: Sequence[dict[str, Any]]) -> promql.Unit | None:
    """The query's unit (histogram_quantile of _seconds -> seconds), else the metric name's."""
    try:
        unit = promql.unit_of_expr(promql.validate(query))
    except Exception:  # an unparsable query just gets a unitless axis
        unit = None
    if unit is None and series:
        names = {str((s.get("metric") or {}).get("__name__", "")) for s in series}
        if len(names) == 1:
            unit = promql.unit_of_name(names.pop() or None)
    return unit


def axis_scale(unit: promql.Unit | None, largest: float) -> tuple[float, str]:
    """(divisor, axis label) so values read as people say them: 847 ms, 124 GB."""
    if unit == "seconds":
        return (1e-3, "ms") if largest < 1 else (1.0, "s")
    if unit == "bytes":
        for size, suffix in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
            if largest >= size:
                return size, suffix
        return 1.0, "bytes"
    return 1.0, "value"


def shorten(text: str, limit: int = TITLE_CHARS) -> str:
    """One line of at most `limit` characters, cut in the middle of nothing but whitespace."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def title(query: str, width: int = TITLE_WIDTH, lines: int = 2) -> str:
    """The query on at most `lines` lines of `width` characters, shortened at the end."""
    wrapped = textwrap.wrap(" ".join(query.split()), width, break_on_hyphens=False)
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], shorten(" ".join(wrapped[lines - 1 :]), width)]
    return "\n".join(wrapped)


def chart_name(rng: RangeResult, tz: ZoneInfo) -> str:
    """Deterministic: the same query over the same range (and zone, and look) is the same file."""
    key = f"{CHART_VERSION}|{rng.key}|{rng.start.timestamp():.0f}|{rng.end.timestamp():.0f}|{tz}"
    return f"chart-{hashlib.sha256(key.encode()).hexdigest()[:16]}.png"


def render_charts(
    answer: Answer, directory: Path, *, tz: ZoneInfo, limit: int = MAX_CHARTS
) -> list[str]:
    """Write one PNG per range result of `answer` (the first `limit`) into `directory`.

    Returns the paths. A chart of a range that had long ended when its file was written is
    reused as is: the same question over the same past range is the same picture, and
    drawing one costs ~150 ms. Never raises for a chart: a chart is a bonus, and an answer
    must not fail because a disk is full or a directory is read-only (the problem is logged,
    the other charts still come).
    """
    ranges = range_results(answer.results, answer.evidence)[:limit]
    if not ranges:
        return []
    paths = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("charts: cannot create %s: %s", directory, exc)
        return []
    for rng in ranges:
        path = directory / chart_name(rng, tz)
        try:
            if not _settled(path, rng):
                _draw(rng, path, tz)
        except (OSError, ValueError) as exc:
            log.warning("charts: cannot write %s: %s", path, exc)
            continue
        paths.append(str(path))
    return paths


def _settled(path: Path, rng: RangeResult) -> bool:
    """The file exists and was drawn once late samples of its range could no longer arrive."""
    try:
        return path.stat().st_mtime >= rng.end.timestamp() + SETTLED_S
    except OSError:
        return False


def _draw(rng: RangeResult, path: Path, tz: ZoneInfo) -> None:
    _configure_matplotlib()
    from matplotlib import dates as mdates  # noqa: PLC0415 - heavy; only when drawing
    from matplotlib.figure import Figure  # noqa: PLC0415

    shown = rng.series[:MAX_CHART_SERIES]
    finite = [abs(v) for s in shown for v in s.values if math.isfinite(v)]
    divisor, unit_label = axis_scale(rng.unit, max(finite, default=0.0))

    legend = len(shown) > 1 or rng.total_series > len(shown)
    fig = Figure(figsize=(9, 4), dpi=100)
    # Fixed margins rather than layout="constrained": that costs an extra draw (~150 ms an
    # answer) to find what these numbers give for a chart that always has the same furniture.
    fig.subplots_adjust(left=0.08, bottom=0.14, top=0.88, right=0.74 if legend else 0.97)
    ax = fig.add_subplot()
    # matplotlib.dates has no type annotations: its calls are the ignores below.
    for series in shown:
        xs = mdates.date2num([datetime.fromtimestamp(t, tz) for t, _ in series.points])  # type: ignore[no-untyped-call]
        # Infinities would flatten every other line; NaN leaves a gap, as Prometheus means it.
        ys = [v / divisor if math.isfinite(v) else math.nan for v in series.values]
        ax.plot(xs, ys, linewidth=1.4, label=shorten(series.short or series.label, LEGEND_CHARS))
    locator = mdates.AutoDateLocator(tz=tz)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))  # type: ignore[no-untyped-call]
    ax.set_xlim(*mdates.date2num([rng.start, rng.end]))  # type: ignore[no-untyped-call]
    ax.set_xlabel(f"local time ({rng.end.astimezone(tz).tzname()})")
    ax.set_ylabel(unit_label)
    ax.grid(visible=True, alpha=0.3)
    ax.set_title(title(rng.query or "Prometheus range query"), fontsize=9, loc="left")
    if legend:
        more = rng.total_series - len(shown)
        # Outside the axes, on the right: inside, it hides the lines it names.
        ax.legend(
            fontsize=8,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            title=shorten(
                " · ".join(rng.label_keys)
                + (f" (top {len(shown)} of {rng.total_series})" if more > 0 else ""),
                LEGEND_CHARS,
            ),
            title_fontsize=8,
        )
    # Write then rename: a reader (Slack upload, an image viewer) never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".chart-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as handle:
            fig.savefig(handle, format="png")
        # mkstemp makes 0600 files; a chart is as readable as any other output file.
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _configure_matplotlib() -> None:
    """Give matplotlib a writable config/cache dir before its import, if home has none.

    Without one it warns (our tests treat warnings as errors) and rebuilds its font cache in a
    new temporary directory on every run, which costs seconds.
    """
    if "MPLCONFIGDIR" in os.environ:
        return
    home = Path.home()
    wanted = (
        Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "matplotlib",
        Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / "matplotlib",
    )
    try:
        for directory in wanted:
            directory.mkdir(parents=True, exist_ok=True)
        writable = all(os.access(d, os.W_OK) for d in wanted)
    except OSError:
        writable = False
    if not writable:
        fallback = Path(tempfile.gettempdir()) / f"vigie-matplotlib-{os.getuid()}"
        fallback.mkdir(parents=True, exist_ok=True)
        os.environ["MPLCONFIGDIR"] = str(fallback)
