"""Alerts in the console's service (SQLite and PostgreSQL): who may draft, approve,
schedule and cancel; four eyes; personal numbers redacted; every step audited."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.accounts.access import Actor
from bot.accounts.audit import describe
from bot.accounts.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from bot.outreach import console
from bot.outreach.console import AlertForm, send_time
from bot.storage.models import AuditEntry, OutreachAlert

EXPERT = Actor(1, "expert", "expert")
ADMIN = Actor(2, "admin", "admin")
OTHER_ADMIN = Actor(3, "admin2", "admin")
MODERATOR = Actor(4, "mod", "moderator")
TEXT = "最近有人冒充快递客服说要理赔，叫您开屏幕共享，千万别开。"


def form(**fields: str) -> AlertForm:
    return AlertForm.parse({"kind": "fraud", "text": TEXT, **fields})


async def audit_trail(db, alert_id: int) -> list[tuple[str, str, str]]:
    async with db.session() as session:
        rows = await session.execute(
            select(AuditEntry)
            .where(AuditEntry.target == f"alert:{alert_id}")
            .order_by(AuditEntry.id)
        )
        return [(r.actor, r.action, describe(r.action, r.details)) for r in rows.scalars()]


async def test_an_expert_drafts_and_another_admin_approves_and_schedules(migrated_db) -> None:
    db = migrated_db
    alert_id = await console.compose(db, EXPERT, form(text=TEXT + "有事打 13812345678 问张三"))
    alert = await console.get(db, alert_id)
    assert alert.status == "draft" and alert.author == "expert"
    assert "13812345678" not in alert.text and "[手机号]" in alert.text  # redacted
    with pytest.raises(Forbidden):
        await console.approve(db, EXPERT, alert_id)  # only admins approve
    with pytest.raises(Forbidden):
        await console.schedule(db, EXPERT, alert_id, "")
    await console.revise(db, EXPERT, alert_id, form())
    await console.approve(db, ADMIN, alert_id)
    with pytest.raises(InvalidTransition):
        await console.revise(db, EXPERT, alert_id, form(text="改过的"))  # approved is final
    send_at = await console.schedule(db, ADMIN, alert_id, "")
    alert = await console.get(db, alert_id)
    assert alert.status == "scheduled" and alert.approver == "admin" and alert.text == TEXT
    assert abs((alert.send_at - send_at).total_seconds()) < 1
    trail = await audit_trail(db, alert_id)
    assert [a for _, a, _ in trail] == [
        "alert_draft",
        "alert_edit",
        "alert_approve",
        "alert_schedule",
    ]
    assert trail[0][2] == "起草防骗提醒" and trail[3][2].startswith("排期：北京时间")


async def test_nobody_approves_their_own_draft(migrated_db) -> None:
    db = migrated_db
    alert_id = await console.compose(db, ADMIN, form())
    with pytest.raises(Forbidden, match="另一位管理员"):
        await console.approve(db, ADMIN, alert_id)
    await console.approve(db, OTHER_ADMIN, alert_id)
    with pytest.raises(InvalidTransition):
        await console.approve(db, OTHER_ADMIN, alert_id)  # once


async def test_an_admin_who_edited_a_draft_does_not_approve_it(migrated_db) -> None:
    db = migrated_db
    alert_id = await console.compose(db, EXPERT, form())
    await console.revise(db, ADMIN, alert_id, form(text=TEXT + "转发给家里老人。"))
    with pytest.raises(Forbidden, match="改过"):
        await console.approve(db, ADMIN, alert_id)  # the edit is theirs: four eyes
    await console.approve(db, OTHER_ADMIN, alert_id)
    assert (await console.get(db, alert_id)).approver == "admin2"


async def test_roles_and_refusals(migrated_db) -> None:
    db = migrated_db
    with pytest.raises(Forbidden):
        await console.compose(db, MODERATOR, form())
    with pytest.raises(InvalidInput, match="一屏"):
        await console.compose(db, EXPERT, form(text="很长" * 101))
    with pytest.raises(InvalidInput, match="作物"):
        await console.compose(db, EXPERT, form(kind="farm"))
    with pytest.raises(InvalidInput, match="紧急"):
        await console.compose(db, EXPERT, form(kind="digest", urgent="1"))
    with pytest.raises(InvalidInput, match="不存在"):
        await console.compose(db, EXPERT, form(entry_id="no-such-entry"))
    with pytest.raises(InvalidInput, match="类型"):
        AlertForm.parse({"kind": "spam", "text": TEXT})
    with pytest.raises(NotFound):
        await console.approve(db, ADMIN, 999)
    with pytest.raises(InvalidInput, match="紧急"):
        await console.compose(db, EXPERT, form(kind="farm", crop="水稻", urgent="1"))
    farm = await console.compose(db, EXPERT, form(kind="farm", crop="水稻"))
    # An expert drops their own draft; not someone else's.
    other = await console.compose(db, ADMIN, form())
    with pytest.raises(Forbidden):
        await console.cancel(db, EXPERT, other)
    await console.cancel(db, EXPERT, farm)
    assert (await console.get(db, farm)).status == "cancelled"
    await console.cancel(db, ADMIN, other)
    async with db.session() as session:
        statuses = set((await session.execute(select(OutreachAlert.status))).scalars())
    assert statuses == {"cancelled"}


def test_send_times_are_beijing_time() -> None:
    now = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)  # 10:00 in Beijing
    assert send_time("", now) == now
    assert send_time("2026-12-07T18:30", now) == datetime(2026, 12, 7, 10, 30, tzinfo=timezone.utc)
    assert send_time("2026-12-07T09:55", now) == now  # a few minutes ago: now
    with pytest.raises(InvalidInput, match="已经过了"):
        send_time("2026-12-06T18:30", now)
    with pytest.raises(InvalidInput, match="2026-12-07"):
        send_time("明天早上", now)
    assert send_time("2026-12-08T08:00", now) - now == timedelta(hours=22)
