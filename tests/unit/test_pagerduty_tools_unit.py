"""PagerDuty tools over a fake transport: Retry-After is honoured, bounded, and errors are plain.

The official client is built as usual, with `httpx2.MockTransport` as its transport (the seam
httpx offers), so no network and no patching of private names.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx2
import pagerduty
import pytest

from bot.services import build_services
from bot.settings import Settings
from tools.base import Status, ToolContext
from tools.pagerduty import PAGERDUTY_LIST_SERVICES, PAGERDUTY_ONCALL

TOKEN = "unit-token-5b8e1d"
SERVICE = {
    "id": "PSVC123",
    "name": "cart",
    "status": "active",
    "escalation_policy": {"id": "PEP1", "summary": "Payments"},
    "teams": [{"id": "PT1", "summary": "Payments"}],
}

Handler = Callable[[httpx2.Request], httpx2.Response]


@pytest.fixture
def make_ctx() -> Iterator[Callable[[Handler], ToolContext]]:
    """Builds ToolContexts whose PagerDuty client answers through `handler`."""
    services = build_services(Settings())
    clients: list[pagerduty.RestApiV2Client] = []

    def build(handler: Handler) -> ToolContext:
        client = pagerduty.RestApiV2Client(TOKEN, transport=httpx2.MockTransport(handler))
        client.url = "https://pagerduty.test"
        clients.append(client)
        # Services.pagerduty is built lazily from settings; a test hands it this client instead.
        services.pagerduty = client
        return ToolContext(services=services, now=lambda: datetime.now(UTC))

    yield build
    for client in clients:
        client.close()
    services.close()


def _services_page() -> httpx2.Response:
    return httpx2.Response(200, json={"services": [SERVICE], "more": False})


def test_waits_for_retry_after_then_succeeds(make_ctx: Callable[[Handler], ToolContext]) -> None:
    calls: list[float] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return httpx2.Response(
                429, headers={"Retry-After": "1"}, json={"error": {"code": 2020}}
            )
        return _services_page()

    result = PAGERDUTY_LIST_SERVICES.run(make_ctx(handler), {})
    assert result.status is Status.OK, result.error
    assert len(calls) == 2
    assert 0.9 <= calls[1] - calls[0] < 2.0
    assert result.query == "GET /services?limit=100"  # one logical call, however many tries


def test_retry_after_beyond_the_bound_fails_at_once(
    make_ctx: Callable[[Handler], ToolContext],
) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(429, headers={"Retry-After": "45"}, json={"error": {}})

    started = time.monotonic()
    result = PAGERDUTY_LIST_SERVICES.run(make_ctx(handler), {})
    assert time.monotonic() - started < 1.0
    assert result.status is Status.ERROR
    assert result.error == "rate limited by PagerDuty (429): retry after 45 s"


def test_401_names_the_setting_not_the_token(make_ctx: Callable[[Handler], ToolContext]) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        assert request.headers["Authorization"] == f"Token token={TOKEN}"
        return httpx2.Response(
            401, json={"error": {"message": "Authentication failed", "code": 2006}}
        )

    result = PAGERDUTY_LIST_SERVICES.run(make_ctx(handler), {})
    assert result.status is Status.ERROR
    assert "PagerDuty rejected the token (401)" in (result.error or "")
    assert "pagerduty.token" in (result.error or "")
    assert TOKEN[-4:] not in result.render()


def test_server_error_carries_pagerdutys_message(
    make_ctx: Callable[[Handler], ToolContext],
) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            503, json={"error": {"message": "Service Unavailable", "errors": ["try later"]}}
        )

    result = PAGERDUTY_LIST_SERVICES.run(make_ctx(handler), {})
    assert result.status is Status.ERROR
    assert result.error == (
        "PagerDuty answered 503 to GET /services: Service Unavailable; try later"
    )


def test_pagination_is_followed_and_bounded(make_ctx: Callable[[Handler], ToolContext]) -> None:
    offsets: list[str | None] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        offsets.append(request.url.params.get("offset"))
        page = [{**SERVICE, "id": f"PSVC{len(offsets)}", "name": f"svc-{len(offsets)}"}]
        return httpx2.Response(200, json={"services": page, "more": True})

    result = PAGERDUTY_LIST_SERVICES.run(make_ctx(handler), {"limit": 3})
    assert result.status is Status.OK
    assert [r["name"] for r in result.data] == ["svc-1", "svc-2", "svc-3"]
    assert offsets == [None, "1", "2"]
    assert result.warnings == ("more services exist than the 3 listed",)


def test_oncall_entries_without_schedule_are_always_on_call(
    make_ctx: Callable[[Handler], ToolContext],
) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/services":
            return _services_page()
        assert request.url.params.get_list("escalation_policy_ids[]") == ["PEP1"]
        oncalls = [
            {
                "escalation_policy": {"id": "PEP1", "summary": "Payments"},
                "escalation_level": 2,
                "schedule": None,
                "user": {"id": "PU2", "summary": "Hugo Moreau"},
                "start": None,
                "end": None,
            },
            {
                "escalation_policy": {"id": "PEP1", "summary": "Payments"},
                "escalation_level": 1,
                "schedule": {"id": "PS1", "summary": "Payments primary"},
                "user": {"id": "PU1", "summary": "Alice Martin"},
                "start": "2026-11-16T08:00:00Z",
                "end": "2026-11-23T08:00:00Z",
            },
        ]
        return httpx2.Response(200, json={"oncalls": oncalls, "more": False})

    result = PAGERDUTY_ONCALL.run(make_ctx(handler), {"service": "cart"})
    assert result.status is Status.OK, result.error
    assert result.text.splitlines()[1:] == [
        "Payments level 1: Alice Martin (schedule Payments primary, "
        "2026-11-16 09:00 to 2026-11-23 09:00)",
        "Payments level 2: Hugo Moreau (directly targeted, always)",
    ]
