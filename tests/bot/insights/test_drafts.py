"""Knowledge gaps closed by curators: drafted, published by another person, served."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from bot.accounts.access import Actor
from bot.accounts.errors import Forbidden, InvalidInput, InvalidTransition
from bot.insights import drafts
from bot.knowledge.schema import Entry
from bot.knowledge.store import served_entries, upsert_console_entry
from bot.storage.db import Database
from bot.storage.models import AuditEntry, Feedback

CURATOR = Actor(1, "mod", "moderator")
EXPERT = Actor(2, "expert", "expert")
OTHER_EXPERT = Actor(3, "expert2", "expert")
FORM = {
    "topic": "smartphone",
    "title": "高龄津贴在哪里查",
    "questions": "梁平高龄津贴一个月好多钱\n高龄津贴在哪里查\n高龄津贴怎么申请\n高龄津贴咋个领",
    "answer": "金额和领取办法以当地最新通知为准，可以打 12345 问。",
    "steps": "带上身份证到村（社区）便民服务中心问\n也可以打 12345 问",
    "organisation": "测试机构",  # test data: never served
    "source_title": "测试文件（2026）",
    "url": "",
    "reviewed_on": "2026-12-01",
    "gap_example": "我电话13812345678，梁平高龄津贴一个月好多钱",
}


def form(**changes: str) -> drafts.DraftForm:
    return drafts.DraftForm.parse({**FORM, **changes})


async def test_a_draft_is_published_by_someone_else_and_served(migrated_db: Database) -> None:
    db = migrated_db
    draft_id = await drafts.create(db, CURATOR, form())
    draft = await drafts.get(db, draft_id)
    assert draft.status == "draft" and len(draft.questions) == 4
    assert "13812345678" not in draft.gap_example  # redacted before stored
    with pytest.raises(Forbidden):
        await drafts.approve(db, CURATOR, draft_id)  # a moderator drafts, never publishes
    entry_id = await drafts.approve(db, EXPERT, draft_id)
    assert entry_id == f"phone-gap-{draft_id}"
    served = {e.id: e for e in await served_entries(db)}
    assert served[entry_id].title == "高龄津贴在哪里查" and len(served[entry_id].steps) == 2
    with pytest.raises(InvalidTransition):
        await drafts.approve(db, OTHER_EXPERT, draft_id)  # once
    async with db.session() as session:
        actions = [a for (a,) in (await session.execute(sa.select(AuditEntry.action))).all()]
    assert actions == ["draft_add", "draft_publish"]


async def test_an_expert_does_not_publish_their_own_draft(migrated_db: Database) -> None:
    draft_id = await drafts.create(migrated_db, EXPERT, form())
    with pytest.raises(Forbidden, match="另一位"):
        await drafts.approve(migrated_db, EXPERT, draft_id)
    assert await drafts.approve(migrated_db, OTHER_EXPERT, draft_id)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"questions": "高龄津贴在哪里查\n高龄津贴怎么申请"}, "至少 3 条"),
        ({"questions": "高龄津贴在哪里查\n高龄津贴申请方法\n高龄津贴领取"}, "口语"),
        ({"answer": "打"}, "5 到 300"),
        ({"organisation": ""}, "来源"),
        ({"url": "ftp://example"}, "http"),
        ({"reviewed_on": ""}, "核实日期"),
    ],
)
async def test_what_the_schema_refuses_is_said_in_chinese(
    migrated_db: Database, changes: dict, message: str
) -> None:
    draft_id = await drafts.create(migrated_db, CURATOR, form(**changes))
    with pytest.raises(InvalidInput, match=message):
        await drafts.approve(migrated_db, EXPERT, draft_id)
    assert (await drafts.get(migrated_db, draft_id)).status == "draft"  # nothing lost


async def test_rejected_and_edited_drafts(migrated_db: Database) -> None:
    db = migrated_db
    draft_id = await drafts.create(db, CURATOR, form())
    await drafts.update(db, CURATOR, draft_id, form(title="高龄津贴怎么查"))
    assert (await drafts.get(db, draft_id)).title == "高龄津贴怎么查"
    await drafts.reject(db, EXPERT, draft_id, "和已有条目重复")
    rejected = await drafts.get(db, draft_id)
    assert (rejected.status, rejected.note) == ("rejected", "和已有条目重复")
    with pytest.raises(InvalidTransition):
        await drafts.update(db, CURATOR, draft_id, form())
    with pytest.raises(InvalidInput):
        drafts.DraftForm.parse({**FORM, "topic": "rumor"})  # debunks come from claims
    with pytest.raises(InvalidInput):
        drafts.DraftForm.parse({**FORM, "reviewed_on": "2026-13-01"})


async def test_entries_to_review_again(migrated_db: Database) -> None:
    db = migrated_db
    today = dt.date(2026, 12, 6)
    old = Entry.parse_obj(
        {
            "id": "phone-old",
            "topic": "smartphone",
            "title": "老条目",
            "questions": ["老条目咋个用", "老条目怎么用", "老条目是什么"],
            "answer": "这是一个很久没有核实的条目。",
            "audience": ["all"],
            "source": {"organisation": "测试机构", "title": "测试文件"},
            "reviewed_on": dt.date(2025, 10, 1),
        }
    )
    fresh = old.copy(update={"id": "phone-fresh", "title": "新条目", "reviewed_on": today})
    async with db.session() as session:
        await upsert_console_entry(session, db, old)
        await upsert_console_entry(session, db, fresh)
        for i in range(3):
            session.add(
                Feedback(
                    sender_hash=f"s{i}",
                    channel="wechat",
                    entry_id="phone-fresh",
                    useful=False,
                    created_at=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc),
                )
            )
        session.add(
            Feedback(
                sender_hash="s9",
                channel="wechat",
                entry_id="phone-fresh",
                useful=True,
                created_at=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc),
            )
        )
    review = await drafts.needs_review(db, today)
    assert [(r.entry_id, r.reason[:6]) for r in review] == [
        ("phone-old", "上次核实 2"),
        ("phone-fresh", "近 90 天"),
    ]
