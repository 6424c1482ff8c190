"""The `vigie` command line: ask, chat, eval, settings checks, the local devstack, (soon) serve.

Expected failures (bad settings, a busy port, a missing package, a backend that is down) print
one plain line each and exit non-zero; they never show a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
import yaml

from bot import __version__
from bot.settings import Settings, SettingsError, load_settings, masked

if TYPE_CHECKING:
    from devstack.stack import Devstack

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Vigie: conversational observability over Prometheus, Elasticsearch and PagerDuty.",
)
config_app = typer.Typer(no_args_is_help=True, help="Inspect and check the settings.")
devstack_app = typer.Typer(
    no_args_is_help=True, help="A local stack of real servers holding the demo world."
)
app.add_typer(config_app, name="config")
app.add_typer(devstack_app, name="devstack")

EXIT_SETTINGS = 2


@dataclass
class _Context:
    config: Path | None


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _settings(ctx: typer.Context) -> Settings:
    state: _Context = ctx.find_root().obj
    try:
        return load_settings(state.config)
    except SettingsError as exc:
        for problem in exc.problems:
            typer.echo(f"invalid settings: {problem}", err=True)
        raise typer.Exit(EXIT_SETTINGS) from None


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Settings file (default: $VIGIE_CONFIG, then config/vigie.yaml).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    ctx.obj = _Context(config)


@app.command()
def version() -> None:
    """Print Vigie's version."""
    typer.echo(f"vigie {__version__}")


@app.command()
def serve(ctx: typer.Context) -> None:
    """Run the Slack app (not yet available)."""
    _settings(ctx)
    _fail(
        "vigie serve: not yet available: the Slack surface lands with its own issue; "
        "meanwhile `vigie ask` and `vigie chat` answer from the command line."
    )


# ---- ask, chat, eval --------------------------------------------------------------------------

NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        help='Pin "now" (RFC 3339, e.g. 2026-11-20T10:00:00+01:00; no offset = local time) '
        "for reproducible answers.",
        show_default=False,
    ),
]
ConversationOption = Annotated[
    str | None,
    typer.Option(
        "--conversation",
        help="Conversation id: follow-ups with the same id remember the previous turns.",
        show_default=False,
    ),
]


def _now(text: str | None, settings: Settings) -> datetime | None:
    from bot.cli.ask import InvalidNowError, parse_now  # noqa: PLC0415

    if text is None:
        return None
    try:
        return parse_now(text, settings.tz)
    except InvalidNowError as exc:
        _fail(str(exc), EXIT_SETTINGS)


@app.command()
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question, in English or French.")],
    now: NowOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print exactly the Answer JSON, nothing else.")
    ] = False,
    conversation: ConversationOption = None,
) -> None:
    """Ask one question; print the answer with its evidence (queries, ranges, results)."""
    from bot.cli.ask import main_ask  # noqa: PLC0415 - keeps `vigie --help` fast

    settings = _settings(ctx)
    pinned = _now(now, settings)
    raise typer.Exit(
        main_ask(settings, question, now=pinned, as_json=as_json, conversation_id=conversation)
    )


@app.command()
def chat(
    ctx: typer.Context, now: NowOption = None, conversation: ConversationOption = None
) -> None:
    """The `Ops>` prompt; not on a terminal, prints the two reference answers instead."""
    from bot.cli.chat import main_chat  # noqa: PLC0415

    settings = _settings(ctx)
    pinned = _now(now, settings)
    raise typer.Exit(main_chat(settings, now=pinned, conversation_id=conversation))


