"""Every read tool, by name. The engine offers the model these (and only `propose_*` tools)."""

from __future__ import annotations

from typing import Any

from tools import alertmanager, catalog, logs, pagerduty, prometheus
from tools.base import Risk, Tool


def all_tools() -> tuple[Tool[Any], ...]:
    """The read tools, in a stable order: metrics, logs, incidents, alerts, catalog."""
    return (
        *prometheus.TOOLS,
        *logs.TOOLS,
        *pagerduty.TOOLS,
        *alertmanager.TOOLS,
        *catalog.TOOLS,
    )


def read_tools() -> dict[str, Tool[Any]]:
    tools = {tool.name: tool for tool in all_tools() if tool.risk is Risk.READ}
    if len(tools) != len(all_tools()):
        raise RuntimeError("tool names must be unique and every registered tool read-only")
    return tools
