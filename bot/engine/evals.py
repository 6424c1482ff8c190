"""The eval suite runner: YAML question sets with expected facts, checked against `Engine.ask`.

A case is one question asked at a pinned instant of the demo world, with the facts its answer
must state (evals/README.md documents the format). Expectations are checked *exactly* against
the Answer contract, never by a model: the service ranked first, names and numbers in the text
(within a tolerance, whatever the unit or the decimal comma), the language, the mode, the
evidence's backends and queries, and the proposals' actions.

    cases = load_cases(Path("evals"))              # a file or a directory of *.yaml
    report = run_evals(engine, cases, anchor, mode_filter="planner")
    print(format_report(report)); report.to_json()

`main_eval` is what `vigie eval` calls: it finds the devstack's anchor, builds the engine over
the devstack's backends, runs the set and turns the accuracy into an exit code.

Times are relative to the world's anchor so that a set written once works whatever day the
demo world was built: `D 10:00` is 10:00 local time on the incident day, `D-1 15:00` the day
before, `created` the instant the world was built. A case whose instant has not happened yet is
skipped (the backends have no data for it), and so is a case that needs PagerDuty facts written
after the world was created (the simulator's incidents and change events are a snapshot).
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.engine.answer import Answer, EvidenceBackend, Language, Mode
from bot.engine.engine import Asker

if TYPE_CHECKING:
    from bot.settings import Settings
    from devstack.world.scenario import Anchor

DEFAULT_SET = Path(__file__).resolve().parents[2] / "evals"

# The services of the demo world: `first` checks that the expected one precedes all of these.
# Kept here as data (not imported from devstack) so that the runner works on a set written for
# another world, given `service_names=`.
DEMO_SERVICES: tuple[str, ...] = (
    "api-gateway",
    "payment-gateway",
    "checkout",
    "cart",
    "catalog",
    "search",
    "auth",
    "cache-service",
    "ml-inference",
    "notification",
)


class EvalSetError(Exception):
    """A question set that cannot be used; the message names the file, the case and the field."""


# --------------------------------------------------------------------------------------------
# Instants relative to the anchor

_NOW_SPEC = re.compile(r"^(?:created|live|D(?:([+-])(\d{1,2}))?\s+([01]\d|2[0-3]):([0-5]\d))$")
_INSTANTS = "'D 10:00', 'D-1 15:00', 'created' or 'live'"


def resolve_now(spec: str, anchor: Anchor, *, wall: datetime | None = None) -> datetime:
    """The UTC instant of `D HH:MM` / `D-N HH:MM` (local time), `created` or `live`.

    `live` is the wall clock (`wall`, default the current time): for what only exists in the
    present, like Alertmanager's firing alerts.
    """
    match = _NOW_SPEC.match(spec.strip())
    if match is None:
        raise ValueError(f"not an instant: {spec!r} (use {_INSTANTS})")
    if spec.strip() == "created":
        return anchor.created_at.astimezone(UTC)
    if spec.strip() == "live":
        return (wall or datetime.now(UTC)).astimezone(UTC)
    sign, days, hours, minutes = match.groups()
    offset = int(days or 0) * (-1 if sign == "-" else 1)
    return anchor.at(offset, f"{hours}:{minutes}")


# --------------------------------------------------------------------------------------------
# Numbers in answer text

Dimension = Literal["time", "bytes", "percent", "rate", "cores"]


@dataclass(frozen=True)
class _Unit:
    dimension: Dimension
    factor: float  # to the dimension's base unit (seconds, bytes, %, requests/s, cores)
    # A measurement (as opposed to a window length like "24 h" in an example question): what
    # `refuses` forbids.
    measure: bool = True


_UNITS: dict[str, _Unit] = {
    "ns": _Unit("time", 1e-9),
    "µs": _Unit("time", 1e-6),
    "us": _Unit("time", 1e-6),
    "ms": _Unit("time", 1e-3),
    "s": _Unit("time", 1.0),
    "sec": _Unit("time", 1.0),
    "secs": _Unit("time", 1.0),
    "second": _Unit("time", 1.0),
    "seconds": _Unit("time", 1.0),
    "seconde": _Unit("time", 1.0),
    "secondes": _Unit("time", 1.0),
    "min": _Unit("time", 60.0, measure=False),
    "mins": _Unit("time", 60.0, measure=False),
    "minute": _Unit("time", 60.0, measure=False),
    "minutes": _Unit("time", 60.0, measure=False),
    "h": _Unit("time", 3600.0, measure=False),
    "hour": _Unit("time", 3600.0, measure=False),
    "hours": _Unit("time", 3600.0, measure=False),
    "heure": _Unit("time", 3600.0, measure=False),
    "heures": _Unit("time", 3600.0, measure=False),
    "d": _Unit("time", 86400.0, measure=False),
    "day": _Unit("time", 86400.0, measure=False),
    "days": _Unit("time", 86400.0, measure=False),
    "j": _Unit("time", 86400.0, measure=False),
    "jour": _Unit("time", 86400.0, measure=False),
    "jours": _Unit("time", 86400.0, measure=False),
    "b": _Unit("bytes", 1.0),
    "bytes": _Unit("bytes", 1.0),
    "kb": _Unit("bytes", 1e3),
    "mb": _Unit("bytes", 1e6),
    "gb": _Unit("bytes", 1e9),
    "tb": _Unit("bytes", 1e12),
    "kib": _Unit("bytes", 1024.0),
    "mib": _Unit("bytes", 1024.0**2),
    "gib": _Unit("bytes", 1024.0**3),
    "tib": _Unit("bytes", 1024.0**4),
    "%": _Unit("percent", 1.0),
    "req/s": _Unit("rate", 1.0),
    "reqs/s": _Unit("rate", 1.0),
    "requests/s": _Unit("rate", 1.0),
    "rps": _Unit("rate", 1.0),
    "r/s": _Unit("rate", 1.0),
    "requêtes/s": _Unit("rate", 1.0),
    "/s": _Unit("rate", 1.0),
    "req/min": _Unit("rate", 1 / 60),
    "cores": _Unit("cores", 1.0),
    "core": _Unit("cores", 1.0),
    "cœurs": _Unit("cores", 1.0),
    "coeurs": _Unit("cores", 1.0),
    "cœur": _Unit("cores", 1.0),
    "coeur": _Unit("cores", 1.0),
    "cpu": _Unit("cores", 1.0),
    "cpus": _Unit("cores", 1.0),
    "vcpu": _Unit("cores", 1.0),
}
# French byte units ("124 Go"): only in French text, where "to" and "mo" are not English words.
_FRENCH_UNITS: dict[str, _Unit] = {
    "o": _Unit("bytes", 1.0),
    "ko": _Unit("bytes", 1e3),
    "mo": _Unit("bytes", 1e6),
    "go": _Unit("bytes", 1e9),
    "to": _Unit("bytes", 1e12),
    "kio": _Unit("bytes", 1024.0),
    "mio": _Unit("bytes", 1024.0**2),
    "gio": _Unit("bytes", 1024.0**3),
}


def _unit_pattern(units: Iterable[str]) -> str:
    # Longest first so that "ms" wins over "m..." and "GiB" over "G...".
    return "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))


# A numeral: space-grouped thousands ("1 234,5", narrow no-break spaces too), or digits with
# dots and commas ("1,234.5", "26,5", "0.85"), interpreted per language by `_numeral_value`.
_NUMERAL = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)(?:[.,]\d+)?|\d+(?:[.,]\d+)*"
# Not inside a word, a version ("v2.14.3"), a clock time ("08:42"), a ratio ("50/50") or a date.
_BEFORE = r"(?<![\w.,:/\-+\u2212])"


def _number_regex(units: Iterable[str]) -> re.Pattern[str]:
    return re.compile(
        rf"{_BEFORE}(?P<sign>[+\-\u2212±]?)(?P<num>{_NUMERAL})(?![.,]?\d|:\d)"
        rf"(?:\s?(?P<unit>{_unit_pattern(units)})(?![\w/]))?",
        re.IGNORECASE,
    )


_NUMBER_EN = _number_regex(_UNITS)
_NUMBER_FR = _number_regex({**_UNITS, **_FRENCH_UNITS})


@dataclass(frozen=True)
class Quantity:
    """A number found in an answer, with its unit when one follows it."""

    value: float
    unit: str | None
    text: str

    @property
    def _unit(self) -> _Unit | None:
        if self.unit is None:
            return None
        key = self.unit.lower()
        return _UNITS.get(key) or _FRENCH_UNITS.get(key)

    @property
    def dimension(self) -> Dimension | None:
        unit = self._unit
        return unit.dimension if unit else None

    @property
    def base_value(self) -> float:
        """The value in its dimension's base unit (seconds, bytes, %, requests/s, cores)."""
        unit = self._unit
        return self.value * unit.factor if unit else self.value

    @property
    def is_measurement(self) -> bool:
        unit = self._unit
        return unit is not None and unit.measure


