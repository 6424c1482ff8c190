"""The engine: `ask(question, conversation, user, now) -> Answer`, by the planner or the LLM."""

from bot.engine.answer import Answer, Evidence, Proposal, Tokens
from bot.engine.engine import Engine, build_engine

__all__ = ["Answer", "Engine", "Evidence", "Proposal", "Tokens", "build_engine"]
