"""The devstack's Elasticsearch side: the noida-db process, the `logs-*` indices and loading them.

noida-db (PyPI) speaks the Elasticsearch REST API to the official client. The world's logs go to
daily indices `logs-<namespace>-YYYY.MM.DD` (UTC day of `@timestamp`), the usual layout of
Filebeat/Logstash clusters, so Vigie's queries are written against `logs-*` as they would be on
a real cluster. Indices are created with explicit mappings, and an index template with the same
mappings covers the days a live feeder reaches later (noida-db applies templates on auto-create).

Document ids come from the generator and both `load` and `append` use op_type `create`: a window
loaded twice, or appended over what `load` wrote, only adds what is missing. Each index records
the world's fingerprint in its mapping `_meta`; `load` drops `logs-*` indices of another world
so a reused data dir never mixes two incident days.

noida-db gaps that matter to Vigie's queries (it reports Elasticsearch 8.15.3): see the logs
issue notes; in short, no `percentiles`, `significant_terms`, `composite`, `multi_terms`,
`categorize_text`, `extended_stats`, pipeline aggregations or ES|QL; `min`/`max`/`stats` on
date fields return null; named time zones are ignored by `date_histogram` and rejected by
`range` (use "+01:00" offsets); `query_string` mishandles unquoted hyphenated values and exact
numbers (quote values, use ranges or DSL `term`).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch, helpers

from devstack.world import logs
from devstack.world.scenario import NAMESPACES, Anchor

INDEX_PATTERN = "logs-*"
TEMPLATE_NAME = "vigie-logs"
# noida-db indexes ~10k documents/s; 1000-document chunks keep both sending threads busy.
BULK_CHUNK = 1000

MAPPINGS: dict[str, Any] = {
    "dynamic": True,
    "properties": {
        "@timestamp": {"type": "date"},
        "service": {"type": "keyword"},
        "namespace": {"type": "keyword"},
        "level": {"type": "keyword"},
        "logger": {"type": "keyword"},
        "trace_id": {"type": "keyword"},
        "pod": {"type": "keyword"},
        "service_version": {"type": "keyword"},
        "message": {
            "type": "text",
            "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}},
        },
        "http": {
            "properties": {
                "method": {"type": "keyword"},
                "route": {"type": "keyword"},
                "status": {"type": "integer"},
            }
        },
        "duration_ms": {"type": "integer"},
    },
}
SETTINGS: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": 0}


@dataclass(frozen=True)
class LoadReport:
    """What `load` did, and how long it took (generation included)."""

    documents: int  # in the window, now all indexed
    created: int  # of which this call added (the rest was already there)
    indices: tuple[str, ...]  # the daily indices of the window
    dropped: tuple[str, ...]  # indices of another world, deleted
    seconds: float


def index_name(namespace: str, when: datetime) -> str:
    """The daily index of a namespace for an instant (UTC day)."""
    return f"logs-{namespace}-{when.astimezone(UTC):%Y.%m.%d}"


def _index_of(doc: dict[str, Any]) -> str:
    # "2026-03-10T07:42:13.123Z" -> "2026.03.10" without parsing the timestamp.
    stamp: str = doc["@timestamp"]
    return f"logs-{doc['namespace']}-{stamp[:4]}.{stamp[5:7]}.{stamp[8:10]}"


def indices_for(start: datetime, end: datetime) -> list[str]:
    """Every daily index a window `[start, end)` can write to, for all namespaces."""
    names = []
    day = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        names += [index_name(namespace, day) for namespace in NAMESPACES]
        day += timedelta(days=1)
    return names


def _mappings(anchor: Anchor) -> dict[str, Any]:
    # The world's fingerprint in `_meta` tells a reused data dir's indices from another world's.
    return {**MAPPINGS, "_meta": {"world": anchor.fingerprint()}}


def drop_other_worlds(es: Elasticsearch, anchor: Anchor) -> list[str]:
    """Delete the `logs-*` indices written for another world (seed, day D, zone or version).

    A data dir reused across days would otherwise mix two incident days under `logs-*`.
    """
    fingerprint = anchor.fingerprint()
    stale = [
        name
        for name, body in es.indices.get_mapping(index=INDEX_PATTERN).items()
        if body.get("mappings", {}).get("_meta", {}).get("world") != fingerprint
    ]
    for name in stale:
        es.indices.delete(index=name)
    return stale


def ensure_indices(es: Elasticsearch, anchor: Anchor, names: Iterable[str]) -> list[str]:
    """Put the `logs-*` template and create the missing indices; returns those created.

    The template covers days nobody created explicitly (a live feeder crossing midnight UTC).
    """
    mappings = _mappings(anchor)
    es.indices.put_index_template(
        name=TEMPLATE_NAME,
        index_patterns=[INDEX_PATTERN],
        template={"settings": SETTINGS, "mappings": mappings},
        priority=100,
    )
    created = []
    for name in names:
        if not es.indices.exists(index=name):
            es.indices.create(index=name, settings=SETTINGS, mappings=mappings)
            created.append(name)
    return created


def _actions(anchor: Anchor, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    for doc in logs.documents(anchor, start, end):
        # An explicit `_source`: the helpers would otherwise take fields that share a name with
        # bulk metadata (`version`, `routing`, ...) out of a flat document.
        source = dict(doc)
        doc_id = source.pop("_id")
        # `create`, not `index`: an existing id is a cheap 409 on noida-db, where overwriting
        # is roughly ten times slower than a fresh insert.
        yield {"_op_type": "create", "_index": _index_of(doc), "_id": doc_id, "_source": source}


def _count_created(results: Iterable[tuple[bool, Any]]) -> tuple[int, int]:
    """(created, already present) from bulk `create` results; any other failure raises."""
    created = present = 0
    for ok, item in results:
        if ok:
            created += 1
        elif item.get("create", {}).get("status") == 409:
            present += 1
        else:
            raise RuntimeError(f"bulk create failed: {json.dumps(item)[:500]}")
    return created, present


def load(es: Elasticsearch, anchor: Anchor, start: datetime, end: datetime) -> LoadReport:
    """Make `logs-*` hold the world's logs of `[start, end)`, then refresh.

    Indices of another world are dropped first; documents already present are kept, so loading
    into a reused data dir only adds what is missing. Generation and indexing overlap: two
    threads send the chunks while this one generates (the server is the bottleneck).
    """
    began = time.perf_counter()
    dropped = drop_other_worlds(es, anchor)
    names = indices_for(start, end)
    ensure_indices(es, anchor, names)
    created, present = _count_created(
        helpers.parallel_bulk(
            es,
            _actions(anchor, start, end),
            thread_count=2,
            chunk_size=BULK_CHUNK,
            queue_size=2,
            raise_on_error=False,
            raise_on_exception=True,
        )
    )
    es.indices.refresh(index=",".join(names))
    return LoadReport(
        documents=created + present,
        created=created,
        indices=tuple(names),
        dropped=tuple(dropped),
        seconds=time.perf_counter() - began,
    )


def append(es: Elasticsearch, anchor: Anchor, start: datetime, end: datetime) -> int:
    """Add the logs of `[start, end)` that are not indexed yet; returns how many were added.

    For the live feeder: documents already present (same `_id`) are left alone, so a window
    can be appended twice, or overlap what `load` wrote, without duplicates.
    """
    names = indices_for(start, end)
    ensure_indices(es, anchor, names)
    created, _ = _count_created(
        helpers.streaming_bulk(
            es,
            _actions(anchor, start, end),
            chunk_size=BULK_CHUNK,
            raise_on_error=False,
            raise_on_exception=True,
        )
    )
    if created:
        # Only the day's indices: refreshing all of `logs-*` costs noida-db ~0.1 s a minute.
        es.indices.refresh(index=",".join(names))
    return created


def noida_executable() -> str:
    """The noida-db server binary: the one bundled in the installed package when possible.

    The `noida-db` console script is a Python wrapper that runs the bundled binary as a child
    and does not forward signals: terminating the wrapper leaves the server running. Launching
    the binary itself makes the PID we hold the server's. Falls back to the console script next
    to `sys.executable` (the virtualenv's), then to PATH.
    """
    try:
        bundled = resources.files("noida_db").joinpath("noida-db")
        if bundled.is_file():
            return str(bundled)
    except ModuleNotFoundError:
        pass
    beside = Path(sys.executable).parent / "noida-db"
    if beside.is_file():
        return str(beside)
    found = shutil.which("noida-db")
    if found is None:
        raise FileNotFoundError("noida-db is not installed: pip install noida-db")
    return found


def noida_command(data_dir: Path, port: int, host: str = "127.0.0.1") -> list[str]:
    """The command line of a foreground noida-db serving only the Elasticsearch API."""
    return [
        noida_executable(),
        "start",
        "--only",
        "elasticsearch",
        "--data-dir",
        str(data_dir),
        "--host",
        host,
        "--elasticsearch-port",
        str(port),
    ]


def wait_ready(url: str, timeout_s: float) -> None:
    """Wait until the Elasticsearch API at `url` answers its root endpoint with a version.

    Raises TimeoutError naming the URL and the last failure when it does not within
    `timeout_s` seconds.
    """
    deadline = time.monotonic() + timeout_s
    last = "no attempt"
    while True:
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/", timeout=2) as response:  # noqa: S310
                body = json.load(response)
            if isinstance(body, dict) and "number" in body.get("version", {}):
                return
            last = f"unexpected answer {json.dumps(body)[:200]}"
        except (OSError, ValueError) as exc:  # refused, reset, timeout, HTTP error, bad JSON
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"Elasticsearch API at {url} not ready after {timeout_s:.0f}s ({last})"
            )
        time.sleep(0.1)
