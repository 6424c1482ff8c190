"""The engine's own pieces: language, redaction, memory bounds, routing between modes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.engine.answer import Answer, Evidence, Language, Proposal
from bot.engine.conversation import Conversation, ConversationStore, Turn
from bot.engine.engine import Engine
from bot.engine.language import detect_language
from bot.engine.redact import MASK, Redactor
from bot.services import build_services
from bot.settings import Settings
from bot.state import MemoryStore
from tools.base import Status, ToolContext, ToolResult

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Quel service a le plus de latence P99 depuis ce matin ?", "fr"),
        (
            "Compare la consommation mémoire du namespace prod cette semaine vs la semaine"
            " dernière",
            "fr",
        ),
        ("qui est d'astreinte pour payments ?", "fr"),
        ("pourquoi payment-gateway est lent", "fr"),
        ("et hier ?", "fr"),
        ("Montre-moi ses logs d'erreur", "fr"),
        ("Et pour la plateforme ?", "fr"),
        ("which service has the highest P99 latency since this morning?", "en"),
        ("compare memory of namespace prod this week vs last week", "en"),
        ("who is on call for payments?", "en"),
        ("what is firing", "en"),
        ("and yesterday?", "en"),
    ],
)
def test_language_of_the_question(question: str, language: Language) -> None:
    assert detect_language(question) == language


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        ("dial postgres://app:s3cr3tPass@db.prod:5432/payments", "postgres://app:", "s3cr3tPass"),
        ("Authorization: Bearer abcdef1234567890XYZ", "Bearer", "abcdef1234567890XYZ"),
        ("slack token xoxb-1234-5678-abcdefgh leaked", "slack token", "1234-5678-abcdefgh"),
        ('api_key="sk-proj-abcdefghijklmnop1234"', "api_key=", "abcdefghijklmnop1234"),
        ("password: hunter2 user=bob", "user=bob", "hunter2"),
        ("client_secret=Zm9vYmFyYmF6 ok", "client_secret=", "Zm9vYmFyYmF6"),
        ("Token token=devstack-pagerduty-token", "Token token=", "devstack-pagerduty-token"),
        ("aws AKIAIOSFODNN7EXAMPLE", "aws", "IOSFODNN7EXAMPLE"),
        ("jwt eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4f", "jwt", "SflKxwRJSMeKKF2QT4f"),
    ],
)
def test_secrets_are_masked(text: str, kept: str, gone: str) -> None:
    masked = Redactor().redact(text)
    assert kept in masked
    assert gone not in masked
    assert MASK in masked


def test_ordinary_log_lines_are_untouched() -> None:
    line = "timeout after 3000ms waiting for a connection for payment 9f1c2d3e (pool 50/50)"
    assert Redactor().redact(line) == line


def test_configured_pii_patterns_are_masked() -> None:
    assert Redactor([r"EMP-\d{6}"]).redact("ticket by EMP-123456") == f"ticket by {MASK}"


def test_memory_is_bounded_by_turns_tokens_and_ttl() -> None:
    clock = [0.0]
    store = ConversationStore(
        MemoryStore(clock=lambda: clock[0]), max_turns=3, max_tokens=40, ttl_s=100
    )
    for i in range(5):
        store.append("t", Turn(question=f"q{i}", answer="a", language="en", mode="planner"))
    assert [t.question for t in store.load("t").turns] == ["q2", "q3", "q4"]
    store.append("t", Turn(question="x" * 200, answer="long", language="en", mode="planner"))
    assert [t.question[:1] for t in store.load("t").turns] == ["x"]
    clock[0] = 101
    assert store.load("t").turns == []


class FakePlanner:
    def __init__(self, recognises: bool) -> None:
        self.recognises = recognises
        self.seen: list[dict[str, Any]] = []

    def answer(
        self, question: str, ctx: ToolContext, conversation: Conversation, language: Language
    ) -> Answer | None:
        self.seen.append({"now": ctx.now(), "previous": conversation.last_context()})
        if not self.recognises:
            return None
        result = ToolResult(
            tool="prometheus_instant_query",
            backend="prometheus",
            status=Status.OK,
            query="up",
            text="password=hunter2 up=1",
            elapsed_ms=12.0,
        )
        return Answer(
            answer="1 target up; password=hunter2",
            language=language,
            mode="planner",
            evidence=[Evidence.from_result(result)],
            results=[result],
            context={"intent": "availability"},
            proposals=[Proposal(action="rollback", target="x", rationale="token=abcdefgh leaked")],
        )

    def cannot_answer(self, question: str, language: Language) -> Answer:
        return Answer(
            answer="je ne sais pas" if language == "fr" else "I cannot answer",
            language=language,
            mode="planner",
        )


class FakeAgent:
    def __init__(self) -> None:
        self.calls = 0

    def answer(
        self, question: str, ctx: ToolContext, conversation: Conversation, language: Language
    ) -> Answer:
        self.calls += 1
        return Answer(answer="from the model", language=language, mode="llm")


@pytest.fixture
def services() -> Any:
    built = build_services(Settings(redis={"url": None}))  # type: ignore[arg-type]
    yield built
    built.close()


def _engine(services: Any, planner: FakePlanner, agent: FakeAgent | None) -> Engine:
    return Engine(services, planner, agent, ConversationStore(MemoryStore()), Redactor())


def test_planner_answers_and_everything_rendered_is_redacted(services: Any) -> None:
    engine = _engine(services, FakePlanner(recognises=True), None)
    answer = engine.ask("what is up?", now=NOW)
    assert answer.mode == "planner"
    assert "hunter2" not in answer.answer
    assert "hunter2" not in answer.evidence[0].summary
    assert "abcdefgh" not in answer.proposals[0].rationale
    assert answer.timings["prometheus_ms"] == 12.0
    assert answer.timings["total_ms"] >= 0
    assert set(answer.to_json()) == {
        "answer",
        "language",
        "mode",
        "evidence",
        "charts",
        "proposals",
        "timings",
        "tokens",
    }


def test_now_is_pinned_and_follow_ups_see_the_previous_context(services: Any) -> None:
    planner = FakePlanner(recognises=True)
    engine = _engine(services, planner, None)
    engine.ask("what is up?", conversation_id="c1", now=NOW)
    engine.ask("and yesterday?", conversation_id="c1", now=NOW + timedelta(minutes=1))
    assert planner.seen[0]["now"] == NOW
    assert planner.seen[1]["previous"] == {"intent": "availability"}


def test_agent_takes_what_the_planner_does_not_recognise(services: Any) -> None:
    agent = FakeAgent()
    answer = _engine(services, FakePlanner(recognises=False), agent).ask("haiku about pods")
    assert (answer.mode, agent.calls) == ("llm", 1)


def test_without_agent_an_unrecognised_question_gets_the_honest_reply(services: Any) -> None:
    answer = _engine(services, FakePlanner(recognises=False), None).ask("écris un poème")
    assert answer.answer == "je ne sais pas"
    assert answer.language == "fr"
