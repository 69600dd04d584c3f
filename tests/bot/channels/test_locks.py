"""The atomic Redis ticket lock against a real Redis (127.0.0.1:6379).

Two store objects stand for two Rasa processes serving one sender. The races are
made deterministic: another process's change is slipped in between a store's read
of the lock and its write, exactly where Rasa's own store loses it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import pytest
from rasa.core.lock import TicketLock
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.channels.locks import AtomicRedisLockStore
from tests.conftest import port_open, service_absent

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


@pytest.fixture()
def prefix() -> Iterator[str]:
    if not port_open(REDIS_HOST, REDIS_PORT):
        service_absent(f"Redis is not running at {REDIS_HOST}:{REDIS_PORT}")
    key_prefix = "locktest" + uuid.uuid4().hex[:12]
    yield key_prefix
    import redis

    client = redis.Redis(REDIS_HOST, REDIS_PORT)
    for key in client.scan_iter(f"{key_prefix}:*"):
        client.delete(key)


def _store(cls: type[RedisLockStore], prefix: str) -> RedisLockStore:
    return cls(host=REDIS_HOST, port=REDIS_PORT, db=0, key_prefix=prefix)


def _tickets(store: RedisLockStore, conversation: str) -> list[int]:
    lock = store.get_lock(conversation)
    return [t.number for t in lock.tickets] if lock else []


def _clean_up_in_between(monkeypatch, other: RedisLockStore, conversation: str, ticket: int):
    """Make the first ``remove_expired_tickets`` of the waiting process (called after it
    has read the lock, before it writes it back) run ``other``'s clean-up first."""
    original = TicketLock.remove_expired_tickets
    state = {"done": False}

    def meanwhile(lock: TicketLock) -> None:
        if not state["done"]:
            state["done"] = True
            other.cleanup(conversation, ticket)
        original(lock)

    monkeypatch.setattr(TicketLock, "remove_expired_tickets", meanwhile)


def test_rasas_own_store_writes_back_a_ticket_that_was_cleaned_up(prefix, monkeypatch) -> None:
    """The bug this module exists for, shown on Rasa's store: the first turn is over,
    yet its ticket is back and the second message waits for it to expire."""
    first, waiting = _store(RedisLockStore, prefix), _store(RedisLockStore, prefix)
    conversation = "sender"
    served = first.issue_ticket(conversation)
    mine = waiting.issue_ticket(conversation)
    _clean_up_in_between(monkeypatch, first, conversation, served)
    waiting.update_lock(conversation)  # the waiting loop's periodic refresh
    assert _tickets(first, conversation) == [served, mine]


def test_a_cleaned_up_ticket_stays_gone_when_the_waiting_process_refreshes(
    prefix, monkeypatch
) -> None:
    first, waiting = _store(AtomicRedisLockStore, prefix), _store(AtomicRedisLockStore, prefix)
    conversation = "sender"
    served = first.issue_ticket(conversation)
    mine = waiting.issue_ticket(conversation)
    assert (served, mine) == (0, 1)
    _clean_up_in_between(monkeypatch, first, conversation, served)
    waiting.update_lock(conversation)
    assert _tickets(first, conversation) == [mine]
    assert not waiting.get_lock(conversation).is_locked(mine)  # its turn, at once


def test_two_processes_issuing_at_once_get_two_tickets(prefix, monkeypatch) -> None:
    first, second = _store(AtomicRedisLockStore, prefix), _store(AtomicRedisLockStore, prefix)
    conversation = "sender"
    original = TicketLock.issue_ticket
    state: dict = {"started": False, "inner": None}

    def meanwhile(lock: TicketLock, lifetime: float) -> int:
        if not state["started"]:  # the first process, between its read and its write
            state["started"] = True
            state["inner"] = second.issue_ticket(conversation)
        return original(lock, lifetime)

    monkeypatch.setattr(TicketLock, "issue_ticket", meanwhile)
    outer = first.issue_ticket(conversation)
    assert sorted([state["inner"], outer]) == [0, 1]
    assert _tickets(first, conversation) == [0, 1]


def test_the_lock_goes_only_when_nobody_holds_a_ticket(prefix) -> None:
    first, second = _store(AtomicRedisLockStore, prefix), _store(AtomicRedisLockStore, prefix)
    conversation = "sender"
    a = first.issue_ticket(conversation)
    b = second.issue_ticket(conversation)
    first.cleanup(conversation, a)
    assert _tickets(first, conversation) == [b]
    second.cleanup(conversation, b)
    assert first.get_lock(conversation) is None


def test_it_is_built_from_the_endpoint_config_rasa_reads(prefix) -> None:
    config = EndpointConfig(
        url=REDIS_HOST,
        type="bot.channels.locks.AtomicRedisLockStore",
        port=REDIS_PORT,
        db=0,
        key_prefix=prefix,
    )
    from rasa.core.lock_store import LockStore

    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.key_prefix.startswith(prefix + ":")
    assert store.issue_ticket("sender") == 0


def test_two_processes_serve_one_sender_in_turn(prefix) -> None:
    first, second = _store(AtomicRedisLockStore, prefix), _store(AtomicRedisLockStore, prefix)
    order: list[str] = []

    async def turn(store: RedisLockStore, name: str, delay: float) -> float:
        await asyncio.sleep(delay)
        async with store.lock("sender", wait_time_in_seconds=0.05):
            order.append(f"{name} in")
            await asyncio.sleep(0.2)
            order.append(f"{name} out")
        return time.monotonic()

    async def both() -> tuple[float, float, float]:
        started = time.monotonic()
        a, b = await asyncio.gather(turn(first, "a", 0), turn(second, "b", 0.05))
        return started, a, b

    started, _, b_done = asyncio.run(both())
    assert order == ["a in", "a out", "b in", "b out"]
    # The second waited for the first turn, not for a ticket to expire (60 s).
    assert b_done - started < 30
    assert first.get_lock("sender") is None
