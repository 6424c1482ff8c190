"""Vigie's tools as LangChain tools: the read tools, and the `propose_*` drafting tools.

The model is offered these and nothing else. Each adapter shows the model the tool's JSON
schema but does not let LangChain validate against it: arguments go as sent to `Tool.run`
(or `ProposeTool.draft`), whose validation error comes back to the model as the tool's
answer, so a malformed call is a message the model can correct, never an exception that ends
the loop. What the model reads is `ToolResult.render()`, masked by `ctx.redact` and bounded by
the tool budget; every result is recorded in the `Run` (it becomes the Answer's evidence).
"""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import PrivateAttr

from bot.engine.llm.run import Run
from bot.engine.proposals import ProposalInputError, ProposeTool
from tools.base import Status, Tool, ToolContext, ToolResult

logger = logging.getLogger(__name__)


def _not_run(tool: str) -> str:
    return (
        f"[{tool}] status=not_run\nerror: the time allowed for this question is over; this "
        "call was not made. Answer now with what you have, saying what was not checked."
    )


class ReadToolAdapter(BaseTool):
    """One read tool bound to a question's context and run."""

    # Private: pydantic (BaseTool is a model) must not try to validate clients.
    _tool: Tool[Any] = PrivateAttr()
    _ctx: ToolContext = PrivateAttr()
    _run_record: Run = PrivateAttr()

    @classmethod
    def of(cls, tool: Tool[Any], ctx: ToolContext, run: Run) -> ReadToolAdapter:
        adapter = cls(
            name=tool.name,
            description=tool.description,
            # A JSON schema (not the pydantic model): LangChain passes arguments through.
            args_schema=tool.json_schema(),
        )
        adapter._tool, adapter._ctx, adapter._run_record = tool, ctx, run
        return adapter

    def _run(self, /, **kwargs: Any) -> str:  # `/`: a model may send an argument "self"
        run = self._run_record
        if run.expired() or run.stopped is not None:
            run.skip(self.name, kwargs)
            return _not_run(self.name)
        call_id = run.begin(self.name, kwargs)
        result: ToolResult | None = None
        try:
            result = self._tool.run(self._ctx, kwargs)
        except Exception:
            # A bug in a tool, not a backend failure (those are ToolResults): keep the
            # traceback for us, give the model a short error, and let the loop go on.
            logger.exception("tool %s failed unexpectedly", self.name)
            result = ToolResult(
                tool=self.name,
                backend=self._tool.backend,
                status=Status.ERROR,
                error="internal error in this tool (logged); try another approach",
            )
        finally:
            run.end(call_id, result)
        text = result.render()
        redact = self._ctx.redact
        # render() adds the query and warnings to what Tool.run already masked.
        return redact(text) if redact is not None else text


class ProposeToolAdapter(BaseTool):
    """One propose tool: records a Proposal draft in the run, executes nothing."""

    _tool: ProposeTool[Any] = PrivateAttr()
    _run_record: Run = PrivateAttr()

    @classmethod
    def of(cls, tool: ProposeTool[Any], run: Run) -> ProposeToolAdapter:
        adapter = cls(name=tool.name, description=tool.description, args_schema=tool.json_schema())
        adapter._tool, adapter._run_record = tool, run
        return adapter

    def _run(self, /, **kwargs: Any) -> str:  # `/`: a model may send an argument "self"
        try:
            proposal = self._tool.draft(kwargs)
        except ProposalInputError as exc:
            return f"[{self.name}] status=error\nerror: {exc}"
        recorded = self._run_record.propose(proposal)
        what = f"{proposal.action} {proposal.target} {proposal.parameters}"
        if not recorded:
            return f"[{self.name}] status=ok\nalready proposed: {what}"
        return (
            f"[{self.name}] status=ok\nproposal drafted: {what}. It is shown to the user with "
            "Approve / Reject buttons; nothing has been executed. Mention it in your answer."
        )


def langchain_tools(
    read_tools: dict[str, Tool[Any]],
    propose_tools: tuple[ProposeTool[Any], ...],
    ctx: ToolContext,
    run: Run,
) -> list[BaseTool]:
    """The tools offered to the model for one question: read tools, then propose tools."""
    offered: list[BaseTool] = [ReadToolAdapter.of(t, ctx, run) for t in read_tools.values()]
    offered.extend(ProposeToolAdapter.of(t, run) for t in propose_tools)
    return offered
