"""Start the PagerDuty simulator as a real subprocess for tests, and talk to it.

The simulator is launched exactly as the devstack launches it (`python -m devstack.pagerduty`),
on a port chosen by the OS (`--port 0`); the port is read back from its "listening on" log line.
"""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pagerduty

from devstack.world.scenario import REFERENCE, Anchor, compute_anchor

TOKEN = "test-token-0123456789abcdef"
_LISTENING = re.compile(r"listening on (https://127\.0\.0\.1:(\d+))")


def paris_anchor(now: datetime | None = None) -> Anchor:
    """The anchor the devstack would compute at `now` (default: now), in Paris.

    Between 08:30 and 08:44 local time the reference incident has not fired yet; tests want it,
    so the world is then built as of a little earlier, which places D on the day before.
    """
    when = now or datetime.now(UTC)
    anchor = compute_anchor(when, "Europe/Paris")
    while anchor.at(0, REFERENCE.pagerduty_triggered_at) > anchor.created_at:
        when -= timedelta(minutes=20)
        anchor = compute_anchor(when, "Europe/Paris")
    return anchor


@dataclass
class Simulator:
    """A running simulator subprocess."""

    directory: Path
    token: str
    anchor: Anchor
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str
    _log_file: Any = field(repr=False, default=None)
    # Clients stay referenced until stop() closes them: an httpx client collected while open
    # emits a ResourceWarning, which our pytest settings turn into an error.
    _clients: list[Any] = field(repr=False, default_factory=list)

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    def client(self, token: str | None = None, default_from: str | None = None) -> Any:
        """An official `pagerduty.RestApiV2Client` pointed at this simulator."""
        # httpx2 deprecates `verify=<path>` (a DeprecationWarning, an error under our pytest
        # settings): trust the simulator's CA through an SSL context instead.
        client = pagerduty.RestApiV2Client(
            token or self.token,
            default_from=default_from,
            verify=ssl.create_default_context(cafile=str(self.ca)),
        )
        client.url = self.url
        self._clients.append(client)
        return client

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> tuple[int, dict[str, str], Any]:
        """A raw HTTPS request (no retries): status, headers, decoded JSON body."""
        all_headers = {
            "Authorization": f"Token token={token if token is not None else self.token}",
            "Accept": "application/vnd.pagerduty+json;version=2",
        }
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        req = urllib.request.Request(  # noqa: S310 - https to our own simulator
            self.url + path, data=data, headers=all_headers, method=method
        )
        context = ssl.create_default_context(cafile=str(self.ca))
        try:
            with urllib.request.urlopen(req, context=context, timeout=10) as resp:  # noqa: S310
                return resp.status, dict(resp.headers.items()), json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            with err:
                return err.code, dict(err.headers.items()), json.loads(err.read() or b"null")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        """Close the clients, SIGTERM the simulator, wait; returns its exit code."""
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return int(self.process.returncode)


def start_simulator(
    directory: Path,
    anchor: Anchor,
    *,
    token: str = TOKEN,
    rate_limit_per_minute: int = 10_000,
    timeout: float = 15.0,
) -> Simulator:
    """Launch `python -m devstack.pagerduty` on a free port and wait until it listens."""
    directory.mkdir(parents=True, exist_ok=True)
    anchor_path = directory / "world.json"
    anchor.save(anchor_path)
    log_path = directory / f"simulator-{time.monotonic_ns()}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devstack.pagerduty",
            "--dir",
            str(directory),
            "--port",
            "0",
            "--token",
            token,
            "--rate-limit-per-minute",
            str(rate_limit_per_minute),
            "--anchor",
            str(anchor_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = _LISTENING.search(log_path.read_text(encoding="utf-8", errors="replace"))
        if match:
            return Simulator(directory, token, anchor, process, log_path, match[1], log_file)
        if process.poll() is not None:
            break
        time.sleep(0.02)
    process.kill()
    process.wait(timeout=10)
    log_file.close()
    raise RuntimeError(f"simulator did not start:\n{log_path.read_text(errors='replace')}")
