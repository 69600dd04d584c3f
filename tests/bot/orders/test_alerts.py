"""Service-order alerts through WeCom (bot/orders/alerts.py), on SQLite and PostgreSQL:
a volunteer hears of an assignment once, is reminded once, admins hear of an urgent
order at once; nothing twice, nothing to anyone without a WeCom account."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.accounts.access import Actor
from bot.orders.alerts import REMIND_AFTER_HOURS, claim_due
from bot.orders.service import ACCEPT_TIMEOUT_HOURS, act, add_volunteer, place_order
from bot.storage.models import utcnow

DISPATCHER = Actor(1, "mod", "moderator")
WANG = Actor(4, "wang", "volunteer")
PHONE = "13812345678"
ADMINS = "zhuren|xiaoliu"


async def volunteers(db) -> None:
    await add_volunteer(
        db,
        "王小红",
        code="LP-001",
        skills=["phone_help"],
        towns=["礼让镇"],
        console_user="wang",
        wecom_user="WangXiaoHong",
        checked_document="身份证",
        checked_by="admin",
    )
    await add_volunteer(  # no WeCom account: the console only
        db,
        "李明",
        code="LP-002",
        skills=["phone_help"],
        towns=["礼让镇"],
        console_user="li",
        checked_document="身份证",
        checked_by="admin",
    )


async def order(db, key: str, *, urgent: bool = False, now=None) -> str:
    receipt = await place_order(
        db,
        sender_id=f"resident-{key}",
        channel="wechat",
        key=key,
        service="phone_help",
        town="礼让镇",
        village="川西村",
        convenient_time="明天下午",
        phone=PHONE,
        urgent=urgent,
        now=now,
    )
    return receipt.public_id


async def dispatched(db, key: str, volunteer: str = "LP-001", now=None) -> str:
    pid = await order(db, key, now=now)
    await act(db, DISPATCHER, pid, "approve", now=now)
    await act(db, DISPATCHER, pid, "assign", volunteer_code=volunteer, now=now)
    return pid


async def test_an_assigned_volunteer_hears_once_and_never_sees_the_phone(migrated_db) -> None:
    db = migrated_db
    await volunteers(db)
    pid = await dispatched(db, "a1")
    alerts = await claim_due(db, public_url="https://kepu.example.cn")
    assert [(a.kind, a.order, a.to) for a in alerts] == [("assigned", pid, "WangXiaoHong")]
    text = alerts[0].text
    assert pid in text and "教用手机" in text and "礼让镇" in text and "明天下午" in text
    assert f"https://kepu.example.cn/console/orders/{pid}" in text
    assert f"{ACCEPT_TIMEOUT_HOURS} 小时内接单" in text
    assert PHONE not in text and PHONE[-4:] not in text
    assert await claim_due(db) == []  # told once


async def test_a_volunteer_without_wecom_gets_nothing(migrated_db) -> None:
    db = migrated_db
    await volunteers(db)
    await dispatched(db, "b1", volunteer="LP-002")
    assert await claim_due(db, alert_users=ADMINS) == []


async def test_one_reminder_after_hours_then_no_more(migrated_db) -> None:
    db = migrated_db
    await volunteers(db)
    start = utcnow() - timedelta(hours=REMIND_AFTER_HOURS + 1)
    pid = await dispatched(db, "c1", now=start)
    first = await claim_due(db, now=start + timedelta(minutes=1))
    assert [a.kind for a in first] == ["assigned"]
    assert await claim_due(db, now=start + timedelta(hours=REMIND_AFTER_HOURS - 1)) == []
    due = start + timedelta(hours=REMIND_AFTER_HOURS + 0.5)
    reminders = await claim_due(db, now=due)
    assert [(a.kind, a.order, a.to) for a in reminders] == [("reminder", pid, "WangXiaoHong")]
    assert "还在等您接单" in reminders[0].text and "只提醒这一次" in reminders[0].text
    # the same day, however often the sweep runs: nothing more
    for minutes in (1, 60, 600):
        assert await claim_due(db, now=due + timedelta(minutes=minutes)) == []


async def test_an_accepted_order_is_not_reminded(migrated_db) -> None:
    db = migrated_db
    await volunteers(db)
    start = utcnow() - timedelta(hours=REMIND_AFTER_HOURS + 2)
    pid = await dispatched(db, "d1", now=start)
    await claim_due(db, now=start)
    await act(db, WANG, pid, "accept", now=start + timedelta(hours=1))
    assert await claim_due(db, now=start + timedelta(hours=REMIND_AFTER_HOURS + 1)) == []


async def test_a_new_assignment_is_told_anew(migrated_db) -> None:
    db = migrated_db
    await volunteers(db)
    start = utcnow() - timedelta(hours=2)
    pid = await dispatched(db, "e1", now=start)
    assert [a.kind for a in await claim_due(db, now=start)] == ["assigned"]
    await act(db, DISPATCHER, pid, "recall", now=start + timedelta(minutes=30))
    await act(
        db, DISPATCHER, pid, "assign", volunteer_code="LP-001", now=start + timedelta(hours=1)
    )
    again = await claim_due(db, now=start + timedelta(hours=1, minutes=1))
    assert [(a.kind, a.order) for a in again] == [("assigned", pid)]


async def test_an_urgent_order_alerts_the_admins_at_once_and_once(migrated_db) -> None:
    db = migrated_db
    await volunteers(db)
    urgent = await order(db, "f1", urgent=True)
    await order(db, "f2")  # an ordinary one: no alert
    alerts = await claim_due(db, alert_users=ADMINS)
    assert [(a.kind, a.order, a.to) for a in alerts] == [("urgent", urgent, ADMINS)]
    assert "紧急" in alerts[0].text and "120/110" in alerts[0].text
    assert PHONE not in alerts[0].text
    assert await claim_due(db, alert_users=ADMINS) == []
    # nobody to alert: nothing is claimed, the order stays for when someone is set
    assert await claim_due(db) == []


async def test_concurrent_sweeps_send_each_alert_once(migrated_db) -> None:
    db = migrated_db
    await volunteers(db)
    pids = {await dispatched(db, f"g{i}") for i in range(5)}
    urgent = await order(db, "g-urgent", urgent=True)
    batches = await asyncio.gather(*(claim_due(db, alert_users=ADMINS) for _ in range(4)))
    sent = sorted((a.kind, a.order) for batch in batches for a in batch)
    assert sent == sorted([("assigned", p) for p in pids] + [("urgent", urgent)])
