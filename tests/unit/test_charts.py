"""Charts (bot/engine/charts.py): which results become charts, and the PNG files they make."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.engine.answer import Answer, Evidence
from bot.engine.charts import (
    axis_scale,
    chart_name,
    range_results,
    render_charts,
    series_labels,
    title,
)
from tools.base import Status, TimeRange, ToolResult

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 11, 19, 23, 0, tzinfo=UTC)
END = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
P99 = (
    "histogram_quantile(0.99, sum by (le, service) "
    '(rate(http_request_duration_seconds_bucket{namespace="prod"}[5m])))'
)
MEMORY = 'sum by (pod) (container_memory_working_set_bytes{namespace="prod"})'
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def range_result(
    query: str = P99,
    *,
    end: datetime = END,
    services: int = 3,
    tool: str = "prometheus_range_query",
) -> ToolResult:
    step = 300
    count = int((end - START).total_seconds() // step) + 1
    series = []
    for n in range(services):
        base = 0.1 + 0.05 * n
        points = [
            [START.timestamp() + i * step, base * (4 if n == 0 and i > count * 0.85 else 1)]
            for i in range(count)
        ]
        series.append({"metric": {"service": f"svc-{n}", "namespace": "prod"}, "points": points})
    return ToolResult(
        tool=tool,
        backend="prometheus",
        status=Status.OK,
        query=query,
        time_range=TimeRange(start=START, end=end),
        data={"resultType": "matrix", "series": series, "total_series": services},
    )


def answer(*results: ToolResult) -> Answer:
    return Answer(answer="x", language="en", mode="planner", results=list(results))


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# ---- what is charted ----------------------------------------------------------------------------


def test_only_successful_range_results_with_points_are_charted() -> None:
    error = ToolResult(
        tool="prometheus_range_query", backend="prometheus", status=Status.ERROR, query="up"
    )
    instant = range_result(tool="prometheus_instant_query")
    empty = range_result().model_copy(
        update={"data": {"resultType": "matrix", "series": [], "total_series": 0}}
    )
    result = range_result()
    found = range_results([error, instant, empty, result], [Evidence.from_result(result)])
    assert len(found) == 1
    (rng,) = found
    assert rng.query == P99
    assert rng.evidence_index == 0
    assert (rng.start, rng.end) == (START, END)
    assert rng.unit == "seconds"  # histogram_quantile over a _seconds histogram
    assert [s.label for s in rng.series] == ["service=svc-0", "service=svc-1", "service=svc-2"]
    # The legend: the keys once in its title, the values on each line.
    assert rng.label_keys == ("service",)
    assert [s.short for s in rng.series] == ["svc-0", "svc-1", "svc-2"]
    assert rng.total_series == 3


def test_what_is_shown_of_a_query_is_its_redacted_evidence() -> None:
    # Two range queries over the same range; the second's evidence was redacted.
    secret = range_result('up{token="s3cr3t"}')
    evidence = [
        Evidence.from_result(range_result()),
        Evidence.from_result(secret).model_copy(update={"query": 'up{token="****"}'}),
    ]
    first, second = range_results([range_result(), secret], evidence)
    assert (first.query, first.evidence_index) == (P99, 0)
    assert (second.query, second.evidence_index) == ('up{token="****"}', 1)
    (alone,) = range_results([secret])
    assert (alone.query, alone.evidence_index) == ("", None)  # never the raw query


def test_labels_keep_what_tells_series_apart() -> None:
    assert series_labels([{"a": "1", "b": "x"}, {"a": "2", "b": "x"}]) == ["a=1", "a=2"]
    assert series_labels([{"job": "api", "instance": "h:1"}]) == ["instance=h:1,job=api"]
    assert series_labels([{}]) == ["value"]
    assert series_labels([{"__name__": "up", "job": "a"}, {"__name__": "up", "job": "b"}]) == [
        "job=a",
        "job=b",
    ]
    assert series_labels([{"__name__": "up"}]) == ["up"]


@pytest.mark.parametrize(
    ("unit", "largest", "expected"),
    [
        ("seconds", 0.85, (1e-3, "ms")),
        ("seconds", 12.0, (1.0, "s")),
        ("bytes", 1.87e11, (1e9, "GB")),
        ("bytes", 5e6, (1e6, "MB")),
        ("bytes", 10.0, (1.0, "bytes")),
        (None, 42.0, (1.0, "value")),
    ],
)
def test_the_y_axis_reads_in_the_unit_people_use(
    unit: str | None, largest: float, expected: tuple[float, str]
) -> None:
    assert axis_scale(unit, largest) == expected  # type: ignore[arg-type]


def test_titles_are_the_query_on_two_lines_at_most() -> None:
    assert title("up") == "up"
    long = "sum by (service) (" + " + ".join(f"metric_{n}" for n in range(60)) + ")"
    lines = title(long).splitlines()
    assert len(lines) == 2
    assert all(len(line) <= 100 for line in lines)
    assert lines[1].endswith("…")


# ---- the files ----------------------------------------------------------------------------------


def test_charts_are_valid_pngs_one_per_range_result(tmp_path: Path) -> None:
    memory = range_result(MEMORY, services=12)
    paths = render_charts(answer(range_result(), memory), tmp_path / "charts", tz=PARIS)
    assert len(paths) == 2
    for path in map(Path, paths):
        assert path.parent == tmp_path / "charts"
        assert png_size(path) == (900, 400)
        assert path.stat().st_size > 10_000  # lines, axes and text, not an empty canvas
    assert not list((tmp_path / "charts").glob(".chart-*"))  # no temporary file left


def test_asking_again_gives_the_same_file(tmp_path: Path) -> None:
    first = render_charts(answer(range_result()), tmp_path, tz=PARIS)
    again = render_charts(answer(range_result()), tmp_path, tz=PARIS)
    later = render_charts(answer(range_result(end=END + timedelta(hours=1))), tmp_path, tz=PARIS)
    assert first == again
    assert later != first
    assert len(list(tmp_path.glob("*.png"))) == 2
    assert Path(first[0]).name == chart_name(range_results([range_result()])[0], PARIS)


def test_a_settled_chart_is_reused_a_recent_one_redrawn(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    past, recent = range_result(end=now - timedelta(hours=1)), range_result(end=now)
    for result in (past, recent):
        (path,) = render_charts(answer(result), tmp_path, tz=PARIS)
        Path(path).write_bytes(b"stale")
        render_charts(answer(result), tmp_path, tz=PARIS)
        redrawn = Path(path).read_bytes() != b"stale"
        assert redrawn is (result is recent)


def test_at_most_a_few_charts_per_answer(tmp_path: Path) -> None:
    results = [range_result(f"up{{n='{n}'}}") for n in range(6)]
    assert len(render_charts(answer(*results), tmp_path, tz=PARIS)) == 4
    assert len(render_charts(answer(*results), tmp_path, tz=PARIS, limit=1)) == 1


def test_no_range_result_no_chart_and_no_directory(tmp_path: Path) -> None:
    assert render_charts(answer(), tmp_path / "charts", tz=PARIS) == []
    assert not (tmp_path / "charts").exists()


def test_an_unwritable_directory_costs_the_chart_not_the_answer(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    assert render_charts(answer(range_result()), blocker, tz=PARIS) == []
