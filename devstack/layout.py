"""Where the devstack keeps things, and what tests and tools need to reach it.

One `StackLayout` per devstack directory (default `.devstack/`): data, logs, PIDs, certificates.
`StackInfo` is what `vigie devstack up` reports and what integration tests receive.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devstack.world.scenario import Anchor


@dataclass(frozen=True)
class StackLayout:
    root: Path

    @property
    def anchor_file(self) -> Path:
        return self.root / "world.json"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pids(self) -> Path:
        return self.root / "pids"

    @property
    def prometheus_data(self) -> Path:
        return self.root / "prometheus" / "data"

    @property
    def prometheus_dir(self) -> Path:
        return self.root / "prometheus"

    @property
    def alertmanager_dir(self) -> Path:
        return self.root / "alertmanager"

    @property
    def blocks_cache(self) -> Path:
        """Generated TSDB blocks, kept across `reset` (keyed by the world's fingerprint)."""
        return self.root / "cache" / "blocks"

    @property
    def elasticsearch_data(self) -> Path:
        return self.root / "elasticsearch"

    @property
    def pagerduty_dir(self) -> Path:
        return self.root / "pagerduty"

    @property
    def pagerduty_ca(self) -> Path:
        return self.pagerduty_dir / "ca.pem"


@dataclass(frozen=True)
class StackInfo:
    """A running devstack: where each server listens, and the world it holds."""

    prometheus_url: str
    alertmanager_url: str
    elasticsearch_url: str
    pagerduty_url: str
    pagerduty_token: str
    pagerduty_ca: Path
    redis_url: str
    exporter_url: str
    anchor: Anchor
    layout: StackLayout
