"""Rumour reports: redacted, stored exactly once, grouped into claims (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import re
import threading

import pytest
from sqlalchemy import func, select, update

from bot.accounts.access import Actor
from bot.accounts.users import add_user
from bot.rumors import reports, triage
from bot.rumors.reports import ReportQueue, harm_of
from bot.storage.db import Database
from bot.storage.models import ReportDelivery, RumorClaim, RumorReport
from tests.bot.storage_backends import database_url  # noqa: F401  (fixture)


@pytest.fixture
async def queue(database_url: str):  # noqa: F811
    db = Database(database_url)
    await db.migrate()
    yield ReportQueue(db)
    await db.close()


async def count(queue: ReportQueue, model) -> int:
    async with queue.db.session() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_a_report_is_stored_redacted_with_a_number_and_a_delivery_owed(queue) -> None:
    receipt = await queue.submit(
        "群里说喝醋能软化血管 有事打我电话13812345678",
        sender_id="wx-user-1",
        channel="wechat",
        message_id="m1",
        seen_where="wechat_group",
    )
    assert re.fullmatch(r"R-[A-Z2-7]{8}", receipt.public_id) and not receipt.duplicate
    async with queue.db.session() as session:
        report = (await session.execute(select(RumorReport))).scalar_one()
        delivery = (await session.execute(select(ReportDelivery))).scalar_one()
        claim = await session.get(RumorClaim, receipt.claim_id)
    assert "13812345678" not in report.text and "[手机号]" in report.text
    assert report.sender_hash != "wx-user-1" and report.seen_where == "wechat_group"
    assert delivery.recipient == "wx-user-1" and delivery.status == "waiting"
    assert claim.harm == "health" and claim.reports == 1 and claim.reporters == 1
    assert claim.channels == ["wechat"] and claim.priority > 0


async def test_a_retried_message_is_stored_once(queue) -> None:
    first = await queue.submit("听说明天要停水", sender_id="u1", channel="wechat", message_id="42")
    again = await queue.submit("听说明天要停水", sender_id="u1", channel="wechat", message_id="42")
    assert again.public_id == first.public_id and again.duplicate
    assert await count(queue, RumorReport) == 1 and await count(queue, ReportDelivery) == 1


async def test_without_a_message_id_the_sender_and_content_identify_it(queue) -> None:
    a = await queue.submit("听说明天要停水！", sender_id="u1", channel="rest")
    b = await queue.submit("听说明天要停水!", sender_id="u1", channel="rest")
    c = await queue.submit("听说明天要停水！", sender_id="u2", channel="rest")
    assert a.public_id == b.public_id and c.public_id != a.public_id
    assert await count(queue, RumorReport) == 2


async def test_ten_concurrent_submissions_store_one(queue) -> None:
    receipts = await asyncio.gather(
        *(
            queue.submit("村里都在传要收老人的地", sender_id="u9", channel="wechat", message_id="7")
            for _ in range(10)
        )
    )
    assert len({r.public_id for r in receipts}) == 1
    assert await count(queue, RumorReport) == 1 and await count(queue, RumorClaim) == 1


async def test_the_same_rumour_with_another_place_joins_its_claim(queue) -> None:
    a = await queue.submit(
        "重庆市梁平区明天停水三天，大家赶快储水", sender_id="u1", channel="wechat"
    )
    b = await queue.submit("万州区后天停水三天！大家赶快储水", sender_id="u2", channel="web")
    other = await queue.submit("听说吃洋芋和香蕉会中毒", sender_id="u3", channel="wechat")
    assert a.claim_id == b.claim_id != other.claim_id
    async with queue.db.session() as session:
        claim = await session.get(RumorClaim, a.claim_id)
    assert claim.reports == 2 and claim.reporters == 2
    assert claim.channels == ["wechat", "web"] and claim.harm == "safety"


@pytest.mark.parametrize(
    "text, harm",
    [
        ("喝醋能软化血管", "health"),
        ("明天要地震", "safety"),
        ("养老金要停发了，赶紧去领补贴", "fraud"),
        ("明星某某要来镇上", "other"),
    ],
)
def test_harm_categories(text: str, harm: str) -> None:
    assert harm_of(text) == harm


async def test_reports_older_than_the_retention_are_deleted(queue) -> None:
    from datetime import datetime, timedelta, timezone

    from bot.rumors.reports import purge_expired

    old = await queue.submit("听说明天要停水", sender_id="u1", channel="rest")
    new = await queue.submit("听说吃洋芋和香蕉会中毒", sender_id="u2", channel="rest")
    async with queue.db.session() as session:
        report = (
            await session.execute(select(RumorReport).where(RumorReport.public_id == old.public_id))
        ).scalar_one()
        report.created_at = datetime.now(timezone.utc) - timedelta(days=400)
    assert await purge_expired(queue.db, days=365) == 1
    async with queue.db.session() as session:
        claims = (await session.execute(select(RumorClaim.id))).scalars().all()
    assert claims == [new.claim_id]  # the emptied open claim went with its report
    assert await count(queue, ReportDelivery) == 1


# The index of open claims, kept in step with the database ------------------------------

WATER = "重庆市梁平区明天停水三天，大家赶快储水"
WATER_AGAIN = "万州区后天停水三天！大家赶快储水"
POTATO = "听说吃洋芋和香蕉会中毒"
POTATO_AGAIN = "群里说洋芋和香蕉一起吃会中毒"


@pytest.fixture
async def moderator(queue) -> Actor:
    await add_user(queue.db, "mod", "moderator")
    return Actor(1, "mod", "moderator")


async def test_a_claim_another_process_opened_is_joined(database_url: str) -> None:  # noqa: F811
    first, second = Database(database_url), Database(database_url)
    await first.migrate()
    try:
        here, there = ReportQueue(first), ReportQueue(second)
        await here.submit(POTATO, sender_id="u1", channel="wechat")  # builds this index
        opened = await there.submit(WATER, sender_id="u2", channel="wechat")
        joined = await here.submit(WATER_AGAIN, sender_id="u3", channel="web")
        assert joined.claim_id == opened.claim_id
    finally:
        await first.close()
        await second.close()


async def test_a_merged_claim_is_no_longer_joined(queue, moderator) -> None:
    water = await queue.submit(WATER, sender_id="u1", channel="wechat")
    potato = await queue.submit(POTATO, sender_id="u2", channel="wechat")
    await triage.merge(queue.db, moderator, water.claim_id, potato.claim_id)
    again = await queue.submit(WATER_AGAIN, sender_id="u3", channel="web")
    assert again.claim_id not in (water.claim_id, potato.claim_id)
    async with queue.db.session() as session:
        merged = await session.get(RumorClaim, water.claim_id)
    assert merged.reports == 0  # nothing reached the merged claim


async def test_closed_claims_leave_the_index_and_reopened_ones_return(queue, moderator) -> None:
    water = await queue.submit(WATER, sender_id="u1", channel="wechat")
    potato = await queue.submit(POTATO, sender_id="u2", channel="wechat")
    await triage.set_status(queue.db, moderator, water.claim_id, "rejected")
    await triage.set_status(queue.db, moderator, potato.claim_id, "rejected")
    await triage.set_status(queue.db, moderator, potato.claim_id, "pending")  # reopened
    again = await queue.submit(WATER_AGAIN, sender_id="u3", channel="web")
    assert again.claim_id != water.claim_id
    assert (await queue.submit(POTATO_AGAIN, sender_id="u4", channel="web")).claim_id == (
        potato.claim_id
    )


async def test_a_deleted_claim_still_in_the_index_is_passed_over(queue) -> None:
    from datetime import datetime, timedelta, timezone

    from bot.rumors.reports import purge_expired

    water = await queue.submit(WATER, sender_id="u1", channel="wechat")
    async with queue.db.session() as session:
        await session.execute(
            update(RumorReport).values(created_at=datetime.now(timezone.utc) - timedelta(days=9))
        )
    await purge_expired(queue.db, days=7)  # deletes the report and its emptied claim
    again = await queue.submit(WATER_AGAIN, sender_id="u2", channel="web")
    async with queue.db.session() as session:
        claim = await session.get(RumorClaim, again.claim_id)
    # A claim of its own (on SQLite it may even get the deleted claim's id).
    assert claim.title == WATER_AGAIN and claim.reports == 1
    assert await count(queue, RumorClaim) == 1 and water.claim_id


async def test_an_id_given_again_to_another_claim_is_indexed_with_its_text(
    database_url: str,  # noqa: F811
) -> None:
    from datetime import datetime, timedelta, timezone

    from bot.rumors.reports import purge_expired

    first, second = Database(database_url), Database(database_url)
    await first.migrate()
    try:
        here, there = ReportQueue(first), ReportQueue(second)
        await here.submit(WATER, sender_id="u1", channel="wechat")
        async with first.session() as session:
            old = datetime.now(timezone.utc) - timedelta(days=9)
            await session.execute(update(RumorReport).values(created_at=old))
        await purge_expired(first, days=7)
        potato = await there.submit(POTATO, sender_id="u2", channel="wechat")  # SQLite: id 1
        assert (await here.submit(POTATO_AGAIN, sender_id="u3", channel="web")).claim_id == (
            potato.claim_id
        )
        water = await here.submit(WATER_AGAIN, sender_id="u4", channel="web")
        assert water.claim_id != potato.claim_id
    finally:
        await first.close()
        await second.close()


async def test_reports_arriving_together_are_all_counted(queue) -> None:
    # Verified senders (WeCom) each count: web senders without a history would
    # count once together (bot.rumors.reporters, tests/security/test_reporter_flood.py).
    first = await queue.submit(WATER, sender_id="u0", channel="wechat")
    receipts = await asyncio.gather(
        *(
            queue.submit(f"{WATER_AGAIN} 第{i}次", sender_id=f"u{i % 5}", channel="wecom")
            for i in range(10)
        )
    )
    assert {r.claim_id for r in receipts} == {first.claim_id}
    async with queue.db.session() as session:
        claim = await session.get(RumorClaim, first.claim_id)
    assert claim.reports == 11 and claim.reporters == 5  # u0 reported twice
    assert claim.channels == ["wechat", "wecom"]


async def test_masking_and_matching_run_off_the_event_loop(queue, monkeypatch) -> None:
    threads: list[str] = []
    original = reports._masked_matches

    def spy(index, text):
        threads.append(threading.current_thread().name)
        return original(index, text)

    monkeypatch.setattr(reports, "_masked_matches", spy)
    await queue.submit(WATER, sender_id="u1", channel="wechat")
    assert threads and threads[0] != threading.main_thread().name
