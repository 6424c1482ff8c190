"""The LLM agent: LangChain tool-calling over any OpenAI-compatible endpoint.

    agent = build_agent(settings)            # bot.engine.engine.build_engine does this
    answer = agent.answer(question, ctx, conversation, language)

The model is offered the read tools and the propose_* tools only; prompts come from prompts/.
"""

from __future__ import annotations

from bot.engine.llm.agent import LLMAgent
from bot.engine.llm.model import build_chat_model
from bot.settings import Settings


def build_agent(settings: Settings) -> LLMAgent:
    """The agent for `settings.llm` (its base_url must be set)."""
    return LLMAgent(build_chat_model(settings.llm), settings)


__all__ = ["LLMAgent", "build_agent", "build_chat_model"]