def _numeral_value(text: str, language: Language) -> float | None:
    """`1 234,5` / `1,234.5` / `26,5` / `0.85` -> float; None for a version-like `2.14.3`."""
    compact = re.sub(r"[ \u00a0\u202f]", "", text)
    dots, commas = compact.count("."), compact.count(",")
    if dots and commas:
        decimal = "." if compact.rfind(".") > compact.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        compact = compact.replace(thousands, "").replace(decimal, ".")
    elif commas:
        groups = compact.split(",")
        grouped = all(len(g) == 3 for g in groups[1:])
        # English writes thousands with commas; French writes decimals with one.
        if language == "en" and grouped:
            compact = compact.replace(",", "")
        elif commas == 1:
            compact = compact.replace(",", ".")
        else:
            return None
    elif dots > 1:
        if not all(len(g) == 3 for g in compact.split(".")[1:]):
            return None  # a version number, not a quantity
        compact = compact.replace(".", "")
    try:
        return float(compact)
    except ValueError:
        return None


def extract_quantities(text: str, language: Language = "en") -> list[Quantity]:
    """Every number of `text`, signed, with its unit when one follows (`847 ms`, `+26,5 %`)."""
    pattern = _NUMBER_FR if language == "fr" else _NUMBER_EN
    found = []
    for match in pattern.finditer(text):
        value = _numeral_value(match.group("num"), language)
        if value is None:
            continue
        if match.group("sign") in ("-", "\u2212"):
            value = -value
        found.append(Quantity(value, match.group("unit"), match.group(0)))
    return found


