"""Service names and slots read from questions, against a fixed list of live names."""

from __future__ import annotations

import pytest

from bot.engine.planner.names import ServiceMatcher, team_of, written
from bot.engine.planner.slots import (
    names_quantile,
    namespace_of,
    quantile_of,
    ranks,
    signal_of,
    stat_of,
    topk_of,
)
from tools.catalog import SignalName

NAMES = (
    "api-gateway", "auth", "cache-service", "cart", "catalog", "checkout", "ml-inference",
    "notification", "payment-gateway", "search",
)  # fmt: skip
MATCHER = ServiceMatcher(NAMES)


@pytest.mark.parametrize(
    ("question", "service"),
    [
        ("why is payment-gateway slow?", "payment-gateway"),
        ("is the payment gateway latency normal?", "payment-gateway"),
        ("Que s'est-il passé sur le service de paiement ?", "payment-gateway"),
        ("pourquoi les paiements sont lents ?", "payment-gateway"),
        ("why is paymnet-gateway slow?", "payment-gateway"),
        ("is chekout latency normal", "checkout"),
        ("logs du panier", "cart"),
        ("memory of cache-service", "cache-service"),
        ("ml inference memory", "ml-inference"),
        ("qui est d'astreinte pour la recherche ?", "search"),
    ],
)
def test_matches(question: str, service: str) -> None:
    assert MATCHER.match(question).service == service


def test_ambiguous() -> None:
    found = MATCHER.match("is gateway latency normal?")
    assert found.ambiguous
    assert set(found.candidates) == {"api-gateway", "payment-gateway"}


def test_unknown_with_suggestions() -> None:
    found = MATCHER.match("is payment-gatewey-v2 latency normal?")
    assert found.unknown
    assert found.mention == "payment-gatewey-v2"
    assert "payment-gateway" in found.close


@pytest.mark.parametrize(
    "question",
    ["which service has the highest latency?", "qui est d'astreinte ?", "y a-t-il des alertes ?"],
)
def test_no_service(question: str) -> None:
    found = MATCHER.match(question)
    assert found.service is None
    assert not found.ambiguous
    assert not found.unknown


def test_slots() -> None:
    assert signal_of("Quel service a le plus de latence P99 ?") is SignalName.LATENCY
    assert signal_of("consommation mémoire") is SignalName.MEMORY
    assert signal_of("top 5 services by error rate") is SignalName.ERROR_RATIO
    assert signal_of("who is on call") is None
    assert quantile_of("P95 latency") == 0.95
    assert quantile_of("p99.9") == 0.999
    assert quantile_of("latency") == 0.99
    assert topk_of("top 5 services") == 5
    assert topk_of("les 3 services les plus lents") == 3
    assert namespace_of("namespace prod", ["prod", "staging"]) == "prod"
    assert namespace_of("en production", ["prod", "staging"]) == "prod"
    assert namespace_of("products", ["prod"]) is None


@pytest.mark.parametrize(
    "question",
    [
        "Quels incidents avons-nous eus ces 7 derniers jours ?",
        "Who is the platform on-call?",
        "Pouvez-vous me dire qui est d'astreinte ?",
        "Dis-moi ce qui sonne",
        "roll-back please",
    ],
)
def test_common_hyphenated_words_are_not_services(question: str) -> None:
    found = MATCHER.match(question)
    assert not found.unknown, found
    assert found.service is None


TEAMS = ("Payments", "Platform")


@pytest.mark.parametrize(
    ("question", "team"),
    [
        ("Who is the platform on-call?", "Platform"),
        ("Qui est d'astreinte pour la plateforme ?", "Platform"),
        ("Et pour la plateforme ?", "Platform"),
        ("Who is on call for payments?", "Payments"),
        ("Qui est d'astreinte pour l'équipe paiements ?", "Payments"),
        ("Who is on call for checkout?", None),
        ("who is on call?", None),
    ],
)
def test_team_of(question: str, team: str | None) -> None:
    assert team_of(question, TEAMS) == team


def test_written() -> None:
    assert written("who is on call for the payment gateway?", "payment-gateway")
    assert written("on call for payment-gateway", "payment-gateway")
    assert not written("who is on call for payments?", "payment-gateway")


def test_median_average_and_ranking_slots() -> None:
    assert quantile_of("Which service has the highest median latency?") == 0.5
    assert quantile_of("latence médiane") == 0.5
    assert names_quantile("la médiane")
    assert not names_quantile("latency")
    assert stat_of("highest average error rate") == "mean"
    assert stat_of("le taux d'erreur en moyenne") == "mean"
    assert stat_of("highest error rate") is None
    assert ranks("Classe les services par latence P95")
    assert ranks("rank the services by CPU")
    assert not ranks("which service is the slowest?")
