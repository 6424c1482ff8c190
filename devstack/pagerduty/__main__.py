"""Command line: run the PagerDuty simulator in the foreground (the devstack's child process)."""

from __future__ import annotations

import argparse
from pathlib import Path

from devstack.pagerduty.server import serve
from devstack.world.scenario import Anchor


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(
        prog="python -m devstack.pagerduty", description="PagerDuty REST API v2 simulator"
    )
    parser.add_argument("--dir", type=Path, required=True, help="state and certificates")
    parser.add_argument("--port", type=int, required=True, help="0 picks a free port")
    parser.add_argument("--token", required=True, help="the accepted API token")
    parser.add_argument("--rate-limit-per-minute", type=int, default=900)
    parser.add_argument("--anchor", type=Path, required=True, help="the devstack's world.json")
    args = parser.parse_args(argv)
    if args.rate_limit_per_minute < 1:
        parser.error("--rate-limit-per-minute must be at least 1")
    serve(args.dir, args.port, args.token, args.rate_limit_per_minute, Anchor.load(args.anchor))


if __name__ == "__main__":
    main()
