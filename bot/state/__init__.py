"""The state store: Redis when `redis.url` is set, else process memory, behind one interface."""

from bot.state.store import MemoryStore, RedisStore, StateStore, StateStoreError, build_state_store

__all__ = ["MemoryStore", "RedisStore", "StateStore", "StateStoreError", "build_state_store"]