@app.command("eval")
def eval_(
    ctx: typer.Context,
    set_path: Annotated[
        Path | None,
        typer.Option(
            "--set",
            help="Question set (YAML) to run; default: the project's eval set.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            min=0.0,
            max=1.0,
            help="Exit 1 when the pass rate is below this (e.g. 0.9).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the eval question set against the engine and score the answers."""
    from bot.cli.ask import report_crash  # noqa: PLC0415
    from bot.engine.evals import main_eval  # noqa: PLC0415 - heavy; only for this command

    settings = _settings(ctx)
    try:
        code = main_eval(settings, set_path, as_json, threshold)
    except Exception as exc:  # the errbot rule, as for ask: apologise, log, exit 1
        report_crash(exc, "vigie eval", err=lambda line: typer.echo(line, err=True))
        code = 1
    raise typer.Exit(code)


# ---- config -----------------------------------------------------------------------------------


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print the effective settings, secrets masked."""
    typer.echo(yaml.safe_dump(masked(_settings(ctx)), sort_keys=False).rstrip())


@config_app.command("check")
def config_check(ctx: typer.Context) -> None:
    """Print the effective settings (secrets masked) and probe every configured backend."""
    from bot.probes import probe_all  # noqa: PLC0415 - keeps `vigie --help` fast
    from bot.services import build_services  # noqa: PLC0415

    settings = _settings(ctx)
    typer.echo(yaml.safe_dump(masked(settings), sort_keys=False).rstrip())
    typer.echo("")
    services = build_services(settings)
    try:
        results = probe_all(services)
    finally:
        services.close()
    for result in results:
        typer.echo(result.line())
    failed = [r.name for r in results if r.ok is False]
    if failed:
        _fail(f"config check: {len(failed)} backend(s) failed: {', '.join(failed)}")


# ---- devstack -----------------------------------------------------------------------------------


def _devstack(ctx: typer.Context) -> Devstack:
    from devstack.stack import Devstack  # noqa: PLC0415 - heavy imports only when needed

    return Devstack(_settings(ctx))


def _print_world(stack: Devstack) -> None:
    anchor = stack.anchor()
    if anchor is None:
        return
    typer.echo(
        f"demo world: incident day {anchor.incident_day} ({anchor.timezone}), "
        f"seed {anchor.seed}, built {anchor.created_at:%Y-%m-%d %H:%M} UTC"
    )
    if anchor.shifted:
        typer.echo(
            "  the stack came up before 10:00 local time, so the reference incident is "
            f"placed on the previous day ({anchor.incident_day})"
        )


@devstack_app.command("up")
def devstack_up(ctx: typer.Context) -> None:
    """Start the local servers and load the demo world (idempotent)."""
    from devstack.process import DevstackError  # noqa: PLC0415

    stack = _devstack(ctx)
    typer.echo(f"devstack: starting in {stack.layout.root} ...")
    try:
        report = stack.up()
    except DevstackError as exc:
        _fail(f"devstack: {exc}")
    for note in report.notes:
        typer.echo(f"  {note}")
    if report.already_running:
        typer.echo(f"  already running: {', '.join(report.already_running)}")
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in report.timings_s.items())
    typer.echo(f"  {timings}")
    _print_status(stack)
    typer.echo("The default settings (config/vigie.yaml) already point Vigie at these servers.")


def _print_status(stack: Devstack) -> bool:
    rows = stack.status()
    _print_world(stack)
    for name, state, where, detail in rows:
        typer.echo(f"  {name:<15} {state:<10} {where:<32} {detail}".rstrip())
    return all(state == "healthy" for _, state, _, _ in rows)


@devstack_app.command("status")
def devstack_status(ctx: typer.Context) -> None:
    """Show each component (healthy / unhealthy / stopped) and the world it holds."""
    if not _print_status(_devstack(ctx)):
        raise typer.Exit(1)


@devstack_app.command("down")
def devstack_down(ctx: typer.Context) -> None:
    """Stop what the devstack started (recorded PIDs only); data is kept."""
    stopped = _devstack(ctx).down()
    typer.echo(
        f"devstack: stopped {', '.join(stopped)}" if stopped else "devstack: nothing running"
    )


@devstack_app.command("reset")
def devstack_reset(ctx: typer.Context) -> None:
    """Stop, delete the world's data, re-anchor it to today and start again."""
    from devstack.process import DevstackError  # noqa: PLC0415

    stack = _devstack(ctx)
    try:
        stack.reset()
    except DevstackError as exc:
        _fail(f"devstack: {exc}")
    _print_status(stack)


@devstack_app.command("demo")
def devstack_demo(ctx: typer.Context) -> None:
    """Ask the running devstack a few real questions through Vigie's clients."""
    from bot.services import build_services  # noqa: PLC0415
    from devstack.demo import run_demo  # noqa: PLC0415

    stack = _devstack(ctx)
    anchor = stack.anchor()
    if anchor is None:
        _fail("devstack: no world yet: run `vigie devstack up` first")
    services = build_services(stack.client_settings())
    try:
        ok = run_demo(services, anchor, typer.echo)
    finally:
        services.close()
    if not ok:
        raise typer.Exit(1)


def main() -> None:
    """Console-script entry point."""
    app()
