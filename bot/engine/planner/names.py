"""Which service a question names, matched against the live service names.

"payment gateway", "payment-gateway", "le service de paiement", "paiements" and "paymnet
gateway" all mean payment-gateway when that is a live service: the question's words are
mapped through a small EN/FR vocabulary (paiement -> payment, panier -> cart...), compared with
the tokens of each name (exactly, as a plural, or within a typo), and the names whose
distinctive tokens are all covered win. Generic tokens ("service", "api") only count when the
whole name is written. Several equally good names make the match ambiguous: the planner
then asks which one, listing them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from bot.engine.planner.normalize import normalize, words

# French (and English variant) words -> the token used in service names.
_VOCABULARY: Final[dict[str, str]] = {
    "paiement": "payment", "paiements": "payment", "payments": "payment", "pay": "payment",
    "passerelle": "gateway", "panier": "cart", "paniers": "cart", "recherche": "search",
    "authentification": "auth", "authentication": "auth", "login": "auth", "connexion": "auth",
    "notifications": "notification", "commande": "checkout", "commandes": "checkout",
    "catalogue": "catalog", "produits": "catalog", "inference": "inference", "ia": "ml",
    "passerelles": "gateway", "caches": "cache",
}  # fmt: skip
# Tokens too common to identify a service alone.
_GENERIC: Final = frozenset(
    {"service", "services", "svc", "app", "server", "serveur", "web", "the", "le", "la"}
)
# Words of questions that are never service names (they are typo-matched otherwise: "latence"
# is one letter away from no service, but "alerts" is close to "auth" for difflib).
_NEVER: Final = frozenset(
    """is are was the and for what why who how which since this that from with over last
    normal normale latency latence memory memoire error errors erreur erreurs rate taux top
    open ouverts incidents incident alerts alertes deploys logs oncall call astreinte garde
    slow lent lente today yesterday hier matin morning week semaine depuis pour sur dans des
    les une est elle quel quelle quels service services avec plus most highest compare prod
    staging namespace cpu throughput debit requests requetes what's p99 p95 p50 usage vs
    difference conference reference current actuel team teams equipe equipes platform
    plateforme version versions running tourne rollback previous precedente median mediane
    average moyenne history historique resolved resolus""".split()
)
# Hyphenated words of everyday English and French: never service names.
_COMMON_HYPHENATED: Final = frozenset(
    """on-call roll-back rolled-back follow-up e-mail real-time week-end up-to-date built-in
    opt-in opt-out read-only read-write peut-etre c'est-a-dire au-dessus au-dessous
    vis-a-vis non-prod pre-prod sous-systeme state-of-the-art day-to-day out-of-memory
    check-in log-in sign-up sign-in""".split()
)
# French inversions and imperatives: "avons-nous", "pouvez-vous", "dis-moi", "y a-t-il".
_INVERSION: Final = re.compile(
    r"-(?:t-)?(?:il|elle|ils|elles|on|nous|vous|je|tu|ce|moi|toi|lui|leur|en|y|le|la|les)$"
)


@dataclass(frozen=True)
class ServiceMatch:
    """The service a question names (`service`), or the candidates when unsure."""

    service: str | None = None
    candidates: tuple[str, ...] = ()
    mention: str | None = None  # words that look like a service name nobody has
    close: tuple[str, ...] = field(default=())  # live names close to `mention`

    @property
    def ambiguous(self) -> bool:
        return self.service is None and len(self.candidates) > 1

    @property
    def unknown(self) -> bool:
        return self.service is None and not self.candidates and self.mention is not None


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[-_.\s]+", name.lower()) if t]


def _canonical(word: str) -> str:
    return _VOCABULARY.get(word, word)


def _same(word: str, token: str) -> bool:
    """Equal, a plural, or (for words of 5+ letters) one typo away."""
    if word == token or word.rstrip("s") == token or word == token + "es":
        return True
    if len(token) >= 5 and len(word) >= 4:
        return difflib.SequenceMatcher(None, word, token).ratio() >= 0.8
    return False


class ServiceMatcher:
    """Matches questions against a fixed list of live service names."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names: tuple[str, ...] = tuple(sorted(set(names)))
        self._tokens = {name: _tokens(name) for name in self.names}

    def match(self, question: str) -> ServiceMatch:
        text = normalize(question)
        # Whole names first ("payment-gateway", "payment gateway", "paymentgateway").
        whole = [
            n
            for n in self.names
            if re.search(rf"(?<![\w-]){re.escape(n.lower())}(?![\w-])", text)
            or re.search(rf"\b{re.escape(' '.join(self._tokens[n]))}\b", text)
            or (len(n) > 6 and re.search(rf"\b{re.escape(''.join(self._tokens[n]))}\b", text))
        ]
        if whole:
            # "cache-service" also contains nothing shorter; prefer the longest names written.
            longest = max(len(n) for n in whole)
            best = [n for n in whole if len(n) == longest]
            if len(best) == 1:
                return ServiceMatch(best[0])
            return ServiceMatch(None, tuple(best))
        hyphenated = self._hyphenated(text)
        if hyphenated is not None:
            return hyphenated
        question_words = [_canonical(w) for w in re.split(r"[\s'?!.,;:()]+", text) if w]
        question_words = [
            w for w in question_words if (w and w not in _NEVER) or w in _VOCABULARY.values()
        ]
        scored: list[tuple[float, str]] = []
        for name in self.names:
            distinctive = [t for t in self._tokens[name] if t not in _GENERIC] or self._tokens[name]
            covered = [t for t in distinctive if any(_same(w, t) for w in question_words)]
            if covered:
                scored.append((len(covered) / len(distinctive), name))
        if scored:
            top = max(s for s, _ in scored)
            tied = tuple(n for s, n in scored if s == top)
            if len(tied) == 1:
                return ServiceMatch(tied[0])
            return ServiceMatch(None, tied)
        return ServiceMatch()

    def _hyphenated(self, text: str) -> ServiceMatch | None:
        """A hyphenated word is a name: a live one with typos ("paymnet-gateway"), or unknown.

        Plain words are not guessed at as unknown names: "service has", "pour aujourd'hui"
        would be read as names, and "I know no service called 'has'" is worse than no guess.
        """
        for word in re.findall(r"(?<![\w-])([a-z][a-z0-9]*(?:[-_][a-z0-9]+)+)(?![\w-])", text):
            if word.split("-")[0] in {"est", "a", "qu", "y", "peut"} or _is_time(word):
                continue  # French inversions: "est-elle", "y a-t-il", "qu'est-ce"
            if word in _COMMON_HYPHENATED or _INVERSION.search(word) or word.endswith("-t"):
                continue
            parts = _tokens(word)
            typo = [
                n
                for n in self.names
                if len(self._tokens[n]) == len(parts)
                and all(_same(w, tok) for w, tok in zip(parts, self._tokens[n], strict=True))
            ]
            if len(typo) == 1:
                return ServiceMatch(typo[0])
            close = tuple(difflib.get_close_matches(word, self.names, n=3, cutoff=0.4))
            return ServiceMatch(None, (), word, close)
        return None

    def suggest(self, word: str, n: int = 3) -> Sequence[str]:
        return difflib.get_close_matches(word, self.names, n=n, cutoff=0.4)


