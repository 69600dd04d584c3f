"""Booking a volunteer in the chat, through the trained model and the real action
server: the form, leaving it, "我的预约", cancelling, the notices the channels
append (``owed_notices``) and the rating reply.

Each test talks as a new sender; orders are read back from the action server's
database.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.conversations.test_dialogue import Chat, stored_rows

pytestmark = pytest.mark.conversation

ORDER_ID = re.compile(r"D-[A-Z2-7]{8}")
SERVICE_PROMPT = "要哪种帮助？回复数字："
TOWN_PROMPT = "哪个镇或街道"
VILLAGE_PROMPT = "哪个村或社区"
TIME_PROMPT = "什么时候方便"
PHONE_PROMPT = "留个电话"
PHONE = "13812345678"
DISPATCHER_NAME = "mod"


@pytest.fixture
def chat(agent) -> Chat:
    return Chat(agent)


@pytest.fixture
async def db(session_var: Path) -> AsyncIterator:
    from bot.storage.db import Database

    database = Database(f"sqlite+aiosqlite:///{session_var / 'kepu.db'}")
    yield database
    await database.close()


async def order_row(db, public_id: str):
    from bot.storage.models import ServiceOrder

    async with db.session() as session:
        query = select(ServiceOrder).where(ServiceOrder.public_id == public_id)
        return (await session.execute(query)).scalar_one()


async def book(chat: Chat, start: str = "预约志愿者") -> str:
    """The whole form from ``start``: returns the order number."""
    assert SERVICE_PROMPT in await chat.say(start)
    assert TOWN_PROMPT in await chat.say("1")
    assert VILLAGE_PROMPT in await chat.say("礼让镇")
    assert TIME_PROMPT in await chat.say("川西村")
    assert PHONE_PROMPT in await chat.say("明天上午")
    receipt = await chat.say(PHONE)
    found = ORDER_ID.search(receipt)
    assert found and "我们会在 24 小时内联系您" in receipt, receipt
    return found.group(0)


async def test_menu_seven_offers_a_volunteer_and_the_form_places_the_order(
    chat: Chat, db, session_var: Path
) -> None:
    from bot.storage.models import HandledMark, HandoffRequest

    help_reply = await chat.say("7")
    assert "12345" in help_reply and "求助已经记下" in help_reply
    assert "想请志愿者上门帮忙，回复 1" in help_reply, help_reply
    questions = await chat.say("1")
    assert SERVICE_PROMPT in questions and "1 上门教用手机" in questions, questions
    assert "取消" in questions  # how to leave, said once at the start
    assert TOWN_PROMPT in await chat.say("1")
    assert VILLAGE_PROMPT in await chat.say("礼让")
    assert TIME_PROMPT in await chat.say("川西村3组")
    assert PHONE_PROMPT in await chat.say("明天上午")
    receipt = await chat.say("138 1234 5678")
    assert "我们会在 24 小时内联系您" in receipt and "尾号 5678" in receipt, receipt
    assert PHONE not in receipt
    public_id = ORDER_ID.search(receipt).group(0)
    order = await order_row(db, public_id)
    assert (order.service, order.town, order.state) == ("phone_help", "礼让镇", "review")
    assert order.village == "川西村[详细地址]"  # redacted, like every text but the phone
    assert order.convenient_time == "明天上午" and order.phone == PHONE
    assert order.recipient == chat.sender
    # The help request "7" became this order: staff see it handled, not twice.
    (request,) = await stored_rows(session_var, HandoffRequest, chat.sender)
    async with db.session() as session:
        mark = (
            await session.execute(
                select(HandledMark).where(
                    HandledMark.kind == "help", HandledMark.item_id == request.id
                )
            )
        ).scalar_one()
    assert mark.note == f"已转为预约 {public_id}"


async def test_words_start_the_form_with_the_service_they_name(chat: Chat, db) -> None:
    reply = await chat.say("想请人上门教我用手机")
    assert "上门教用手机" in reply and TOWN_PROMPT in reply, reply
    assert SERVICE_PROMPT not in reply  # already said
    assert VILLAGE_PROMPT in await chat.say("双桂街道")
    assert TIME_PROMPT in await chat.say("桂香社区")
    assert PHONE_PROMPT in await chat.say("星期六下午")
    receipt = await chat.say(PHONE)
    order = await order_row(db, ORDER_ID.search(receipt).group(0))
    assert (order.service, order.town, order.convenient_time) == (
        "phone_help",
        "双桂街道",
        "星期六下午",
    )


async def test_a_request_for_someone_to_come_is_recorded_and_books_at_once(
    chat: Chat, session_var: Path
) -> None:
    from bot.storage.models import HandoffRequest

    reply = await chat.say("有莫得人能到我屋头来帮我弄一哈手机")
    assert "求助已经记下" in reply and "120" in reply, reply
    assert "12316" not in reply  # one hotline line, not the list, above the booking
    assert "上门教用手机" in reply and TOWN_PROMPT in reply, reply
    assert len(await stored_rows(session_var, HandoffRequest, chat.sender)) == 1


async def test_a_person_for_an_errand_is_booked(chat: Chat) -> None:
    reply = await chat.say("能不能来个人帮我弄下养老金认证")
    assert "上门教用手机" in reply and TOWN_PROMPT in reply, reply


@pytest.mark.parametrize("leave", ["取消", "算了", "不要了"])
async def test_cancel_mid_form_leaves_politely(chat: Chat, session_var: Path, leave: str) -> None:
    from bot.storage.models import ServiceOrder

    assert SERVICE_PROMPT in await chat.say("预约志愿者")
    assert TOWN_PROMPT in await chat.say("2")
    reply = await chat.say(leave)
    assert "不约了" in reply and TOWN_PROMPT not in reply, reply
    assert "手机使用：" in await chat.say("1")  # the form is gone: 1 is the menu again
    assert await stored_rows(session_var, ServiceOrder, chat.sender) == []


async def test_an_unknown_town_is_asked_again_kindly(chat: Chat, db) -> None:
    await chat.say("预约志愿者")
    await chat.say("4")
    again = await chat.say("北京")
    assert "没找到“北京”" in again and "再说一遍" in again, again
    third = await chat.say("火星")
    assert "屏锦镇" in third, third  # the second miss lists the district's towns
    assert VILLAGE_PROMPT in await chat.say("云农")  # typed as heard: 云龙镇
    await chat.say("新华村")
    await chat.say("后天")
    receipt = await chat.say("023-53221234")
    order = await order_row(db, ORDER_ID.search(receipt).group(0))
    assert (order.service, order.town, order.phone) == ("farming", "云龙镇", "02353221234")


async def test_a_bad_phone_number_is_asked_again(chat: Chat, session_var: Path) -> None:
    from bot.storage.models import ServiceOrder

    await chat.say("预约志愿者")
    for reply in ("3", "梁山街道", "人民社区", "明天"):
        await chat.say(reply)
    again = await chat.say("138123")
    assert "号码好像不对" in again and PHONE_PROMPT in again, again
    assert await stored_rows(session_var, ServiceOrder, chat.sender) == []
    assert ORDER_ID.search(await chat.say(PHONE))


async def test_an_emergency_mid_form_gets_120_first(chat: Chat, session_var: Path) -> None:
    from bot.storage.models import HandoffRequest, ServiceOrder

    await chat.say("预约志愿者")
    await chat.say("1")
    reply = await chat.say("我爸晕倒了")
    assert reply.lstrip().startswith("请马上拨打 120"), reply
    assert "志愿者" not in reply.split("\n")[0]
    (request,) = await stored_rows(session_var, HandoffRequest, chat.sender)
    assert request.hotlines.split(",")[0] == "120"
    assert await stored_rows(session_var, ServiceOrder, chat.sender) == []
    assert "手机使用：" in await chat.say("1")  # the form was left


async def test_my_orders_lists_them_and_one_is_cancelled(chat: Chat, db) -> None:
    assert "还没有预约" in await chat.say("我的预约")
    public_id = await book(chat)
    listing = await chat.say("我的预约")
    assert public_id in listing and "正在审核" in listing and "取消预约" in listing, listing
    assert public_id in await chat.say("预约的怎么样了")
    confirm = await chat.say("取消预约")
    assert public_id in confirm and "回复 1 取消，2 不取消" in confirm, confirm
    assert "预约还在" in await chat.say("2")
    assert (await order_row(db, public_id)).state == "review"
    await chat.say("取消预约")
    done = await chat.say("1")
    assert "已取消" in done, done
    order = await order_row(db, public_id)
    assert order.state == "cancelled" and order.phone is None
    assert "已取消" in await chat.say("我的订单")


async def test_cancel_by_number(chat: Chat, db) -> None:
    public_id = await book(chat)
    reply = await chat.say(f"取消预约 {public_id}")
    assert f"预约 {public_id} 已取消" in reply, reply
    assert (await order_row(db, public_id)).state == "cancelled"
    other = Chat(chat.agent)
    assert "没找到这个预约" in await other.say("取消预约 D-AAAAAAAA")


async def test_notices_are_delivered_once_and_the_rating_is_stored(chat: Chat, db) -> None:
    from bot.accounts.access import Actor
    from bot.orders.notices import owed_notices
    from bot.orders.service import act, add_volunteer, low_ratings
    from bot.storage.models import OrderRating

    public_id = await book(chat)
    tag = uuid.uuid4().hex[:8]
    user = f"vol-{tag}"
    await add_volunteer(
        db,
        "王小红",
        code=f"LP-{tag}",
        skills=["phone_help"],
        towns=["礼让镇"],
        console_user=user,
        checked_document="身份证",
        checked_by="张主任",
    )
    dispatcher, volunteer = Actor(1, DISPATCHER_NAME, "moderator"), Actor(2, user, "volunteer")
    await act(db, dispatcher, public_id, "approve")
    await act(db, dispatcher, public_id, "assign", volunteer_code=f"LP-{tag}")
    await act(db, volunteer, public_id, "accept")
    # What the channel appends to the reply to the resident's next message.
    (accepted,) = await owed_notices(db, chat.sender)
    code = (await order_row(db, public_id)).verify_code
    for part in ("王小红", f"LP-{tag}", code, "对上了再开门"):
        assert part in accepted, accepted
    assert await owed_notices(db, chat.sender) == []  # once
    assert code in await chat.say("我的预约")  # forgotten? it is there
    await act(db, volunteer, public_id, "start")
    await act(db, volunteer, public_id, "complete", verify_code=code)
    (question,) = await owed_notices(db, chat.sender)
    assert "回复 1 到 5" in question and "哪里好、哪里不够" in question, question
    assert await owed_notices(db, chat.sender) == []
    thanks = await chat.say("2 来得太晚了")
    assert "2 分" in thanks and "负责人" in thanks, thanks
    order = await order_row(db, public_id)
    async with db.session() as session:
        query = select(OrderRating).where(OrderRating.order_id == order.id)
        rating = (await session.execute(query)).scalar_one()
    assert (rating.score, rating.comment) == (2, "来得太晚了")
    assert (public_id, 2, "来得太晚了") in await low_ratings(db, Actor(3, "admin", "admin"))
    # Rated once: a later "5" is the menu's 5 again.
    assert "复制粘贴" in await chat.say("5")


async def test_a_digit_long_after_the_rating_question_is_a_menu_choice(chat: Chat, db) -> None:
    from bot.accounts.access import Actor
    from bot.orders.notices import owed_notices
    from bot.orders.service import act, add_volunteer
    from bot.storage.models import OrderRating, ServiceOrder, utcnow

    public_id = await book(chat)
    tag = uuid.uuid4().hex[:8]
    await add_volunteer(
        db,
        "李明",
        code=f"LP-{tag}",
        skills=["phone_help"],
        towns=["礼让镇"],
        console_user=f"vol-{tag}",
        checked_document="身份证",
        checked_by="张主任",
    )
    dispatcher, volunteer = (
        Actor(1, DISPATCHER_NAME, "moderator"),
        Actor(2, f"vol-{tag}", "volunteer"),
    )
    await act(db, dispatcher, public_id, "approve")
    await act(db, dispatcher, public_id, "assign", volunteer_code=f"LP-{tag}")
    await act(db, volunteer, public_id, "accept")
    code = (await order_row(db, public_id)).verify_code
    await act(db, volunteer, public_id, "start")
    await act(db, volunteer, public_id, "complete", verify_code=code)
    assert "打个分" in (await owed_notices(db, chat.sender))[0]
    # The question was said a while ago, and the resident has said something else since.
    async with db.session() as session:
        await session.execute(
            update(ServiceOrder)
            .where(ServiceOrder.public_id == public_id)
            .values(updated_at=utcnow() - timedelta(minutes=5))
        )
    await chat.say("你好")
    assert "防骗：" in await chat.say("3")  # the menu, not a rating of 3
    async with db.session() as session:
        order_id = (
            await session.execute(
                select(ServiceOrder.id).where(ServiceOrder.public_id == public_id)
            )
        ).scalar_one()
        rows = (
            await session.execute(select(OrderRating).where(OrderRating.order_id == order_id))
        ).all()
    assert rows == []
