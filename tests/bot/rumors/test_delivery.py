"""Report-back: a published verdict reaches each reporter once, at their next message."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update

from bot.rumors.delivery import take_due
from bot.rumors.reports import ReportQueue
from bot.storage.db import Database
from bot.storage.models import ReportDelivery, RumorClaim
from tests.bot.storage_backends import database_url  # noqa: F401  (fixture)


@pytest.fixture
async def db(database_url: str):  # noqa: F811
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.close()


async def publish(db: Database, claim_id: int) -> None:
    """What the console's publish does to the claim and its deliveries."""
    async with db.session() as session:
        claim = await session.get(RumorClaim, claim_id)
        claim.status, claim.verdict = "concluded", "rumor"
        claim.explanation = "醋不能软化血管，喝多了还伤胃。"
        claim.sources = [{"organisation": "国家卫生健康委员会", "title": "健康科普"}]
        await session.execute(update(ReportDelivery).values(status="due"))


async def test_the_verdict_is_delivered_once_and_the_recipient_erased(db) -> None:
    queue = ReportQueue(db)
    first = await queue.submit("群里说喝醋能软化血管", sender_id="u1", channel="rest")
    await queue.submit("喝醋可以软化血管吗 群里说的", sender_id="u2", channel="rest")
    assert await take_due(db, "u1") == []  # nothing before the verdict
    await publish(db, first.claim_id)
    messages = await take_due(db, "u1")
    assert len(messages) == 1
    assert first.public_id in messages[0] and "【谣言】" in messages[0]
    assert "来源：国家卫生健康委员会《健康科普》" in messages[0]
    assert await take_due(db, "u1") == []
    assert len(await take_due(db, "u2")) == 1  # every reporter hears back
    async with db.session() as session:
        rows = (await session.execute(select(ReportDelivery))).scalars().all()
    assert {r.status for r in rows} == {"sent"} and {r.recipient for r in rows} == {None}


async def test_concurrent_turns_deliver_it_once(db) -> None:
    receipt = await ReportQueue(db).submit("听说明天要停水", sender_id="u3", channel="rest")
    await publish(db, receipt.claim_id)
    results = await asyncio.gather(*(take_due(db, "u3") for _ in range(5)))
    assert sum(len(r) for r in results) == 1
