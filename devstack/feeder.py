"""Keeps the demo world's logs current: appends each elapsed minute's documents to Elasticsearch.

Run by `vigie devstack up` as `python -m devstack.feeder`. Appending is idempotent (documents
have deterministic ids), so overlapping with `up`'s own catch-up load is harmless.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import Elasticsearch
from elasticsearch import exceptions as es_exceptions

from devstack.elasticsearch import append
from devstack.world.scenario import Anchor

log = logging.getLogger("devstack.feeder")


def _read_mark(path: Path) -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads(path.read_text())["logs_loaded_until"])
    except (OSError, ValueError, KeyError):
        return None


def _write_mark(path: Path, when: datetime) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"logs_loaded_until": when.isoformat()}))
    tmp.replace(path)


def run(anchor: Anchor, es_url: str, mark: Path, interval_s: float, stop: threading.Event) -> None:
    """Append logs from the last mark (or now - interval) to now, every `interval_s` seconds."""
    es = Elasticsearch(es_url, request_timeout=30)
    since = _read_mark(mark) or datetime.now(UTC) - timedelta(seconds=interval_s)
    while not stop.wait(interval_s):
        now = datetime.now(UTC)
        try:
            count = append(es, anchor, since, now)
        except (es_exceptions.ApiError, es_exceptions.TransportError) as exc:
            log.warning("append %s..%s failed, will retry: %s", since, now, exc)
            continue
        log.info("appended %d documents for %s..%s", count, since.isoformat(), now.isoformat())
        since = now
        _write_mark(mark, now)
    es.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--anchor", type=Path, required=True)
    parser.add_argument("--elasticsearch-url", required=True)
    parser.add_argument("--mark", type=Path, required=True)
    parser.add_argument("--interval-s", type=float, default=60.0)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run(Anchor.load(args.anchor), args.elasticsearch_url, args.mark, args.interval_s, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
