"""The signal catalog: what "latency", "errors", "memory" mean on the Prometheus at hand.

Discovery reads the server's metric names, metadata and the label names of a few candidate
metrics, and maps each signal (`SignalName`) to a metric, its service / namespace labels and
its unit; `config/signals.yaml` can pin any of it. `Catalog.render` turns a signal into vetted
PromQL; `CatalogService` caches the catalog and refreshes it on a schedule.

    service = services.catalog  # the composition root's (or CatalogService.from_settings)
    q = service.get().render("latency", service="payment-gateway", namespace="prod",
                             window="5m", quantile=0.99, by=("service",))
    q.promql, q.unit  # 'histogram_quantile(0.99, sum by (le, service) (...))', 'seconds'
"""

from __future__ import annotations

from typing import Any

from tools.base import Tool
from tools.catalog.catalog import Catalog
from tools.catalog.discovery import candidate_metrics, discover
from tools.catalog.model import (
    Binding,
    CatalogUnavailableError,
    DiscoveryInfo,
    MetricMeta,
    Missing,
    Rendered,
    RenderError,
    ServerSnapshot,
    ServiceJoin,
    Shape,
    SignalUnavailableError,
)
from tools.catalog.overrides import Overrides, OverridesError, load_overrides, parse_overrides
from tools.catalog.render import escape
from tools.catalog.service import CatalogService, CatalogStatus
from tools.catalog.signals import SIGNALS, SignalName, resolve_signal
from tools.catalog.tool import CATALOG_DESCRIBE

TOOLS: tuple[Tool[Any], ...] = (CATALOG_DESCRIBE,)

__all__ = [
    "CATALOG_DESCRIBE",
    "SIGNALS",
    "TOOLS",
    "Binding",
    "Catalog",
    "CatalogService",
    "CatalogStatus",
    "CatalogUnavailableError",
    "DiscoveryInfo",
    "MetricMeta",
    "Missing",
    "Overrides",
    "OverridesError",
    "RenderError",
    "Rendered",
    "ServerSnapshot",
    "ServiceJoin",
    "Shape",
    "SignalName",
    "SignalUnavailableError",
    "candidate_metrics",
    "discover",
    "escape",
    "load_overrides",
    "parse_overrides",
    "resolve_signal",
]
