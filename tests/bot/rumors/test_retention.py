"""The web service's hourly sweep deletes expired reports and abandoned pictures."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update

from bot.rumors import evidence
from bot.rumors.reports import ReportQueue
from bot.rumors.retention import sweep
from bot.storage.db import Database
from bot.storage.models import ReportEvidence, RumorReport


async def test_the_sweep_deletes_what_is_past_its_time(tmp_path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'kepu.db'}")
    await db.migrate()
    queue = ReportQueue(db)
    old = await queue.submit("听说河里的鱼有毒不能吃", sender_id="u1", channel="rest")
    await queue.submit("听说明天要停电一整天", sender_id="u2", channel="rest")
    await evidence.keep_image(db, sender_id="u3", channel="wechat", media_id="m", pic_url=None)
    await evidence.keep_image(db, sender_id="u4", channel="wechat", media_id="n", pic_url=None)
    long_ago = datetime.now(timezone.utc) - timedelta(days=400)
    async with db.session() as session:
        await session.execute(
            update(RumorReport)
            .where(RumorReport.public_id == old.public_id)
            .values(created_at=long_ago)
        )
        await session.execute(
            update(ReportEvidence).where(ReportEvidence.media_id == "m").values(created_at=long_ago)
        )
    task = asyncio.create_task(sweep(db, 365, every=0.05))
    await asyncio.sleep(0.5)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    async with db.session() as session:
        reports = (await session.execute(select(func.count(RumorReport.id)))).scalar_one()
        media = (await session.execute(select(ReportEvidence.media_id))).scalars().all()
    assert reports == 1 and media == ["n"]
    await db.close()


async def test_unanswered_questions_go_with_the_report_retention(tmp_path) -> None:
    from bot.knowledge.service import record_unanswered
    from bot.rumors.retention import purge
    from bot.storage.models import HandledMark, UnansweredQuestion

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'kepu.db'}")
    await db.migrate()
    await record_unanswered(db, "u1", "wechat", "去年问的高龄津贴", None)
    await record_unanswered(db, "u2", "wechat", "今天问的高龄津贴", None)
    long_ago = datetime.now(timezone.utc) - timedelta(days=400)
    async with db.session() as session:
        await session.execute(
            update(UnansweredQuestion)
            .where(UnansweredQuestion.text == "去年问的高龄津贴")
            .values(created_at=long_ago)
        )
        old_id = await session.scalar(
            select(UnansweredQuestion.id).where(UnansweredQuestion.text == "去年问的高龄津贴")
        )
        session.add(HandledMark(kind="question", item_id=old_id, by="mod"))
    await purge(db, 365)
    async with db.session() as session:
        left = (await session.execute(select(UnansweredQuestion.text))).scalars().all()
        marks = await session.scalar(select(func.count()).select_from(HandledMark))
    assert left == ["今天问的高龄津贴"] and marks == 0
    await db.close()


async def test_help_requests_go_with_the_report_retention(tmp_path) -> None:
    from bot.handoff.hotlines import HOTLINES, record_request
    from bot.rumors.retention import purge
    from bot.storage.models import HandledMark, HandoffRequest

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'kepu.db'}")
    await db.migrate()
    await record_request(db, "u1", "wechat", "去年找人帮忙办社保认证", HOTLINES[:1])
    await record_request(db, "u2", "wechat", "今天找人帮忙办社保认证", HOTLINES[:1])
    long_ago = datetime.now(timezone.utc) - timedelta(days=400)
    async with db.session() as session:
        await session.execute(
            update(HandoffRequest)
            .where(HandoffRequest.text == "去年找人帮忙办社保认证")
            .values(created_at=long_ago)
        )
        ids = (await session.execute(select(HandoffRequest.id))).scalars().all()
        for item_id in ids:  # staff marked both handled
            session.add(HandledMark(kind="help", item_id=item_id, by="staff"))
    await purge(db, 365)
    async with db.session() as session:
        left = (await session.execute(select(HandoffRequest.text))).scalars().all()
        marks = (await session.execute(select(HandledMark.item_id))).scalars().all()
    assert left == ["今天找人帮忙办社保认证"] and len(marks) == 1
    await db.close()
