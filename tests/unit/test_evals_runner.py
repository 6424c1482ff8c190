"""The eval runner, with a fake engine returning canned Answers: pure and fast.

Covers the YAML validation messages, number extraction in English and French, every check
type, skipping, follow-up history, and the report's aggregates.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.engine.answer import Answer, Evidence, Proposal, Tokens
from bot.engine.evals import (
    DEFAULT_SET,
    Case,
    CheckContext,
    EvalSetError,
    check_answer,
    extract_quantities,
    format_report,
    load_cases,
    resolve_now,
    run_evals,
)
from devstack.world.scenario import Anchor

ANCHOR = Anchor(
    timezone="Europe/Paris",
    incident_day=date(2026, 11, 20),
    created_at=datetime(2026, 11, 21, 6, 18, tzinfo=UTC),
)
WALL = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)

REFERENCE_FR = (
    "payment-gateway : P99 847 ms (baseline 230 ms). Corrélé avec : connexions PostgreSQL au "
    "max à 08:42 (pool saturé) ; déploiement v2.14.3 à 08:30. ml-inference suit avec 551 ms."
)


def case(**overrides: Any) -> Case:
    data: dict[str, Any] = {
        "id": "c1",
        "question": "Quel service a le plus de latence P99 depuis ce matin ?",
        "now": "D 10:00",
        "intent": "top_latency",
        "language": "fr",
        "expect": {},
    }
    data.update(overrides)
    return Case.model_validate(data)


def answer(text: str = REFERENCE_FR, **overrides: Any) -> Answer:
    data: dict[str, Any] = {"answer": text, "language": "fr", "mode": "planner"}
    data.update(overrides)
    return Answer.model_validate(data)


def check(expect: dict[str, Any], reply: Answer, **case_overrides: Any) -> list[str]:
    c = case(expect=expect, **case_overrides)
    ctx = CheckContext(
        now=resolve_now(c.now, ANCHOR),
        service_names=("payment-gateway", "ml-inference", "api-gateway", "cart", "checkout"),
        oncall_name=lambda team, _when: {"payments": "Chloé Dubois"}.get(team, "Emma Laurent"),
    )
    return check_answer(c, reply, ctx)


class FakeEngine:
    """Answers from a function of the question; records every call."""

    def __init__(self, reply: Callable[[str], Answer]) -> None:
        self.reply = reply
        self.calls: list[tuple[str, str | None, datetime | None]] = []

    def ask(
        self,
        question: str,
        conversation_id: str | None = None,
        user: str | None = None,
        now: datetime | None = None,
    ) -> Answer:
        self.calls.append((question, conversation_id, now))
        if question == "boom":
            raise RuntimeError("backend down")
        return self.reply(question)


# ------------------------------------------------------------------ loading and validation


def write(tmp_path: Path, text: str, name: str = "set.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_cases_applies_file_intent_and_reads_directories(tmp_path: Path) -> None:
    write(
        tmp_path,
        "intent: oncall\ncases:\n  - {id: a, question: q, now: created, language: en, "
        "expect: {oncall_of: payments}}\n",
        "a.yaml",
    )
    write(
        tmp_path,
        "- {id: b, question: q, now: D-1 15:00, intent: x, language: fr, expect: {}}\n",
        "b.yml",
    )
    cases = load_cases(tmp_path)
    assert [(c.id, c.intent) for c in cases] == [("a", "oncall"), ("b", "x")]
    assert cases[0].expect.oncall_of == ["payments"]
    assert cases[0].modes == ["planner", "llm"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "- {id: a1, question: q, now: D 10:00, intent: x, language: de, expect: {}}\n",
            "case 'a1': language:",
        ),
        (
            "- {id: a2, question: q, now: D 10:00, intent: x, language: en, "
            "expect: {contain: [x]}}\n",
            "case 'a2': expect.contain: Extra inputs are not permitted",
        ),
        (
            "- {id: a3, question: q, now: tomorrow, intent: x, language: en, expect: {}}\n",
            "case 'a3': now: Value error, not an instant: 'tomorrow'",
        ),
        (
            "- {id: a4, question: q, now: D 10:00, intent: x, language: en, "
            "expect: {near: {value: 3, unit: furlongs}}}\n",
            "case 'a4': expect.near.0.unit: Value error, unknown unit 'furlongs'",
        ),
        ("- {question: q, now: D 10:00, intent: x, language: en, expect: {}}\n", "case #1: id:"),
        ("cases: {}\n", "expected a list of cases"),
        ("- [unbalanced\n", "invalid YAML"),
        ("title: x\ncases: []\n", "unknown top-level keys ['title']"),
    ],
)
def test_validation_errors_name_file_case_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(EvalSetError) as info:
        load_cases(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_duplicate_ids_across_files_are_refused(tmp_path: Path) -> None:
    row = "- {id: same, question: q, now: D 10:00, intent: x, language: en, expect: {}}\n"
    write(tmp_path, row, "a.yaml")
    write(tmp_path, row, "b.yaml")
    with pytest.raises(EvalSetError, match="case 'same': duplicate id"):
        load_cases(tmp_path)


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EvalSetError, match="no such file"):
        load_cases(tmp_path / "nope.yaml")


def test_the_shipped_suite_is_valid_and_balanced() -> None:
    cases = load_cases(DEFAULT_SET)
    assert len(cases) >= 80
    french = sum(c.language == "fr" for c in cases)
    assert french * 2 >= len(cases)
    questions = {c.question for c in cases}
    for reference in (
        "Quel service a le plus de latence P99 depuis ce matin ?",
        "Compare la consommation mémoire du namespace prod cette semaine vs la semaine dernière",
        "Which service has the highest P99 latency since this morning?",
        "Compare memory usage of the prod namespace this week vs last week",
    ):
        assert reference in questions


def test_resolve_now_is_local_time_relative_to_the_incident_day() -> None:
    # Paris is UTC+1 in November.
    assert resolve_now("D 10:00", ANCHOR) == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert resolve_now("D-1 15:00", ANCHOR) == datetime(2026, 11, 19, 14, 0, tzinfo=UTC)
    assert resolve_now("D+1 07:00", ANCHOR) == datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    assert resolve_now("created", ANCHOR) == ANCHOR.created_at
    assert resolve_now("live", ANCHOR, wall=WALL) == WALL
    with pytest.raises(ValueError, match="not an instant"):
        resolve_now("D 25:00", ANCHOR)


# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("P99 847 ms (baseline 230 ms)", "en", [(847, "ms"), (230, "ms")]),
        ("P99 0.85 s", "en", [(0.85, "s")]),
        ("124 GB avg (peak 187 GB), +26.5 %", "en", [(124, "GB"), (187, "GB"), (26.5, "%")]),
        ("124 Go en moyenne, +26,5 %", "fr", [(124, "Go"), (26.5, "%")]),
        ("26,5\u00a0% et 1\u202f234,5 req/s", "fr", [(26.5, "%"), (1234.5, "req/s")]),
        (
            "1,234.5 rps and 4.02% and 3.5 cores",
            "en",
            [(1234.5, "rps"), (4.02, "%"), (3.5, "cores")],
        ),
        ("down -3 % and −12 GB", "en", [(-3, "%"), (-12, "GB")]),
        ("115,5 Gio", "fr", [(115.5, "Gio")]),
    ],
)
def test_extract_quantities(text: str, language: Any, expected: list[tuple[float, str]]) -> None:
    found = extract_quantities(text, language)
    assert [q.unit for q in found] == [u for _, u in expected]
    assert [q.value for q in found] == pytest.approx([v for v, _ in expected])


def test_extraction_skips_clock_times_versions_dates_and_ratios() -> None:
    text = "at 08:42 after v2.14.3 on 2026-11-20, pool 50/50, at 8h30, version 2.14.3"
    values = [q.value for q in extract_quantities(text, "en")]
    assert 42 not in values
    assert 14 not in values
    assert 11 not in values
    assert values.count(50) == 1  # the first 50 of 50/50 only
    assert all(q.unit is None for q in extract_quantities(text, "en"))


def test_english_to_is_not_terabytes() -> None:
    assert [q.unit for q in extract_quantities("from 5 to 10", "en")] == [None, None]
    assert [q.unit for q in extract_quantities("de 5 To", "fr")] == ["To"]


# ------------------------------------------------------------------ checks


def test_reference_answer_passes_every_check() -> None:
    reply = answer(
        evidence=[
            Evidence(
                backend="prometheus",
                query="histogram_quantile(0.99, sum by (le, service) (rate(x[5m])))",
                summary="...",
            ),
            Evidence(backend="elasticsearch", query="level:ERROR", summary="..."),
        ],
        proposals=[
            Proposal(action="rollback", target="payment-gateway (prod)", rationale="r"),
            Proposal(action="raise_pool_limit", target="payment-gateway (prod)", rationale="r"),
        ],
    )
    failures = check(
        {
            "first": "payment-gateway",
            "near": [{"value": 0.847, "unit": "s"}, {"value": 230, "unit": "ms"}],
            "contains": [["08:42", "08h42"], "v2.14.3", "Pool Saturé"],
            "not_contains": ["billing"],
            "proposals": ["rollback", "raise_pool_limit"],
            "evidence": {
                "backends": ["prometheus", "elasticsearch"],
                "query_contains": ["histogram_quantile"],
                "min_items": 2,
            },
            "mode": "planner",
        },
        reply,
    )
    assert failures == []


def test_first_fails_when_another_service_is_named_earlier() -> None:
    reply = answer("ml-inference: 551 ms, then payment-gateway: 847 ms")
    assert check({"first": "payment-gateway"}, reply) == [
        "first: 'ml-inference' is named before 'payment-gateway'"
    ]
    assert check({"first": "cart"}, reply) == ["first: 'cart' not in the answer"]


def test_first_matches_whole_names_only() -> None:
    # "api-gateway" must not count as "gateway", nor "carts" as "cart".
    reply = answer("carts are fine; payment-gateway 847 ms; api-gateway 180 ms")
    assert check({"first": "payment-gateway"}, reply) == []


def test_contains_is_case_and_accent_insensitive_with_alternatives() -> None:
    reply = answer("Astreinte : chloe dubois")
    assert check({"oncall_of": "payments"}, reply) == []
    assert check({"contains": [["08:30", "08h30"]]}, reply) == [
        "contains: '08:30 | 08h30' not in the answer"
    ]
    assert check({"oncall_of": ["payments", "platform"]}, reply) == [
        "oncall_of platform: 'Emma Laurent' not in the answer"
    ]
    assert check({"not_contains": ["DUBOIS"]}, reply) == ["not_contains: 'DUBOIS' is in the answer"]


def test_near_converts_units_and_respects_the_tolerance() -> None:
    reply = answer("prod : 115,5 Gio en moyenne, +26,5 %")
    assert check({"near": {"value": 124, "unit": "GB", "tolerance_pct": 1}}, reply) == []
    assert check({"near": {"value": 26.5, "unit": "%"}}, reply) == []
    assert check({"near": {"value": 26.5}}, reply) == []  # unitless: any number
    failures = check({"near": {"value": 30, "unit": "%", "tolerance_pct": 3}}, reply)
    assert failures == ["near: no number within 30 % ±3 % (numbers: 115,5 Gio, +26,5 %)"]
    # A latency is not a size, even when the figure is right.
    assert check({"near": {"value": 115.5, "unit": "ms"}}, reply) != []


def test_language_defaults_to_the_case_language_and_mode_is_checked() -> None:
    reply = answer("payment-gateway: 847 ms", language="en", mode="llm")
    assert check({"mode": "planner"}, reply) == [
        "language: expected fr, got en",
        "mode: expected planner, got llm",
    ]
    assert check({"language": "en"}, reply) == []


def test_refusal_needs_words_and_no_measurement_or_proposal() -> None:
    honest = answer(
        "Je ne peux pas répondre à cette question. Exemples : « latence P99 de checkout sur "
        "les dernières 24 h », « qui est d'astreinte ? »"
    )
    assert check({"refuses": True}, honest) == []
    invented = answer("Désolé, mais il fera 12 % plus chaud.")
    assert check({"refuses": True}, invented) == [
        "refuses: expected a refusal, but the answer states measurements ['12 %']"
    ]
    bold = answer("payment-gateway: 847 ms")
    assert check({"refuses": True}, bold) == [
        "refuses: expected a refusal, but the answer does not say it cannot answer and "
        "states measurements ['847 ms']"
    ]
    assert check({"refuses": False}, honest) == ["refuses: expected an answer, got a refusal"]


def test_proposals_check_actions_and_empty_means_none() -> None:
    rollback = Proposal(action="rollback", target="payment-gateway (prod)", rationale="r")
    reply = answer(proposals=[rollback])
    assert check({"proposals": ["rollback"]}, reply) == []
    assert check({"proposals": ["raise_pool_limit"]}, reply) == [
        "proposals: 'raise_pool_limit' not proposed (got ['rollback'])"
    ]
    assert check({"proposals": []}, reply) == ["proposals: expected none, got ['rollback']"]


def test_evidence_checks() -> None:
    reply = answer(evidence=[Evidence(backend="pagerduty", query="GET /oncalls", summary="x")])
    assert check(
        {"evidence": {"backends": ["prometheus"], "query_contains": ["rate("], "min_items": 2}},
        reply,
    ) == [
        "evidence: no prometheus query (backends: ['pagerduty'])",
        "evidence: no query contains 'rate('",
        "evidence: 1 items, expected at least 2",
    ]


# ------------------------------------------------------------------ running and reporting


def test_run_evals_asks_history_first_in_a_fresh_conversation_per_case() -> None:
    engine = FakeEngine(lambda q: answer("payment-gateway 847 ms"))
    cases = [
        case(id="a", history=["first question"], expect={"first": "payment-gateway"}),
        case(id="b", expect={"near": {"value": 847, "unit": "ms"}}),
    ]
    report = run_evals(engine, cases, ANCHOR, clock=lambda: WALL, oncall_name=lambda t, w: "x")
    assert [r.status for r in report.results] == ["passed", "passed"]
    (q1, conv1, now1), (q2, conv2, _), (_, conv3, _) = engine.calls
    assert (q1, q2) == ("first question", cases[0].question)
    assert conv1 == conv2 != conv3
    assert now1 == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_run_evals_skips_future_and_snapshot_cases_and_filters_modes() -> None:
    engine = FakeEngine(lambda q: answer("payment-gateway"))
    cases = [
        case(id="future", now="D+1 10:00"),
        case(id="snapshot", created_after="D+1 07:30"),
        case(id="llm-only", modes=["llm"]),
        case(id="ok"),
    ]
    report = run_evals(
        engine,
        cases,
        ANCHOR,
        mode_filter="planner",
        clock=lambda: WALL,
        oncall_name=lambda t, w: "x",
    )
    statuses = {r.id: r.status for r in report.results}
    assert statuses == {"future": "skipped", "snapshot": "skipped", "ok": "passed"}
    reasons = {r.id: r.reason for r in report.skipped}
    assert "in the future of the running stack" in reasons["future"]
    assert "needs a world created after D+1 07:30" in reasons["snapshot"]
    assert report.overall.total == 1
    assert len(engine.calls) == 1


def test_report_aggregates_by_intent_and_language_with_latency_and_tokens() -> None:
    def reply(question: str) -> Answer:
        if question.startswith("en"):
            return answer(
                "wrong", language="en", mode="llm", tokens=Tokens(prompt=900, completion=100)
            )
        return answer("payment-gateway 847 ms")

    cases = [
        case(id="f1", intent="lat", expect={"first": "payment-gateway"}),
        case(id="f2", intent="lat", expect={"first": "payment-gateway"}),
        case(id="e1", intent="err", language="en", question="en q", expect={"contains": ["x"]}),
        case(id="e2", intent="err", language="en", question="boom", expect={}),
    ]
    engine = FakeEngine(reply)
    report = run_evals(engine, cases, ANCHOR, clock=lambda: WALL, oncall_name=lambda t, w: "x")
    assert report.accuracy == pytest.approx(0.5)
    assert {k: (v.passed, v.total) for k, v in report.by_intent.items()} == {
        "err": (0, 2),
        "lat": (2, 2),
    }
    assert {k: v.accuracy for k, v in report.by_language.items()} == {"en": 0.0, "fr": 1.0}
    assert report.tokens_per_question == 1000
    assert report.p50_ms is not None
    assert report.p95_ms is not None
    assert report.p95_ms >= report.p50_ms
    errored = next(r for r in report.results if r.id == "e2")
    assert errored.status == "error"
    assert errored.reason == "RuntimeError: backend down"

    text = format_report(report)
    assert "accuracy      50.0 % (2/4)" in text
    assert "e1 [err, en] en q" in text
    assert "contains: 'x' not in the answer" in text
    assert "error: RuntimeError: backend down" in text

    data = report.to_json()
    assert data["accuracy"] == 0.5
    assert data["by_intent"]["lat"] == {"passed": 2, "total": 2, "accuracy": 1.0}
    assert data["tokens_per_question"] == 1000
    assert [r["id"] for r in data["results"]] == ["f1", "f2", "e1", "e2"]


def test_percentiles_are_nearest_rank() -> None:
    from bot.engine.evals import CaseResult, EvalReport

    results = [
        CaseResult(
            id=f"c{i}",
            intent="x",
            language="en",
            question="q",
            status="passed",
            latency_ms=float(i),
        )
        for i in range(1, 21)
    ]
    report = EvalReport(results=results)
    assert (report.p50_ms, report.p95_ms) == (10.0, 19.0)
    assert report.tokens_per_question is None
    assert EvalReport(results=[]).accuracy == 0.0


def test_main_eval_without_a_devstack_world_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.engine.evals import main_eval
    from bot.settings import load_settings

    settings = load_settings()
    settings = settings.model_copy(
        update={"devstack": settings.devstack.model_copy(update={"dir": tmp_path})}
    )
    assert main_eval(settings, None, as_json=False, threshold=0.9) == 2
    assert "no devstack world" in capsys.readouterr().err
