"""One handler per intent: `handle(Request) -> Reply`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from bot.engine.planner.handlers import (
    alerts,
    baseline,
    compare,
    deploys,
    incidents,
    logs,
    oncall,
    rollback,
    top,
    why,
)
from bot.engine.planner.handlers.base import Reply, Request
from bot.engine.planner.intents import Intent

HANDLERS: Final[dict[Intent, Callable[[Request], Reply]]] = {
    Intent.TOP: top.handle,
    Intent.BASELINE: baseline.handle,
    Intent.COMPARE: compare.handle,
    Intent.ALERTS: alerts.handle,
    Intent.INCIDENTS: incidents.handle,
    Intent.ONCALL: oncall.handle,
    Intent.DEPLOYS: deploys.handle,
    Intent.LOGS: logs.handle,
    Intent.WHY: why.handle,
    Intent.ROLLBACK: rollback.handle,
}
# Intents that need one service; the planner asks which when it is missing or ambiguous.
NEEDS_SERVICE: Final = frozenset({Intent.BASELINE, Intent.WHY, Intent.ROLLBACK})

__all__ = ["HANDLERS", "NEEDS_SERVICE", "Reply", "Request"]
