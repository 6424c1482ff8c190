"""Benchmark: the signal catalog's discovery and rendering cost, and what it costs a model.

Run on demand; prints figures, asserts nothing. Uses the Prometheus of the settings (the running
devstack by default, `--url` for another) and, with `--worlds`, also the OpenTelemetry and Istio
test worlds (each started on a free port, then stopped).

    .venv/bin/python bench/tools_catalog.py [--url URL] [--runs 20] [--worlds]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.settings import load_settings  # noqa: E402
from tools.budget import estimate_tokens  # noqa: E402
from tools.catalog import Catalog, CatalogService, SignalName  # noqa: E402


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):.2f} ms, p95 {p95:.2f} ms"


def measure(url: str, runs: int, label: str) -> None:
    """Print discovery time (cold and repeated), render time and describe tokens for `url`."""
    service = CatalogService(url, overrides_path=None)
    started = time.perf_counter()
    catalog: Catalog = service.refresh()
    first = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        service.refresh()
        times.append((time.perf_counter() - started) * 1000)
    cached = []
    for _ in range(runs):
        started = time.perf_counter()
        service.get()
        cached.append((time.perf_counter() - started) * 1000)
    renders = []
    for _ in range(runs):
        for signal in catalog.bindings:
            started = time.perf_counter()
            catalog.render(signal, service="payment-gateway", namespace="prod", by=("service",))
            renders.append((time.perf_counter() - started) * 1000)
    describe = catalog.describe()
    print(f"== {label} ({url})")
    print(f"signals found: {len(catalog.bindings)}/{len(SignalName)}")
    print(f"discovery: first {first:.1f} ms; repeated {_ms(times)}; cached get() {_ms(cached)}")
    print(f"render: {_ms(renders)} per query ({len(renders)} renders)")
    print(
        f"catalog_describe: {estimate_tokens(describe)} tokens all signals "
        f"({len(describe)} chars); latency only "
        f"{estimate_tokens(catalog.describe('latency'))} tokens"
    )
    service.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default=None, help="Prometheus URL (default: the settings')")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--worlds", action="store_true", help="also the OTel and Istio worlds")
    args = parser.parse_args()
    url = args.url or str(load_settings().prometheus.url).rstrip("/")
    measure(url, args.runs, "configured Prometheus")
    if args.worlds:
        from tests.catalog_worlds import ISTIO, OTEL, serve_world  # noqa: PLC0415

        for world in (OTEL, ISTIO):
            started = time.perf_counter()
            servers = serve_world(world)
            server = next(servers)
            print(
                f"== world {world.name}: built and started in {time.perf_counter() - started:.2f} s"
            )
            measure(server.url, args.runs, f"world {world.name}")
            servers.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
