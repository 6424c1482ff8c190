"""Which language a question is in: French or English (the default).

A small, explainable scorer beats a model here: questions are short and the two languages
differ in their function words and accents. Ties go to English.
"""

from __future__ import annotations

import re

from bot.engine.answer import Language

_FRENCH = frozenset(
    "le la les un une des du de au aux est sont quel quelle quels quelles qui quoi que "
    "pourquoi comment depuis ce cette ces mon ma mes notre nos votre vos sur dans avec pour "
    "par et ou mais donc hier aujourd'hui demain matin soir semaine dernière dernier derniers "
    "dernières heures heure jour jours mois plus moins service services erreurs erreur "
    "mémoire latence astreinte incidents incident ouverts ouvert alertes déploiements "
    "déploiement compare comparer montre donne liste quoi ya-t-il y a-t-il il elle on "
    "lent lente consommation qu'est-ce s'est passé passé montre montre-moi moi ses son sa "
    "leur leurs d'erreur d'erreurs journaux classe classer version tourne plateforme "
    "paiement paiements".split()
)
_ENGLISH = frozenset(
    "the a an is are which what who whom why how since this that these those my our your on "
    "in with for by and or but so yesterday today tomorrow morning evening week last hours "
    "hour day days month more less service services errors error memory latency call "
    "incidents incident open alerts deploys deploy deployments compare show give list "
    "there happened slow usage top highest most".split()
)
_WORD = re.compile(r"[a-zàâäçéèêëîïôöùûüÿœ'’-]+")


def detect_language(text: str) -> Language:
    words = _WORD.findall(text.lower().replace("’", "'"))
    fr = sum(1 for w in words if w in _FRENCH) + 2 * len(re.findall(r"[àâçéèêëîïôùûœ]", text))
    en = sum(1 for w in words if w in _ENGLISH)
    return "fr" if fr > en else "en"
