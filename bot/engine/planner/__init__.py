"""The no-LLM planner: English/French intent routing and slot filling over the signal catalog.

    planner = build_planner(services)
    answer = planner.answer(question, ctx, conversation, language)   # Answer | None

Modules, one concept each: routing (intents.py, routing.py; embedding.py and exemplars.py are
the measured alternative, see bench/planner_routing.py), slots (slots.py, timewin.py,
names.py, directory.py), follow-ups (followup.py), tool execution (runner.py), how far back the
metrics go (history.py), readings of results (analysis.py), rendering in EN/FR (text.py) and
one handler per intent (handlers/).
"""

from __future__ import annotations

from bot.engine.planner.planner import RulePlanner
from bot.services import Services


def build_planner(services: Services) -> RulePlanner:
    """The planner; it reads clients from each call's ToolContext, so `services` is unused."""
    del services
    return RulePlanner()


__all__ = ["RulePlanner", "build_planner"]
