"""A picture sent while a rumour report is in progress is kept as evidence:
recorded once, its bytes fetched from the platform, attached to the report,
shown to console users only, and deleted with the report."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from bench.wechat_platform import message_xml
from bot.rumors import evidence
from bot.rumors.reports import ReportQueue, purge_expired
from bot.storage.db import Database
from bot.storage.models import ReportEvidence
from bot.wechat import replies
from tests.bot.channels import test_wechat_channel
from tests.bot.channels.assistant import FakeAssistant
from tests.bot.channels.test_wechat_channel import USER

harness_factory = test_wechat_channel.harness_factory  # the fixture, shared

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


class Conversations:
    """Rasa's tracker store as the channel reads it: which form is asking what."""

    def __init__(self) -> None:
        self.step: dict[str, str | None] = {}

    async def retrieve(self, sender: str):
        if sender not in self.step:
            return None
        step = self.step[sender]
        return SimpleNamespace(
            active_loop_name="report_rumor_form" if step else None,
            get_slot=lambda name: step if name == "requested_slot" else None,
        )


@pytest.fixture
def reporting(harness_factory):
    """The WeChat harness, with the conversations the channel reads."""
    conversations = Conversations()
    assistant = FakeAssistant()
    assistant.tracker_store = conversations  # type: ignore[attr-defined]
    return harness_factory(assistant=assistant), conversations


def image(media_id: str, msg_id: int) -> bytes:
    return message_xml(
        "gh_test",
        USER,
        "image",
        PicUrl=f"http://mmbiz.example/{media_id}",
        MediaId=media_id,
        MsgId=msg_id,
    )


async def kept(url: str) -> list[ReportEvidence]:
    db = Database(url)
    try:
        async with db.session() as session:
            return list((await session.execute(select(ReportEvidence))).scalars())
    finally:
        await db.close()


async def wait_for_content(url: str, count: int) -> list[ReportEvidence]:
    for _ in range(100):
        rows = await kept(url)
        if sum(r.content is not None for r in rows) >= count:
            return rows
        await asyncio.sleep(0.05)
    return await kept(url)


async def test_a_picture_during_a_report_is_kept_and_fetched(reporting, sqlite_url) -> None:
    harness, conversations = reporting
    async with harness as h:
        h.sim.media["m-1"] = ("image/png", PNG)
        conversations.step[USER] = "rumor_claim"
        assert h.passive(await h.client.post(image("m-1", 11))) == replies.IMAGE_KEPT_ASK_CLAIM
        # WeChat's retry of the same message is not kept twice
        await h.client.post(image("m-1", 11))
        conversations.step[USER] = "rumor_where"
        h.sim.media["m-2"] = ("image/jpeg", b"\xff\xd8\xff" + b"\0" * 100)
        assert h.passive(await h.client.post(image("m-2", 12))) == replies.IMAGE_KEPT_CONTINUE
        rows = await wait_for_content(sqlite_url, 2)
        assert [(r.media_id, r.content_type) for r in rows] == [
            ("m-1", "image/png"),
            ("m-2", "image/jpeg"),
        ]
        assert rows[0].content == PNG and rows[0].report_id is None
        assert USER not in {r.sender_hash for r in rows}  # the sender only as a pseudonym
        assert h.assistant.received == []  # a picture is not a chat turn


async def test_a_picture_outside_a_report_is_only_acknowledged(reporting, sqlite_url) -> None:
    harness, conversations = reporting
    async with harness as h:
        h.sim.media["m-3"] = ("image/png", PNG)
        conversations.step[USER] = None  # a conversation, but no report open
        assert h.passive(await h.client.post(image("m-3", 13))) == replies.IMAGE_RECEIVED
        assert await kept(sqlite_url) == []


async def test_what_the_platform_will_not_give_is_kept_as_a_link(reporting, sqlite_url) -> None:
    harness, conversations = reporting
    async with harness as h:
        conversations.step[USER] = "rumor_claim"
        h.sim.media["html"] = ("text/html", b"<script>alert(1)</script>")
        await h.client.post(image("gone", 21))  # unknown media id: errcode 40007
        await h.client.post(image("html", 22))  # not a picture
        await asyncio.sleep(0.3)
        rows = await kept(sqlite_url)
        assert {r.media_id: (r.content, r.pic_url) for r in rows} == {
            "gone": (None, "http://mmbiz.example/gone"),
            "html": (None, "http://mmbiz.example/html"),
        }


async def test_the_report_takes_its_senders_recent_pictures(migrated_db) -> None:
    db = migrated_db
    first = await evidence.keep_image(
        db, sender_id="u1", channel="wechat", media_id="a", pic_url="https://x/a"
    )
    assert (
        await evidence.keep_image(db, sender_id="u1", channel="wechat", media_id="a", pic_url=None)
        is None
    )  # once per media id
    other = await evidence.keep_image(
        db, sender_id="u2", channel="wechat", media_id="b", pic_url=None
    )
    assert await evidence.store_content(db, first, PNG, "image/png; charset=binary")
    assert not await evidence.store_content(db, other, b"<html>", "text/html")
    too_big = b"\0" * (evidence.MAX_IMAGE_BYTES + 1)
    assert not await evidence.store_content(db, other, too_big, "image/png")

    receipt = await ReportQueue(db).submit("听说镇上的水被污染了", sender_id="u1", channel="wechat")
    assert await evidence.attach_recent(db, sender_id="u1", report_public_id=receipt.public_id) == 1
    views = await evidence.for_reports(db, [receipt_id := await report_id(db, receipt.public_id)])
    assert [v.id for v in views[receipt_id]] == [first]
    assert await evidence.image(db, first) == (PNG, "image/png")
    assert await evidence.image(db, other) is None  # not attached, no bytes

    # an abandoned picture goes after a day; a report's pictures go with the report
    later = datetime.now(timezone.utc) + timedelta(days=2)
    assert await evidence.purge_unattached(db, now=later) == 1
    assert await purge_expired(db, days=1, now=later) == 1
    assert await kept_rows(db) == 0


async def report_id(db: Database, public_id: str) -> int:
    from bot.storage.models import RumorReport

    async with db.session() as session:
        return (
            await session.execute(select(RumorReport.id).where(RumorReport.public_id == public_id))
        ).scalar_one()


async def kept_rows(db: Database) -> int:
    async with db.session() as session:
        return (await session.execute(select(func.count(ReportEvidence.id)))).scalar_one()
