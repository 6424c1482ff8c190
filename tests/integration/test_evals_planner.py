"""The planner against the whole eval suite on the devstack: the CI gate "fails under 90 %".

No LLM is configured here, so `build_engine` gives the planner alone and only the cases the
planner is expected to answer run (`mode_filter="planner"`). The report is printed on failure,
with each failing case and why.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.engine.evals import DEFAULT_SET, format_report, load_cases, run_evals
from bot.settings import Settings
from devstack.layout import StackInfo

pytestmark = pytest.mark.integration

THRESHOLD = 0.90


@pytest.fixture(scope="module")
def engine(stack_settings: Settings) -> Iterator[object]:
    from bot.engine.engine import build_engine
    from bot.services import build_services

    settings = stack_settings.model_copy(
        update={"llm": stack_settings.llm.model_copy(update={"base_url": None})}
    )
    services = build_services(settings)
    yield build_engine(services)
    services.close()


def test_planner_accuracy_on_the_eval_suite(stack: StackInfo, engine: object) -> None:
    from bot.engine.engine import Engine

    assert isinstance(engine, Engine)
    cases = load_cases(DEFAULT_SET)
    report = run_evals(engine, cases, stack.anchor, mode_filter="planner")
    text = format_report(report)
    print(text)
    assert report.scored, f"every case was skipped:\n{text}"
    assert report.accuracy >= THRESHOLD, (
        f"planner accuracy {100 * report.accuracy:.1f} % < {100 * THRESHOLD:.0f} %\n{text}"
    )
