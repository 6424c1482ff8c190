"""`vigie chat`: the terminal `Ops>` prompt, the same engine as Slack without Slack.

On a terminal: readline editing and history (`~/.vigie_history`, or the devstack directory when
home is not writable), one conversation id for the session so follow-ups ("and yesterday?")
work, Ctrl-C drops the line being typed (or the question being answered), Ctrl-D or
`exit`/`quit` leaves.

Not on a terminal (`make demo`, a pipe, CI): it asks the two reference questions of the design
and prints both answers, then exits 0. On a devstack world, "now" is pinned to the incident
day's morning so those answers are the reference ones whatever the hour.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.cli.ask import (
    EXIT_CRASH,
    Echo,
    EngineFactory,
    cli_user,
    open_engine,
    report_crash,
    use_color,
)
from bot.cli.render import render_answer
from bot.engine.engine import Asker
from bot.settings import Settings

PROMPT = "Ops> "
LEAVE_WORDS = frozenset({"exit", "quit", ":q", "bye"})
REFERENCE_QUESTIONS = (
    "Quel service a le plus de latence P99 depuis ce matin ?",
    "Compare la consommation mémoire du namespace prod cette semaine vs la semaine dernière",
)
# The reference conversation happens on the incident day's morning (DESIGN.md).
REFERENCE_TIME = "10:00"
BANNER = (
    "Vigie chat: ask in English or French; follow-ups remember this conversation.\n"
    "Ctrl-D or `exit` to leave, Ctrl-C to drop a line."
)


def new_conversation_id() -> str:
    return f"cli-{uuid.uuid4().hex[:12]}"


def history_path(settings: Settings) -> Path:
    """`~/.vigie_history`; in the devstack directory when home cannot take it."""
    home = Path.home()
    if os.access(home, os.W_OK):
        return home / ".vigie_history"
    return settings.devstack.dir / "vigie_history"


@contextmanager
def readline_history(path: Path) -> Iterator[None]:
    """Line editing and history for `input()` while inside; history saved on the way out."""
    try:
        import readline  # noqa: PLC0415 - only for a terminal; absent on some platforms
    except ImportError:
        yield
        return
    # First session, or unreadable: start with an empty history.
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(1000)
    try:
        yield
    finally:
        # History is a comfort, not worth an error on the way out.
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)


def run_chat(
    engine: Asker,
    *,
    read_line: Callable[[str], str],
    tz: ZoneInfo,
    color: bool,
    now: datetime | None = None,
    conversation_id: str | None = None,
    out: Echo = print,
    err: Echo | None = None,
) -> int:
    """The prompt loop until Ctrl-D or `exit`; each answer printed with its evidence."""
    err = err or _stderr
    conversation_id = conversation_id or new_conversation_id()
    user = cli_user()
    out(BANNER)
    while True:
        try:
            line = read_line(PROMPT)
        except EOFError:
            out("")  # end the `Ops> ` line that Ctrl-D left open
            return 0
        except KeyboardInterrupt:
            out("")  # like a shell: drop the line, show a fresh prompt
            continue
        question = line.strip()
        if not question:
            continue
        if question.lower() in LEAVE_WORDS:
            return 0
        try:
            answer = engine.ask(question, conversation_id, user, now)
        except KeyboardInterrupt:
            err("(cancelled)")
            continue
        except Exception as exc:  # one failed question must not end the session
            report_crash(exc, "vigie chat", err=err)
            continue
        out(render_answer(answer, tz, color=color))
        out("")


def run_reference(
    engine: Asker,
    *,
    tz: ZoneInfo,
    color: bool,
    now: datetime | None,
    questions: Sequence[str] = REFERENCE_QUESTIONS,
    out: Echo = print,
    err: Echo | None = None,
) -> int:
    """Ask the reference questions in one conversation and print them as a transcript."""
    err = err or _stderr
    conversation_id = new_conversation_id()
    status = 0
    for number, question in enumerate(questions):
        if number:
            out("")
        out(f"{PROMPT}{question}")
        try:
            answer = engine.ask(question, conversation_id, cli_user(), now)
        except Exception as exc:  # print the other answer anyway
            report_crash(exc, "vigie chat (reference answers)", err=err)
            status = EXIT_CRASH
            continue
        out(render_answer(answer, tz, color=color))
    return status


def reference_now(settings: Settings, real_now: datetime) -> datetime | None:
    """The incident day at 10:00 when the settings' devstack holds a world, else None.

    "Since this morning" only shows the reference incident on the incident day, and the
    devstack puts that day yesterday when it came up before 10:00.
    """
    from devstack.stack import Devstack  # noqa: PLC0415 - only for the reference answers

    anchor = Devstack(settings).anchor()
    if anchor is None:
        return None
    pinned = anchor.at(0, REFERENCE_TIME)
    return pinned if pinned <= real_now else None


def main_chat(
    settings: Settings,
    *,
    now: datetime | None,
    conversation_id: str | None,
    engine_factory: EngineFactory = open_engine,
    interactive: bool | None = None,
    out: Echo = print,
    err: Echo | None = None,
) -> int:
    """`vigie chat`: the prompt on a terminal, the reference answers otherwise."""
    err = err or _stderr
    interactive = sys.stdin.isatty() if interactive is None else interactive
    color = use_color(sys.stdout)
    tz = settings.tz
    if not interactive and now is None:
        now = reference_now(settings, datetime.now(UTC))
        if now is not None:
            out(f"(demo world: now pinned to {now.astimezone(tz):%Y-%m-%d %H:%M %Z})")
    try:
        with engine_factory(settings) as engine:
            if not interactive:
                return run_reference(engine, tz=tz, color=color, now=now, out=out, err=err)
            with readline_history(history_path(settings)):
                return run_chat(
                    engine,
                    read_line=input,
                    tz=tz,
                    color=color,
                    now=now,
                    conversation_id=conversation_id,
                    out=out,
                    err=err,
                )
    except KeyboardInterrupt:
        err("vigie: interrupted")
        return 130
    except Exception as exc:  # e.g. the engine cannot be built
        report_crash(exc, "vigie chat", err=err)
        return EXIT_CRASH


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)
