"""PromQL checked locally: positioned parse errors, metric names, suggestions, steps, values."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from tools import promql
from tools.base import ToolInputError


def error_of(query: str) -> str:
    with pytest.raises(ToolInputError) as caught:
        promql.validate(query)
    assert caught.value.query == query
    return str(caught.value)


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("sum(rate(x[5m])", "1:4", "unclosed left parenthesis"),
        ("rate(x[5m]))", "1:12", "unexpected right parenthesis"),
        ("foo]", "1:4", "unexpected right bracket"),
        ('foo{a="b"', "1:10", "unexpected end of input inside braces"),
        ("rate(x[5m)", "1:10", "unexpected character inside brackets: ')'"),
        ('foo{a~"b"}', "1:6", "unexpected character inside braces: '~'"),
        ("x[5x]", "1:3", "bad number or duration syntax: 5x"),
        ("x offset 5x", "1:10", "bad number or duration syntax"),
        ("sum(unknownfn(x))", "1:5", "unknown function with name 'unknownfn'"),
        ('x{a="abc', "1:5", "unterminated quoted string"),
        ("x{a=b}", "1:5", "unexpected identifier 'b'"),
        ("sum(rate(x))", "1:5", "expected type matrix in call to function 'rate'"),
        ('x{a=~"("}', "1:6", "illegal regex"),
        ("abs(x,)", "1:6", "trailing commas"),
        ("x $", "1:3", "unexpected character: '$'"),
        ('sum(x) + {a=""}', "1:10", "at least one non-empty matcher"),
        ("x[5m][1m]", "1:6", "ranges only allowed for vector selectors"),
    ],
)
def test_parse_errors_carry_a_position_and_a_caret(query: str, position: str, message: str) -> None:
    text = error_of(query)
    first, shown, caret = text.splitlines()
    assert first.startswith(f"invalid PromQL: {position}: ")
    assert message in first
    column = int(position.split(":")[1])
    assert shown == f"  {query}"
    assert caret == "  " + " " * (column - 1) + "^"


def test_characters_inside_strings_and_comments_are_not_blamed() -> None:
    # The ')' inside the label value and the '(' in the comment are not code.
    text = error_of('sum(x{a=")"} # (\n')
    assert "1:4: unclosed left parenthesis" in text


def test_multi_line_query_reports_line_and_column() -> None:
    text = error_of("sum by (service) (\n  rate(x[5x])\n)")
    assert text.splitlines()[0] == "invalid PromQL: 2:10: bad number or duration syntax: 5x"
    assert text.splitlines()[1:] == ["    rate(x[5x])", "           ^"]


def test_no_position_is_said_honestly() -> None:
    text = error_of("foo bar")
    assert "invalid promql query" in text
    assert "gives no position" in text
    assert "^" not in text


def test_locate_error_returns_none_for_unknown_messages() -> None:
    assert promql.locate_error("x", "some future message") is None


def test_empty_query_is_refused() -> None:
    assert "empty" in error_of("   ")


def test_metric_names_from_every_kind_of_selector() -> None:
    expr = promql.validate(
        'sum(rate(a_total{x="1"}[5m])) / on() group_left b + {__name__="c"} '
        "+ max_over_time(d[1h:5m]) + a_total"
    )
    assert promql.metric_names(expr) == ["a_total", "b", "c", "d"]


def test_regex_name_matchers_and_literals_have_no_names() -> None:
    assert promql.metric_names(promql.validate('{__name__=~"http_.*"}')) == []
    assert promql.metric_names(promql.validate("1 + 2")) == []


def test_names_only_under_absent_are_not_checked() -> None:
    expr = promql.validate("absent(missing_metric) or absent_over_time(gone[5m]) or up")
    assert promql.metric_names(expr) == ["up"]
    # Also used outside absent(): checked.
    assert promql.metric_names(promql.validate("absent(m) or m")) == ["m"]


KNOWN = [
    "http_request_duration_seconds_bucket",
    "http_request_duration_seconds_count",
    "http_request_duration_seconds_sum",
    "http_requests_total",
    "container_memory_working_set_bytes",
    "up",
]


def test_closest_names_suggest_the_intended_metric_first() -> None:
    assert promql.closest_names("http_request_duration_second_bucket", KNOWN)[0] == (
        "http_request_duration_seconds_bucket"
    )
    assert promql.closest_names("container_memory_workingset_bytes", KNOWN) == [
        "container_memory_working_set_bytes"
    ]
    assert promql.closest_names("zzz", KNOWN) == []


def test_unknown_metric_message_names_suggestions_and_says_nothing_was_sent() -> None:
    message = promql.unknown_metrics_message(
        ["http_request_duration_second_bucket", "zzz"], KNOWN, "http://prom:9090"
    )
    assert "unknown metric 'http_request_duration_second_bucket'" in message
    assert "closest existing names: http_request_duration_seconds_bucket" in message
    assert "unknown metric 'zzz'" in message
    assert "prometheus_list_metrics" in message
    assert message.endswith("The query was not sent.")


@pytest.mark.parametrize(
    ("span", "max_points", "step"),
    [
        (timedelta(hours=1), 300, 15),  # 241 points
        (timedelta(hours=2), 300, 30),
        (timedelta(hours=4), 300, 60),
        (timedelta(hours=5), 300, 120),  # 1m would give 301
        (timedelta(days=1), 300, 300),
        (timedelta(days=7), 300, 3600),
        (timedelta(days=7), 11000, 60),
    ],
)
def test_automatic_step_is_the_smallest_nice_step_that_fits(
    span: timedelta, max_points: int, step: int
) -> None:
    chosen, warning = promql.choose_step(span, max_points)
    assert (chosen, warning) == (step, None)
    assert promql.points(span, chosen) <= max_points


def test_explicit_step_is_kept_when_it_fits() -> None:
    assert promql.choose_step(timedelta(hours=1), 300, 20.0) == (20.0, None)


def test_explicit_step_too_fine_is_raised_with_a_warning() -> None:
    step, warning = promql.choose_step(timedelta(hours=5), 300, 15.0)
    assert step == 120
    assert warning == "step 15s would give 1201 points per series (limit 300); raised to 2m"


def test_huge_spans_go_beyond_the_table() -> None:
    span = timedelta(days=3650)
    step, _ = promql.choose_step(span, 100)
    assert promql.points(span, step) <= 100


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (0.25, "250ms"), (15, "15s"), (90, "1m30s"), (3600, "1h"), (86400 + 60, "1d1m")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert promql.format_duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.8473, "seconds", "847.3 ms"),
        (0.015, "seconds", "15 ms"),
        (2.5, "seconds", "2.5 s"),
        (0, "seconds", "0 s"),
        (124.3e9, "bytes", "124.3 GB"),
        (512e6, "bytes", "512 MB"),
        (2048, "bytes", "2.048 kB"),
        (12, "bytes", "12 B"),
        (0.04122, None, "0.04122"),
        (85.03333, None, "85.03"),
        (1281721.576, None, "1,281,722"),
        (0, None, "0"),
        (math.nan, "seconds", "NaN"),
        (math.inf, None, "+Inf"),
        (-math.inf, "bytes", "-Inf"),
    ],
)
def test_format_value(value: float, unit: promql.Unit | None, text: str) -> None:
    assert promql.format_value(value, unit) == text


@pytest.mark.parametrize(
    ("query", "unit"),
    [
        (
            "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
            "seconds",
        ),
        ('sum by (namespace) (container_memory_working_set_bytes{namespace="prod"})', "bytes"),
        ("max_over_time(container_memory_working_set_bytes[1h])", "bytes"),
        ("x_seconds > 0.5", "seconds"),
        ("0.5 < x_seconds", "seconds"),
        ("x_seconds > bool 0.5", None),
        ("rate(http_request_duration_seconds_sum[5m])", None),  # seconds per second
        ("sum(container_memory_working_set_bytes) / 1e9", None),  # the unit changed
        ("a_bytes / b_bytes", None),
        ("a_bytes - b_bytes", "bytes"),
        ("count(container_memory_working_set_bytes)", None),
        ("rate(container_cpu_usage_seconds_total[5m])", None),
        ("up", None),
    ],
)
def test_unit_is_inferred_only_where_the_query_keeps_it(
    query: str, unit: promql.Unit | None
) -> None:
    assert promql.unit_of_expr(promql.validate(query)) == unit
