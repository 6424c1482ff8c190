"""Exemplar questions per intent, English and French: the embedding router's prototypes.

Kept apart from the labelled evaluation set of bench/planner_routing.py (different wording),
so the bench measures generalisation rather than recall of these sentences. `None` holds
questions the planner must leave to the LLM or refuse.
"""

from __future__ import annotations

from typing import Final

from bot.engine.planner.intents import Intent

EXEMPLARS: Final[dict[Intent | None, tuple[str, ...]]] = {
    Intent.TOP: (
        "which service has the highest p99 latency since this morning",
        "top 5 services by error rate in the last hour",
        "what service uses the most memory",
        "rank services by cpu usage today",
        "quel service a le plus de latence depuis ce matin",
        "les 3 services qui consomment le plus de CPU",
        "quels services ont le plus d'erreurs depuis une heure",
        "classement des services par débit",
    ),
    Intent.BASELINE: (
        "is checkout latency normal",
        "is the error rate of cart usual for this time of day",
        "how does payment-gateway p99 compare to its baseline",
        "is search memory higher than usual",
        "la latence de checkout est-elle normale",
        "le taux d'erreur de cart est-il habituel",
        "est-ce que la mémoire de search est anormale",
        "le débit de auth est-il comme d'habitude",
    ),
    Intent.COMPARE: (
        "compare memory of namespace prod this week vs last week",
        "cpu of staging today versus yesterday",
        "how has memory in prod changed compared to last week",
        "week over week throughput of checkout",
        "compare la consommation mémoire du namespace prod cette semaine vs la semaine dernière",
        "le CPU de staging aujourd'hui par rapport à hier",
        "évolution de la mémoire de prod depuis la semaine dernière",
        "comparer le débit de checkout avec la semaine passée",
    ),
    Intent.ALERTS: (
        "what is firing right now",
        "which alerts are active",
        "any alerts on payment-gateway",
        "show me the current alerts",
        "quelles alertes sont en cours",
        "qu'est-ce qui sonne en ce moment",
        "y a-t-il des alertes actives",
        "liste des alertes déclenchées",
    ),
    Intent.INCIDENTS: (
        "open incidents",
        "are there any incidents in progress",
        "list the triggered pagerduty incidents",
        "what incidents are open for checkout",
        "incidents ouverts",
        "y a-t-il un incident en cours",
        "liste des incidents non résolus",
        "quels incidents concernent payment-gateway",
    ),
    Intent.ONCALL: (
        "who is on call",
        "who is on call for payment-gateway",
        "who should I page for checkout",
        "current on-call for the platform team",
        "qui est d'astreinte",
        "qui est de garde pour payment-gateway",
        "qui appeler pour checkout",
        "astreinte actuelle de l'équipe paiements",
    ),
    Intent.DEPLOYS: (
        "recent deploys",
        "what was deployed today",
        "what changed in prod since yesterday",
        "latest releases of payment-gateway",
        "derniers déploiements",
        "qu'est-ce qui a été déployé aujourd'hui",
        "quels changements en prod depuis hier",
        "nouvelle version de checkout mise en prod",
    ),
    Intent.LOGS: (
        "error logs for payment-gateway",
        "show me the errors in checkout logs",
        "top error messages of cart in the last hour",
        "any exceptions in search logs",
        "logs d'erreur de payment-gateway",
        "montre les erreurs dans les logs de checkout",
        "messages d'erreur les plus fréquents de cart",
        "exceptions dans les journaux de search",
    ),
    Intent.WHY: (
        "why is payment-gateway slow",
        "what happened to checkout since 8am",
        "root cause of the latency on cart",
        "investigate the errors on search",
        "pourquoi payment-gateway est lent",
        "que s'est-il passé sur checkout depuis 8h",
        "quelle est la cause de la latence de cart",
        "pourquoi search renvoie des erreurs",
    ),
    None: (
        "write me a poem about kubernetes",
        "what is the weather in Paris",
        "how do I configure kafka retention",
        "restart payment-gateway",
        "scale checkout to 5 replicas",
        "écris un poème",
        "quel temps fait-il à Paris",
        "redémarre le service checkout",
        "bonjour",
        "thanks",
    ),
}
