"""The chat side of service orders: reading what residents say, the texts, the
NLU move gate's order moves, and the helpers the actions call (on SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.accounts.access import Actor
from bot.handoff.hotlines import ALL_NUMBERS, handoff_reply, is_urgent, record_request
from bot.orders import catalogue, help_queue
from bot.orders.chat import (
    asks_my_orders,
    asks_to_cancel,
    asks_to_order,
    contact_within,
    is_cancel,
    is_goodbye,
    link_help_requests,
    order_number,
    orders_text,
    rating_due,
    read_phone,
    read_rating,
    read_service,
    read_time,
    read_town,
    read_village,
    receipt_text,
    resident_orders,
    service_named,
    sounds_like_rating,
    town_named,
    town_question,
    volunteer_offer,
)
from bot.orders.notices import owed_notices
from bot.orders.service import act, add_volunteer, place_order
from bot.storage.models import HandledMark, utcnow

DISPATCHER = Actor(1, "mod", "moderator")
WANG = Actor(4, "wang", "volunteer")


@pytest.mark.parametrize(
    "text",
    ["取消", "算了", "不要了", "不约了", "算了算了", "那就算了吧", "不预约了", "取消预约", "退出"],
)
def test_cancel_words_leave_the_form(text: str) -> None:
    assert is_cancel(text)


@pytest.mark.parametrize("text", ["川西村", "明天上午", "没有", "不知道哪天", "取消了的那个村", ""])
def test_answers_are_not_cancel_words(text: str) -> None:
    assert not is_cancel(text)


@pytest.mark.parametrize(
    "reply, key",
    [
        ("1", "phone_help"),
        ("第三个", "health"),
        ("四", "farming"),
        ("防骗讲解", "anti_fraud"),
        ("教我用微信", "phone_help"),
        ("陪我去医院", "health"),
        ("其他", "other"),
        ("phone_help", "phone_help"),  # a pre-filled key is re-validated as is
        ("6", None),
        ("随便", None),
    ],
)
def test_the_service_by_number_words_or_key(reply: str, key: str | None) -> None:
    assert read_service(reply) == key


def test_a_number_in_a_request_names_no_service() -> None:
    assert service_named("想请人上门教我用手机") == "phone_help"
    assert service_named("能不能来个人帮我弄下养老金认证") == "phone_help"
    assert service_named("1") is None  # "1" answered an offer, it is no service
    assert service_named("找人帮忙") is None


@pytest.mark.parametrize(
    "reply, town",
    [
        ("礼让镇", "礼让镇"),
        ("礼让", "礼让镇"),
        ("我是双桂街道的", "双桂街道"),
        ("云农", "云龙镇"),  # typed as heard
        ("印平", "荫平镇"),
    ],
)
def test_towns_with_typos_and_dialect(reply: str, town: str) -> None:
    assert read_town(reply) == (town, [])


def test_an_unknown_town_has_no_candidates_and_a_number_picks_from_choices() -> None:
    assert read_town("北京") == (None, [])
    assert read_town("2", ["云龙镇", "回龙镇"]) == ("回龙镇", [])
    assert read_town("5", ["云龙镇", "回龙镇"]) == (None, ["云龙镇", "回龙镇"])


def test_the_town_question_gets_more_helpful() -> None:
    first, second, third = (town_question(n, []) for n in (0, 1, 2))
    assert "哪个镇或街道" in first and "再说一遍" in second
    assert "屏锦镇" in third and "屏锦镇" not in second  # the whole list, third time only
    assert town_question(0, ["云龙镇", "回龙镇"]).splitlines()[1:] == ["1 云龙镇", "2 回龙镇"]


def test_town_prefill_only_by_full_name() -> None:
    assert town_named("我是礼让镇的，想请人上门教我用手机") == "礼让镇"
    assert town_named("没文化，想请人教我用手机") is None  # 文化镇 is not named


def test_goodbye_while_asked_when() -> None:
    assert is_goodbye("拜拜") and is_goodbye("好，再见") and not is_goodbye("明天上午")
    assert read_time("拜拜") is None and read_time("明天再说") == "明天再说"


def test_village_time_and_phone() -> None:
    assert read_village("礼让镇川西村", "礼让镇") == "川西村"
    assert read_village("  和平社区。") == "和平社区"
    assert read_village("，，") is None and read_village("x" * 41) is None
    assert read_time("明天上午") == "明天上午" and read_time("") is None
    assert read_phone("138 1234 5678") == "13812345678"
    assert read_phone("幺三八幺二三四五六七八") == "13812345678"
    assert read_phone("023-53221234") == "02353221234"
    assert read_phone("1381234") is not None  # a 7-digit landline without area code
    assert read_phone("12345") is None and read_phone("明天") is None


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("5", (5, "")),
        ("5分", (5, "")),
        ("五星", (5, "")),
        ("打3分", (3, "")),
        ("4 来得有点晚", (4, "来得有点晚")),
        ("2，没教会", (2, "没教会")),
        ("5分很满意", (5, "很满意")),
        ("3个月的宝宝能吃盐吗", None),
        ("12", None),
        ("6", None),
        ("5分钟以后再说", None),
    ],
)
def test_rating_replies(reply: str, expected: tuple[int, str] | None) -> None:
    assert read_rating(reply) == expected


def test_what_the_gate_reads_as_a_rating() -> None:
    assert sounds_like_rating("4 来得有点晚") and sounds_like_rating("5分")
    assert not sounds_like_rating("1 我想问下微信红包")  # a question, not a rating
    assert not sounds_like_rating("3 防骗")


def test_cues() -> None:
    assert asks_to_order("预约志愿者") and asks_to_order("想请人上门教我用手机")
    assert asks_to_order("我要预约") and not asks_to_order("预约挂号怎么弄")
    assert asks_to_order("能不能来个人帮我弄下养老金认证")
    assert not asks_to_order("找个人来帮我弄一下手机")  # a hand-off: recorded, then booked
    assert asks_my_orders("我的预约") and asks_my_orders("预约的怎么样了")
    assert asks_my_orders("d-abcd2345 怎么样了") and not asks_my_orders("我的举报")
    assert asks_to_cancel("取消预约 D-ABCD2345") and not asks_to_cancel("取消")
    assert order_number("取消 d-abcd2345") == "D-ABCD2345" and order_number("取消") is None


def test_who_is_offered_a_volunteer() -> None:
    assert volunteer_offer("我爸晕倒了") is None  # 120, nothing else
    assert volunteer_offer("我要报警") is None  # 110 first
    plain = volunteer_offer("找人帮忙")
    assert plain is not None and not plain.visit and plain.service is None
    visit = volunteer_offer("有莫得人能到我屋头来帮我弄一哈手机")
    assert visit is not None and visit.visit and visit.service == "phone_help"
    # The understanding step hands over canonical text: 屋头 has become 家里.
    assert volunteer_offer("有没有人能到我家里来帮我弄一哈").visit
    assert volunteer_offer("喊个人来跟我说").visit is False  # a person to talk to


def test_contact_time_and_receipt() -> None:
    assert contact_within(24) == "24 小时" and contact_within(12) == "12 小时"
    assert contact_within(48) == "2 天"
    text = receipt_text(
        "D-ABCD2345", 24, "phone_help", "礼让镇", "川西村", "明天上午", "13812345678"
    )
    assert "D-ABCD2345" in text and "我们会在 24 小时内联系您" in text
    assert "5678" in text and "13812345678" not in text


def test_every_service_promises_a_contact_time() -> None:
    assert all(s.contact_hours > 0 for s in catalogue.services())


def test_generic_help_is_not_urgent() -> None:
    assert not is_urgent(ALL_NUMBERS)
    assert is_urgent("120") and is_urgent("110,96110") and not is_urgent("12345")


# ---------------------------------------------------------------------------
# The move gate


def test_the_gate_routes_order_moves() -> None:
    pytest.importorskip("rasa")
    from bot.nlu.moves import gate

    assert gate("预约志愿者", "handoff") == "order_service"
    assert gate("想请人上门教我用手机", "free_text") == "order_service"
    assert gate("想请人上门教我用手机", "order_service") is None
    assert gate("我的预约", "free_text") == "my_orders"
    assert gate("取消预约", "deny") == "cancel_order"
    assert gate("4 来得有点晚", "free_text") == "choose_option"
    # DIET's guess without the words for it does not stand.
    assert gate("高血压吃什么好", "order_service") == "free_text"
    assert gate("找个人来", "order_service") == "handoff"
    assert gate("取消", "cancel_order") == "deny"
    # A rumour or a scam told is no order.
    assert gate("听说志愿者上门服务要收钱", "free_text") is None
    assert gate("有人自称志愿者上门要帮我认证养老金", "free_text") is None


# ---------------------------------------------------------------------------
# With the database


async def _order(db, sender: str, key: str) -> str:
    receipt = await place_order(
        db,
        sender_id=sender,
        channel="rest",
        service="phone_help",
        town="礼让镇",
        village="川西村",
        convenient_time="明天上午",
        phone="13812345678",
        key=key,
    )
    return receipt.public_id


async def _accepted(db, sender: str, key: str) -> str:
    await add_volunteer(
        db,
        "王小红",
        code=f"LP-{key}",
        skills=["phone_help"],
        towns=["礼让镇"],
        console_user="wang",
        checked_document="身份证",
        checked_by="admin",
    )
    pid = await _order(db, sender, key)
    await act(db, DISPATCHER, pid, "approve")
    await act(db, DISPATCHER, pid, "assign", volunteer_code=f"LP-{key}")
    await act(db, WANG, pid, "accept")
    return pid


async def test_resident_orders_in_plain_words_with_the_code(migrated_db) -> None:
    db = migrated_db
    first = await _order(db, "r1", "a")
    second = await _accepted(db, "r1", "b")
    orders = await resident_orders(db, "r1")
    assert [o.public_id for o in orders] == [second, first]
    assert "王小红" in orders[0].words and "核验码" in orders[0].words
    assert orders[1].words == "已收到，工作人员正在审核"
    text = orders_text(orders)
    assert "1. " + second in text and "取消预约" in text
    assert await resident_orders(db, "someone else") == []
    assert "还没有预约" in orders_text([])


async def test_the_rating_is_due_only_right_after_the_question(migrated_db) -> None:
    db = migrated_db
    pid = await _accepted(db, "r2", "c")
    code = await _code(db, pid)
    (accepted,) = await owed_notices(db, "r2")
    assert "王小红" in accepted and code in accepted and "对上了再开门" in accepted
    await act(db, WANG, pid, "start")
    await act(db, WANG, pid, "complete", verify_code=code)
    before = utcnow() - timedelta(seconds=5)
    assert await rating_due(db, "r2", before) is None  # not asked yet
    (question,) = await owed_notices(db, "r2")
    assert "打个分" in question and pid in question
    assert await owed_notices(db, "r2") == []  # said once
    assert await rating_due(db, "r2", before) == pid
    assert await rating_due(db, "r2", None) == pid
    # The resident said something else after the question: a digit now is no rating.
    assert await rating_due(db, "r2", utcnow() + timedelta(seconds=5)) == pid  # same turn
    assert await rating_due(db, "r2", utcnow() + timedelta(minutes=2)) is None
    assert await rating_due(db, "r3", None) is None


async def _code(db, pid: str) -> str:
    from bot.storage.models import ServiceOrder

    async with db.session() as session:
        query = select(ServiceOrder.verify_code).where(ServiceOrder.public_id == pid)
        return (await session.execute(query)).scalar_one()


async def test_a_help_request_that_became_an_order_is_marked_handled(migrated_db) -> None:
    db = migrated_db
    for text in ("找人帮忙", "我爸晕倒了"):
        await record_request(db, "r4", "rest", text, handoff_reply(text)[1])
    await record_request(db, "r5", "rest", "找人帮忙", handoff_reply("找人帮忙")[1])
    pid = await _order(db, "r4", "d")
    assert await link_help_requests(db, "r4", pid) == 1
    assert await link_help_requests(db, "r4", pid) == 0  # once
    page = await help_queue.queue(db, DISPATCHER, "help", handled=None)
    handled = [i for i in page.items if i.handled]
    assert [(i.text, i.note, i.handled_by) for i in handled] == [
        ("找人帮忙", f"已转为预约 {pid}", "系统")
    ]
    # The emergency and the other sender's request stay, the emergency first.
    unhandled = [i for i in page.items if not i.handled]
    assert [i.text for i in unhandled] == ["我爸晕倒了", "找人帮忙"]
    assert unhandled[0].urgent and not unhandled[1].urgent
    async with db.session() as session:
        assert len((await session.execute(select(HandledMark))).scalars().all()) == 1


async def test_generic_help_requests_are_not_queued_as_emergencies(migrated_db) -> None:
    db = migrated_db
    await record_request(db, "r6", "rest", "7", handoff_reply("7")[1])
    await record_request(db, "r6", "rest", "想找人问社保", handoff_reply("想找人问社保")[1])
    await record_request(db, "r6", "rest", "快叫救护车", handoff_reply("快叫救护车")[1])
    page = await help_queue.queue(db, DISPATCHER, "help")
    assert [(i.text, i.urgent) for i in page.items] == [
        ("快叫救护车", True),
        ("7", False),
        ("想找人问社保", False),
    ]


async def test_owed_notices_never_raise(migrated_db) -> None:
    class Broken:
        def session(self):
            raise OSError("database away")

    assert await owed_notices(Broken(), "r7") == []  # type: ignore[arg-type]
