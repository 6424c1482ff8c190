"""`vigie devstack demo`: a few real questions asked of the running devstack, with their queries.

Until the engine lands this is the README's first command's finale: it shows each backend
answering through the same clients Vigie uses, on the demo world's reference incident.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.services import Services
from devstack.world.scenario import Anchor

Echo = Callable[[str], None]

P99_BY_SERVICE = (
    "histogram_quantile(0.99, sum by (le, service) "
    '(rate(http_request_duration_seconds_bucket{namespace="prod"}[5m])))'
)
PROD_MEMORY = 'sum(container_memory_working_set_bytes{namespace="prod"})'


def _query(services: Services, promql: str, params: dict[str, float]) -> list[dict[str, Any]]:
    """An instant query through the same client and decoding as the Prometheus tools."""
    from tools.prometheus import PrometheusHTTP  # noqa: PLC0415

    settings = services.settings.prometheus
    http = PrometheusHTTP(str(settings.url), settings.timeout_s, services.prometheus)
    reply = http.get("/api/v1/query", {"query": promql, **params}, query=promql)
    return list(reply.data["result"])


def _when(anchor: Anchor, hhmm: str) -> datetime:
    """`hhmm` on the incident day, or now if that is still in the future."""
    return min(anchor.at(0, hhmm), datetime.now(UTC))


def _local(anchor: Anchor, when: datetime) -> str:
    return when.astimezone(anchor.tz).strftime("%a %d %b %H:%M %Z")


def _prometheus(services: Services, anchor: Anchor, echo: Echo) -> None:
    at = _when(anchor, "09:00")
    echo(f"\n[prometheus] top P99 latency in prod at {_local(anchor, at)}")
    echo(f"  query: {P99_BY_SERVICE}")
    rows = _query(services, P99_BY_SERVICE, params={"time": at.timestamp()})
    ranked = sorted(rows, key=lambda r: float(r["value"][1]), reverse=True)
    for row in ranked[:5]:
        echo(f"  {row['metric'].get('service', '?'):<18} {float(row['value'][1]) * 1000:7.0f} ms")

    now = datetime.now(UTC)
    echo(
        f"\n[prometheus] namespace prod memory, last 7 days vs the 7 days before "
        f"({_local(anchor, now)})"
    )
    figures: dict[str, float] = {}
    for label, fn, offset in (
        ("this week avg", "avg", ""),
        ("this week peak", "max", ""),
        ("last week avg", "avg", " offset 7d"),
        ("last week peak", "max", " offset 7d"),
    ):
        query = f"{fn}_over_time({PROD_MEMORY}[7d:5m]{offset})"
        result = _query(services, query, params={"time": now.timestamp()})
        figures[label] = float(result[0]["value"][1]) / 1e9 if result else float("nan")
        echo(f"  {label:<15} {figures[label]:6.1f} GB   {query}")
    if figures["last week avg"]:
        change = 100 * (figures["this week avg"] / figures["last week avg"] - 1)
        echo(f"  change of the average: {change:+.1f} %")

    at = _when(anchor, "08:45")
    query = (
        'max by (service) (db_pool_connections_in_use{namespace="prod"} '
        '/ db_pool_connections_max{namespace="prod"})'
    )
    echo(f"\n[prometheus] DB pool usage at {_local(anchor, at)}\n  query: {query}")
    rows = _query(services, query, params={"time": at.timestamp()})
    for row in sorted(rows, key=lambda r: float(r["value"][1]), reverse=True)[:3]:
        echo(f"  {row['metric'].get('service', '?'):<18} {float(row['value'][1]) * 100:5.0f} %")


def _elasticsearch(services: Services, anchor: Anchor, echo: Echo) -> None:
    es, index = services.elasticsearch, services.settings.elasticsearch.index
    since = anchor.at(0, "08:00")
    body: dict[str, Any] = {
        "bool": {
            "filter": [
                {"term": {"service": "payment-gateway"}},
                {"match_phrase": {"message": "connection pool exhausted"}},
                {"range": {"@timestamp": {"gte": since.isoformat()}}},
            ]
        }
    }
    echo(
        "\n[elasticsearch] payment-gateway 'connection pool exhausted' since "
        f"{_local(anchor, since)}"
    )
    echo(f"  index: {index}  query: {body}")
    result = es.search(
        index=index, query=body, size=1, sort=[{"@timestamp": "asc"}], track_total_hits=True
    )
    total = result["hits"]["total"]["value"]
    first = result["hits"]["hits"][0]["_source"]["@timestamp"] if total else "-"
    echo(f"  {total} log lines, first at {first}")
    errors = es.search(
        index=index,
        size=0,
        query={
            "bool": {
                "filter": [
                    {"term": {"level": "ERROR"}},
                    {"range": {"@timestamp": {"gte": since.isoformat()}}},
                ]
            }
        },
        aggs={"by_service": {"terms": {"field": "service", "size": 3}}},
    )
    echo("  ERROR lines by service since then:")
    for bucket in errors["aggregations"]["by_service"]["buckets"]:
        echo(f"    {bucket['key']:<18} {bucket['doc_count']}")


def _pagerduty(services: Services, anchor: Anchor, echo: Echo) -> None:
    pd = services.pagerduty
    if pd is None:
        echo("\n[pagerduty] skipped: no token configured")
        return
    echo(
        "\n[pagerduty] open incidents  "
        "(GET /incidents?statuses[]=triggered&statuses[]=acknowledged)"
    )
    for incident in pd.list_all("incidents", params={"statuses[]": ["triggered", "acknowledged"]}):
        created = datetime.fromisoformat(incident["created_at"].replace("Z", "+00:00"))
        echo(
            f"  #{incident['incident_number']} {incident['status']:<12} {incident['urgency']:<5} "
            f"{_local(anchor, created)}  {incident['title']}"
        )
    echo("\n[pagerduty] on call now  (GET /oncalls)")
    for oncall in pd.list_all("oncalls", params={"earliest": True}):
        echo(
            f"  {oncall['escalation_policy']['summary']:<12} level {oncall['escalation_level']}  "
            f"{oncall['user']['summary']}"
        )


def _alertmanager(services: Services, anchor: Anchor, echo: Echo) -> None:
    echo("\n[alertmanager] firing alerts  (GET /api/v2/alerts?active=true)")
    response = services.alertmanager.get("api/v2/alerts", params={"active": "true"})
    response.raise_for_status()
    alerts = response.json()
    if not alerts:
        echo("  none yet (rules need a few evaluation cycles after start-up)")
    for alert in alerts:
        labels = alert["labels"]
        echo(
            f"  {labels.get('alertname')}  {labels.get('service', '')} "
            f"{labels.get('namespace', '')}"
            f"  since {alert['startsAt'][:16]}  {alert['annotations'].get('summary', '')}"
        )


def run_demo(services: Services, anchor: Anchor, echo: Echo) -> bool:
    """Run every section; a failing backend is reported in one line and the rest still runs."""
    echo(f"Demo world: reference incident on {anchor.incident_day} ({anchor.timezone})")
    ok = True
    for name, section in (
        ("prometheus", _prometheus),
        ("elasticsearch", _elasticsearch),
        ("pagerduty", _pagerduty),
        ("alertmanager", _alertmanager),
    ):
        try:
            section(services, anchor, echo)
        except Exception as exc:
            echo(f"  {name} FAILED: {type(exc).__name__}: {str(exc)[:200]}")
            ok = False
    return ok