def unit_of(name: str) -> _Unit:
    """The unit called `name` (any case, English or French); ValueError when unknown."""
    key = name.lower()
    unit = _UNITS.get(key) or _FRENCH_UNITS.get(key)
    if unit is None:
        raise ValueError(f"unknown unit {name!r}; known: {', '.join(sorted(_UNITS))}")
    return unit


# --------------------------------------------------------------------------------------------
# The YAML model


class _Strict(BaseModel):
    # A typo in a set ("contain:") must fail loudly, not silently check nothing.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Near(_Strict):
    """Some number of the answer is within `tolerance_pct` of `value` (after unit conversion)."""

    value: float
    unit: str | None = None
    tolerance_pct: float = Field(default=3.0, ge=0)

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, unit: str | None) -> str | None:
        if unit is not None:
            unit_of(unit)
        return unit

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.value:g}{unit} ±{self.tolerance_pct:g} %"


class EvidenceExpect(_Strict):
    """What the evidence must show: backends used, query fragments, how many items."""

    backends: list[EvidenceBackend] = Field(default_factory=list)
    query_contains: list[str] = Field(default_factory=list)
    min_items: int = Field(default=0, ge=0)


class Expect(_Strict):
    """The facts an answer must state. Every field is optional; unset means unchecked."""

    first: str | None = None
    contains: list[str | list[str]] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    near: list[Near] = Field(default_factory=list)
    # Teams ("payments") or services whose level-1 on-call at `now` must be named: resolved
    # from the world's rotations at run time, since who is on call depends on the anchor's date.
    oncall_of: list[str] = Field(default_factory=list)
    refuses: bool | None = None
    language: Language | None = None  # defaults to the case's language
    mode: Mode | None = None
    evidence: EvidenceExpect | None = None
    proposals: list[str] | None = None  # actions that must be proposed; [] = none at all

    @field_validator("near", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @field_validator("contains", "oncall_of", "not_contains", mode="before")
    @classmethod
    def _scalar_contains(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


_ALL_MODES: tuple[Mode, ...] = ("planner", "llm")


class Case(_Strict):
    """One question of the suite, asked at `now` after its `history` in the same conversation."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    question: str = Field(min_length=1)
    now: str
    intent: str
    language: Language
    history: list[str] = Field(default_factory=list)
    # Which engine modes are expected to answer it: a question only an LLM can handle says
    # [llm], and a planner-only run (`mode_filter="planner"`) leaves it out.
    modes: list[Mode] = Field(default_factory=lambda: list(_ALL_MODES))
    # PagerDuty's incidents and change events are written once, when the world is created: a
    # case about the incident of 08:44 needs a world created after it ("D 08:45").
    created_after: str | None = None
    expect: Expect
    note: str | None = None
    source: str = Field(default="", exclude=True)  # file it was read from, for messages

    @field_validator("now", "created_after")
    @classmethod
    def _instant(cls, value: str | None) -> str | None:
        if value is not None and _NOW_SPEC.match(value.strip()) is None:
            raise ValueError(f"not an instant: {value!r} (use {_INSTANTS})")
        return value


def _case_label(raw: Any, index: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        return f"case '{raw['id']}'"
    return f"case #{index + 1}"


def _load_file(path: Path) -> list[Case]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise EvalSetError(f"{path}: invalid YAML: {exc}") from None
    except OSError as exc:
        raise EvalSetError(f"{path}: cannot read: {exc.strerror}") from None
    defaults: dict[str, Any] = {}
    if isinstance(data, dict):
        unknown = set(data) - {"intent", "cases"}
        if unknown:
            raise EvalSetError(f"{path}: unknown top-level keys {sorted(unknown)}")
        if "intent" in data:
            defaults["intent"] = data["intent"]
        data = data.get("cases")
    if not isinstance(data, list):
        raise EvalSetError(f"{path}: expected a list of cases, or a mapping with 'cases'")
    cases = []
    for index, raw in enumerate(data):
        label = _case_label(raw, index)
        if not isinstance(raw, dict):
            raise EvalSetError(f"{path}: {label}: expected a mapping")
        try:
            cases.append(Case.model_validate({**defaults, **raw, "source": str(path)}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(case)'}: {err['msg']}"
                for err in exc.errors()
            )
            raise EvalSetError(f"{path}: {label}: {problems}") from None
    return cases


def load_cases(path: Path) -> list[Case]:
    """The cases of a YAML file, or of every `*.yaml`/`*.yml` under a directory (sorted).

    Raises EvalSetError naming the file, the case id and the field of the first problem, and
    on duplicate ids (results are reported by id).
    """
    if path.is_dir():
        files = sorted([*path.rglob("*.yaml"), *path.rglob("*.yml")])
        if not files:
            raise EvalSetError(f"{path}: no *.yaml question set in this directory")
    elif path.is_file():
        files = [path]
    else:
        raise EvalSetError(f"{path}: no such file or directory")
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for file in files:
        for case in _load_file(file):
            if case.id in seen:
                raise EvalSetError(
                    f"{file}: case '{case.id}': duplicate id (also in {seen[case.id]})"
                )
            seen[case.id] = str(file)
            cases.append(case)
    return cases


# --------------------------------------------------------------------------------------------
# Checks


def _fold(text: str) -> str:
    """Case- and accent-insensitive form: "Chloé" matches "chloe", "Mémoire" matches "mémoire"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _name_positions(text: str, name: str) -> list[int]:
    # Whole names only: "gateway" alone is not "api-gateway", and "cart" is not in "carts".
    pattern = rf"(?<![\w-]){re.escape(_fold(name))}(?![\w-])"
    return [m.start() for m in re.finditer(pattern, _fold(text))]


_REFUSAL_MARKERS = {
    "en": (
        "cannot",
        "can't",
        "can not",
        "unable",
        "not able",
        "don't know",
        "do not know",
        "don't have",
        "do not have",
        "not supported",
        "no data",
        "not sure",
        "outside",
        "sorry",
        "couldn't",
        "could not",
        "only answer",
        "unknown",
        "not found",
        "no service",
        "not a service",
    ),
    "fr": (
        "ne peux pas",
        "ne peut pas",
        "impossible",
        "ne sais pas",
        "pas en mesure",
        "pas capable",
        "je n'ai pas",
        "je n'ai aucune",
        "desole",
        "hors de",
        "ne connais pas",
        "pas de donnee",
        "aucune donnee",
        "n'ai pas pu",
        "ne reponds qu",
        "inconnu",
        "introuvable",
        "aucun service",
        "pas un service",
    ),
}


def says_cannot_answer(text: str) -> bool:
    """Whether the text says, in English or French, that it cannot answer."""
    folded = _fold(text).replace("’", "'")
    return any(_fold(m) in folded for markers in _REFUSAL_MARKERS.values() for m in markers)


@dataclass(frozen=True)
class CheckContext:
    """What a check needs beyond the answer: the case's instant and how to resolve on-calls."""

    now: datetime
    service_names: Sequence[str]
    oncall_name: Callable[[str, datetime], str] | None = None


def check_answer(case: Case, answer: Answer, ctx: CheckContext) -> list[str]:
    """Why `answer` does not meet `case.expect`; an empty list when it does."""
    expect = case.expect
    failures: list[str] = []
    language = expect.language or case.language
    if answer.language != language:
        failures.append(f"language: expected {language}, got {answer.language}")
    if expect.mode is not None and answer.mode != expect.mode:
        failures.append(f"mode: expected {expect.mode}, got {answer.mode}")
    if expect.first is not None:
        failures.extend(_check_first(answer.answer, expect.first, ctx.service_names))
    failures.extend(_check_contains(expect, answer.answer, ctx))
    quantities = extract_quantities(answer.answer, answer.language)
    for near in expect.near:
        if not _near_found(near, quantities):
            seen = ", ".join(q.text.strip() for q in quantities[:8]) or "none"
            failures.append(f"near: no number within {near.describe()} (numbers: {seen})")
    if expect.refuses is not None:
        failures.extend(_check_refusal(answer, quantities, expect.refuses))
    if expect.evidence is not None:
        failures.extend(_check_evidence(answer, expect.evidence))
    if expect.proposals is not None:
        failures.extend(_check_proposals(answer, expect.proposals))
    return failures


def _check_contains(expect: Expect, text: str, ctx: CheckContext) -> list[str]:
    folded = _fold(text)
    failures = []
    for item in expect.contains:
        options = [item] if isinstance(item, str) else item
        if not any(_fold(option) in folded for option in options):
            shown = options[0] if len(options) == 1 else " | ".join(options)
            failures.append(f"contains: '{shown}' not in the answer")
    for item in expect.not_contains:
        if _fold(item) in folded:
            failures.append(f"not_contains: '{item}' is in the answer")
    for target in expect.oncall_of:
        if ctx.oncall_name is None:
            failures.append("oncall_of: no on-call resolver (needs the devstack world)")
            break
        name = ctx.oncall_name(target, ctx.now)
        if _fold(name) not in folded:
            failures.append(f"oncall_of {target}: '{name}' not in the answer")
    return failures


def _check_proposals(answer: Answer, expected: list[str]) -> list[str]:
    actions = [p.action for p in answer.proposals]
    if not expected and actions:
        return [f"proposals: expected none, got {actions}"]
    return [
        f"proposals: '{action}' not proposed (got {actions or 'none'})"
        for action in expected
        if action not in actions
    ]


def _check_first(text: str, expected: str, service_names: Sequence[str]) -> list[str]:
    positions = _name_positions(text, expected)
    if not positions:
        return [f"first: '{expected}' not in the answer"]
    others = [
        (pos[0], name)
        for name in service_names
        if name != expected and (pos := _name_positions(text, name))
    ]
    earlier = sorted(p for p in others if p[0] < positions[0])
    if earlier:
        return [f"first: '{earlier[0][1]}' is named before '{expected}'"]
    return []


def _near_found(near: Near, quantities: Sequence[Quantity]) -> bool:
    if near.unit is None:
        candidates = [q.value for q in quantities]
        target = near.value
    else:
        unit = unit_of(near.unit)
        target = near.value * unit.factor
        candidates = [q.base_value for q in quantities if q.dimension == unit.dimension]
    allowed = abs(target) * near.tolerance_pct / 100
    return any(math.isclose(c, target, abs_tol=allowed + 1e-12) for c in candidates)


def _check_refusal(answer: Answer, quantities: Sequence[Quantity], refuses: bool) -> list[str]:
    """A refusal says it cannot answer, proposes nothing and states no measurement.

    A measurement is a number with a unit of latency, size, percent, rate or cores; window
    lengths in the example questions a refusal may list ("last 24 h") are not measurements.
    """
    measurements = [q.text.strip() for q in quantities if q.is_measurement]
    says = says_cannot_answer(answer.answer)
    refused = says and not measurements and not answer.proposals
    if refuses and not refused:
        why = []
        if not says:
            why.append("does not say it cannot answer")
        if measurements:
            why.append(f"states measurements {measurements[:4]}")
        if answer.proposals:
            why.append("proposes actions")
        return [f"refuses: expected a refusal, but the answer {' and '.join(why)}"]
    if not refuses and refused:
        return ["refuses: expected an answer, got a refusal"]
    return []


def _check_evidence(answer: Answer, expect: EvidenceExpect) -> list[str]:
    failures = []
    backends = {e.backend for e in answer.evidence}
    for backend in expect.backends:
        if backend not in backends:
            failures.append(f"evidence: no {backend} query (backends: {sorted(backends)})")
    for fragment in expect.query_contains:
        if not any(fragment in e.query for e in answer.evidence):
            failures.append(f"evidence: no query contains '{fragment}'")
    if len(answer.evidence) < expect.min_items:
        failures.append(
            f"evidence: {len(answer.evidence)} items, expected at least {expect.min_items}"
        )
    return failures


# --------------------------------------------------------------------------------------------
# Running and reporting

Status = Literal["passed", "failed", "error", "skipped"]


class CaseResult(BaseModel):
    """The outcome of one case."""

    id: str
    intent: str
    language: Language
    question: str
    now: datetime | None = None
    status: Status
    failures: list[str] = Field(default_factory=list)
    reason: str = ""  # why it was skipped, or the error
    latency_ms: float | None = None
    answer: str = ""
    mode: Mode | None = None
    tokens: int = 0
    cost: float = 0.0


class Score(BaseModel):
    """Passed out of scored (passed + failed + errors; skipped cases do not count)."""

    passed: int = 0
    total: int = 0

    @property
    def accuracy(self) -> float:
        return self.passed / self.total if self.total else 0.0


def _score(results: Iterable[CaseResult]) -> Score:
    scored = [r for r in results if r.status != "skipped"]
    return Score(passed=sum(r.status == "passed" for r in scored), total=len(scored))


def _percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile: p95 of 20 latencies is the 19th smallest, never interpolated."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


class EvalReport(BaseModel):
    """The results of a run and their aggregates."""

    results: list[CaseResult]
    anchor: str = ""  # the incident day and creation time the instants were resolved against
    mode_filter: Mode | None = None

    @property
    def scored(self) -> list[CaseResult]:
        return [r for r in self.results if r.status != "skipped"]

    @property
    def skipped(self) -> list[CaseResult]:
        return [r for r in self.results if r.status == "skipped"]

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if r.status in ("failed", "error")]

    @property
    def overall(self) -> Score:
        return _score(self.results)

    @property
    def accuracy(self) -> float:
        return self.overall.accuracy

    def _by(self, key: Callable[[CaseResult], str]) -> dict[str, Score]:
        groups: dict[str, list[CaseResult]] = defaultdict(list)
        for result in self.results:
            groups[key(result)].append(result)
        return {name: _score(group) for name, group in sorted(groups.items())}

    @property
    def by_intent(self) -> dict[str, Score]:
        return self._by(lambda r: r.intent)

    @property
    def by_language(self) -> dict[str, Score]:
        return self._by(lambda r: r.language)

    @property
    def latencies_ms(self) -> list[float]:
        return [r.latency_ms for r in self.scored if r.latency_ms is not None]

    @property
    def p50_ms(self) -> float | None:
        return _percentile(self.latencies_ms, 50)

    @property
    def p95_ms(self) -> float | None:
        return _percentile(self.latencies_ms, 95)

    @property
    def tokens_per_question(self) -> float | None:
        """Mean prompt + completion tokens of the LLM-mode answers; None when there were none."""
        llm = [r for r in self.scored if r.mode == "llm"]
        return sum(r.tokens for r in llm) / len(llm) if llm else None

    @property
    def cost_per_question(self) -> float | None:
        llm = [r for r in self.scored if r.mode == "llm"]
        return sum(r.cost for r in llm) / len(llm) if llm else None

    def to_json(self) -> dict[str, Any]:
        """Aggregates and every result, JSON-ready (what `vigie eval --json` prints)."""

        def score(s: Score) -> dict[str, Any]:
            return {"passed": s.passed, "total": s.total, "accuracy": round(s.accuracy, 4)}

        return {
            "anchor": self.anchor,
            "mode_filter": self.mode_filter,
            "accuracy": round(self.accuracy, 4),
            "passed": self.overall.passed,
            "scored": self.overall.total,
            "skipped": len(self.skipped),
            "by_intent": {k: score(v) for k, v in self.by_intent.items()},
            "by_language": {k: score(v) for k, v in self.by_language.items()},
            "latency_ms": {"p50": self.p50_ms, "p95": self.p95_ms},
            "tokens_per_question": self.tokens_per_question,
            "cost_per_question": self.cost_per_question,
            "results": [r.model_dump(mode="json") for r in self.results],
        }


def _skip_reason(case: Case, now: datetime, anchor: Anchor, wall: datetime) -> str | None:
    if now > wall:
        return (
            f"{case.now} ({now.isoformat(timespec='minutes')}) is in the future of the running "
            "stack: its data does not exist yet"
        )
    if case.created_after is not None:
        needed = resolve_now(case.created_after, anchor, wall=wall)
        if anchor.created_at < needed:
            return (
                f"needs a world created after {case.created_after}; this one was created at "
                f"{anchor.created_at.isoformat(timespec='minutes')} (PagerDuty is a snapshot)"
            )
    return None


def devstack_oncall(anchor: Anchor) -> Callable[[str, datetime], str]:
    """On-call resolver of the demo world: a team or a service -> the level-1 on-call's name."""
    from devstack.pagerduty import world  # noqa: PLC0415 - only evals against the demo need it
    from devstack.world import scenario  # noqa: PLC0415

    names = {user.id: user.name for user in scenario.USERS}
    teams = {spec.team for spec in scenario.SCHEDULES}

    def resolve(team_or_service: str, when: datetime) -> str:
        team = team_or_service
        if team not in teams:
            team = scenario.service(team_or_service).team
        return names[world.oncall_user(team, when, anchor.tz)]

    return resolve


def run_evals(
    engine: Asker,
    cases: Sequence[Case],
    anchor: Anchor,
    *,
    mode_filter: Mode | None = None,
    service_names: Sequence[str] = DEMO_SERVICES,
    oncall_name: Callable[[str, datetime], str] | None = None,
    clock: Callable[[], datetime] | None = None,
    progress: Callable[[CaseResult], None] | None = None,
) -> EvalReport:
    """Ask every case (history first, in a fresh conversation) and check its answer.

    `mode_filter` keeps the cases expected of that mode. `oncall_name` resolves `oncall_of`
    (defaults to the demo world's rotations); `clock` is the wall clock deciding which
    instants are still in the future. An exception from the engine is an `error` result, not
    the end of the run.
    """
    wall = (clock or (lambda: datetime.now(UTC)))()
    resolver = oncall_name or devstack_oncall(anchor)
    results = []
    for case in cases:
        if mode_filter is not None and mode_filter not in case.modes:
            continue
        result = _run_case(
            engine, case, anchor, wall=wall, service_names=service_names, oncall_name=resolver
        )
        results.append(result)
        if progress is not None:
            progress(result)
    return EvalReport(
        results=results,
        anchor=f"D={anchor.incident_day.isoformat()} ({anchor.timezone}), created "
        f"{anchor.created_at.isoformat(timespec='seconds')}",
        mode_filter=mode_filter,
    )


def _run_case(
    engine: Asker,
    case: Case,
    anchor: Anchor,
    *,
    wall: datetime,
    service_names: Sequence[str],
    oncall_name: Callable[[str, datetime], str],
) -> CaseResult:
    now = resolve_now(case.now, anchor, wall=wall)
    base = {
        "id": case.id,
        "intent": case.intent,
        "language": case.language,
        "question": case.question,
        "now": now,
    }
    reason = _skip_reason(case, now, anchor, wall)
    if reason is not None:
        return CaseResult(**base, status="skipped", reason=reason)
    conversation = f"eval-{case.id}-{uuid.uuid4().hex[:8]}"
    try:
        for previous in case.history:
            engine.ask(previous, conversation_id=conversation, now=now)
        started = time.perf_counter()
        answer = engine.ask(case.question, conversation_id=conversation, now=now)
        latency_ms = (time.perf_counter() - started) * 1000
    except Exception as exc:  # one broken case must not end the run
        return CaseResult(**base, status="error", reason=f"{type(exc).__name__}: {exc}")
    failures = check_answer(
        case, answer, CheckContext(now=now, service_names=service_names, oncall_name=oncall_name)
    )
    return CaseResult(
        **base,
        status="failed" if failures else "passed",
        failures=failures,
        latency_ms=round(latency_ms, 1),
        answer=answer.answer,
        mode=answer.mode,
        tokens=answer.tokens.prompt + answer.tokens.completion,
        cost=answer.tokens.cost,
    )


def _pct(score: Score) -> str:
    return f"{100 * score.accuracy:5.1f} % ({score.passed}/{score.total})"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def format_report(report: EvalReport, *, answers: bool = True) -> str:
    """The report for a terminal: aggregates, then each failure with why, then the skips."""
    lines = [
        f"Vigie evals  {report.anchor}"
        + (f"  mode={report.mode_filter}" if report.mode_filter else ""),
        f"accuracy     {_pct(report.overall)}, {len(report.skipped)} skipped",
        f"latency      p50 {_ms(report.p50_ms)}, p95 {_ms(report.p95_ms)}",
    ]
    if report.tokens_per_question is not None:
        cost = report.cost_per_question or 0.0
        lines.append(f"tokens       {report.tokens_per_question:.0f}/question (${cost:.4f})")
    lines.append("")
    width = max((len(k) for k in report.by_intent), default=6)
    lines.append("by intent")
    lines.extend(f"  {k:<{width}}  {_pct(v)}" for k, v in report.by_intent.items() if v.total)
    lines.append("by language")
    lines.extend(f"  {k:<{width}}  {_pct(v)}" for k, v in report.by_language.items() if v.total)
    if report.failures:
        lines += ["", f"failures ({len(report.failures)})"]
        for r in report.failures:
            lines.append(f"  ✗ {r.id} [{r.intent}, {r.language}] {r.question}")
            lines.extend(f"      - {why}" for why in r.failures)
            if r.reason:
                lines.append(f"      - error: {r.reason}")
            if answers and r.answer:
                snippet = " ".join(r.answer.split())
                snippet = snippet if len(snippet) <= 300 else snippet[:299] + "…"
                lines.append(f"      answer: {snippet}")
    if report.skipped:
        lines += ["", f"skipped ({len(report.skipped)})"]
        lines.extend(f"  - {r.id}: {r.reason}" for r in report.skipped)
    return "\n".join(lines)


def main_eval(
    settings: Settings, set_path: Path | None, as_json: bool, threshold: float | None
) -> int:
    """`vigie eval`: run a set against the devstack's world; 0, or 1 under the threshold.

    The engine is built over the devstack's backends (the instants of the set are relative to
    its world); the LLM agent takes part when one is configured, otherwise only the cases the
    planner is expected to answer run. Exit codes: 0 ok, 1 accuracy under `threshold` (or no
    case could run), 2 no devstack world or an invalid set.
    """
    from bot.engine.engine import build_engine  # noqa: PLC0415 - heavy, built on demand
    from bot.services import build_services  # noqa: PLC0415
    from devstack.stack import Devstack  # noqa: PLC0415

    devstack = Devstack(settings)
    anchor = devstack.anchor()
    if anchor is None:
        print(
            "vigie eval: no devstack world: the eval set is written for the demo world; run "
            "`vigie devstack up` first",
            file=sys.stderr,
        )
        return 2
    try:
        cases = load_cases(set_path or DEFAULT_SET)
    except EvalSetError as exc:
        print(f"vigie eval: {exc}", file=sys.stderr)
        return 2
    client_settings = devstack.client_settings()
    mode: Mode = "planner" if client_settings.llm.base_url is None else "llm"
    services = build_services(client_settings)
    try:
        engine = build_engine(services)

        def progress(result: CaseResult) -> None:
            if not as_json:
                mark = {"passed": ".", "failed": "F", "error": "E", "skipped": "s"}
                print(mark[result.status], end="", flush=True, file=sys.stderr)

        report = run_evals(engine, cases, anchor, mode_filter=mode, progress=progress)
    finally:
        services.close()
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print(file=sys.stderr)
        print(format_report(report))
    if not report.scored:
        print("vigie eval: no case could run (all skipped)", file=sys.stderr)
        return 1
    if threshold is not None and report.accuracy < threshold:
        if not as_json:
            print(
                f"accuracy {100 * report.accuracy:.1f} % is under the threshold "
                f"{100 * threshold:.1f} %",
                file=sys.stderr,
            )
        return 1
    return 0


__all__ = [
    "DEFAULT_SET",
    "Asker",
    "Case",
    "CaseResult",
    "CheckContext",
    "EvalReport",
    "EvalSetError",
    "Expect",
    "Near",
    "Quantity",
    "Score",
    "check_answer",
    "devstack_oncall",
    "extract_quantities",
    "format_report",
    "load_cases",
    "main_eval",
    "resolve_now",
    "run_evals",
    "says_cannot_answer",
]
