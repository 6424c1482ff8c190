"""Running read tools for one answer: in parallel where independent, every result kept.

Every `ToolResult` a handler uses goes through a `Runner`, so the Answer's evidence is exactly
the queries that produced its numbers. Independent calls (the correlation's pool, deploys,
logs...) run on a small shared thread pool: the backends are local HTTP servers and the
answer's latency is that of the slowest call rather than the sum.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tools.base import Tool, ToolContext, ToolResult
from tools.registry import read_tools

Call = tuple[str, dict[str, Any]]

_POOL_LOCK = threading.Lock()
_POOL: ThreadPoolExecutor | None = None
_TOOLS: dict[str, Tool[Any]] | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL  # noqa: PLW0603 - one small pool per process, created on first use
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="vigie-planner")
        return _POOL


def _tools() -> dict[str, Tool[Any]]:
    global _TOOLS  # noqa: PLW0603 - the registry is immutable: build it once
    if _TOOLS is None:
        _TOOLS = read_tools()
    return _TOOLS


class Runner:
    """Runs tools with one context and remembers every result, in call order."""

    def __init__(self, ctx: ToolContext) -> None:
        self.ctx = ctx
        self.results: list[ToolResult] = []
        self._lock = threading.Lock()

    def run(self, name: str, args: dict[str, Any]) -> ToolResult:
        result = _tools()[name].run(self.ctx, args)
        with self._lock:
            self.results.append(result)
        return result

    def many(self, calls: Sequence[Call]) -> list[ToolResult]:
        """Run independent calls concurrently; results in the order of `calls`."""
        if len(calls) <= 1:
            return [self.run(name, args) for name, args in calls]
        tools = _tools()
        futures = [_pool().submit(tools[name].run, self.ctx, args) for name, args in calls]
        results = [f.result() for f in futures]
        with self._lock:
            self.results.extend(results)
        return results

    def forget(self, result: ToolResult) -> None:
        """Drop a result that did not contribute to the answer (e.g. a lookup of names)."""
        with self._lock:
            self.results = [r for r in self.results if r is not result]
