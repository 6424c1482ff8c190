"""Live scrape target continuing the demo world: `/metrics` at request time.

    python -m devstack.world.exporter --anchor .devstack/world.json --port 9464

Serves every series of `metrics.World` alive now, in the Prometheus text format, with the value
the same generator gives for this instant; counters are the same functions of absolute time as
in the backfill, so Prometheus' scrapes continue the history without a step. The series carry
their own `job`/`instance` labels: scrape with `honor_labels: true`. Listens on 127.0.0.1 only,
logs to stderr, exits cleanly on SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import FrameType

import numpy as np

from devstack.world.metrics import World
from devstack.world.scenario import Anchor

log = logging.getLogger("devstack.exporter")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Exposition:
    """Renders the world at an instant; per-family headers and label prefixes are precomputed."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._families = []
        for family, kind, help_text, indices in world.families():
            name = family if kind != "counter" else f"{family}_total"
            kind_text = "histogram" if kind == "histogram" else kind
            header = f"# HELP {name} {help_text}\n# TYPE {name} {kind_text}\n"
            prefixes = [world.series[i].selector() + " " for i in indices]
            self._families.append((header, np.array(indices), prefixes))
        self._lock = threading.Lock()

    def render(self, now: float) -> str:
        """The exposition at unix time `now` (counters interpolated within the minute)."""
        with self._lock:
            column = self.world.values([math.floor(now)])[:, 0]
        integer = [s.integer for s in self.world.series]
        parts: list[str] = []
        for header, indices, prefixes in self._families:
            values = column[indices]
            alive = ~np.isnan(values)
            if not alive.any():
                continue
            parts.append(header)
            for k, i in enumerate(indices.tolist()):
                if not alive[k]:
                    continue
                v = float(values[k])
                parts.append(f"{prefixes[k]}{int(v) if integer[i] else round(v, 3)}\n")
        return "".join(parts)


def make_handler(exposition: Exposition) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to `exposition`."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "vigie-world-exporter/1"

        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/metrics":
                began = time.perf_counter()
                body = exposition.render(time.time()).encode()
                self._reply(200, body, CONTENT_TYPE)
                log.debug("scrape in %.1f ms", (time.perf_counter() - began) * 1000)
            elif self.path in ("/", "/-/healthy"):
                self._reply(200, b"vigie demo-world exporter: /metrics\n", "text/plain")
            else:
                self._reply(404, b"not found\n", "text/plain")

        def _reply(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug(format, *args)

    return Handler


def serve(anchor: Anchor, port: int, host: str = "127.0.0.1") -> None:
    """Serve until SIGTERM or SIGINT."""
    began = time.monotonic()
    world = World(anchor)
    exposition = Exposition(world)
    exposition.render(time.time())  # builds today's table and the counter offsets up front
    server = HTTPServer((host, port), make_handler(exposition))
    log.info(
        "exporter ready on http://%s:%d/metrics (%d series, %.1f s to start)",
        host,
        port,
        len(world.series),
        time.monotonic() - began,
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        # shutdown() waits for serve_forever to return, so it must run in another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    log.info("exporter stopped")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Serve the demo world's live metrics.")
    parser.add_argument("--anchor", type=Path, required=True, help="world.json of the devstack")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    serve(Anchor.load(args.anchor), args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
