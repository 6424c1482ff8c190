"""Vetted PromQL for a binding: one function per shape, every value escaped, every unit fixed.

`render(binding, ...)` is the only entry point. Rules it keeps, so callers need not:

* label values are PromQL string literals (backslash, quote and newline escaped), never pasted;
* latency always comes out in seconds (a `_milliseconds` histogram's quantile is divided by
  1000), memory in bytes;
* the error ratio is 0, not "no data", when a service had traffic and no 5xx;
* fixed matchers found by discovery (Istio's `reporter="destination"`, cAdvisor's cgroup
  exclusion) are on every selector;
* `by` accepts the concepts "service" and "namespace" (mapped to this server's labels) as well
  as raw label names, and `topk` wraps the whole expression.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import promql_parser

from tools.catalog.model import Binding, Rendered, RenderError, Shape, SignalUnavailableError
from tools.catalog.overrides import LABEL_NAME
from tools.catalog.signals import SIGNALS, SignalName

_DURATION: Final = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
FIVE_XX: Final = "5.."  # matches 500..599 and classes written "5xx"


def escape(value: str) -> str:
    """`value` as the inside of a PromQL double-quoted string literal."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


def matcher(label: str, value: str, op: str = "=") -> str:
    """`label="value"` with the value escaped."""
    return f'{label}{op}"{escape(value)}"'


def check_window(window: str) -> str:
    """`window` if it is a PromQL duration such as 5m, 1h30m, 7d; else RenderError."""
    text = window.strip()
    if not _DURATION.match(text):
        raise RenderError(f"window must be a PromQL duration such as 5m, 1h or 7d, got '{window}'")
    try:
        promql_parser.parse_duration(text)
    except ValueError:
        raise RenderError(f"window is not a valid duration: '{window}'") from None
    return text


def _selector(matchers: Sequence[str]) -> str:
    return "{" + ", ".join(matchers) + "}" if matchers else ""


def _agg(op: str, by: Sequence[str], expr: str) -> str:
    return f"{op} by ({', '.join(by)}) ({expr})" if by else f"{op}({expr})"


def _scaled(expr: str, scale: float) -> str:
    if scale == 1:
        return expr
    if scale < 1:  # e.g. kilobytes -> bytes
        return f"{expr} * {1 / scale:g}"
    return f"{expr} / {scale:g}"


def _grouping(binding: Binding, by: Sequence[str]) -> list[str]:
    out: list[str] = []
    for name in by:
        if name == "service":
            label = binding.service_key
            if label is None:
                raise SignalUnavailableError(
                    f"{binding.signal}: {binding.metric} has no service label on this server"
                )
        elif name == "namespace":
            label = binding.namespace_label
            if label is None:
                raise SignalUnavailableError(
                    f"{binding.signal}: {binding.metric} has no namespace label on this server"
                )
        else:
            if not LABEL_NAME.match(name):
                raise RenderError(f"not a label name: '{name}'")
            label = name
        if label not in out:
            out.append(label)
    return out


@dataclass(frozen=True)
class _Query:
    """One rendering in progress: the binding and the pieces every shape assembles."""

    binding: Binding
    filters: tuple[str, ...]  # service / namespace matchers, escaped
    join_filters: tuple[str, ...]  # the service matcher when it goes on the join metric
    group: tuple[str, ...]
    window: str
    quantile: str
    use_join: bool

    @property
    def selector(self) -> str:
        return _selector([*self.binding.matchers, *self.filters])

    def series(self, expr: str) -> str:
        """Per-series vector `expr`, joined to the service's pod labels when needed."""
        j = self.binding.join
        if not self.use_join or j is None:
            return expr
        info = _agg("max", [*j.on, j.label], f"{j.metric}{_selector(self.join_filters)}")
        return f"{expr} * on ({', '.join(j.on)}) group_left ({j.label}) {info}"

    def summed(self, op: str, expr: str) -> str:
        return _agg(op, self.group, self.series(expr))


def _histogram_quantile(q: _Query) -> str:
    b = q.binding
    rates = q.series(f"rate({b.metric}_bucket{q.selector}[{q.window}])")
    inner = _agg("sum", ["le", *q.group], rates)
    return _scaled(f"histogram_quantile({q.quantile}, {inner})", b.scale)


def _error_ratio(q: _Query) -> str:
    b = q.binding
    bad = _selector([*b.matchers, *q.filters, f'{b.status_label}=~"{FIVE_XX}"'])
    errors = q.summed("sum", f"rate({b.metric}{bad}[{q.window}])")
    total = q.summed("sum", f"rate({b.metric}{q.selector}[{q.window}])")
    # `or ... * 0`: a service with traffic and no 5xx has a ratio of 0, not "no data".
    return f"({errors} or {total} * 0) / {total}"


def _pool_ratio(q: _Query) -> str:
    b = q.binding
    used = q.summed("sum", f"{b.metric}{q.selector}")
    # The fixed matchers (e.g. state="used") select the numerator only.
    cap = q.summed("sum", f"{b.max_metric}{_selector(q.filters)}")
    return f"{used} / {cap}"


