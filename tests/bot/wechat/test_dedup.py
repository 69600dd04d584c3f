"""De-duplication and the outbox on SQLite and PostgreSQL: once, even when concurrent
and across processes (separate engines stand for separate processes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from bot.storage.db import Database
from bot.storage.models import ChannelReceipt
from bot.wechat.dedup import ReceiptLog
from bot.wechat.outbox import Outbox
from tests.bot.storage_backends import database_url  # noqa: F401  (fixture)


@pytest.fixture
async def dbs(database_url: str) -> AsyncIterator[list[Database]]:  # noqa: F811
    first = Database(database_url)
    await first.migrate()
    others = [Database(database_url) for _ in range(3)]
    yield [first, *others]
    for db in (first, *others):
        await db.close()


async def test_a_key_is_new_once_then_seen(dbs: list[Database]) -> None:
    log = ReceiptLog(dbs[0])
    assert await log.first_time("wechat\0msg\0gh\0123", 60)
    assert not await log.first_time("wechat\0msg\0gh\0123", 60)
    assert await log.first_time("wechat\0msg\0gh\0124", 60)
    async with dbs[0].session() as session:
        keys = (await session.execute(select(ChannelReceipt.key))).scalars().all()
    assert all(len(k) == 64 and "gh" not in k for k in keys)  # digests, not ids


async def test_concurrent_retries_across_processes_are_accepted_once(dbs: list[Database]) -> None:
    logs = [ReceiptLog(db) for db in dbs]
    results = await asyncio.gather(
        *(logs[i % len(logs)].first_time("wechat\0msg\0gh\0777", 60) for i in range(12))
    )
    assert results.count(True) == 1


async def test_an_expired_key_counts_as_new_and_expired_rows_are_purged(
    dbs: list[Database],
) -> None:
    log = ReceiptLog(dbs[0])
    assert await log.first_time("k-old", 60)
    assert await log.first_time("k-other", 60)
    async with dbs[0].session() as session:
        past = datetime.now(timezone.utc) - timedelta(seconds=1)
        await session.execute(update(ChannelReceipt).values(expires_at=past))
    assert await log.first_time("k-old", 60)
    assert await log.purge() == 1  # "k-other"; "k-old" was renewed
    async with dbs[0].session() as session:
        assert await session.scalar(select(func.count()).select_from(ChannelReceipt)) == 1


async def test_without_a_database_keys_are_remembered_in_process(tmp_path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'never-migrated.db'}")  # no tables
    log = ReceiptLog(db)
    try:
        assert await log.first_time("k", 60)
        assert not await log.first_time("k", 60)
    finally:
        await db.close()


async def test_outbox_hands_each_message_out_once(dbs: list[Database]) -> None:
    await Outbox(dbs[0], "wechat").put("o1", ["第一条", "第二条"])
    await Outbox(dbs[0], "wecom").put("o1", ["别的渠道"])
    takers = [Outbox(db, "wechat").take("o1") for db in dbs]
    results = await asyncio.gather(*takers)
    handed = [text for result in results for text in result]
    assert sorted(handed) == ["第一条", "第二条"]
    assert next(r for r in results if r) == ["第一条", "第二条"]  # in order
    assert await Outbox(dbs[1], "wecom").take("o1") == ["别的渠道"]


async def test_a_lease_is_held_then_kept_or_taken_over(dbs: list[Database]) -> None:
    answering, retrying = ReceiptLog(dbs[0]), ReceiptLog(dbs[1])
    key = "wechat\0msg\0gh\0lease"
    assert await answering.first_time(key, 5.0)  # the lease while it answers
    assert not await retrying.first_time(key, 5.0)
    assert 0 < await retrying.remaining(key) <= 5.0
    await answering.keep(key, 3600.0)  # answered: remembered as done
    assert await retrying.remaining(key) > 3000
    other = "wechat\0msg\0gh\0died"
    assert await answering.first_time(other, 0.2)  # and then the process died
    await asyncio.sleep(0.3)
    assert await retrying.remaining(other) == 0.0
    assert await retrying.first_time(other, 5.0)  # an expired lease is taken over
    assert await retrying.remaining("never seen") == 0.0
