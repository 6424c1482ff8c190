"""The logs of the demo world, as Vigie will see them through the official Elasticsearch client.

Runs against the devstack's Elasticsearch-API server (the `stack` session fixture). The queries
here stay within what both noida-db and real Elasticsearch 8/9 accept.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from devstack import elasticsearch as des
from devstack.layout import StackInfo
from devstack.world import logs

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def es(stack: StackInfo) -> Iterator[Elasticsearch]:
    client = Elasticsearch(stack.elasticsearch_url, request_timeout=30)
    # The live feeder appends every minute; catching up here makes the assertions independent
    # of when it last ran (append is idempotent).
    des.append(client, stack.anchor, stack.anchor.created_at, datetime.now(UTC))
    yield client
    client.close()


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


def _needs_burst(stack: StackInfo) -> None:
    if datetime.now(UTC) < stack.anchor.at(0, "09:00"):
        pytest.skip("the 08:42 burst is not complete yet (before 09:00 local on day D)")


def test_logs_are_daily_indices_with_explicit_mappings(es: Elasticsearch) -> None:
    mappings = es.indices.get_mapping(index=des.INDEX_PATTERN)
    assert mappings
    for name, body in mappings.items():
        assert name.startswith(("logs-prod-", "logs-staging-"))
        properties = body["mappings"]["properties"]
        assert properties["@timestamp"]["type"] == "date"
        assert properties["level"]["type"] == "keyword"
        assert properties["http"]["properties"]["status"]["type"] == "integer"
        assert properties["message"]["type"] == "text"
        assert properties["message"]["fields"]["keyword"]["type"] == "keyword"


def test_total_documents_in_the_tens_of_thousands(es: Elasticsearch) -> None:
    total = es.count(index=des.INDEX_PATTERN)["count"]
    assert 20_000 <= total <= 150_000


def test_reference_deploy_line_at_0830(es: Elasticsearch, stack: StackInfo) -> None:
    result = es.search(
        index=des.INDEX_PATTERN,
        query={
            "bool": {
                "filter": [
                    {"term": {"logger": logs.DEPLOYER_LOGGER}},
                    {"term": {"service": "payment-gateway"}},
                    {"term": {"namespace": "prod"}},
                    {"match_phrase": {"message": "version 2.14.3"}},
                ]
            }
        },
        sort=[{"@timestamp": {"order": "desc"}}],
        size=5,
    )
    hits = result["hits"]["hits"]
    assert len(hits) == 1
    source = hits[0]["_source"]
    deployed = datetime.fromisoformat(source["@timestamp"].replace("Z", "+00:00"))
    assert deployed == stack.anchor.at(0, "08:30")
    assert source["level"] == "INFO"
    assert "(previous 2.14.2)" in source["message"]


def test_pool_exhausted_burst_from_0842(es: Elasticsearch, stack: StackInfo) -> None:
    _needs_burst(stack)
    anchor = stack.anchor
    start, end = anchor.at(0, "08:00"), anchor.at(0, "09:00")
    result = es.search(
        index=des.INDEX_PATTERN,
        size=0,
        query={
            "bool": {
                "filter": [
                    {"term": {"service": "payment-gateway"}},
                    {"term": {"namespace": "prod"}},
                    {"match_phrase": {"message": "connection pool exhausted"}},
                    {"range": {"@timestamp": {"gte": _iso(start), "lt": _iso(end)}}},
                ]
            }
        },
        aggs={
            "per_minute": {
                "date_histogram": {
                    "field": "@timestamp",
                    "fixed_interval": "1m",
                    "min_doc_count": 0,
                    "extended_bounds": {
                        "min": _iso(start),
                        "max": _iso(end - timedelta(minutes=1)),
                    },
                }
            }
        },
    )
    buckets: list[dict[str, Any]] = result["aggregations"]["per_minute"]["buckets"]
    assert len(buckets) == 60
    counts = {
        datetime.fromtimestamp(bucket["key"] / 1000, UTC): bucket["doc_count"] for bucket in buckets
    }
    burst_start = anchor.at(0, "08:42")
    assert sum(n for minute, n in counts.items() if minute < burst_start) == 0
    assert counts[burst_start] > 0
    assert sum(n for minute, n in counts.items() if minute >= burst_start) > 100


def test_errors_by_service_rank_payment_gateway_first(es: Elasticsearch, stack: StackInfo) -> None:
    _needs_burst(stack)
    result = es.search(
        index=des.INDEX_PATTERN,
        size=0,
        query={
            "bool": {
                "filter": [
                    {"term": {"level": "ERROR"}},
                    {"range": {"@timestamp": {"gte": _iso(stack.anchor.at(0, "08:40"))}}},
                ]
            }
        },
        aggs={"services": {"terms": {"field": "service", "size": 5, "order": {"_count": "desc"}}}},
    )
    buckets = result["aggregations"]["services"]["buckets"]
    assert buckets[0]["key"] == "payment-gateway"
    assert buckets[0]["doc_count"] > 5 * buckets[1]["doc_count"]


def test_indexed_window_matches_the_generator(es: Elasticsearch, stack: StackInfo) -> None:
    start = stack.anchor.at(-1, "12:00")
    end = start + timedelta(minutes=30)
    expected = list(logs.documents(stack.anchor, start, end))
    query = {"range": {"@timestamp": {"gte": _iso(start), "lt": _iso(end)}}}
    assert es.count(index=des.INDEX_PATTERN, query=query)["count"] == len(expected)
    hit = es.search(
        index=des.INDEX_PATTERN,
        query={"ids": {"values": [expected[0]["_id"]]}},
        size=1,
    )["hits"]["hits"][0]
    assert hit["_source"] == {k: v for k, v in expected[0].items() if k != "_id"}


def test_append_of_a_loaded_window_adds_nothing(es: Elasticsearch, stack: StackInfo) -> None:
    start = stack.anchor.created_at - timedelta(minutes=20)
    end = stack.anchor.created_at
    # Counted within the window only: the live feeder may be appending later minutes meanwhile.
    query = {"range": {"@timestamp": {"gte": _iso(start), "lt": _iso(end)}}}
    before = es.count(index=des.INDEX_PATTERN, query=query)["count"]
    assert before == len(list(logs.documents(stack.anchor, start, end)))
    assert des.append(es, stack.anchor, start, end) == 0
    assert des.append(es, stack.anchor, start, end) == 0
    assert es.count(index=des.INDEX_PATTERN, query=query)["count"] == before
