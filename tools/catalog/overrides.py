"""config/signals.yaml: what a team pins instead of letting discovery guess.

An absent or empty file means pure discovery. Each signal may pin its metric, its labels, its
unit, fixed matchers, or a whole PromQL template; `labels` adds label-name candidates tried
before the built-in ones for every signal. Loading validates everything (names, matchers,
templates parsed by promql_parser) and raises `OverridesError` whose lines name the key, e.g.
`config/signals.yaml: signals.latency.unit: ...`.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Annotated, Any, Final

import promql_parser
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator

from tools.catalog.signals import SignalName

METRIC_NAME: Final = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME: Final = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

# A latency metric's own unit -> divisor to seconds; a memory metric's -> divisor to bytes.
TIME_UNITS: Final = {
    "seconds": 1.0,
    "milliseconds": 1e3,
    "microseconds": 1e6,
    "nanoseconds": 1e9,
}
BYTE_UNITS: Final = {
    "bytes": 1.0,
    "kilobytes": 1e-3,
    "kibibytes": 1 / 1024,
    "megabytes": 1e-6,
    "mebibytes": 1 / 1024**2,
}
# Placeholders a template may use, with the values used to check that it parses.
TEMPLATE_SAMPLES: Final = {
    "selector": '{service="checkout",namespace="prod"}',
    "filters": 'service="checkout",namespace="prod"',
    "window": "5m",
    "quantile": "0.99",
    "by": "service",
}


class OverridesError(Exception):
    """Invalid overrides; `problems` holds one line per problem, naming the key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _metric(value: str) -> str:
    if not METRIC_NAME.match(value):
        raise ValueError(f"not a metric name: '{value}'")
    return value


def _label(value: str) -> str:
    if not LABEL_NAME.match(value):
        raise ValueError(f"not a label name: '{value}'")
    return value


def _matcher(value: str) -> str:
    try:
        promql_parser.parse(f"x{{{value}}}")
    except ValueError as exc:
        raise ValueError(f"not a label matcher ({exc}): '{value}'") from None
    return value


def _template(value: str) -> str:
    try:
        text = string.Template(value).substitute(TEMPLATE_SAMPLES)
    except KeyError as exc:
        known = ", ".join(f"${k}" for k in TEMPLATE_SAMPLES)
        raise ValueError(f"unknown placeholder ${exc.args[0]} (known: {known})") from None
    except ValueError as exc:  # a lone '$'
        raise ValueError(f"bad placeholder ({exc}); write $$ for a literal $") from None
    try:
        promql_parser.parse(text)
    except ValueError as exc:
        raise ValueError(f"not valid PromQL once filled in ({exc}): {text}") from None
    return value


MetricName = Annotated[str, AfterValidator(_metric)]
LabelName = Annotated[str, AfterValidator(_label)]
Matcher = Annotated[str, AfterValidator(_matcher)]
Template = Annotated[str, AfterValidator(_template)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JoinOverride(_Strict):
    """Reach the service through an info metric: `metric{label}` joined `on` these labels."""

    metric: MetricName = "kube_pod_labels"
    label: LabelName
    on: tuple[LabelName, ...] = ("namespace", "pod")


class SignalOverride(_Strict):
    """What may be pinned for one signal; anything left out is still discovered."""

    metric: MetricName | None = None
    unit: str | None = None
    service_label: LabelName | None = None
    namespace_label: LabelName | None = None
    status_label: LabelName | None = None
    max_metric: MetricName | None = None
    version_label: LabelName | None = None
    service_join: JoinOverride | None = None
    matchers: tuple[Matcher, ...] = ()
    promql: Template | None = None
    disabled: bool = False


class LabelCandidates(_Strict):
    """Label names tried first, for every signal, before the built-in candidates."""

    service: tuple[LabelName, ...] = ()
    namespace: tuple[LabelName, ...] = ()
    status: tuple[LabelName, ...] = ()


class Overrides(_Strict):
    """The whole file."""

    signals: dict[SignalName, SignalOverride] = {}
    labels: LabelCandidates = LabelCandidates()

    @model_validator(mode="after")
    def _units_fit_their_signal(self) -> Overrides:
        for name, override in self.signals.items():
            if override.unit is None:
                continue
            if name is SignalName.LATENCY:
                allowed = TIME_UNITS
            elif name is SignalName.MEMORY:
                allowed = BYTE_UNITS
            else:
                raise ValueError(f"signals.{name}.unit: only latency and memory take a unit")
            if override.unit not in allowed:
                raise ValueError(
                    f"signals.{name}.unit: '{override.unit}' is not one of {', '.join(allowed)}"
                )
        pool = self.signals.get(SignalName.POOL_SATURATION)
        if pool is not None and pool.metric and not pool.max_metric and not pool.promql:
            raise ValueError("signals.pool_saturation.max_metric: required with metric")
        return self

    def for_signal(self, signal: SignalName) -> SignalOverride | None:
        return self.signals.get(signal)

    @property
    def empty(self) -> bool:
        return not self.signals and self.labels == LabelCandidates()


NO_OVERRIDES: Final = Overrides()


def parse_overrides(data: Any, *, source: str = "signals.yaml") -> Overrides:
    """Validate already-loaded YAML data (None or {} mean no overrides)."""
    if data is None:
        return NO_OVERRIDES
    if not isinstance(data, dict):
        raise OverridesError([f"{source}: expected a mapping with 'signals' and/or 'labels'"])
    try:
        return Overrides.model_validate(data)
    except ValidationError as exc:
        raise OverridesError([f"{source}: {_describe(dict(e))}" for e in exc.errors()]) from None


def load_overrides(path: Path) -> Overrides:
    """Read and validate the overrides file; an absent file means no overrides."""
    if not path.is_file():
        return NO_OVERRIDES
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise OverridesError([f"{path}: cannot read: {exc}"]) from None
    return parse_overrides(data, source=str(path))


def _describe(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error["loc"]]
    message = str(error["msg"]).removeprefix("Value error, ")
    if loc and loc[-1] == "[key]":  # a key of `signals` that is not a signal name
        known = ", ".join(s.value for s in SignalName)
        return f"{'.'.join(loc[:-1])}: unknown signal (known: {known})"
    if error["type"] == "extra_forbidden":
        return f"{'.'.join(loc)}: unknown key"
    if not loc:  # model-level validators name their key themselves
        return message
    return f"{'.'.join(loc)}: {message}"
