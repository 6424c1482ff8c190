"""The live names a question is matched against: services and namespaces, cached briefly.

Service names come from the catalog's service label on the request and resource signals
(label values on the server at hand: `service`, `service_name`, `destination_workload`,
`container`...) and from PagerDuty's service list; namespaces from the namespace label. A
minute of caching keeps a conversation fast while a new service still appears quickly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from bot.engine.planner.names import ServiceMatcher
from bot.engine.planner.runner import Runner
from tools.base import Status, ToolResult
from tools.catalog import Catalog, SignalName

TTL_S: Final = 60.0
# Signals whose service label names the services people ask about, by preference.
_NAME_SIGNALS: Final = (SignalName.LATENCY, SignalName.THROUGHPUT, SignalName.MEMORY)


@dataclass(frozen=True)
class Directory:
    """Service names and namespaces of this deployment, and the results they came from."""

    services: tuple[str, ...]
    namespaces: tuple[str, ...]
    results: tuple[ToolResult, ...] = field(default=())
    # PagerDuty teams (and escalation policies) -> the escalation policies that page them.
    teams: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def matcher(self) -> ServiceMatcher:
        return ServiceMatcher(self.services)


class DirectoryCache:
    """One Directory per Prometheus URL, refreshed after `TTL_S`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: dict[str, tuple[float, Directory]] = {}

    def get(self, runner: Runner, catalog: Catalog, key: str) -> Directory:
        with self._lock:
            hit = self._cached.get(key)
        if hit is not None and time.monotonic() - hit[0] < TTL_S:
            return hit[1]
        directory = _load(runner, catalog)
        with self._lock:
            self._cached[key] = (time.monotonic(), directory)
        return directory


def _label_calls(catalog: Catalog) -> list[tuple[str, dict[str, object]]]:
    calls: list[tuple[str, dict[str, object]]] = []
    seen: set[tuple[str, str]] = set()
    for signal in _NAME_SIGNALS:
        if not catalog.has(signal):
            continue
        binding = catalog.binding(signal)
        metric = binding.join.metric if binding.join is not None else binding.metric
        selector = metric + (
            "_bucket" if signal is SignalName.LATENCY and binding.join is None else ""
        )
        for label in (binding.service_key, binding.namespace_label):
            if label and (label, selector) not in seen:
                seen.add((label, selector))
                calls.append(
                    (
                        "prometheus_label_values",
                        {"label": label, "selector": selector, "limit": 2000},
                    )
                )
    return calls


def _load(runner: Runner, catalog: Catalog) -> Directory:
    """Ask the backends for names; the lookups are not evidence of an answer, so forgotten."""
    calls = _label_calls(catalog)
    calls.append(("pagerduty_list_services", {"limit": 500}))
    results = runner.many(calls)
    for result in results:
        runner.forget(result)
    services: set[str] = set()
    namespaces: set[str] = set()
    teams: dict[str, set[str]] = {}
    namespace_labels = {catalog.binding(s).namespace_label for s in _NAME_SIGNALS if catalog.has(s)}
    for (name, args), result in zip(calls, results, strict=True):
        if result.status is not Status.OK:
            continue
        if name == "pagerduty_list_services":
            services.update(str(row["name"]) for row in result.data or [] if row.get("name"))
            _add_teams(teams, result.data or [])
            continue
        values = [str(v) for v in (result.data or {}).get("values", []) if v not in ("", "POD")]
        if args["label"] in namespace_labels:
            namespaces.update(values)
        else:
            services.update(values)
    return Directory(
        tuple(sorted(services)),
        tuple(sorted(namespaces)),
        tuple(results),
        {team: tuple(sorted(policies)) for team, policies in sorted(teams.items())},
    )


def _add_teams(teams: dict[str, set[str]], rows: list[dict[str, object]]) -> None:
    """Each service's teams and escalation policy: "platform" pages the Platform policy."""
    for row in rows:
        policy = row.get("escalation_policy")
        if not isinstance(policy, str) or not policy:
            continue
        teams.setdefault(policy, set()).add(policy)
        listed = row.get("teams")
        for team in listed if isinstance(listed, list) else []:
            if isinstance(team, str) and team:
                teams.setdefault(team, set()).add(policy)
