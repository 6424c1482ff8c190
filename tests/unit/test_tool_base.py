"""The tool contract: bad arguments and expected failures come back as values, not exceptions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import Field

from bot.services import build_services
from bot.settings import Settings
from tools.base import (
    BackendError,
    Status,
    Tool,
    ToolArgs,
    ToolContext,
    ToolInputError,
    ToolResult,
    description,
)


class EchoArgs(ToolArgs):
    word: str = Field(min_length=1)
    times: int = Field(1, ge=1, le=3)


def _echo(ctx: ToolContext, args: EchoArgs) -> ToolResult:
    if args.word == "backend":
        raise BackendError("prometheus: connection refused", query="up")
    if args.word == "input":
        raise ToolInputError("unknown metric 'x'; closest: 'y'", query="x")
    if args.word == "bug":
        raise RuntimeError("a bug, not an expected failure")
    return ToolResult(
        tool="echo",
        backend="prometheus",
        status=Status.OK,
        query=args.word,
        text=" ".join([args.word] * args.times),
    )


ECHO = Tool(
    "echo", "prometheus", description("Echo.", "testing", "echo(word='x')"), EchoArgs, _echo
)


@pytest.fixture(scope="module")
def ctx() -> Any:
    services = build_services(Settings())
    yield ToolContext(services=services, now=lambda: datetime.now(UTC))
    services.close()


def test_valid_call(ctx: ToolContext) -> None:
    result = ECHO.run(ctx, {"word": "hi", "times": 2})
    assert result.status is Status.OK
    assert result.text == "hi hi"
    assert result.elapsed_ms >= 0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"word": ""}, "word: String should have at least 1 character"),
        ({"word": "x", "times": 9}, "times: Input should be less than or equal to 3"),
        ({"word": "x", "colour": "red"}, "colour: Extra inputs are not permitted"),
        ({}, "word: Field required"),
    ],
)
def test_malformed_arguments_are_an_error_result(
    ctx: ToolContext, raw: dict[str, Any], message: str
) -> None:
    result = ECHO.run(ctx, raw)
    assert result.status is Status.ERROR
    assert result.error is not None
    assert result.error.startswith("invalid arguments: ")
    assert message in result.error


@pytest.mark.parametrize(
    ("word", "text"), [("backend", "connection refused"), ("input", "closest: 'y'")]
)
def test_expected_failures_become_results_with_the_query(
    ctx: ToolContext, word: str, text: str
) -> None:
    result = ECHO.run(ctx, {"word": word})
    assert result.status is Status.ERROR
    assert result.error is not None
    assert text in result.error
    assert result.query in {"up", "x"}
    assert f"error: {result.error}" in result.render()


def test_bugs_are_not_swallowed(ctx: ToolContext) -> None:
    with pytest.raises(RuntimeError, match="a bug"):
        ECHO.run(ctx, {"word": "bug"})


def test_description_has_when_and_example() -> None:
    text = description("Runs PromQL.", "you need a number", "prometheus_instant_query(query='up')")
    assert text.splitlines()[1].startswith("Use it when:")
    assert text.splitlines()[-1].startswith("Example:")
