"""`vigie ask`: one question to the engine, answered for a person or as the JSON contract.

The engine is built by the one composition root (`build_services` then `build_engine`), the same
as Slack will use. Failures are split the errbot way: what the engine can say (a backend down,
a question it cannot answer) is part of the answer and exits 0; anything unexpected prints a
short apology with an error id on stderr, writes the traceback to a log file, and exits 1.
"""

from __future__ import annotations

import getpass
import os
import secrets
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from bot.cli.render import render_answer
from bot.engine.answer import Answer
from bot.engine.engine import Asker
from bot.settings import Settings

# Next to the default charts directory (.vigie/ is git-ignored); relative to where vigie runs.
CRASH_LOG = Path(".vigie/logs/cli.log")
EXIT_CRASH = 1
EXIT_INTERRUPTED = 130

Echo = Callable[[str], None]


EngineFactory = Callable[[Settings], AbstractContextManager[Asker]]


class InvalidNowError(ValueError):
    """`--now` is not a date-time; the message is the one line shown to the user."""


def parse_now(text: str, tz: ZoneInfo) -> datetime:
    """RFC 3339 (`2026-11-20T10:00:00+01:00`, `...Z`), as UTC.

    Without an offset (`2026-11-20 10:00`) the time is local, in the configured zone: that is
    what a person pinning "this morning" means.
    """
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidNowError(
            f"invalid --now: {text!r}: expected an RFC 3339 date-time such as "
            "2026-11-20T10:00:00+01:00"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def cli_user() -> str:
    """Who asks, for the engine (`cli:<login>`); approvals will care, answers do not."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return "cli"


def use_color(stream: IO[str]) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (no-color.org)."""
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


@contextmanager
def open_engine(settings: Settings) -> Iterator[Asker]:
    """The engine from settings through the composition root; clients closed on exit."""
    from bot.engine.engine import build_engine  # noqa: PLC0415 - heavy; keeps --help fast
    from bot.services import build_services  # noqa: PLC0415

    services = build_services(settings)
    try:
        yield build_engine(services)
    finally:
        services.close()


def report_crash(exc: BaseException, doing: str, *, err: Echo, log_file: Path = CRASH_LOG) -> str:
    """The apology with an error id on stderr; the traceback in `log_file`. Returns the id.

    The question is not logged: it may hold what the redactor masks everywhere else.
    """
    error_id = secrets.token_hex(4)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    details = "".join(traceback.format_exception(exc))
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("a", encoding="utf-8") as handle:
            handle.write(f"{stamp} error {error_id} in {doing}\n{details}\n")
        where = f"details in {log_file}"
    except OSError:
        # Losing the traceback would leave the id pointing at nothing: show it instead.
        err(details.rstrip())
        where = "details above"
    err(f"vigie: sorry, something went wrong (error {error_id}; {where}).")
    return error_id


def print_answer(answer: Answer, *, as_json: bool, tz: ZoneInfo, color: bool, out: Echo) -> None:
    """Exactly `answer.to_json()` with `as_json`, else the answer and its evidence."""
    out(answer.dumps() if as_json else render_answer(answer, tz, color=color))


def main_ask(
    settings: Settings,
    question: str,
    *,
    now: datetime | None,
    as_json: bool,
    conversation_id: str | None,
    engine_factory: EngineFactory = open_engine,
    out: Echo = print,
    err: Echo | None = None,
) -> int:
    """Ask once and print; the exit status (0 answered, 1 unexpected failure, 130 Ctrl-C)."""
    err = err or _stderr
    try:
        with engine_factory(settings) as engine:
            answer = engine.ask(question, conversation_id, cli_user(), now)
    except KeyboardInterrupt:
        err("vigie: interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # the errbot rule: apologise, log, exit 1
        report_crash(exc, "vigie ask", err=err)
        return EXIT_CRASH
    print_answer(answer, as_json=as_json, tz=settings.tz, color=use_color(sys.stdout), out=out)
    return 0


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)
