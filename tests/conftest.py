"""Shared fixtures. `stack` brings the real devstack up once per session (reusing a running one)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bot.settings import DevstackPorts, Settings, load_settings
from devstack.layout import StackInfo
from devstack.process import free_port


@pytest.fixture(scope="session")
def _devstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from devstack.stack import Devstack

    settings = load_settings()
    devstack = Devstack(settings)
    if not devstack.all_running() and devstack.ports_busy():
        # Another stack (another checkout, another user) holds the default ports: run an
        # isolated one rather than fail or, worse, test against somebody else's servers.
        ports = DevstackPorts(
            prometheus=free_port(),
            alertmanager=free_port(),
            elasticsearch=free_port(),
            pagerduty=free_port(),
            world_exporter=free_port(),
        )
        isolated = settings.devstack.model_copy(
            update={"dir": tmp_path_factory.mktemp("devstack"), "ports": ports}
        )
        devstack = Devstack(settings.model_copy(update={"devstack": isolated}))
    was_running = devstack.all_running()
    devstack.up()
    yield devstack
    if not was_running and not os.environ.get("VIGIE_TEST_KEEP_DEVSTACK"):
        devstack.down()


@pytest.fixture(scope="session")
def stack(_devstack: object) -> StackInfo:
    """The running devstack: started if needed; stopped at the end only if started here."""
    from devstack.stack import Devstack

    assert isinstance(_devstack, Devstack)
    return _devstack.info()


@pytest.fixture(scope="session")
def stack_settings(_devstack: object) -> Settings:
    """Vigie's settings with every backend pointed at the running devstack."""
    from devstack.stack import Devstack

    assert isinstance(_devstack, Devstack)
    return _devstack.client_settings()


@pytest.fixture(scope="session")
def tool_ctx(stack_settings: Settings) -> Iterator[object]:
    """A ToolContext over the running devstack, "now" being the real current time."""
    from datetime import UTC, datetime

    from bot.services import build_services
    from tools.base import ToolContext

    services = build_services(stack_settings)
    yield ToolContext(
        services=services,
        now=lambda: datetime.now(UTC),
        token_budget=stack_settings.tools.token_budget,
        max_series=stack_settings.tools.max_series,
    )
    services.close()
