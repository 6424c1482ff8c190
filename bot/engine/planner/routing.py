"""Intent routing: which handler (if any) a question is for.

Three routers share one interface, `route(question) -> Route | None`:

* `RuleRouter`: weighted English/French keyword patterns over the normalised question. Fast
  (tens of microseconds), explainable, and it says "none" for anything off-topic.
* `EmbeddingRouter` (embedding.py): nearest labelled exemplar in multilingual-e5-small space.
* `HybridRouter`: the rules, and the embeddings only when no rule fires.

bench/planner_routing.py measures the three on a labelled EN/FR set; the planner uses the one
that measured best (`default_router`, see its docstring for the numbers).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from bot.engine.planner.intents import Intent
from bot.engine.planner.normalize import normalize


@dataclass(frozen=True)
class Route:
    """A routing decision: the intent, a score (router-specific scale) and why."""

    intent: Intent
    score: float
    reason: str = ""


class Router(Protocol):
    def route(self, question: str) -> Route | None:
        """The intent of `question`, or None when it is not one the planner answers."""
        ...


# (intent, pattern, weight). Patterns run on `normalize(question)`: lower case, no accents.
# Weights: 3 = the word names the intent by itself ("astreinte", "firing"); 2 = strong hint;
# 1 = a hint that needs company. An intent needs a score of 2 to be chosen.
_RULES: Final[tuple[tuple[Intent, str, float], ...]] = (
    # who is on call
    (Intent.ONCALL, r"\bon[- ]?call\b|\bastreinte|\bde garde\b|\bd'astreinte\b", 3.0),
    (
        Intent.ONCALL,
        r"\bwho (?:do i|should i|to) (?:call|page|ping)\b|\bqui (?:appeler|contacter|pager)\b",
        3.0,
    ),
    (Intent.ONCALL, r"\bwho(?:'s| is) (?:responsible|in charge)\b|\bqui est responsable\b", 2.0),
    (Intent.ONCALL, r"\bescalation\b|\bescalade\b", 2.0),
    # explicit rollback requests: a proposal, never an execution
    (
        Intent.ROLLBACK,
        r"\broll(?:ed|ing)?[- ]?backs?\b|\brevert(?:ing)?\b|\bdowngrade\b|\bretour arriere\b|"
        r"\brevenir (?:a|sur) (?:la|l'ancienne) version\b|\bannule[rsz]? (?:le |la |ce |cette |l')?"
        r"(?:dernier |derniere )?(?:deploiement|deploy|release|mise en prod)",
        4.0,
    ),
    # open incidents
    (Intent.INCIDENTS, r"\bincidents?\b|\boutages?\b|\bpannes?\b", 3.0),
    (Intent.INCIDENTS, r"\bpagerduty\b|\bpages?\b(?! ?(?:size|load))", 1.0),
    # firing alerts
    (Intent.ALERTS, r"\balert(?:e|es|s|ing)?\b|\bfiring\b|\balarm(?:e|es|s)?\b", 3.0),
    (
        Intent.ALERTS,
        r"\bqui sonne|\bse declenche|\bdeclenche|\ben feu\b|\bon fire\b|\bringing\b",
        2.0,
    ),
    # deploys and changes
    (Intent.DEPLOYS, r"\bdeploy(?:s|ed|ment|ments)?\b|\bdeploie|\bdeploiements?\b|\bdeploye", 3.0),
    (
        Intent.DEPLOYS,
        r"\breleases?\b|\brollouts?\b|\brolled out\b|\bmis(?:es?)? en "
        r"(?:prod|production)\b|\bversions?\b",
        2.0,
    ),
    (
        Intent.DEPLOYS,
        r"\b(?:which|what) versions?\b|\bquelles? versions?\b|\bcurrent versions?\b|"
        r"\bversions? (?:actuelles?|courantes?)\b",
        3.0,
    ),
    (
        Intent.DEPLOYS,
        r"\bchanges?\b|\bchanged\b|\bchangements?\b|\bmodifications?\b|\bshipped\b",
        2.0,
    ),
    # error logs
    (
        Intent.LOGS,
        r"\blogs?\b|\bjournaux\b|\bjournal\b|\blog lines?\b|\blogged\b|\blogg?ue(?:e|es|s)?\b|"
        r"\bjournalise",
        3.0,
    ),
    (
        Intent.LOGS,
        r"\bstack ?traces?\b|\bexceptions?\b|\berror messages?\b|\bmessages? d'erreur",
        3.0,
    ),
    # why / what happened
    (Intent.WHY, r"\bwhy\b|\bpourquoi\b|\broot cause\b|\bcause\b", 3.0),
    (Intent.WHY, r"\bexplain\b|\bexplique", 1.0),
    (
        Intent.WHY,
        r"\bwhat happened\b|\bwhat'?s (?:wrong|going on)\b|\bqu'est-ce qui (?:se passe|s'est "
        r"passe|ne va pas)\b|\bque s'est-il passe\b|\bqu'est-il arrive\b|\bqu'est-ce qu'il (?:se "
        r"passe|s'est passe)\b|\bce qui se passe\b",
        3.0,
    ),
    (Intent.WHY, r"\binvestigat|\bdiagnos|\benquete\b|\banalyse\b|\bdebug", 2.0),
    (
        Intent.WHY,
        r"\b(?:is|so) slow\b|\bslow(?:ness|ed down)?\b|\best (?:si "
        r")?lente?\b|\blenteurs?\b|\bralenti",
        1.0,
    ),
    # one service against its baseline
    (
        Intent.BASELINE,
        r"\bnormale?s?\b|\busual(?:ly)?\b|\bhabitu|\bexpected\b|\banorma|\babnormal",
        3.0,
    ),
    (Intent.BASELINE, r"\bbaseline\b|\bligne de base\b", 5.0),
    (Intent.BASELINE, r"\b(?:is|are|est|sont)\b.*\b(?:ok|okay|fine|healthy)\b", 1.5),
    (
        Intent.BASELINE,
        r"\bhealthy\b|\bok\b|\bfine\b|\ben bonne sante\b|\bva bien\b|\bcorrecte?\b",
        1.5,
    ),
    (Intent.BASELINE, r"\bcomme d'habitude\b|\bas usual\b|\bd'ordinaire\b", 3.0),
    # comparisons over two periods
    (
        Intent.COMPARE,
        r"\bcompar|\bversus\b|\bvs\.?\b|\bpar rapport a\b|\bagainst last\b|\bweek over week\b",
        3.0,
    ),
    (
        Intent.COMPARE,
        r"\b(?:this|cette) (?:week|semaine)\b.*\b(?:last|derniere|precedente|passee) "
        r"?(?:week|semaine)?\b",
        2.0,
    ),
    (Intent.COMPARE, r"\b(?:today|aujourd'hui)\b.*\b(?:yesterday|hier)\b", 2.0),
    (Intent.COMPARE, r"\bevolution\b|\bdifference\b|\bgrow(?:n|th)?\b|\baugment", 1.0),
    # rankings
    (
        Intent.TOP,
        r"\btop ?\d*\b|\brank|\bclass(?:e|er|ez|ement)\b|\bworst\b|\bpires?\b|\bsort(?:ed)? "
        r"(?:the )?services\b|\b(?:trie[rz]?|ordonne[rz]?) les services\b",
        3.0,
    ),
    (
        Intent.TOP,
        r"\b(?:which|what) services?\b|\bquel(?:le)?s?\b.*\bservices?\b|\blequel\b|\blesquels\b",
        2.0,
    ),
    (
        Intent.TOP,
        r"\b(?:the )?(?:most|highest|biggest|largest|greatest|busiest|slowest)\b|\ble plus\b|\bla "
        r"plus\b|\bles plus\b|\bplus (?:haute?|eleve|gros)|\bgourmand",
        1.5,
    ),
    (Intent.TOP, r"\bservices?\b", 0.5),
)
_COMPILED: Final = tuple((intent, re.compile(p), w) for intent, p, w in _RULES)
_THRESHOLD: Final = 2.0

# When two intents tie or both fire, the more specific wins: a question naming the on-call or an
# incident is about that, whatever signal words it also holds.
_PRIORITY: Final[tuple[Intent, ...]] = (
    Intent.ROLLBACK,
    Intent.ONCALL,
    Intent.INCIDENTS,
    Intent.ALERTS,
    Intent.WHY,
    Intent.COMPARE,
    Intent.LOGS,
    Intent.DEPLOYS,
    Intent.BASELINE,
    Intent.TOP,
)

# Metric words: a question about one of these is not "deploys" because it says "changed", and
# "errors" alone means the error signal, not the logs.
_SIGNAL_WORDS: Final = re.compile(
    r"\blatenc|\bp\d{2}\b|\bmemoire\b|\bmemory\b|\bcpu\b|\berror rate\b|\btaux d'erreur|"
    r"\bthroughput\b|\bdebit\b|\btraffic\b|\btrafic\b|\brequetes\b|\brequests\b|\bram\b|"
    r"\bsaturation\b|\bconnexions\b|\bconnections\b|\bpool\b"
)


# Two named periods make a comparison even when "usual" is said ("vs last week as usual").
_TWO_PERIODS: Final = re.compile(
    r"\blast week\b|\bsemaine (?:derniere|passee|precedente)\b|\byesterday\b|\bhier\b|"
    r"\bweek over week\b|\bthis week\b|\bcette semaine\b"
)


def rule_scores(question: str) -> dict[Intent, float]:
    """Score of each intent whose patterns match (for tests and the bench's diagnostics)."""
    text = normalize(question)
    scores: dict[Intent, float] = {}
    for intent, pattern, weight in _COMPILED:
        if pattern.search(text):
            scores[intent] = scores.get(intent, 0.0) + weight
    if _SIGNAL_WORDS.search(text):
        # "has memory changed / grown" compares a metric; it is not a deploy question.
        if Intent.DEPLOYS in scores and not re.search(
            r"\bdeplo|\bdeploy|\brelease|\brollout", text
        ):
            scores.pop(Intent.DEPLOYS)
        # A metric word with "slow" is a latency question, not a log one.
        if Intent.LOGS in scores and not re.search(
            r"\blogs?\b|\bjournaux\b|\bmessages?\b|\blogged\b|\blogg?ue", text
        ):
            scores.pop(Intent.LOGS)
    if (
        Intent.BASELINE in scores
        and Intent.COMPARE in scores
        and scores[Intent.BASELINE] >= 3
        and not _TWO_PERIODS.search(text)
    ):
        # "compared to usual", "par rapport à d'habitude": now against the usual level, not two
        # named periods.
        scores.pop(Intent.COMPARE)
    if Intent.TOP in scores and Intent.WHY in scores and scores[Intent.WHY] < 3:
        # "which service is the slowest" ranks; it does not investigate.
        scores.pop(Intent.WHY)
    return scores


def _best(scores: dict[Intent, float]) -> Route | None:
    eligible = {i: s for i, s in scores.items() if s >= _THRESHOLD}
    if not eligible:
        return None
    top = max(eligible.values())
    # Within 1 point of the best, the more specific intent wins.
    close = [i for i in _PRIORITY if i in eligible and eligible[i] >= top - 1.0]
    chosen = close[0]
    reason = ", ".join(f"{i.value}={s:g}" for i, s in sorted(scores.items(), key=lambda x: -x[1]))
    return Route(chosen, eligible[chosen], reason)


class RuleRouter:
    """Keyword/regex routing (see `_RULES`); None when no intent reaches the threshold."""

    def route(self, question: str) -> Route | None:
        return _best(rule_scores(question))


class HybridRouter:
    """The rules first; when none fires, the embedding router (stricter threshold)."""

    def __init__(self, rules: Router, fallback: Router) -> None:
        self.rules = rules
        self.fallback = fallback

    def route(self, question: str) -> Route | None:
        return self.rules.route(question) or self.fallback.route(question)


def route_all(router: Router, questions: Sequence[str]) -> list[Route | None]:
    return [router.route(q) for q in questions]
