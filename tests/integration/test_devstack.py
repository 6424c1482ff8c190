"""The devstack as a user drives it: up is idempotent, status is truthful, down stops everything."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx

from bot.probes import probe_all
from bot.services import build_services
from bot.settings import Settings
from devstack.layout import StackInfo
from devstack.process import port_is_free
from devstack.stack import Devstack


def _devstack(stack: StackInfo, settings: Settings) -> Devstack:
    """The same devstack the `stack` fixture runs (its settings carry its dir and ports)."""
    devstack = Devstack(settings)
    assert devstack.layout.root == stack.layout.root
    return devstack


def test_every_component_is_healthy(stack: StackInfo, stack_settings: Settings) -> None:
    rows = _devstack(stack, stack_settings).status()
    assert {name for name, *_ in rows} >= {
        "prometheus",
        "alertmanager",
        "elasticsearch",
        "pagerduty",
        "world-exporter",
        "log-feeder",
        "redis",
    }
    assert [row for row in rows if row[1] != "healthy"] == []


def test_config_check_probes_every_backend_ok(stack_settings: Settings) -> None:
    services = build_services(stack_settings)
    try:
        results = {r.name: r for r in probe_all(services)}
    finally:
        services.close()
    for name in ("prometheus", "alertmanager", "elasticsearch", "pagerduty", "redis"):
        assert results[name].ok, results[name].line()
    assert "documents in logs-*" in results["elasticsearch"].detail
    assert results["pagerduty"].detail.endswith("services")


def test_up_again_is_idempotent(stack: StackInfo, stack_settings: Settings) -> None:
    devstack = _devstack(stack, stack_settings)
    before = {n: devstack.procs.get(n) for n in devstack.procs.names()}
    report = devstack.up()
    assert report.started == []
    assert set(report.already_running) == set(devstack.components)
    assert {n: devstack.procs.get(n) for n in devstack.procs.names()} == before


def test_a_killed_component_is_reported_then_restarted(
    stack: StackInfo, stack_settings: Settings
) -> None:
    devstack = _devstack(stack, stack_settings)
    managed = devstack.procs.running("alertmanager")
    assert managed is not None
    os.killpg(managed.pid, signal.SIGKILL)
    devstack.procs.stop("alertmanager", timeout_s=5)  # reaps; the PID file goes
    rows = {name: state for name, state, *_ in devstack.status()}
    assert rows["alertmanager"] == "stopped"
    report = devstack.up()
    assert report.started == ["alertmanager"]
    assert httpx.get(f"{stack.alertmanager_url}/-/ready", timeout=5).status_code == 200


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name, or None if the pid is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def test_down_stops_every_process_and_up_brings_the_world_back(
    stack: StackInfo, stack_settings: Settings
) -> None:
    devstack = _devstack(stack, stack_settings)
    pids = {n: devstack.procs.get(n) for n in devstack.procs.names()}
    try:
        stopped = devstack.down()
        assert set(stopped) >= set(devstack.components)
        for name, managed in pids.items():
            assert managed is not None
            assert not managed.alive(), f"{name} (pid {managed.pid}) still running after down"
            fields = _stat(managed.pid)
            # Our own children must be reaped. Servers started by an earlier `vigie devstack
            # up` process are orphans of PID 1: only it can reap them.
            if fields is not None and int(fields[1]) == os.getpid():
                assert fields[0] != "Z", f"{name} (pid {managed.pid}) left as a zombie"
        for component in devstack.components.values():
            assert port_is_free(component.port), f"port {component.port} still held"
    finally:
        report = devstack.up()  # whatever happened, leave the stack up for the other tests
    assert set(report.started) == set(devstack.components)
    assert report.timings_s["total"] < 60
    assert all(state == "healthy" for _, state, *_ in devstack.status())
