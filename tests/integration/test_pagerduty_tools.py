"""The PagerDuty tools against the devstack's simulator, and against failing PagerDutys.

Expected values come from the demo world's own facts (`devstack.world.scenario`) and on-call
arithmetic (`devstack.pagerduty.world`), never from the tools' output. Failure cases (bad
token, rate limit, refused, silent server) use their own simulator or socket, so the shared
devstack is only read.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import HttpUrl, SecretStr

from bot.services import build_services
from bot.settings import Settings
from devstack.layout import StackInfo
from devstack.pagerduty import world
from devstack.process import free_port
from devstack.world import scenario
from tests.pagerduty_helpers import TOKEN, paris_anchor, start_simulator
from tools.base import Status, ToolContext
from tools.pagerduty import (
    PAGERDUTY_CHANGE_EVENTS,
    PAGERDUTY_GET_INCIDENT,
    PAGERDUTY_LIST_INCIDENTS,
    PAGERDUTY_LIST_SERVICES,
    PAGERDUTY_ONCALL,
    RATE_LIMIT_MAX_WAIT_S,
    TOOLS,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

REFERENCE = scenario.REFERENCE


def _user_name(user_id: str) -> str:
    return next(u.name for u in scenario.USERS if u.id == user_id)


def _happened(stack: StackInfo, day: int, hhmm: str) -> bool:
    """Whether the world (built at `created_at`) contains an event of D+day at hhmm."""
    return stack.anchor.at(day, hhmm) <= stack.anchor.created_at


@contextmanager
def _context(settings: Settings, **pagerduty: Any) -> Iterator[ToolContext]:
    """A ToolContext whose PagerDuty settings are changed by `pagerduty`."""
    section = settings.pagerduty.model_copy(update=pagerduty)
    services = build_services(settings.model_copy(update={"pagerduty": section}))
    try:
        yield ToolContext(services=services, now=lambda: datetime.now(UTC))
    finally:
        services.close()


def test_tools_are_declared_read_only_with_descriptions() -> None:
    assert [t.name for t in TOOLS] == [
        "pagerduty_list_incidents",
        "pagerduty_get_incident",
        "pagerduty_oncall",
        "pagerduty_list_services",
        "pagerduty_change_events",
    ]
    for tool in TOOLS:
        assert tool.risk.value == "read"
        assert "Use it when:" in tool.description
        assert "Example:" in tool.description
        assert tool.json_schema()["type"] == "object"


# --------------------------------------------------------------------------- incidents


def test_open_incidents_are_the_payment_gateway_one(
    tool_ctx: ToolContext, stack: StackInfo
) -> None:
    if not _happened(stack, 0, REFERENCE.pagerduty_triggered_at):
        pytest.skip("the devstack's world was built before the reference incident fired")
    result = PAGERDUTY_LIST_INCIDENTS.run(tool_ctx, {"statuses": ["open"]})
    assert result.status is Status.OK, result.error
    assert result.query.startswith("GET /incidents?")
    assert "statuses[]=triggered" in result.query
    reference = next(r for r in result.data if r["title"] == REFERENCE.title)
    assert reference["service"] == "payment-gateway"
    assert reference["urgency"] == "high"
    assert reference["status"] in {"triggered", "acknowledged"}
    triggered = stack.anchor.at(0, REFERENCE.pagerduty_triggered_at)
    assert reference["created_at"] == world.iso(triggered)
    local = triggered.astimezone(tool_ctx.tz).strftime("%Y-%m-%d 08:44")
    assert f"#{reference['number']} " in result.text
    assert local in result.text
    assert all(r["status"] != "resolved" for r in result.data)


def test_incidents_by_service_and_window_newest_first(
    tool_ctx: ToolContext, stack: StackInfo
) -> None:
    since = stack.anchor.local_midnight(-14).isoformat()
    result = PAGERDUTY_LIST_INCIDENTS.run(
        tool_ctx, {"services": ["cart", "Search"], "since": since, "statuses": ["resolved"]}
    )
    assert result.status is Status.OK, result.error
    assert {r["service"] for r in result.data} <= {"cart", "search"}
    expected = {p.title for p in scenario.PAST_INCIDENTS if p.service in {"cart", "search"}} & {
        r["title"] for r in result.data
    }
    assert expected, "the past cart/search incidents are in the window"
    created = [r["created_at"] for r in result.data]
    assert created == sorted(created, reverse=True)
    assert result.time_range is not None
    assert "service_ids[]=" in result.query


def test_no_incident_is_no_data_with_a_hint(tool_ctx: ToolContext) -> None:
    result = PAGERDUTY_LIST_INCIDENTS.run(
        tool_ctx, {"since": "2020-01-01T00:00:00Z", "until": "2020-01-02T00:00:00Z"}
    )
    assert result.status is Status.NO_DATA
    assert "widen" in result.text


def test_get_incident_with_its_timeline(tool_ctx: ToolContext, stack: StackInfo) -> None:
    if not _happened(stack, 0, REFERENCE.pagerduty_triggered_at):
        pytest.skip("the devstack's world was built before the reference incident fired")
    listed = PAGERDUTY_LIST_INCIDENTS.run(tool_ctx, {"statuses": ["open"]})
    number = next(r["number"] for r in listed.data if r["title"] == REFERENCE.title)
    result = PAGERDUTY_GET_INCIDENT.run(tool_ctx, {"incident": f"#{number}"})
    assert result.status is Status.OK, result.error
    assert result.query.startswith(f"GET /incidents/{number} ; ")
    data = result.data
    oncall = world.oncall_user(
        "payments", stack.anchor.at(0, REFERENCE.pagerduty_triggered_at), stack.anchor.tz
    )
    kinds = [t["kind"] for t in data["timeline"]]
    assert kinds[:2] == ["trigger", "notify"]  # chronological, even within one second
    stamps = [t["at"] for t in data["timeline"]]
    assert stamps == sorted(stamps)
    assert data["alerts"][0]["details"]["p99_ms"] == round(REFERENCE.p99_s * 1000)
    assert "847 ms" in result.text
    assert f"Notified {_user_name(oncall)}" in result.text
    assert "08:44 trigger" in result.text
    assert result.time_range is not None
    assert result.time_range.start == stack.anchor.at(0, REFERENCE.pagerduty_triggered_at)


def test_resolved_incident_shows_its_note(tool_ctx: ToolContext, stack: StackInfo) -> None:
    past = next(p for p in scenario.PAST_INCIDENTS if p.service == "cart")
    listed = PAGERDUTY_LIST_INCIDENTS.run(
        tool_ctx,
        {"services": ["cart"], "statuses": ["resolved"], "since": "now-15d"},
    )
    row = next(r for r in listed.data if r["title"] == past.title)
    result = PAGERDUTY_GET_INCIDENT.run(tool_ctx, {"incident": row["id"]})
    assert result.status is Status.OK, result.error
    kinds = [t["kind"] for t in result.data["timeline"]]
    assert kinds == ["trigger", "notify", "acknowledge", "note", "resolve"]
    assert past.note in result.text


def test_unknown_incident_is_an_input_error(tool_ctx: ToolContext) -> None:
    result = PAGERDUTY_GET_INCIDENT.run(tool_ctx, {"incident": "99999"})
    assert result.status is Status.ERROR
    assert "no PagerDuty incident '99999'" in (result.error or "")
    assert result.query == "GET /incidents/99999"


# --------------------------------------------------------------------------- on call


def test_oncall_for_a_service_now(tool_ctx: ToolContext, stack: StackInfo) -> None:
    result = PAGERDUTY_ONCALL.run(tool_ctx, {"service": "payment-gateway"})
    assert result.status is Status.OK, result.error
    now = datetime.now(UTC)
    level_1 = world.oncall_user("payments", now, stack.anchor.tz)
    level_2 = world.schedule_for_team("payments").escalation_user
    by_level = {r["level"]: r for r in result.data}
    assert set(by_level) == {1, 2}
    assert by_level[1]["user_id"] == level_1
    assert by_level[1]["schedule"] == "Payments primary"
    assert by_level[2]["user_id"] == level_2
    assert f"level 1: {_user_name(level_1)}" in result.text
    assert f"level 2: {_user_name(level_2)}" in result.text
    assert "escalation_policy_ids[]=PEPAYMT" in result.query


def test_oncall_at_a_past_time(tool_ctx: ToolContext, stack: StackInfo) -> None:
    at = datetime.now(UTC) - timedelta(days=9)
    result = PAGERDUTY_ONCALL.run(tool_ctx, {"service": "payment-gateway", "at": at.isoformat()})
    assert result.status is Status.OK, result.error
    expected = world.oncall_user("payments", at, stack.anchor.tz)
    level_1 = next(r for r in result.data if r["level"] == 1)
    assert level_1["user_id"] == expected
    assert world.parse_iso(level_1["start"]) <= at < world.parse_iso(level_1["end"])
    assert "since=" in result.query


def test_oncall_for_a_schedule_by_name(tool_ctx: ToolContext, stack: StackInfo) -> None:
    result = PAGERDUTY_ONCALL.run(tool_ctx, {"schedule": "platform primary", "at": "now-2d"})
    assert result.status is Status.OK, result.error
    at = datetime.now(UTC) - timedelta(days=2)
    expected = world.oncall_user("platform", at, stack.anchor.tz)
    assert [r["user_id"] for r in result.data] == [expected]


def test_unknown_schedule_lists_the_existing_ones(tool_ctx: ToolContext) -> None:
    result = PAGERDUTY_ONCALL.run(tool_ctx, {"schedule": "Payments secondary"})
    assert result.status is Status.ERROR
    assert "no PagerDuty schedule named 'Payments secondary'" in (result.error or "")
    for spec in scenario.SCHEDULES:
        assert spec.name in (result.error or "")


# --------------------------------------------------------------------------- services, changes


def test_list_services(tool_ctx: ToolContext, stack: StackInfo) -> None:
    result = PAGERDUTY_LIST_SERVICES.run(tool_ctx, {})
    assert result.status is Status.OK, result.error
    assert sorted(r["name"] for r in result.data) == sorted(scenario.SERVICE_NAMES)
    gateway = next(r for r in result.data if r["name"] == "payment-gateway")
    assert gateway["id"] == world.service_id("payment-gateway")
    assert gateway["escalation_policy"] == "Payments"
    assert gateway["teams"] == ["Payments"]
    if _happened(stack, 0, REFERENCE.pagerduty_triggered_at):
        assert gateway["status"] in {"critical", "warning"}
    assert f"payment-gateway ({gateway['id']})" in result.text
    assert result.query == "GET /services?limit=100"


def test_change_events_for_payment_gateway(tool_ctx: ToolContext, stack: StackInfo) -> None:
    if not _happened(stack, 0, REFERENCE.deploy_at):
        pytest.skip("the devstack's world was built before the 08:30 deploy")
    since = stack.anchor.local_midnight(0).isoformat()
    result = PAGERDUTY_CHANGE_EVENTS.run(tool_ctx, {"service": "payment-gateway", "since": since})
    assert result.status is Status.OK, result.error
    deploy = next(r for r in result.data if r["custom_details"].get("namespace") == "prod")
    assert deploy["custom_details"]["version"] == "2.14.3"
    assert deploy["timestamp"] == world.iso(stack.anchor.at(0, REFERENCE.deploy_at))
    assert deploy["local"].endswith(" 08:30")
    assert "version=2.14.3" in result.text
    gateway = world.service_id("payment-gateway")
    assert f"GET /services/{gateway}/change_events?since=" in result.query


def test_change_events_by_service_id_and_all(tool_ctx: ToolContext) -> None:
    gateway = world.service_id("payment-gateway")
    by_id = PAGERDUTY_CHANGE_EVENTS.run(tool_ctx, {"service": gateway, "since": "now-14d"})
    assert by_id.status is Status.OK, by_id.error
    assert {r["custom_details"]["version"] for r in by_id.data} >= {"2.14.2", "2.14.3"}
    everything = PAGERDUTY_CHANGE_EVENTS.run(tool_ctx, {"since": "now-14d", "limit": 200})
    assert len({s for r in everything.data for s in r["services"]}) > 1
    stamps = [r["timestamp"] for r in everything.data]
    assert stamps == sorted(stamps, reverse=True)


def test_unknown_service_lists_the_existing_ones(tool_ctx: ToolContext) -> None:
    result = PAGERDUTY_LIST_INCIDENTS.run(tool_ctx, {"services": ["paymnt-gateway"]})
    assert result.status is Status.ERROR
    error = result.error or ""
    assert "no PagerDuty service named 'paymnt-gateway'" in error
    for name in scenario.SERVICE_NAMES:
        assert name in error
    assert result.query  # the lookups that were made


def test_bad_arguments_are_errors_not_exceptions(tool_ctx: ToolContext) -> None:
    bad_time = PAGERDUTY_CHANGE_EVENTS.run(tool_ctx, {"since": "last tuesday-ish"})
    assert bad_time.status is Status.ERROR
    assert "accepted" in (bad_time.error or "")
    both = PAGERDUTY_ONCALL.run(tool_ctx, {"service": "cart", "schedule": "Payments primary"})
    assert both.status is Status.ERROR
    unknown_arg = PAGERDUTY_LIST_SERVICES.run(tool_ctx, {"name": "cart"})
    assert unknown_arg.status is Status.ERROR


# --------------------------------------------------------------------------- failures


def test_wrong_token_is_a_clear_401(stack_settings: Settings) -> None:
    wrong = "wrong-token-do-not-show-7f3a9c"
    with _context(stack_settings, token=SecretStr(wrong)) as ctx:
        result = PAGERDUTY_LIST_SERVICES.run(ctx, {})
    assert result.status is Status.ERROR
    assert "PagerDuty rejected the token (401)" in (result.error or "")
    assert wrong not in result.render()
    assert wrong[-4:] not in result.render()


def test_rate_limit_is_bounded_and_clear(stack_settings: Settings, tmp_path: Path) -> None:
    simulator = start_simulator(tmp_path / "pd", paris_anchor(), rate_limit_per_minute=2)
    try:
        with _context(
            stack_settings,
            api_url=HttpUrl(simulator.url),
            token=SecretStr(TOKEN),
            ca_bundle=simulator.ca,
        ) as ctx:
            for _ in range(2):
                assert PAGERDUTY_LIST_SERVICES.run(ctx, {}).status is Status.OK
            started = time.monotonic()
            result = PAGERDUTY_LIST_SERVICES.run(ctx, {})
            elapsed = time.monotonic() - started
    finally:
        simulator.stop()
    assert result.status is Status.ERROR
    error = result.error or ""
    assert "rate limited by PagerDuty (429): retry after" in error
    # The window is a minute: Retry-After exceeds the bound, so the tool does not wait at all.
    seconds = int(error.split("retry after ")[1].split(" s")[0])
    assert RATE_LIMIT_MAX_WAIT_S < seconds <= 60
    assert elapsed < 2.0
    assert result.query == "GET /services?limit=100"


def test_refused_connection_is_a_quick_error(stack_settings: Settings) -> None:
    url = f"https://127.0.0.1:{free_port()}"
    with _context(stack_settings, api_url=HttpUrl(url)) as ctx:
        started = time.monotonic()
        result = PAGERDUTY_LIST_INCIDENTS.run(ctx, {"statuses": ["open"]})
        elapsed = time.monotonic() - started
    assert result.status is Status.ERROR
    assert f"cannot reach PagerDuty at {url}" in (result.error or "")
    assert elapsed < 2.0


def test_silent_server_times_out_within_the_setting(stack_settings: Settings) -> None:
    # A socket that accepts TCP (the kernel does) but never answers the TLS handshake.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"https://127.0.0.1:{silent.getsockname()[1]}"
        with _context(stack_settings, api_url=HttpUrl(url), timeout_s=0.5) as ctx:
            started = time.monotonic()
            result = PAGERDUTY_LIST_SERVICES.run(ctx, {})
            elapsed = time.monotonic() - started
    assert result.status is Status.ERROR
    assert "did not answer within 0.5 s" in (result.error or "")
    assert elapsed < 3.0


def test_missing_configuration_is_an_error(stack_settings: Settings, tmp_path: Path) -> None:
    with _context(stack_settings, token=None) as ctx:
        result = PAGERDUTY_LIST_SERVICES.run(ctx, {})
    assert result.status is Status.ERROR
    assert "PagerDuty is not configured" in (result.error or "")
    with _context(stack_settings, ca_bundle=tmp_path / "missing.pem") as ctx:
        result = PAGERDUTY_LIST_SERVICES.run(ctx, {})
    assert result.status is Status.ERROR
    assert "pagerduty.ca_bundle: no such file" in (result.error or "")


def test_untrusted_certificate_names_the_ca_setting(stack_settings: Settings) -> None:
    # The system trust store does not know the devstack's private CA.
    with _context(stack_settings, ca_bundle=None) as ctx:
        result = PAGERDUTY_LIST_SERVICES.run(ctx, {})
    assert result.status is Status.ERROR
    assert "TLS verification of PagerDuty" in (result.error or "")
    assert "pagerduty.ca_bundle" in (result.error or "")
