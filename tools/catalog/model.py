"""The catalog's values: what the server told us, and what each signal resolved to.

`ServerSnapshot` is the raw input of discovery (names, metadata, label names per metric), kept
as plain data so discovery can be tested from recorded dicts. `Binding` is one signal resolved
on that server: which metric, which labels mean service and namespace, which unit, and how to
render it (`Shape`). The errors the catalog raises are `ToolError`s, so a tool can let them
through and the model reads a sentence it can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from tools.base import BackendError, ToolInputError
from tools.catalog.signals import SignalName


@dataclass(frozen=True)
class MetricMeta:
    """A metric family's metadata as `/api/v1/metadata` reports it (empty when unknown)."""

    type: str = "unknown"
    help: str = ""
    unit: str = ""


@dataclass(frozen=True)
class ServerSnapshot:
    """What discovery read from one server.

    `names` are sample names (`x_bucket`, `x_total`); `metadata` is keyed by family name (as
    Prometheus reports it: histogram base names, counters with or without `_total`); `labels`
    holds the label names of the series of each *candidate* metric only (discovery asks for
    those, not for every metric of a server that may have thousands).
    """

    names: frozenset[str]
    metadata: Mapping[str, MetricMeta] = field(default_factory=dict)
    labels: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def labels_of(self, name: str) -> frozenset[str]:
        return self.labels.get(name, frozenset())

    def meta_of(self, name: str) -> MetricMeta:
        """Metadata of a sample name, trying its family names (`_total`, `_bucket` cut)."""
        for candidate in _family_names(name):
            meta = self.metadata.get(candidate)
            if meta is not None:
                return meta
        return MetricMeta()


def _family_names(name: str) -> list[str]:
    out = [name]
    for suffix in ("_total", "_bucket", "_count", "_sum", "_created"):
        if name.endswith(suffix):
            out.append(name.removesuffix(suffix))
    return out


class Shape(StrEnum):
    """How a signal's PromQL is built from its binding."""

    HISTOGRAM_QUANTILE = "histogram_quantile"  # histogram_quantile over rate of _bucket
    RATE = "rate"  # sum of rate(counter)
    ERROR_RATIO = "error_ratio"  # 5xx rate / all rate
    GAUGE_SUM = "gauge_sum"  # sum of a gauge
    POOL_RATIO = "pool_ratio"  # sum(in use) / sum(max)
    UP_RATIO = "up_ratio"  # avg of avg_over_time(up)
    INCREASE = "increase"  # sum of increase(counter)
    VERSIONS = "versions"  # versions of an info metric present in the window
    GENERATION = "generation"  # changes() of a deployment generation
    TEMPLATE = "template"  # an override's whole PromQL template


@dataclass(frozen=True)
class ServiceJoin:
    """A service name reached through an info metric, e.g. kube_pod_labels{label_app}."""

    metric: str
    label: str
    on: tuple[str, ...] = ("namespace", "pod")


@dataclass(frozen=True)
class Binding:
    """One signal resolved on one server; see the module docstring."""

    signal: SignalName
    shape: Shape
    metric: str  # histogram base name for latency, else the sample name used
    unit: str  # the unit of the rendered result (always seconds for latency)
    scale: float = 1.0  # the metric's values are divided by this to reach `unit`
    base_unit: str = ""  # the metric's own unit (e.g. milliseconds), for descriptions
    service_label: str | None = None
    namespace_label: str | None = None
    status_label: str | None = None  # error ratio
    max_metric: str | None = None  # pool saturation's denominator
    version_label: str | None = None  # deploys
    matchers: tuple[str, ...] = ()  # fixed matchers added to every selector
    join: ServiceJoin | None = None
    template: str | None = None
    source: Literal["discovered", "override"] = "discovered"
    labels: frozenset[str] = frozenset()  # label names seen on the metric's series

    @property
    def service_key(self) -> str | None:
        """The label carrying the service in results (the join's label when joined)."""
        return self.join.label if self.join is not None else self.service_label


@dataclass(frozen=True)
class Rendered:
    """A rendered query: the PromQL and what its values mean."""

    signal: SignalName
    promql: str
    unit: str
    meaning: str
    metric: str
    labels: Mapping[str, str]  # concept ("service", "namespace") -> label name in results


@dataclass(frozen=True)
class Missing:
    """A signal discovery could not resolve, and why (shown to models and in logs)."""

    signal: SignalName
    reason: str


@dataclass(frozen=True)
class DiscoveryInfo:
    """Where and when a catalog was discovered."""

    server: str = ""
    discovered_at: datetime | None = None
    elapsed_ms: float = 0.0
    overrides: str = ""  # path of the overrides file used, "" when none
    warnings: tuple[str, ...] = ()


class SignalUnavailableError(ToolInputError):
    """The signal is not on this server (or lacks the label asked for); the message says why."""


class RenderError(ToolInputError):
    """Arguments that cannot be rendered (bad window, quantile or label name)."""


class CatalogUnavailableError(BackendError):
    """No catalog yet: the first discovery failed; the message carries the backend's error."""
