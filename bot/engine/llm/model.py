"""The chat model: `ChatOpenAI` over any OpenAI-compatible endpoint, built from `LLMSettings`.

OpenAI, Azure OpenAI's v1 endpoint, Mistral, vLLM, Ollama or a test's scripted server: only
the base URL, model name and key differ. Local servers need no key, but the client insists
on one, hence a placeholder. Retries are done by `LoopLimits`, which knows the deadline.
"""

from __future__ import annotations

from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from bot.settings import LLMSettings

# Sent when no key is configured: local OpenAI-compatible servers ignore it.
NO_API_KEY = "not-needed"


def build_chat_model(settings: LLMSettings) -> ChatOpenAI:
    if settings.base_url is None:
        raise ValueError("llm.base_url: not set (the LLM agent needs an endpoint)")
    return ChatOpenAI(
        model=settings.model,
        base_url=str(settings.base_url),
        api_key=settings.api_key or SecretStr(NO_API_KEY),
        temperature=settings.temperature,
        timeout=settings.timeout_s,
        max_completion_tokens=settings.max_output_tokens,
        max_retries=0,
        streaming=False,
    )
