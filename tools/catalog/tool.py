"""The `catalog_describe` tool: what "latency", "errors", "memory" mean on this Prometheus."""

from __future__ import annotations

from pydantic import Field

from tools.base import Status, Tool, ToolArgs, ToolContext, ToolResult, description
from tools.budget import fit_lines
from tools.catalog.signals import SignalName

_SIGNAL_NAMES = ", ".join(s.value for s in SignalName)


class DescribeArgs(ToolArgs):
    """Arguments of catalog_describe."""

    signal: str | None = Field(
        None,
        description=f"one signal ({_SIGNAL_NAMES}); omit to list them all",
        max_length=40,
    )


def describe_catalog(ctx: ToolContext, args: DescribeArgs) -> ToolResult:
    """Describe the signal catalog of the configured Prometheus (discovered, cached)."""
    service = ctx.services.catalog
    catalog = service.get()
    text = catalog.describe(args.signal)
    data = catalog.to_data()
    if args.signal is not None:
        name = catalog.signal(args.signal).value
        data["signals"] = {k: v for k, v in data["signals"].items() if k == name}
        data["missing"] = {k: v for k, v in data["missing"].items() if k == name}
    lines = text.splitlines()
    shown, truncated = fit_lines(lines[:1], lines[1:], ctx.token_budget, noun="lines")
    status = service.status()
    warnings: tuple[str, ...] = ()
    if status.last_error:
        warnings = (f"catalog may be stale, the last discovery failed: {status.last_error}",)
    return ToolResult(
        tool="catalog_describe",
        backend="catalog",
        status=Status.OK,
        query=f"catalog_describe({args.signal or ''})",
        data=data,
        text=shown,
        warnings=warnings,
        truncated=truncated,
    )


CATALOG_DESCRIBE: Tool[DescribeArgs] = Tool(
    name="catalog_describe",
    backend="catalog",
    description=description(
        what=(
            "Lists the signals of this Prometheus (latency, throughput, error_ratio, cpu, "
            "memory, pool_saturation, availability, restarts, deploys): the metric behind each, "
            "the label names meaning service and namespace, the unit, and a vetted example "
            "PromQL query to adapt."
        ),
        when=(
            "before writing PromQL for a service question, to learn the metric and label names "
            "this server uses instead of guessing them (they differ between servers: "
            "service vs service_name vs destination_workload, seconds vs milliseconds)."
        ),
        example='catalog_describe(signal="latency")',
        notes="Latency queries are in seconds even when the metric is in milliseconds.",
    ),
    args=DescribeArgs,
    fn=describe_catalog,
    tags=("catalog", "metrics"),
)
