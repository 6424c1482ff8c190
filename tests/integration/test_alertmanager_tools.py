"""The Alertmanager tools against the devstack's real Alertmanager (fed by its Prometheus).

Silences created here match only a label no alert carries (`vigie_test=<unique>`), so they mute
nothing another test might be looking at, and they are expired at the end either way.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import HttpUrl

from bot.services import build_services
from bot.settings import Settings
from devstack.layout import StackInfo
from devstack.process import free_port
from tools.alertmanager import ALERTMANAGER_ALERTS, ALERTMANAGER_SILENCES, TOOLS
from tools.base import Status, ToolContext, ToolResult

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

# Prometheus evaluates rules every few seconds and the devstack's alerts need `for: 1m..5m`.
ALERT_WAIT_S = 90.0


@pytest.fixture(scope="module")
def firing(tool_ctx: ToolContext) -> ToolResult:
    """The first non-empty answer of alertmanager_alerts, polled for up to ALERT_WAIT_S."""
    deadline = time.monotonic() + ALERT_WAIT_S
    while True:
        result = ALERTMANAGER_ALERTS.run(tool_ctx, {})
        assert result.status is not Status.ERROR, result.error
        if result.status is Status.OK or time.monotonic() > deadline:
            break
        time.sleep(3)
    if result.status is not Status.OK:
        pytest.skip(f"no alert fired within {ALERT_WAIT_S:.0f} s of asking (Prometheus is young)")
    return result


@pytest.fixture
def am(stack: StackInfo) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.alertmanager_url, timeout=10) as client:
        yield client


@pytest.fixture
def silences(am: httpx.Client) -> Iterator[dict[str, Any]]:
    """An active and a pending silence on a label no alert has; both expired afterwards."""
    tag = uuid.uuid4().hex[:12]
    now = datetime.now(UTC)
    created: dict[str, Any] = {"tag": tag}
    for state, start in (("active", now), ("pending", now + timedelta(hours=1))):
        body = {
            "matchers": [
                {"name": "vigie_test", "value": tag, "isRegex": False, "isEqual": True},
                {"name": "service", "value": "pay.*", "isRegex": True, "isEqual": True},
            ],
            "startsAt": start.isoformat(),
            "endsAt": (start + timedelta(minutes=30)).isoformat(),
            "createdBy": "vigie-tests",
            "comment": f"{state} silence {tag}",
        }
        response = am.post("/api/v2/silences", json=body)
        response.raise_for_status()
        created[state] = response.json()["silenceID"]
    try:
        yield created
    finally:
        for state in ("active", "pending"):
            am.delete(f"/api/v2/silence/{created[state]}")


def test_tools_are_declared_read_only() -> None:
    assert [t.name for t in TOOLS] == ["alertmanager_alerts", "alertmanager_silences"]
    for tool in TOOLS:
        assert tool.risk.value == "read"
        assert "Use it when:" in tool.description


def test_firing_alerts(firing: ToolResult, tool_ctx: ToolContext) -> None:
    assert firing.query == "GET /api/v2/alerts?active=true&silenced=false&inhibited=false"
    for row in firing.data:
        assert row["state"] == "active"
        assert row["labels"]["alertname"] == row["alertname"]
        assert row["since_local"] != "?"
        assert row["alertname"] in firing.text
    first = firing.data[0]
    assert f"since {first['since_local']}" in firing.text
    if first["summary"]:
        assert first["summary"][:40] in firing.text


def test_label_filters(firing: ToolResult, tool_ctx: ToolContext) -> None:
    first = firing.data[0]
    result = ALERTMANAGER_ALERTS.run(
        tool_ctx,
        {
            "labels": {"alertname": first["alertname"]},
            "matchers": [f'severity=~"{first["severity"]}|none"'],
        },
    )
    assert result.status is Status.OK, result.error
    assert {r["alertname"] for r in result.data} == {first["alertname"]}
    assert f'filter=alertname="{first["alertname"]}"' in result.query
    nothing = ALERTMANAGER_ALERTS.run(tool_ctx, {"labels": {"service": "no-such-service"}})
    assert nothing.status is Status.NO_DATA
    assert "silenced=true" in nothing.text


def test_bad_matcher_is_an_input_error(tool_ctx: ToolContext) -> None:
    result = ALERTMANAGER_ALERTS.run(tool_ctx, {"matchers": ["service is cart"]})
    assert result.status is Status.ERROR
    assert 'name="value"' in (result.error or "")


def test_silences_show_the_one_created(
    tool_ctx: ToolContext, silences: dict[str, Any], am: httpx.Client
) -> None:
    tag = silences["tag"]
    result = ALERTMANAGER_SILENCES.run(tool_ctx, {"matchers": [f"vigie_test={tag}"]})
    assert result.status is Status.OK, result.error
    by_id = {r["id"]: r for r in result.data}
    active, pending = by_id[silences["active"]], by_id[silences["pending"]]
    assert active["state"] == "active"
    assert pending["state"] == "pending"
    assert active["created_by"] == "vigie-tests"
    assert active["comment"] == f"active silence {tag}"
    assert active["matchers"] == [f'vigie_test="{tag}"', 'service=~"pay.*"']
    assert [r["id"] for r in result.data] == [silences["active"], silences["pending"]]
    assert f'active {silences["active"]} {{vigie_test="{tag}"' in result.text
    assert "by vigie-tests" in result.text
    assert result.query == f'GET /api/v2/silences?filter=vigie_test="{tag}"'

    only_active = ALERTMANAGER_SILENCES.run(
        tool_ctx, {"states": ["active"], "matchers": [f'vigie_test="{tag}"']}
    )
    assert [r["id"] for r in only_active.data] == [silences["active"]]

    am.delete(f"/api/v2/silence/{silences['active']}").raise_for_status()
    expired = ALERTMANAGER_SILENCES.run(
        tool_ctx, {"states": ["expired"], "matchers": [f'vigie_test="{tag}"']}
    )
    assert silences["active"] in {r["id"] for r in expired.data}


def test_no_silence_is_no_data(tool_ctx: ToolContext) -> None:
    result = ALERTMANAGER_SILENCES.run(tool_ctx, {"matchers": [f"vigie_test={uuid.uuid4().hex}"]})
    assert result.status is Status.NO_DATA
    assert "expired" in result.text


def test_unreachable_alertmanager_is_an_error(stack_settings: Settings) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    section = stack_settings.alertmanager.model_copy(update={"url": HttpUrl(url)})
    services = build_services(stack_settings.model_copy(update={"alertmanager": section}))
    try:
        ctx = ToolContext(services=services, now=lambda: datetime.now(UTC))
        started = time.monotonic()
        for tool in TOOLS:
            result = tool.run(ctx, {})
            assert result.status is Status.ERROR
            assert "cannot reach Alertmanager at http://127.0.0.1:" in (result.error or "")
            assert result.query.startswith("GET /api/v2/")
        assert time.monotonic() - started < 2.0
    finally:
        services.close()


def test_silent_alertmanager_times_out_within_the_setting(stack_settings: Settings) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        section = stack_settings.alertmanager.model_copy(
            update={"url": HttpUrl(url), "timeout_s": 0.5}
        )
        services = build_services(stack_settings.model_copy(update={"alertmanager": section}))
        try:
            ctx = ToolContext(services=services, now=lambda: datetime.now(UTC))
            started = time.monotonic()
            result = ALERTMANAGER_ALERTS.run(ctx, {})
            elapsed = time.monotonic() - started
        finally:
            services.close()
    assert result.status is Status.ERROR
    assert "did not answer within 0.5 s" in (result.error or "")
    assert elapsed < 3.0
