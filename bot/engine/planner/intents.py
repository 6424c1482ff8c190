"""The intents the planner answers, one handler each (handlers/)."""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    """What a question asks for; the values are stable (they are kept in follow-up context)."""

    TOP = "top"  # rank services by a signal over a window
    BASELINE = "baseline"  # one service's signal now against its usual level
    COMPARE = "compare"  # a namespace or service: this week vs last week, today vs yesterday
    ALERTS = "alerts"  # what is firing
    INCIDENTS = "incidents"  # open PagerDuty incidents
    ONCALL = "oncall"  # who is on call
    DEPLOYS = "deploys"  # recent deploys and change events
    LOGS = "logs"  # error logs of a service
    WHY = "why"  # why is X slow / what happened to X: correlation and proposals
    ROLLBACK = "rollback"  # "roll back X": a rollback proposal to the previous version
