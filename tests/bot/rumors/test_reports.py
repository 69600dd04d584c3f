"""Rumour reports: redacted, stored exactly once, grouped into claims (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import func, select

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
