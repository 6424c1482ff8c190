"""`vigie ask`, `vigie chat` and `vigie eval` as a person runs them, against the real devstack.

The commands run as processes (`python -m bot.cli`, on a real pseudo-terminal for the chat),
with "now" pinned to the morning of the demo world's incident day, where the reference
conversation of DESIGN.md happens. The loop and the failure rules are also tested in process,
with a fake engine at the `engine_factory` seam.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli.ask import main_ask
from bot.cli.chat import REFERENCE_QUESTIONS, run_chat
from bot.engine.answer import Answer
from bot.settings import Settings, load_settings
from devstack.layout import StackInfo

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_KEYS = {
    "answer",
    "language",
    "mode",
    "evidence",
    "charts",
    "proposals",
    "timings",
    "tokens",
}
ANSI = re.compile(r"\x1b\[[0-9;]*m")
EVIDENCE_KEYS = {"backend", "query", "start", "end", "summary"}


pytestmark = pytest.mark.integration

LAUNCH = [sys.executable, "-m", "bot.cli"]


# ---- helpers ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_env(stack: StackInfo, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a `vigie` process pointed at the running devstack."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    env = base | {
        "VIGIE_PROMETHEUS__URL": stack.prometheus_url,
        "VIGIE_ALERTMANAGER__URL": stack.alertmanager_url,
        "VIGIE_ELASTICSEARCH__URL": stack.elasticsearch_url,
        "VIGIE_PAGERDUTY__API_URL": stack.pagerduty_url,
        "VIGIE_PAGERDUTY__CA_BUNDLE": str(stack.pagerduty_ca),
        "VIGIE_DEVSTACK__DIR": str(stack.layout.root),
        "VIGIE_ENGINE__CHARTS_DIR": str(tmp_path_factory.mktemp("charts")),
        "HOME": str(tmp_path_factory.mktemp("home")),
        "NO_COLOR": "1",
    }
    if stack.redis_url:
        env["VIGIE_REDIS__URL"] = stack.redis_url
    # matplotlib's font cache is built once for the whole session, not once per HOME.
    env.setdefault("MPLCONFIGDIR", str(tmp_path_factory.mktemp("mpl")))
    return env


def vigie(
    env: dict[str, str], *args: str, stdin: int | None = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LAUNCH, *args],
        cwd=ROOT,
        env=env,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def reference_now(stack: StackInfo) -> str:
    """D 10:00 local, the morning of the reference incident, as RFC 3339."""
    return stack.anchor.at(0, "10:00").isoformat()


# ---- vigie ask ----------------------------------------------------------------------------------


def test_ask_json_prints_exactly_the_answer_contract(
    cli_env: dict[str, str], stack: StackInfo
) -> None:
    result = vigie(cli_env, "ask", "--json", "--now", reference_now(stack), REFERENCE_QUESTIONS[0])
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # the whole of stdout is the JSON, nothing else
    assert set(data) == CONTRACT_KEYS
    assert data["language"] == "fr"
    assert data["mode"] in {"planner", "llm"}
    assert isinstance(data["answer"], str)
    assert data["answer"]
    assert data["evidence"]
    for item in data["evidence"]:
        assert set(item) == EVIDENCE_KEYS
    assert "total_ms" in data["timings"]
    assert set(data["tokens"]) == {"prompt", "completion", "cost"}
    assert data["charts"], "the P99 answer has range evidence: it comes with charts"
    for path in data["charts"]:
        assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The reference answer (DESIGN.md): payment-gateway first, ~847 ms, with its correlations.
    assert data["answer"].startswith("payment-gateway")
    assert " ms" in data["answer"]
    assert any(e["backend"] == "prometheus" for e in data["evidence"])


def test_ask_prints_the_exact_queries_for_a_person(
    cli_env: dict[str, str], stack: StackInfo
) -> None:
    now = reference_now(stack)
    question = "which service has the highest P99 latency since this morning?"
    as_json = json.loads(vigie(cli_env, "ask", "--json", "--now", now, question).stdout)
    result = vigie(cli_env, "ask", "--now", now, question)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Vigie: ")
    assert "Evidence" in out
    assert "\x1b[" not in out  # not a terminal: no colour codes
    for item in as_json["evidence"]:
        assert item["query"] in out  # verbatim, to be pasted into Prometheus
    for path in as_json["charts"]:
        assert path in out
    assert as_json["proposals"]
    assert "[Approve] [Reject]" in out
    assert "approvals arrive with Slack" in out
    assert " ms" in out.splitlines()[-1]  # the timings line
    assert out.startswith("Vigie: payment-gateway")
    assert "▁" in out  # sparklines of the range results


def test_invalid_now_is_one_line_and_exit_2(cli_env: dict[str, str]) -> None:
    result = vigie(cli_env, "ask", "--now", "yesterday-ish", "what is firing?")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "invalid --now: 'yesterday-ish': expected an RFC 3339 date-time such as "
        "2026-11-20T10:00:00+01:00"
    ]
    assert result.stdout == ""


def test_a_backend_down_is_an_answer_not_a_crash(cli_env: dict[str, str], stack: StackInfo) -> None:
    from devstack.process import free_port

    env = cli_env | {"VIGIE_PROMETHEUS__URL": f"http://127.0.0.1:{free_port()}"}
    result = vigie(env, "ask", "--json", "--now", reference_now(stack), REFERENCE_QUESTIONS[0])
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(result.stdout)
    assert set(data) == CONTRACT_KEYS
    # The answer itself says what failed.
    assert "prometheus" in data["answer"].lower()


# ---- vigie chat ---------------------------------------------------------------------------------


def test_chat_without_a_terminal_prints_the_two_reference_answers(
    cli_env: dict[str, str], stack: StackInfo
) -> None:
    result = vigie(cli_env, "chat")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    pinned = stack.anchor.at(0, "10:00").astimezone(stack.anchor.tz)
    assert f"now pinned to {pinned:%Y-%m-%d %H:%M}" in out.splitlines()[0]
    for question in REFERENCE_QUESTIONS:
        assert f"Ops> {question}" in out
    assert out.count("\nVigie: ") == 2
    assert out.count("Evidence") == 2
    first, second = out.split(f"Ops> {REFERENCE_QUESTIONS[1]}")
    assert "\nVigie: payment-gateway" in first
    assert "mémoire" in second
    assert "%" in second


class Terminal:
    """`vigie chat` on a real pseudo-terminal: type lines, read the screen."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child becomes `vigie chat`, its tty the pty's other end
            os.chdir(ROOT)
            os.execvpe(LAUNCH[0], [*LAUNCH, "chat", *args], env)  # noqa: S606 - no shell wanted
        self.screen = ""

    def read_until(self, text: str, timeout: float = 120) -> str:
        """Everything up to and including the next `text`; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        start = len(self.screen)
        while text not in self.screen[start:]:
            left = deadline - time.monotonic()
            assert left > 0, f"no {text!r} within {timeout} s; screen:\n{self.screen[-2000:]}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
                assert chunk, f"vigie chat exited; screen:\n{self.screen[-2000:]}"
                self.screen += chunk.decode("utf-8", "replace")
        end = self.screen.index(text, start) + len(text)
        return self.screen[start:end]

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def wait(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:  # drain, or the child may block writing to a full terminal
                if select.select([self.fd], [], [], 0.1)[0]:
                    self.screen += os.read(self.fd, 65536).decode("utf-8", "replace")
            except OSError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError(f"vigie chat did not exit; screen:\n{self.screen[-2000:]}")

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ChildProcessError, ProcessLookupError):
            pass
        os.close(self.fd)


@pytest.fixture
def terminal(cli_env: dict[str, str], stack: StackInfo) -> Iterator[Terminal]:
    # A colour terminal, as a person has: NO_COLOR off, TERM set.
    env = {k: v for k, v in cli_env.items() if k != "NO_COLOR"} | {"TERM": "xterm"}
    term = Terminal(env, "--now", reference_now(stack))
    yield term
    term.close()


def test_chat_on_a_terminal_answers_follow_ups_and_leaves_on_ctrl_d(
    terminal: Terminal, cli_env: dict[str, str]
) -> None:
    terminal.read_until("Ops> ")
    terminal.type("draft that I abandon")
    # Ctrl-C once readline has the line (its echo is back): a SIGINT landing while readline is
    # not waiting on input is only seen at the next key, and the terminal discards the unread
    # keys on SIGINT, so a ^C typed together with the line can leave the prompt waiting.
    terminal.read_until("abandon")
    time.sleep(0.2)
    terminal.type("\x03")  # Ctrl-C: the line is dropped, no answer
    assert "Vigie:" not in terminal.read_until("Ops> ")
    terminal.type("Which service has the highest P99 latency since this morning?\r")
    screen = terminal.read_until("Ops> ")
    assert "\x1b[" in screen  # a terminal gets colour
    first = ANSI.sub("", screen)
    assert "Vigie: payment-gateway" in first
    assert "Evidence" in first
    assert any(bar in first for bar in "▁▂▃▄▅▆▇█")  # sparklines of the range results
    terminal.type("and yesterday?\r")
    second = ANSI.sub("", terminal.read_until("Ops> "))
    # A follow-up: the same question (P99 ranking) over yesterday, from the conversation.
    assert "Vigie: " in second
    assert "yesterday" in second
    terminal.type("\x04")  # Ctrl-D
    assert terminal.wait() == 0
    history = Path(cli_env["HOME"], ".vigie_history").read_text()
    assert "and yesterday?" in history
    assert "draft that I abandon" not in history


def test_chat_leaves_on_exit(terminal: Terminal) -> None:
    terminal.read_until("Ops> ")
    terminal.type("exit\r")
    assert terminal.wait() == 0


# ---- vigie eval ---------------------------------------------------------------------------------


def test_eval_help_lists_its_options(cli_env: dict[str, str]) -> None:
    result = vigie(cli_env, "eval", "--help")
    assert result.returncode == 0, result.stderr
    for option in ("--set", "--json", "--threshold"):
        assert option in result.stdout


# ---- in-process, with a fake engine: the loop and the failure rules -----------------------------


class FakeEngine:
    """Records what it was asked; answers with the question, or raises what it is told to."""

    def __init__(self, fail_on: str = "") -> None:
        self.calls: list[tuple[str, str | None, str | None, datetime | None]] = []
        self.fail_on = fail_on

    def ask(
        self,
        question: str,
        conversation_id: str | None = None,
        user: str | None = None,
        now: datetime | None = None,
    ) -> Answer:
        self.calls.append((question, conversation_id, user, now))
        if question == self.fail_on:
            raise RuntimeError("boom: an unexpected bug")
        return Answer(answer=f"echo {question}", language="en", mode="planner")


def scripted(*keys: str | type[BaseException]) -> Any:
    """A read_line that types `keys` in turn (an exception type is raised, as Ctrl-C/D do)."""
    queue = list(keys)

    def read_line(prompt: str) -> str:
        assert prompt == "Ops> "
        key = queue.pop(0)
        if isinstance(key, str):
            return key
        raise key()

    return read_line


def test_chat_loop_keeps_one_conversation_and_survives_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = FakeEngine(fail_on="crash please")
    out: list[str] = []
    err: list[str] = []
    now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    status = run_chat(
        engine,
        read_line=scripted("first", "  ", KeyboardInterrupt, "crash please", "second", EOFError),
        tz=load_settings().tz,
        color=False,
        now=now,
        out=out.append,
        err=err.append,
    )
    assert status == 0
    assert [c[0] for c in engine.calls] == ["first", "crash please", "second"]
    assert len({c[1] for c in engine.calls}) == 1  # one conversation id for the session
    assert {c[3] for c in engine.calls} == {now}
    assert sum(line.startswith("Vigie: echo") for line in out) == 2
    assert len(err) == 1
    assert err[0].startswith("vigie: sorry, something went wrong (error ")
    error_id = err[0].split("(error ")[1].split(";")[0]
    log = (tmp_path / ".vigie/logs/cli.log").read_text()
    assert f"error {error_id} in vigie chat" in log
    assert "RuntimeError: boom" in log


def test_chat_loop_leaves_on_quit() -> None:
    engine = FakeEngine()
    status = run_chat(
        engine,
        read_line=scripted("QUIT"),
        tz=load_settings().tz,
        color=False,
        out=lambda _: None,
    )
    assert status == 0
    assert engine.calls == []


def test_ask_apologises_with_an_error_id_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contextlib import contextmanager

    monkeypatch.chdir(tmp_path)

    @contextmanager
    def factory(settings: Settings) -> Iterator[FakeEngine]:
        yield FakeEngine(fail_on="q")

    out: list[str] = []
    err: list[str] = []
    status = main_ask(
        load_settings(),
        "q",
        now=None,
        as_json=True,
        conversation_id=None,
        engine_factory=factory,
        out=out.append,
        err=err.append,
    )
    assert status == 1
    assert out == []  # --json: nothing on stdout but an answer
    assert len(err) == 1
    assert "sorry" in err[0]
    assert ".vigie/logs/cli.log" in err[0]
    assert "Traceback" in (tmp_path / ".vigie/logs/cli.log").read_text()
