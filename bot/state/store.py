"""Key/value state with expiry and set-if-absent, the primitives approvals and memory build on.

`RedisStore` is what production uses (shared by every replica); `MemoryStore` keeps the same
semantics in one process for a laptop without Redis. Both are exercised by the same tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

import redis

from bot.settings import RedisSettings

T = TypeVar("T")


class StateStoreError(Exception):
    """The state store could not be reached or refused an operation."""


class StateStore(Protocol):
    """What the rest of Vigie may ask of the state store."""

    @property
    def description(self) -> str: ...

    def ping(self) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def set(
        self, key: str, value: bytes, *, ttl_s: float | None = None, only_if_absent: bool = False
    ) -> bool:
        """Store `value`; with `only_if_absent`, return False and change nothing if `key` exists."""
        ...

    def delete(self, key: str) -> None: ...

    def close(self) -> None: ...


class MemoryStore:
    """In-process store; state is lost at exit and not shared between processes."""

    description = "memory (in-process; not shared, lost at restart)"

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._lock = threading.Lock()
        self._clock = clock or time.monotonic

    def ping(self) -> None:
        return None

    def _live(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and self._clock() >= expires:
            del self._data[key]
            return None
        return value

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._live(key)

    def set(
        self, key: str, value: bytes, *, ttl_s: float | None = None, only_if_absent: bool = False
    ) -> bool:
        with self._lock:
            if only_if_absent and self._live(key) is not None:
                return False
            expires = None if ttl_s is None else self._clock() + ttl_s
            self._data[key] = (value, expires)
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def close(self) -> None:
        return None


class RedisStore:
    """Redis-backed store; every key is namespaced by the configured prefix."""

    def __init__(self, client: redis.Redis, url_for_display: str, prefix: str = "vigie:") -> None:
        self._client = client
        self._prefix = prefix
        self.description = f"redis ({url_for_display})"

    def _k(self, key: str) -> str:
        return self._prefix + key

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except redis.RedisError as exc:
            raise StateStoreError(f"redis {what} failed: {exc}") from exc

    def ping(self) -> None:
        self._call("PING", self._client.ping)

    def get(self, key: str) -> bytes | None:
        value = self._call("GET", lambda: self._client.get(self._k(key)))
        if value is None:
            return None
        return value if isinstance(value, bytes) else str(value).encode()

    def set(
        self, key: str, value: bytes, *, ttl_s: float | None = None, only_if_absent: bool = False
    ) -> bool:
        px = None if ttl_s is None else max(1, int(ttl_s * 1000))
        done = self._call(
            "SET", lambda: self._client.set(self._k(key), value, px=px, nx=only_if_absent)
        )
        return bool(done)

    def delete(self, key: str) -> None:
        self._call("DEL", lambda: self._client.delete(self._k(key)))

    def close(self) -> None:
        self._client.close()


def build_state_store(settings: RedisSettings, timeout_s: float = 5.0) -> StateStore:
    """Redis when a URL is configured, memory otherwise. Does not connect."""
    if settings.url is None:
        return MemoryStore()
    client = redis.Redis.from_url(
        str(settings.url), socket_timeout=timeout_s, socket_connect_timeout=timeout_s
    )
    shown = str(settings.url)
    if settings.url.password:
        shown = shown.replace(settings.url.password, "****")
    return RedisStore(client, shown, settings.key_prefix)