def _is_time(word: str) -> bool:
    return bool(re.fullmatch(r"\d+(?:h|m|min|am|pm|h\d{2})?", word))


def mentions_any(question: str, names: Iterable[str]) -> bool:
    """True when a name is written whole in the question (cheap pre-check)."""
    text = " ".join(words(normalize(question)))
    return any(name.lower() in text for name in names)


# French (and variant) words -> the token used in team names ("la plateforme" is Platform).
_TEAM_VOCABULARY: Final[dict[str, str]] = {
    "plateforme": "platform", "plateformes": "platform", "paiement": "payment",
    "paiements": "payment", "payments": "payment", "infrastructure": "infra",
    "securite": "security", "donnees": "data", "reseau": "network",
}  # fmt: skip


def _team_token(word: str) -> str:
    word = _TEAM_VOCABULARY.get(word, word)
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def team_of(question: str, teams: Iterable[str]) -> str | None:
    """A PagerDuty team (or escalation policy) named in the question, by its whole name.

    "platform", "la plateforme", "l'équipe payments": each token of the team's name must be a
    word of the question (plural or French word allowed). The longest name wins.
    """
    text = normalize(question)
    question_tokens = {_team_token(w) for w in re.split(r"[\s'?!.,;:()]+", text) if w}
    found = [
        team
        for team in teams
        if (tokens := [_team_token(t) for t in _tokens(team)])
        and all(t in question_tokens for t in tokens)
    ]
    return max(found, key=lambda t: (len(_tokens(t)), len(t)), default=None)


def written(question: str, name: str) -> bool:
    """True when `name` is written whole ("payment-gateway", "payment gateway")."""
    text = normalize(question)
    spaced = " ".join(_tokens(name))
    return bool(
        re.search(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", text)
        or re.search(rf"\b{re.escape(spaced)}\b", text)
    )
