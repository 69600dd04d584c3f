"""Finding 8: a report's idempotency key is scoped by channel and sender, so one
sender's message id never swallows another sender's report (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.rumors.reports import ReportQueue, idempotency_key
from bot.storage.db import Database, sender_hash
from bot.storage.models import ReportDelivery, RumorClaim, RumorReport
from tests.bot.storage_backends import database_url  # noqa: F401  (fixture)

CLAIM = "听说村口的井水被污染了，喝了会得癌症"


@pytest.fixture
async def db(database_url: str):  # noqa: F811
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.close()


async def stored(db: Database) -> list[RumorReport]:
    async with db.session() as session:
        return list(
            (await session.execute(select(RumorReport).order_by(RumorReport.id))).scalars().all()
        )


def test_the_key_names_channel_sender_and_message() -> None:
    key = idempotency_key("rest", "alice", "m1", CLAIM)
    assert key == idempotency_key("rest", "alice", "m1", "别的文字")  # the id decides, not text
    assert key != idempotency_key("rest", "bob", "m1", CLAIM)
    assert key != idempotency_key("wechat", "alice", "m1", CLAIM)
    assert key != idempotency_key("rest", "alice", "m2", CLAIM)


async def test_two_rest_senders_with_the_same_message_id_make_two_reports(db) -> None:
    queue = ReportQueue(db)
    first = await queue.submit(CLAIM, sender_id="alice", channel="rest", message_id="m1")
    second = await queue.submit(CLAIM, sender_id="bob", channel="rest", message_id="m1")
    assert not first.duplicate and not second.duplicate
    assert first.public_id != second.public_id
    assert first.claim_id == second.claim_id  # the same claim, reported twice
    reports = await stored(db)
    assert [r.sender_hash for r in reports] == [sender_hash("alice"), sender_hash("bob")]
    assert [r.public_id for r in reports] == [first.public_id, second.public_id]
    async with db.session() as session:
        claim = await session.get(RumorClaim, first.claim_id)
        recipients = sorted(
            (await session.execute(select(ReportDelivery.recipient))).scalars().all()
        )
    # Two fresh REST senders: two reports, one reporter (finding 5, bot.rumors.reporters).
    assert (claim.reports, claim.reporters) == (2, 1)
    assert recipients == ["alice", "bob"]  # each is owed the verdict


async def test_a_retry_of_the_same_senders_message_is_still_stored_once(db) -> None:
    queue = ReportQueue(db)
    first = await queue.submit(CLAIM, sender_id="alice", channel="rest", message_id="m1")
    again = await queue.submit(CLAIM, sender_id="alice", channel="rest", message_id="m1")
    assert again.duplicate and again.public_id == first.public_id
    elsewhere = await queue.submit(CLAIM, sender_id="alice", channel="wechat", message_id="m1")
    assert not elsewhere.duplicate and elsewhere.public_id != first.public_id
    assert len(await stored(db)) == 2


async def test_concurrent_senders_with_one_message_id_all_get_their_own_report(db) -> None:
    queue = ReportQueue(db)
    senders = [f"user-{n}" for n in range(5)]
    receipts = await asyncio.gather(
        *(queue.submit(CLAIM, sender_id=s, channel="rest", message_id="same") for s in senders),
        *(queue.submit(CLAIM, sender_id=s, channel="rest", message_id="same") for s in senders),
    )
    assert len({r.public_id for r in receipts}) == 5
    reports = await stored(db)
    assert sorted(r.sender_hash for r in reports) == sorted(sender_hash(s) for s in senders)
