"""`Catalog`: the signals of one server, rendered into PromQL and described for a model.

A catalog is an immutable value (one per discovery): the planner and the tools ask it for a
signal's PromQL with `render`, and `describe` gives a model the whole map in a few hundred
tokens. `CatalogService` (service.py) decides when to build a new one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tools.catalog.discovery import Discovery, discover
from tools.catalog.model import (
    Binding,
    DiscoveryInfo,
    Missing,
    Rendered,
    ServerSnapshot,
    Shape,
    SignalUnavailableError,
)
from tools.catalog.overrides import NO_OVERRIDES, Overrides
from tools.catalog.render import render
from tools.catalog.signals import SignalName, resolve_signal


@dataclass(frozen=True)
class Catalog:
    """Bindings of the signals found on a server, and the reasons for those not found."""

    bindings: Mapping[SignalName, Binding]
    missing: tuple[Missing, ...] = ()
    info: DiscoveryInfo = field(default_factory=DiscoveryInfo)

    @classmethod
    def from_snapshot(
        cls,
        snapshot: ServerSnapshot,
        overrides: Overrides = NO_OVERRIDES,
        info: DiscoveryInfo | None = None,
    ) -> Catalog:
        """Discover the catalog of a snapshot (pure: no network)."""
        found: Discovery = discover(snapshot, overrides)
        base = info or DiscoveryInfo()
        merged = DiscoveryInfo(
            server=base.server,
            discovered_at=base.discovered_at,
            elapsed_ms=base.elapsed_ms,
            overrides=base.overrides,
            warnings=(*base.warnings, *found.warnings),
        )
        return cls(found.bindings, found.missing, merged)

    def signal(self, name: str | SignalName) -> SignalName:
        """The signal called `name` (or an alias); SignalUnavailableError listing the known ones."""
        resolved = name if isinstance(name, SignalName) else resolve_signal(name)
        if resolved is None:
            known = ", ".join(s.value for s in SignalName)
            raise SignalUnavailableError(f"unknown signal '{name}' (known: {known})")
        return resolved

    def binding(self, name: str | SignalName) -> Binding:
        """The binding of a signal, or SignalUnavailableError saying why it is not here."""
        signal = self.signal(name)
        found = self.bindings.get(signal)
        if found is None:
            reason = next((m.reason for m in self.missing if m.signal is signal), "not found")
            raise SignalUnavailableError(f"{signal} is not available on this server: {reason}")
        return found

    def has(self, name: str | SignalName) -> bool:
        signal = name if isinstance(name, SignalName) else resolve_signal(name)
        return signal is not None and signal in self.bindings

    def render(
        self,
        signal: str | SignalName,
        *,
        service: str | None = None,
        namespace: str | None = None,
        window: str = "5m",
        quantile: float = 0.99,
        by: Sequence[str] = (),
        topk: int | None = None,
    ) -> Rendered:
        """Vetted PromQL for a signal; see `render.render` for the rules it keeps.

        `catalog.render("latency", service="payment-gateway", namespace="prod", window="5m",
        quantile=0.99, by=("service",))` -> Rendered(promql=..., unit="seconds", meaning=...).
        Raises SignalUnavailableError / RenderError (both ToolInputError) on what cannot be done.
        """
        return render(
            self.binding(signal),
            service=service,
            namespace=namespace,
            window=window,
            quantile=quantile,
            by=by,
            topk=topk,
        )

    def describe(self, signal: str | SignalName | None = None) -> str:
        """The catalog as a model reads it: one block per signal, with an example query."""
        signals = [self.signal(signal)] if signal is not None else list(SignalName)
        lines: list[str] = []
        if signal is None:
            lines.append(
                "Signals on this Prometheus [unit of the query's values]: metric, then the "
                "label names meaning service, namespace...; filter and group by those."
            )
        for name in signals:
            b = self.bindings.get(name)
            if b is not None:
                lines.extend(_describe_binding(b))
        absent = [m for m in self.missing if m.signal in signals]
        if absent:
            lines.append("unavailable: " + "; ".join(f"{m.signal} ({m.reason})" for m in absent))
        if signal is None and self.info.warnings:
            lines.append("notes: " + "; ".join(self.info.warnings))
        return "\n".join(lines)

    def to_data(self) -> dict[str, Any]:
        """Plain data (JSON-ready) of the catalog, for ToolResult.data and logs."""
        return {
            "server": self.info.server,
            "discovered_at": (
                self.info.discovered_at.isoformat() if self.info.discovered_at else None
            ),
            "overrides": self.info.overrides,
            "signals": {
                name.value: {
                    "metric": b.metric,
                    "unit": b.unit,
                    "metric_unit": b.base_unit or None,
                    "service_label": b.service_key,
                    "namespace_label": b.namespace_label,
                    "status_label": b.status_label,
                    "max_metric": b.max_metric,
                    "version_label": b.version_label,
                    "matchers": list(b.matchers),
                    "join": None if b.join is None else f"{b.join.metric}.{b.join.label}",
                    "source": b.source,
                }
                for name, b in self.bindings.items()
            },
            "missing": {m.signal.value: m.reason for m in self.missing},
            "warnings": list(self.info.warnings),
        }


def _describe_binding(b: Binding) -> list[str]:
    unit = b.unit
    if b.base_unit and b.base_unit != b.unit:
        unit += f", metric in {b.base_unit}"
    metric = f"{b.metric} / {b.max_metric}" if b.max_metric else b.metric
    parts = [metric]
    if b.service_key:
        via = f" via {b.join.metric}" if b.join is not None else ""
        parts.append(f"service={b.service_key}{via}")
    if b.namespace_label:
        parts.append(f"namespace={b.namespace_label}")
    if b.status_label:
        parts.append(f"status={b.status_label}")
    if b.version_label:
        parts.append(f"version={b.version_label}")
    if b.source == "override":
        parts.append("(pinned in signals.yaml)")
    by = ("service",) if b.service_key and b.shape is not Shape.VERSIONS else ()
    return [f"- {b.signal} [{unit}]: {' '.join(parts)}", f"  e.g. {render(b, by=by).promql}"]
