"""The state store's semantics, identical on the real Redis of the devstack and in memory."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from bot.settings import RedisSettings
from bot.state import MemoryStore, StateStore, StateStoreError, build_state_store
from devstack.layout import StackInfo


@pytest.fixture(params=["redis", "memory"])
def store(request: pytest.FixtureRequest) -> Iterator[StateStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    info: StackInfo = request.getfixturevalue("stack")
    prefix = f"vigie-test-{uuid.uuid4().hex[:8]}:"
    built = build_state_store(RedisSettings(url=info.redis_url, key_prefix=prefix))  # type: ignore[arg-type]
    yield built
    built.close()


def test_set_get_delete(store: StateStore) -> None:
    store.ping()
    assert store.get("k") is None
    assert store.set("k", b"v1")
    assert store.get("k") == b"v1"
    store.delete("k")
    assert store.get("k") is None


def test_only_if_absent_is_first_writer_wins(store: StateStore) -> None:
    assert store.set("proposal:1", b"alice", only_if_absent=True)
    assert not store.set("proposal:1", b"bob", only_if_absent=True)
    assert store.get("proposal:1") == b"alice"


def test_values_expire(store: StateStore) -> None:
    store.set("short", b"x", ttl_s=0.2)
    assert store.get("short") == b"x"
    time.sleep(0.35)
    assert store.get("short") is None
    assert store.set("short", b"y", only_if_absent=True)


def test_memory_store_is_chosen_without_redis_url() -> None:
    assert isinstance(build_state_store(RedisSettings(url=None)), MemoryStore)


def test_unreachable_redis_raises_a_state_store_error() -> None:
    from devstack.process import free_port

    store = build_state_store(
        RedisSettings(url=f"redis://127.0.0.1:{free_port()}/0"),  # type: ignore[arg-type]
        timeout_s=1,
    )
    with pytest.raises(StateStoreError, match="redis PING failed"):
        store.ping()