def _template(q: _Query) -> str:
    return string.Template(q.binding.template or "").substitute(
        selector=q.selector,
        filters=", ".join([*q.binding.matchers, *q.filters]),
        window=q.window,
        quantile=q.quantile,
        by=", ".join(q.group),
    )


_SHAPES: Final[dict[Shape, Callable[[_Query], str]]] = {
    Shape.HISTOGRAM_QUANTILE: _histogram_quantile,
    Shape.RATE: lambda q: _scaled(
        q.summed("sum", f"rate({q.binding.metric}{q.selector}[{q.window}])"), q.binding.scale
    ),
    Shape.ERROR_RATIO: _error_ratio,
    Shape.GAUGE_SUM: lambda q: _scaled(
        q.summed("sum", f"{q.binding.metric}{q.selector}"), q.binding.scale
    ),
    Shape.POOL_RATIO: _pool_ratio,
    Shape.UP_RATIO: lambda q: q.summed(
        "avg", f"avg_over_time({q.binding.metric}{q.selector}[{q.window}])"
    ),
    Shape.INCREASE: lambda q: q.summed(
        "sum", f"increase({q.binding.metric}{q.selector}[{q.window}])"
    ),
    Shape.VERSIONS: lambda q: q.summed(
        "count", f"last_over_time({q.binding.metric}{q.selector}[{q.window}])"
    ),
    Shape.GENERATION: lambda q: q.summed(
        "sum", f"changes({q.binding.metric}{q.selector}[{q.window}])"
    ),
    Shape.TEMPLATE: _template,
}


def _filters(
    binding: Binding, service: str | None, namespace: str | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(matchers on the metric, matchers on the join metric) for this service and namespace."""
    filters: list[str] = []
    join_filters: list[str] = []
    if service is not None:
        if binding.join is not None:
            join_filters.append(matcher(binding.join.label, service))
        elif binding.service_label is not None:
            filters.append(matcher(binding.service_label, service))
        else:
            raise SignalUnavailableError(
                f"{binding.signal}: {binding.metric} has no service label on this server; "
                "ask without a service or pin service_label in config/signals.yaml"
            )
    if namespace is not None:
        if binding.namespace_label is None:
            raise SignalUnavailableError(
                f"{binding.signal}: {binding.metric} has no namespace label on this server"
            )
        filters.append(matcher(binding.namespace_label, namespace))
    return tuple(filters), tuple(join_filters)


def render(
    binding: Binding,
    *,
    service: str | None = None,
    namespace: str | None = None,
    window: str = "5m",
    quantile: float = 0.99,
    by: Sequence[str] = (),
    topk: int | None = None,
) -> Rendered:
    """The PromQL of `binding` for one service (or all), one namespace (or all), by `by`."""
    window = check_window(window)
    if not 0 < quantile < 1:
        raise RenderError(f"quantile must be between 0 and 1 (0.99 for P99), got {quantile}")
    if topk is not None and topk < 1:
        raise RenderError(f"topk must be at least 1, got {topk}")
    group = _grouping(binding, by)
    if binding.shape is Shape.VERSIONS and binding.version_label:
        # A version without the service it belongs to means nothing.
        group = list(dict.fromkeys([*filter(None, [binding.service_key]), *group]))
        group.append(binding.version_label)
    filters, join_filters = _filters(binding, service, namespace)
    join = binding.join
    query = _Query(
        binding=binding,
        filters=filters,
        join_filters=join_filters,
        group=tuple(group),
        window=window,
        quantile=f"{quantile:g}",
        use_join=join is not None and (service is not None or join.label in group),
    )
    expr = _SHAPES[binding.shape](query)
    if topk is not None:
        expr = f"topk({topk}, {expr})"
    concepts = (("service", binding.service_key), ("namespace", binding.namespace_label))
    scope = _Scope(service, namespace, window, quantile, tuple(group), topk)
    return Rendered(
        signal=binding.signal,
        promql=expr,
        unit=binding.unit,
        meaning=_meaning(binding, scope),
        metric=binding.metric,
        labels={concept: label for concept, label in concepts if label is not None},
    )


@dataclass(frozen=True)
class _Scope:
    service: str | None
    namespace: str | None
    window: str
    quantile: float
    group: tuple[str, ...]
    topk: int | None


def _meaning(binding: Binding, s: _Scope) -> str:
    what = SIGNALS[binding.signal].meaning
    if binding.signal is SignalName.LATENCY:
        what = f"P{s.quantile * 100:g} latency"
    scope = []
    if s.service is not None:
        scope.append(f"service {s.service}")
    if s.namespace is not None:
        scope.append(f"namespace {s.namespace}")
    text = f"{what} of {', '.join(scope) or 'all services'}"
    if binding.shape not in {Shape.GAUGE_SUM, Shape.POOL_RATIO}:
        text += f" over {s.window}"
    if s.group:
        text += f", by {', '.join(s.group)}"
    if s.topk is not None:
        text += f", top {s.topk}"
    text += f", in {binding.unit}"
    if binding.base_unit and binding.base_unit != binding.unit:
        text += f" (from {binding.metric} in {binding.base_unit})"
    return text
