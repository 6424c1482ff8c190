"""Pure readings of tool results: series, onsets, peaks, version changes, log bursts, trends.

Everything here takes `ToolResult.data` (or plain points) and returns values; no I/O, so the
correlation logic is unit-tested on hand-made series.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tools.base import Status, ToolResult

Points = list[tuple[float, float]]


@dataclass(frozen=True)
class Series:
    """One series of a Prometheus tool result: labels, points and the tool's stats."""

    labels: Mapping[str, str]
    points: Points
    stats: Mapping[str, Any]

    def stat(self, key: str) -> float:
        raw = self.stats.get(key)
        return float(raw) if raw is not None else math.nan

    @property
    def last(self) -> float:
        return self.stat("last") if "last" in self.stats else self.stat("value")

    @property
    def value(self) -> float:
        """An instant query's value (or a range's last)."""
        return self.stat("value") if "value" in self.stats else self.stat("last")


def series(result: ToolResult) -> list[Series]:
    """The series of a Prometheus result, in the tool's ranking order (empty if none)."""
    if result.status is not Status.OK or not isinstance(result.data, dict):
        return []
    out = []
    for item in result.data.get("series") or []:
        points = [(float(t), float(v)) for t, v in item.get("points") or []]
        out.append(Series(dict(item.get("metric") or {}), points, dict(item.get("stats") or {})))
    return out


def first(result: ToolResult) -> Series | None:
    found = series(result)
    return found[0] if found else None


def scalar(result: ToolResult) -> float | None:
    """The single value of an aggregated instant query, None when there is none."""
    found = first(result)
    if found is None:
        return None
    v = found.value
    return v if math.isfinite(v) else None


def finite(points: Points) -> Points:
    return [(t, v) for t, v in points if math.isfinite(v)]


def onset(
    points: Points, baseline: float, *, factor: float = 1.3, sustain: int = 3
) -> float | None:
    """When the series left its baseline: the first of `sustain` points in a row above
    max(baseline * factor, baseline + 30 % of the way to the peak). None if it never did."""
    values = finite(points)
    if not values or not math.isfinite(baseline) or baseline <= 0:
        return None
    peak = max(v for _, v in values)
    level = max(baseline * factor, baseline + 0.3 * (peak - baseline))
    run = 0
    for index, (_, v) in enumerate(values):
        run = run + 1 if v > level else 0
        if run == sustain:
            return values[index - sustain + 1][0]
    return None


def first_at_least(points: Points, level: float) -> float | None:
    """Time of the first point >= level."""
    return next((t for t, v in finite(points) if v >= level), None)


@dataclass(frozen=True)
class VersionChange:
    """A service switching version, as the catalog's deploys signal shows it."""

    service: str
    namespace: str | None
    version: str
    previous: str | None
    at: float  # first time the new version was seen (unix seconds)


def version_changes(
    result: ToolResult, service_label: str | None, namespace_label: str | None, version_label: str
) -> list[VersionChange]:
    """Versions that appeared after the start of the range, with the version before them."""
    groups: dict[tuple[str, str | None], list[tuple[float, float, str]]] = defaultdict(list)
    for s in series(result):
        version = s.labels.get(version_label)
        pts = finite(s.points)
        if version is None or not pts:
            continue
        key = (
            s.labels.get(service_label or "", ""),
            s.labels.get(namespace_label) if namespace_label else None,
        )
        groups[key].append((pts[0][0], pts[-1][0], version))
    start = result.time_range.start.timestamp() if result.time_range else -math.inf
    changes = []
    for (service, namespace), spans in groups.items():
        spans.sort()
        for index, (seen, _, version) in enumerate(spans):
            if index == 0 or seen <= start + 1:
                continue
            previous = spans[index - 1][2]
            changes.append(VersionChange(service, namespace, version, previous, seen))
    return sorted(changes, key=lambda c: c.at)


@dataclass(frozen=True)
class ChangeEvent:
    """A PagerDuty change event, with the fields deploy tooling usually sets."""

    at: datetime
    summary: str
    services: tuple[str, ...]
    version: str | None
    previous: str | None
    namespace: str | None
    description: str | None


def change_events(result: ToolResult) -> list[ChangeEvent]:
    if result.status is not Status.OK or not isinstance(result.data, list):
        return []
    out = []
    for item in result.data:
        try:
            at = datetime.fromisoformat(str(item["timestamp"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            continue
        details = item.get("custom_details") or {}
        out.append(
            ChangeEvent(
                at=at.astimezone(UTC),
                summary=str(item.get("summary") or ""),
                services=tuple(item.get("services") or ()),
                version=_text(details.get("version")),
                previous=_text(details.get("previous_version")),
                namespace=_text(details.get("namespace")),
                description=_text(details.get("summary") or details.get("description")),
            )
        )
    return out


def _text(raw: Any) -> str | None:
    return str(raw) if raw not in (None, "") else None


@dataclass(frozen=True)
class LogBurst:
    """Error lines jumping above their earlier level: from when, and the busiest bucket."""

    start: datetime
    peak_start: datetime
    peak_count: int
    total: int


def log_burst(result: ToolResult, *, not_before: datetime | None = None) -> LogBurst | None:
    """The first histogram bucket well above the buckets before it (3x their median + 5)."""
    data = result.data
    if result.status is not Status.OK or not isinstance(data, dict):
        return None
    buckets = []
    for b in data.get("buckets") or []:
        try:
            at = datetime.fromisoformat(str(b["start"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            continue
        buckets.append((at, int(b.get("count") or 0)))
    for index, (at, count) in enumerate(buckets):
        if not_before is not None and at < not_before:
            continue
        before = [c for _, c in buckets[:index]] or [0]
        if count >= 3 * statistics.median(before) + 5:
            rest = buckets[index:]
            peak_at, peak = max(rest, key=lambda x: x[1])
            return LogBurst(at, peak_at, peak, sum(c for _, c in rest))
    return None


def grows_steadily(points: Points, tz: ZoneInfo, *, min_days: int = 4) -> bool:
    """A probable leak: daily means rise day after day (at most one dip) and by 5 % overall."""
    by_day: dict[str, list[float]] = defaultdict(list)
    for ts, v in finite(points):
        by_day[datetime.fromtimestamp(ts, tz).date().isoformat()].append(v)
    means = [statistics.fmean(v) for _, v in sorted(by_day.items()) if v]
    if len(means) < min_days or means[0] <= 0:
        return False
    rises = sum(1 for a, b in itertools.pairwise(means) if b > a)
    return rises >= len(means) - 2 and means[-1] >= means[0] * 1.05


def label_value(labels: Mapping[str, str], names: Sequence[str]) -> str | None:
    """The first of `names` present in `labels`."""
    return next((labels[n] for n in names if labels.get(n)), None)
