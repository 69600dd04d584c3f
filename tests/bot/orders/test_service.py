"""Service orders in the database, on SQLite and PostgreSQL: placing, dispatching,
serving, rating; the audit trail, the phone's access control, owed notices."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from bot.accounts.access import Actor
from bot.accounts.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from bot.orders import help_queue
from bot.orders.notices import take_notices
from bot.orders.service import (
    act,
    add_volunteer,
    awaiting_rating,
    cancel_by_resident,
    expire_overdue,
    list_orders,
    order_detail,
    orders_of,
    place_order,
    rate,
    serves_town,
    suggest,
    verify_volunteer,
)
from bot.storage.models import OrderEvent, ServiceHours, ServiceOrder, Volunteer, utcnow

DISPATCHER = Actor(1, "mod", "moderator")
ADMIN = Actor(2, "admin", "admin")
EXPERT = Actor(3, "expert", "expert")
WANG = Actor(4, "wang", "volunteer")
LI = Actor(5, "li", "volunteer")
PHONE = "13812345678"


async def volunteers(db) -> None:
    await add_volunteer(
        db,
        "王小红",
        code="LP-001",
        skills=["phone_help", "防骗讲解"],
        towns=["礼让镇", "云龙"],
        console_user="wang",
        checked_document="身份证",
        checked_by="admin",
    )
    await add_volunteer(
        db, "李明", code="LP-002", skills=["phone_help"], towns=["礼让镇"], console_user="li"
    )


async def order(db, sender: str = "resident-1", key: str = "m1", **kw) -> str:
    fields = dict(
        service="phone_help",
        town="礼让镇",
        village="川西村",
        convenient_time="明天下午",
        phone=PHONE,
    )
    fields.update(kw)
    receipt = await place_order(db, sender_id=sender, channel="rest", key=key, **fields)
    return receipt.public_id


async def events(db, public_id: str) -> list[tuple[str, str]]:
    async with db.session() as session:
        rows = await session.execute(
            select(OrderEvent.action, OrderEvent.to_state)
            .join(ServiceOrder, ServiceOrder.id == OrderEvent.order_id)
            .where(ServiceOrder.public_id == public_id)
            .order_by(OrderEvent.id)
        )
        return [tuple(r) for r in rows]


async def test_an_order_goes_from_placing_to_rating(migrated_db) -> None:
    db = migrated_db
    await volunteers(db)
    pid = await order(db)
    assert pid.startswith("D-") and len(pid) == 10
    assert (await order(db)) == pid  # the same message again: one order
    await act(db, DISPATCHER, pid, "approve")
    await act(db, DISPATCHER, pid, "assign", volunteer_code="LP-001")
    view = await act(db, WANG, pid, "accept")
    assert view.state == "accepted" and view.phone == PHONE and view.phone_visible
    # Told once, on the resident's next message: who comes and the code to ask for.
    first, *rest = await take_notices(db, "resident-1")
    assert rest == [] and await take_notices(db, "resident-1") == []
    assert "王小红" in first and "LP-001" in first and "对上了再开门" in first
    async with db.session() as session:
        code = (
            await session.execute(
                select(ServiceOrder.verify_code).where(ServiceOrder.public_id == pid)
            )
        ).scalar_one()
    assert code in first and len(code) == 4 and code.isdigit()
    await act(db, WANG, pid, "start")
    wrong = "0000" if code != "0000" else "1111"
    with pytest.raises(InvalidInput, match="核验码"):
        await act(db, WANG, pid, "complete", verify_code=wrong)
    done = await act(db, WANG, pid, "complete", verify_code=code)
    assert done.state == "done" and done.phone == ""  # the number is erased at the end
    assert "打个分" in (await take_notices(db, "resident-1"))[0]
    assert await awaiting_rating(db, "resident-1") == pid
    await rate(db, "resident-1", pid, 2, "来晚了，电话 13900001111")
    with pytest.raises(InvalidInput, match="评价过"):
        await rate(db, "resident-1", pid, 5)
    detail = await order_detail(db, ADMIN, pid)
    assert detail.rating.score == 2 and "13900001111" not in detail.rating.comment
    assert await events(db, pid) == [
        ("create", "review"),
        ("approve", "open"),
        ("assign", "assigned"),
        ("accept", "accepted"),
        ("start", "in_service"),
        ("complete", "done"),
    ]
    async with db.session() as session:
        hours = (await session.execute(select(func.sum(ServiceHours.minutes)))).scalar_one()
        served = (
            await session.execute(
                select(Volunteer.minutes_served).where(Volunteer.code == "LP-001")
            )
        ).scalar_one()
    assert hours == served == 60


async def test_the_phone_is_shown_only_to_the_volunteer_who_accepted(migrated_db) -> None:
    db = migrated_db
    await volunteers(db)
    pid = await order(db)
    await act(db, DISPATCHER, pid, "approve")
    assert (await order_detail(db, DISPATCHER, pid)).order.phone == "[手机号]"
    await act(db, DISPATCHER, pid, "assign", volunteer_code="LP-001")
    assert (await order_detail(db, WANG, pid)).order.phone == "[手机号]"  # not before accepting
    await act(db, WANG, pid, "accept")
    assert (await order_detail(db, WANG, pid)).order.phone == PHONE
    assert (await order_detail(db, ADMIN, pid)).order.phone == "[手机号]"
    with pytest.raises(NotFound):
        await order_detail(db, LI, pid)  # not theirs
    page = await list_orders(db, LI)
    assert page.total == 0
    # Nothing else in the database holds the number.
    async with db.session() as session:
        for table in ("order_events", "audit_log", "volunteers"):
            rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
            assert PHONE not in repr(rows)


async def test_decline_redispatches_to_someone_else(migrated_db) -> None:
    db = migrated_db
    await volunteers(db)
    await verify_volunteer(db, "LP-002", document="户口簿", checked_by="admin")
    pid = await order(db)
    await act(db, DISPATCHER, pid, "approve")
    await act(db, DISPATCHER, pid, "assign", volunteer_code="LP-001")
    with pytest.raises(InvalidInput, match="原因"):
        await act(db, WANG, pid, "decline")
    back = await act(db, WANG, pid, "decline", reason="那天要去县城")
    assert back.state == "open" and back.volunteer is None
    names = [s.volunteer.code for s in await suggest(db, DISPATCHER, pid)]
    assert names == ["LP-002"]  # who declined is not suggested again
    with pytest.raises(InvalidTransition, match="拒过"):
        await act(db, DISPATCHER, pid, "assign", volunteer_code="LP-001")
    await act(db, DISPATCHER, pid, "assign", volunteer_code="LP-002")
    with pytest.raises(InvalidTransition, match="只有接这单的志愿者"):
        await act(db, WANG, pid, "accept")


async def test_unverified_volunteers_get_no_home_visits(migrated_db) -> None:
    db = migrated_db
    await volunteers(db)
    pid = await order(db)
    await act(db, DISPATCHER, pid, "approve")
    assert [s.volunteer.code for s in await suggest(db, DISPATCHER, pid)] == ["LP-001"]
    with pytest.raises(Forbidden, match="核验身份"):
        await act(db, DISPATCHER, pid, "assign", volunteer_code="LP-002")
    talk = await order(db, key="m2", service="anti_fraud")  # no home visit: both may go
    await act(db, DISPATCHER, talk, "approve")
    assert len(await suggest(db, DISPATCHER, talk)) == 2


async def test_roles(migrated_db) -> None:
    db = migrated_db
    await volunteers(db)
    pid = await order(db)
    with pytest.raises(Forbidden):
        await list_orders(db, EXPERT)
    with pytest.raises(NotFound):  # another's order does not exist for a volunteer
        await act(db, WANG, pid, "approve")
    await act(db, DISPATCHER, pid, "approve")
    await act(db, DISPATCHER, pid, "assign", volunteer_code="LP-001")
    with pytest.raises(Forbidden):  # their own, but dispatching is not theirs to do
        await act(db, WANG, pid, "recall")
    with pytest.raises(InvalidInput):
        await act(db, DISPATCHER, pid, "create")


async def test_the_queue_puts_emergencies_then_timeouts_then_the_oldest_first(migrated_db) -> None:
    db = migrated_db
    await volunteers(db)
    now = utcnow()
    old = await order(db, key="a")
    timed_out = await order(db, key="b")
    urgent = await order(db, key="c", urgent=True)
    for pid in (old, timed_out, urgent):
        await act(db, DISPATCHER, pid, "approve")
    await act(db, DISPATCHER, timed_out, "assign", volunteer_code="LP-001")
    assert await expire_overdue(db, now=now + timedelta(hours=23)) == []
    assert await expire_overdue(db, now=now + timedelta(hours=25)) == [timed_out]
    page = await list_orders(db, DISPATCHER, states=("review", "open"))
    assert [o.id for o in page.items] == [urgent, timed_out, old]
    assert page.items[1].flagged
    assert ("expire", "open") in await events(db, timed_out)


async def test_the_resident_sees_and_cancels_their_orders(migrated_db) -> None:
    db = migrated_db
    await volunteers(db)
    pid = await order(db)
    await order(db, sender="someone-else", key="x")
    mine = await orders_of(db, "resident-1")
    assert [o.id for o in mine] == [pid] and mine[0].phone == "[手机号]"
    with pytest.raises(NotFound):
        await cancel_by_resident(db, "someone-else", pid)
    assert (await cancel_by_resident(db, "resident-1", pid)).state == "cancelled"
    assert await take_notices(db, "resident-1") == []  # they cancelled it themselves
    with pytest.raises(InvalidTransition):
        await cancel_by_resident(db, "resident-1", pid)


async def test_a_dispatcher_cancellation_is_told_to_the_resident(migrated_db) -> None:
    db = migrated_db
    pid = await order(db)
    await act(db, DISPATCHER, pid, "cancel", reason="已电话联系，居民说不需要了")
    (notice,) = await take_notices(db, "resident-1")
    assert pid in notice and "不需要了" in notice
    async with db.session() as session:
        row = (
            await session.execute(select(ServiceOrder).where(ServiceOrder.public_id == pid))
        ).scalar_one()
    assert row.phone is None and row.recipient is None


async def test_bad_input_is_refused(migrated_db) -> None:
    db = migrated_db
    with pytest.raises(InvalidInput, match="电话"):
        await order(db, phone="123")
    with pytest.raises(InvalidInput, match="镇街"):
        await order(db, town="北京")
    with pytest.raises(InvalidInput, match="证件类型"):
        await add_volunteer(
            db,
            "张三",
            skills=["phone_help"],
            towns=["礼让镇"],
            checked_document="500228199001011234",
            checked_by="admin",
        )
    with pytest.raises(InvalidInput, match="服务"):
        await add_volunteer(db, "张三", skills=["开挖掘机"], towns=["礼让镇"])
    generated = await add_volunteer(db, "张三", skills=["phone_help"], towns=["礼让"])
    assert generated.code.startswith("LP") and generated.towns == ("礼让镇",)


async def test_concurrent_notices_are_said_once(migrated_db) -> None:
    db = migrated_db
    await volunteers(db)
    pid = await order(db)
    await act(db, DISPATCHER, pid, "approve")
    await act(db, DISPATCHER, pid, "assign", volunteer_code="LP-001")
    await act(db, WANG, pid, "accept")
    results = await asyncio.gather(*(take_notices(db, "resident-1") for _ in range(4)))
    assert sum(len(r) for r in results) == 1


async def test_help_requests_stay_unhandled_until_marked(migrated_db) -> None:
    from bot.handoff.hotlines import handoff_reply, record_request

    db = migrated_db
    for said in ("想找人问社保", "我爸晕倒了 电话13812345678"):
        _, hotlines = handoff_reply(said)
        await record_request(db, "u1", "rest", said, hotlines)
    page = await help_queue.queue(db, DISPATCHER, "help")
    assert page.unhandled == 2 and page.items[0].urgent and "晕倒" in page.items[0].text
    assert PHONE not in page.items[0].text
    with pytest.raises(Forbidden):
        await help_queue.queue(db, EXPERT, "help")
    await help_queue.mark_handled(db, DISPATCHER, "help", page.items[0].id, "已打电话")
    await help_queue.mark_handled(db, DISPATCHER, "help", page.items[0].id, "再点一次")
    assert (await help_queue.queue(db, DISPATCHER, "help")).unhandled == 1
    handled = await help_queue.queue(db, DISPATCHER, "help", handled=True)
    assert [i.handled_by for i in handled.items] == ["mod"] and handled.items[0].note == "已打电话"
    with pytest.raises(NotFound):
        await help_queue.mark_handled(db, DISPATCHER, "question", 999)


async def test_unanswered_questions_have_their_own_queue(migrated_db) -> None:
    from bot.storage.models import UnansweredQuestion

    db = migrated_db
    async with db.session() as session:
        session.add(UnansweredQuestion(sender_hash="h", channel="rest", text="柚子树叶子发黄咋办"))
    page = await help_queue.queue(db, DISPATCHER, "question")
    assert [i.text for i in page.items] == ["柚子树叶子发黄咋办"] and not page.items[0].urgent
    await help_queue.mark_handled(db, DISPATCHER, "question", page.items[0].id, "已写进知识库")
    assert (await help_queue.queue(db, DISPATCHER, "question")).unhandled == 0
    assert (await help_queue.queue(db, DISPATCHER, "help")).total == 0  # kinds stay apart
    with pytest.raises(InvalidInput):
        await help_queue.queue(db, DISPATCHER, "gossip")


async def test_suggestions_put_who_serves_the_town_first_and_read_no_further(
    migrated_db,
) -> None:
    db = migrated_db
    for code, towns in (("LP-010", ["云龙镇"]), ("LP-011", ["礼让镇", "云龙镇"]), ("LP-012", [])):
        await add_volunteer(
            db,
            "志愿者",
            code=code,
            skills=["phone_help"],
            towns=towns or ["屏锦镇"],
            checked_document="身份证",
            checked_by="admin",
        )
    pid = await order(db, town="礼让镇")
    await act(db, DISPATCHER, pid, "approve")
    one = await suggest(db, DISPATCHER, pid, limit=1)
    assert [(s.volunteer.code, s.skill, s.town) for s in one] == [("LP-011", True, True)]
    three = [s.volunteer.code for s in await suggest(db, DISPATCHER, pid, limit=3)]
    assert three[0] == "LP-011" and sorted(three[1:]) == ["LP-010", "LP-012"]
    # the SQL that narrows the reading finds exactly who serves a town
    async with db.session() as session:
        for town, codes in (("礼让镇", ["LP-011"]), ("云龙镇", ["LP-010", "LP-011"]), ("屏锦", [])):
            rows = await session.execute(
                select(Volunteer.code).where(serves_town(town)).order_by(Volunteer.code)
            )
            assert list(rows.scalars()) == codes, town


async def test_with_too_few_skilled_the_others_come_by_town_then_by_load(migrated_db) -> None:
    db = migrated_db
    # One volunteer has the skill; four others do not: two serve the town, one
    # of them busy with an order; two serve elsewhere.
    for code, skills, towns in (
        ("LP-020", ["anti_fraud"], ["屏锦镇"]),
        ("LP-021", ["phone_help"], ["礼让镇"]),
        ("LP-022", ["phone_help"], ["礼让镇"]),
        ("LP-023", ["phone_help"], ["屏锦镇"]),
        ("LP-024", ["phone_help"], ["云龙镇"]),
    ):
        await add_volunteer(
            db,
            "志愿者",
            code=code,
            skills=skills,
            towns=towns,
            checked_document="身份证",
            checked_by="admin",
        )
    busy = await order(db, key="busy", town="礼让镇")
    await act(db, DISPATCHER, busy, "approve")
    await act(db, DISPATCHER, busy, "assign", volunteer_code="LP-021")
    pid = await order(db, key="talk", service="anti_fraud", town="礼让镇")
    await act(db, DISPATCHER, pid, "approve")
    shown = await suggest(db, DISPATCHER, pid, limit=3)
    assert [(s.volunteer.code, s.skill, s.town, s.load) for s in shown] == [
        ("LP-020", True, False, 0),
        ("LP-022", False, True, 0),  # serves the town, nothing held
        ("LP-021", False, True, 1),  # serves the town, one order held
    ]
