"""Child processes of the devstack: start detached, record by PID, stop only what we started.

A PID file holds the PID and the process' start time (from /proc), so `down` never signals an
unrelated process that happens to reuse a recorded PID after a reboot or a crash.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# Popen objects of the children started by this process. Kept referenced because a Popen
# collected while its child runs warns (ResourceWarning); the children outlive us on purpose.
_CHILDREN: list[subprocess.Popen[bytes]] = []


class DevstackError(Exception):
    """A devstack problem a user can act on; the message is one line."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _start_time(pid: int) -> str | None:
    """The kernel's start time of `pid` (clock ticks since boot), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22; the command name (field 2) may contain spaces, so split after its ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields and fields[0] == "Z":  # a zombie has exited
        return None
    return fields[19] if len(fields) > 19 else None


@dataclass(frozen=True)
class Managed:
    """One process the devstack started and recorded."""

    name: str
    pid: int
    started: str
    command: list[str]

    def alive(self) -> bool:
        return _start_time(self.pid) == self.started


class ProcessTable:
    """PID files under `<devstack>/pids`, one per component."""

    def __init__(self, pid_dir: Path, log_dir: Path) -> None:
        self.pid_dir = pid_dir
        self.log_dir = log_dir

    def _pid_file(self, name: str) -> Path:
        return self.pid_dir / f"{name}.json"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def get(self, name: str) -> Managed | None:
        path = self._pid_file(name)
        try:
            data = json.loads(path.read_text())
            return Managed(name, int(data["pid"]), str(data["started"]), list(data["command"]))
        except (OSError, ValueError, KeyError):
            return None

    def running(self, name: str) -> Managed | None:
        managed = self.get(name)
        return managed if managed is not None and managed.alive() else None

    def names(self) -> list[str]:
        if not self.pid_dir.is_dir():
            return []
        return sorted(path.stem for path in self.pid_dir.glob("*.json"))

    def start(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Managed:
        """Start `command` detached (own session), output appended to `<logs>/<name>.log`."""
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_file(name).open("ab")
        try:
            proc = subprocess.Popen(
                list(command),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, **(env or {})},
                cwd=cwd,
            )
        except OSError as exc:
            raise DevstackError(f"cannot start {name}: {command[0]}: {exc.strerror}") from None
        finally:
            log.close()
        _CHILDREN.append(proc)
        started = None
        for _ in range(50):  # /proc/<pid>/stat appears as soon as fork returns; be tolerant
            started = _start_time(proc.pid)
            if started is not None:
                break
            time.sleep(0.01)
        managed = Managed(name, proc.pid, started or "?", list(command))
        tmp = self._pid_file(name).with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"pid": proc.pid, "started": managed.started, "command": managed.command})
        )
        tmp.replace(self._pid_file(name))
        return managed

    def stop(self, name: str, timeout_s: float = 15.0) -> bool:
        """SIGTERM, then SIGKILL after `timeout_s`; True if a live process was stopped."""
        managed = self.get(name)
        stopped = False
        if managed is not None and managed.alive():
            stopped = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(managed.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while managed.alive() and time.monotonic() < deadline:
                _reap(managed.pid)
                time.sleep(0.05)
            if managed.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(managed.pid, signal.SIGKILL)
                while managed.alive():
                    _reap(managed.pid)
                    time.sleep(0.05)
            # Dead is not gone: collect our child, or it stays a zombie that outlives us when
            # PID 1 does not reap orphans (containers, CI sandboxes).
            _reap(managed.pid, wait=True)
        self._pid_file(name).unlink(missing_ok=True)
        return stopped

    def exited_early(self, managed: Managed) -> str | None:
        """If `managed` died, the tail of its log (for a one-line error), else None."""
        _reap(managed.pid)
        if managed.alive():
            return None
        tail = ""
        with contextlib.suppress(OSError):
            lines = [
                line
                for line in self.log_file(managed.name).read_text(errors="replace").splitlines()
                if line.strip() and "GLIBC" not in line
            ]
            tail = lines[-1][:300] if lines else ""
        return tail or "exited without output"


def _reap(pid: int, *, wait: bool = False) -> None:
    """Collect our own exited child so it does not linger as a zombie (no-op for others)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0 if wait else os.WNOHANG)


def wait_until(
    check: Callable[[], bool],
    timeout_s: float,
    what: str,
    *,
    died: Callable[[], str | None] | None = None,
    interval_s: float = 0.1,
) -> None:
    """Poll `check` until true; raise DevstackError naming `what` on timeout or early death."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if check():
                return
        except Exception:  # noqa: S110 - not ready yet is any failure of the check
            pass
        if died is not None and (reason := died()) is not None:
            raise DevstackError(f"{what} exited during start-up: {reason}")
        if time.monotonic() > deadline:
            raise DevstackError(f"{what} did not become ready within {timeout_s:.0f} s")
        time.sleep(interval_s)
