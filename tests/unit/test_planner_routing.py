"""Intent routing (keyword rules) on English and French questions, and follow-up detection."""

from __future__ import annotations

import pytest

from bot.engine.planner.followup import day_shift, is_followup
from bot.engine.planner.intents import Intent
from bot.engine.planner.routing import RuleRouter


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("Quel service a le plus de latence P99 depuis ce matin ?", Intent.TOP),
        ("top 5 services by error rate in the last hour", Intent.TOP),
        ("is checkout latency normal?", Intent.BASELINE),
        ("la latence de checkout est-elle normale ?", Intent.BASELINE),
        (
            "Compare la consommation mémoire du namespace prod cette semaine vs la semaine "
            "dernière",
            Intent.COMPARE,
        ),
        ("CPU of staging today vs yesterday", Intent.COMPARE),
        ("what is firing?", Intent.ALERTS),
        ("Quelles alertes sont déclenchées ?", Intent.ALERTS),
        ("open incidents?", Intent.INCIDENTS),
        ("Y a-t-il une panne en cours ?", Intent.INCIDENTS),
        ("who is on call for checkout?", Intent.ONCALL),
        ("Qui est d'astreinte ?", Intent.ONCALL),
        ("recent deploys", Intent.DEPLOYS),
        ("Qu'est-ce qui a été mis en production aujourd'hui ?", Intent.DEPLOYS),
        ("error logs for payment-gateway", Intent.LOGS),
        ("Montre-moi les logs d'erreur de checkout", Intent.LOGS),
        ("why is payment-gateway slow?", Intent.WHY),
        ("Pourquoi payment-gateway est lent ?", Intent.WHY),
        ("what happened to checkout since 8am?", Intent.WHY),
        ("Which service is the slowest right now?", Intent.TOP),
    ],
)
def test_rules_route(question: str, intent: Intent) -> None:
    route = RuleRouter().route(question)
    assert route is not None
    assert route.intent is intent, route


@pytest.mark.parametrize(
    "question",
    ["write me a poem", "What's the capital of France?", "bonjour", "scale cart to 10 replicas"],
)
def test_off_topic_is_not_routed(question: str) -> None:
    assert RuleRouter().route(question) is None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("et hier ?", True),
        ("and yesterday?", True),
        ("et pour checkout ?", True),
        ("what about memory?", True),
        ("please write a long essay about observability in large companies", False),
    ],
)
def test_followup_detection(question: str, expected: bool) -> None:
    assert is_followup(question) is expected


def test_day_shift() -> None:
    assert day_shift("et hier ?") == -1
    assert day_shift("and last week?") == -7
    assert day_shift("et pour checkout ?") is None


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("Propose un rollback de payment-gateway", Intent.ROLLBACK),
        ("Roll back payment-gateway to the previous version", Intent.ROLLBACK),
        ("annule le déploiement de payment-gateway", Intent.ROLLBACK),
        ("can you revert checkout?", Intent.ROLLBACK),
        ("Classe les services par latence P95 sur la dernière heure", Intent.TOP),
        ("rank services by p99 latency", Intent.TOP),
        ("Quelles erreurs cart a-t-il loguées hier entre 19h30 et 19h45 ?", Intent.LOGS),
        ("What errors were logged by checkout today?", Intent.LOGS),
        ("What is payment-gateway's error rate compared to usual?", Intent.BASELINE),
        (
            "Quel est le taux d'erreur de payment-gateway par rapport à d'habitude ?",
            Intent.BASELINE,
        ),
        ("La latence de checkout est-elle habituelle ?", Intent.BASELINE),
        ("Compare checkout latency this week vs last week", Intent.COMPARE),
        ("Which version of cache-service is running?", Intent.DEPLOYS),
        ("Quelle version de cache-service tourne en prod ?", Intent.DEPLOYS),
        ("Who is the platform on-call?", Intent.ONCALL),
        ("incident history of checkout", Intent.INCIDENTS),
        ("Quels incidents avons-nous eus ces 7 derniers jours ?", Intent.INCIDENTS),
    ],
)
def test_rules_route_more(question: str, intent: Intent) -> None:
    route = RuleRouter().route(question)
    assert route is not None
    assert route.intent is intent, route


def test_on_call_follow_up_is_detected() -> None:
    assert is_followup("Et pour la plateforme ?")
