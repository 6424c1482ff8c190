"""The registered tools keep the contract a model relies on."""

from __future__ import annotations

import re

from tools.base import Risk
from tools.registry import all_tools, read_tools

PREFIXES = ("prometheus_", "logs_", "pagerduty_", "alertmanager_", "catalog_")


def test_every_tool_is_named_backend_verb_noun_and_unique() -> None:
    names = [tool.name for tool in all_tools()]
    assert len(names) == len(set(names))
    for name in names:
        assert name.startswith(PREFIXES), name
        assert re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", name), name


def test_every_tool_is_read_only_and_described_for_a_model() -> None:
    tools = read_tools()
    assert len(tools) == len(all_tools()) >= 18
    for tool in all_tools():
        assert tool.risk is Risk.READ
        assert "Use it when:" in tool.description, tool.name
        assert "Example:" in tool.description, tool.name
        assert tool.json_schema()["type"] == "object"


def test_the_issue_s_tools_are_all_there() -> None:
    expected = {
        "prometheus_instant_query",
        "prometheus_range_query",
        "prometheus_list_metrics",
        "prometheus_label_values",
        "prometheus_alerts",
        "prometheus_rules",
        "logs_search",
        "logs_histogram",
        "logs_top_messages",
        "logs_fields",
        "pagerduty_list_incidents",
        "pagerduty_get_incident",
        "pagerduty_oncall",
        "pagerduty_list_services",
        "pagerduty_change_events",
        "alertmanager_alerts",
        "alertmanager_silences",
        "catalog_describe",
    }
    assert expected <= set(read_tools())
