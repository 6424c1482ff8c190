"""What a user sees when something is wrong: one clear line, a non-zero exit, no traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.process import free_port

ROOT = Path(__file__).resolve().parents[2]


def vigie(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def isolated_devstack(tmp_path: Path) -> dict[str, str]:
    """Settings for a devstack in `tmp_path` on free ports, away from any running one."""
    env = {"VIGIE_DEVSTACK__DIR": str(tmp_path / "ds")}
    for name in ("PROMETHEUS", "ALERTMANAGER", "ELASTICSEARCH", "PAGERDUTY", "WORLD_EXPORTER"):
        env[f"VIGIE_DEVSTACK__PORTS__{name}"] = str(free_port())
    return env


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_bad_config_exits_2_with_one_line_per_problem() -> None:
    result = vigie(
        "config",
        "check",
        env={"VIGIE_PROMETHEUS__URL": "localhost:9090", "VIGIE_TIMEZONE": "Mars/Olympus"},
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "invalid settings: timezone: not an IANA time zone name: 'Mars/Olympus'",
        "invalid settings: prometheus.url: not a URL: 'localhost:9090'",
    ]
    assert "Traceback" not in result.stderr + result.stdout


def test_busy_port_names_the_port_and_the_setting(tmp_path: Path, busy_port: int) -> None:
    env = isolated_devstack(tmp_path) | {"VIGIE_DEVSTACK__PORTS__ELASTICSEARCH": str(busy_port)}
    result = vigie("devstack", "up", env=env)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert f"port {busy_port} for elasticsearch is busy" in last
    assert "VIGIE_DEVSTACK__PORTS__ELASTICSEARCH" in last
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "ds" / "pids").exists() or not any((tmp_path / "ds" / "pids").iterdir())


def test_missing_package_says_how_to_install_it(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env = isolated_devstack(tmp_path) | {"PATH": str(empty)}
    result = vigie("devstack", "up", env=env)
    assert result.returncode == 1
    assert "missing prometheus (Debian package 'prometheus')" in result.stderr
    assert "apt-get install" in result.stderr
    assert "Traceback" not in result.stderr


def test_backend_down_is_one_failed_line(tmp_path: Path) -> None:
    port = free_port()
    result = vigie("config", "check", env={"VIGIE_PROMETHEUS__URL": f"http://127.0.0.1:{port}"})
    assert result.returncode == 1
    line = next(x for x in result.stdout.splitlines() if x.startswith("prometheus "))
    assert "FAILED" in line
    assert "connection refused" in line
    assert "backend(s) failed" in result.stderr
    assert "prometheus" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_secrets_are_masked_in_config_check() -> None:
    result = vigie("config", "show", env={"VIGIE_LLM__API_KEY": "sk-live-123456"})
    assert result.returncode == 0
    assert "sk-live-123456" not in result.stdout
    assert "devstack-pagerduty-token" not in result.stdout
    assert "api_key: '**********'" in result.stdout


def test_serve_says_not_yet_available() -> None:
    result = vigie("serve")
    assert result.returncode == 1
    assert "not yet available" in result.stderr


def test_bad_signal_overrides_are_named_by_config_check(tmp_path: Path) -> None:
    overrides = tmp_path / "signals.yaml"
    overrides.write_text("signals:\n  latency:\n    metrik: foo\n")
    result = vigie("config", "check", env={"VIGIE_CATALOG__OVERRIDES": str(overrides)})
    assert result.returncode == 1
    line = next(x for x in result.stdout.splitlines() if x.startswith("catalog "))
    assert "FAILED" in line
    assert "signals.latency.metrik: unknown key" in line
