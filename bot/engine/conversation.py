"""Conversation memory: the recent turns of a Slack thread or chat session, in the state store.

Bounded three ways so memory never grows without limit: at most `max_turns` turns, at most
`max_tokens` tokens of question + answer text (oldest dropped first), and a TTL after the last
turn. A turn keeps the planner's context (intent, service, signal, window...) so follow-ups
("and yesterday?", "et pour checkout ?") can reuse it, in both modes. Text is stored redacted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from bot.engine.answer import Language, Mode
from bot.state import StateStore
from tools.budget import estimate_tokens


class Turn(BaseModel):
    question: str
    answer: str
    language: Language
    mode: Mode
    context: dict[str, Any] = Field(default_factory=dict)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Conversation(BaseModel):
    id: str
    turns: list[Turn] = Field(default_factory=list)

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def last_context(self) -> dict[str, Any]:
        """Context of the most recent turn that had one (a refusal carries none)."""
        for turn in reversed(self.turns):
            if turn.context:
                return turn.context
        return {}


class ConversationStore:
    """Load and append turns; one JSON document per conversation, with a TTL."""

    def __init__(
        self,
        state: StateStore,
        *,
        max_turns: int = 10,
        max_tokens: int = 3000,
        ttl_s: float = 24 * 3600,
    ) -> None:
        self._state = state
        self.max_turns = max_turns
        self.max_tokens = max_tokens
        self.ttl_s = ttl_s

    @staticmethod
    def _key(conversation_id: str) -> str:
        return f"conversation:{conversation_id}"

    def load(self, conversation_id: str) -> Conversation:
        raw = self._state.get(self._key(conversation_id))
        if raw is None:
            return Conversation(id=conversation_id)
        try:
            return Conversation.model_validate(json.loads(raw))
        except ValueError:
            # A corrupt or older-format record is not worth failing an answer over.
            return Conversation(id=conversation_id)

    def append(self, conversation_id: str, turn: Turn) -> Conversation:
        conversation = self.load(conversation_id)
        turns = [*conversation.turns, turn][-self.max_turns :]
        while (
            len(turns) > 1
            and sum(estimate_tokens(t.question) + estimate_tokens(t.answer) for t in turns)
            > self.max_tokens
        ):
            turns.pop(0)
        updated = Conversation(id=conversation_id, turns=turns)
        self._state.set(
            self._key(conversation_id), updated.model_dump_json().encode(), ttl_s=self.ttl_s
        )
        return updated

    def clear(self, conversation_id: str) -> None:
        self._state.delete(self._key(conversation_id))
