"""Booking a volunteer: starting the form, its questions and their validation,
placing the order (once, the phone number never logged), "我的预约", cancelling,
and the numbered replies that cancel or rate an order (read by
action_choose_option before the menu)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from actions.menu import ActionChooseOption
from actions.orders import (
    FORM_SLOTS,
    HELPER_SLOTS,
    ActionAskOrderService,
    ActionAskOrderTown,
    ActionCancelOrder,
    ActionMyOrders,
    ActionPlaceOrder,
    ActionStartOrder,
    ValidateServiceOrderForm,
)
from bot.orders.chat import NOT_SAVED, STOPPED
from bot.storage.db import sender_hash
from tests.actions.support import SENDER, make_tracker, stamp, user_event

PHONE = "13812345678"
RESET = dict.fromkeys((*FORM_SLOTS, *HELPER_SLOTS))
FILLED = {
    "order_service": "phone_help",
    "order_town": "礼让镇",
    "order_village": "川西村",
    "order_time": "明天上午",
    "order_phone": PHONE,
}
START = "好的，帮您预约志愿者"


# ---------------------------------------------------------------------------
# Starting the form


async def start(act, text: str, **slots: Any):
    return await act(ActionStartOrder(), make_tracker(text, intent="order_service", slots=slots))


async def test_start_clears_an_old_form_and_runs_the_form_next(act) -> None:
    said = await start(act, "预约志愿者")
    assert said.texts == [f"{START}。问您几句话，不约了，随时回复“取消”。"]
    assert said.customs == [{"decision": "order_start"}]
    assert said.slots == {**RESET, "pending_options": None}
    assert said.followup == "service_order_form"


async def test_start_fills_what_the_request_already_said(act) -> None:
    said = await start(act, "想请人上门教我用手机，我是礼让镇的")
    assert said.texts[0].startswith(f"{START}：上门教用手机。")
    assert said.slots["order_service"] == "phone_help" and said.slots["order_town"] == "礼让镇"


async def test_start_takes_the_offered_service_and_ignores_an_unknown_one(act) -> None:
    said = await start(act, "1", order_hint="health")
    assert said.slots["order_service"] == "health"
    said = await start(act, "1", order_hint="no-such-service")
    assert said.slots["order_service"] is None  # asked by the form


# ---------------------------------------------------------------------------
# The form's questions and their answers


async def answer(act, slot: str, value: Any, **slots: Any):
    tracker = make_tracker(
        str(value), active_loop="service_order_form", slots=slots, extracted={slot: value}
    )
    return await act(ValidateServiceOrderForm(), tracker)


async def test_the_service_by_number_or_words(act) -> None:
    assert (await answer(act, "order_service", "3")).slots == {"order_service": "health"}
    assert (await answer(act, "order_service", "农技")).slots == {"order_service": "farming"}
    said = await answer(act, "order_service", "9")
    assert said.slots == {"order_service": None}
    assert said.texts == ["没有这一项，请回复 1 到 5 的数字。"]


async def test_cancel_at_any_question_ends_the_form(act) -> None:
    for slot in FORM_SLOTS:
        said = await answer(act, slot, "取消")
        assert said.slots == {slot: None, "order_stop": True, "requested_slot": None}
        assert said.messages == []


async def test_goodbye_when_asked_the_time_ends_the_form(act) -> None:
    said = await answer(act, "order_time", "拜拜")
    assert said.slots == {"order_time": None, "order_stop": True, "requested_slot": None}


async def test_a_cleared_slot_at_the_start_is_no_answer(act) -> None:
    said = await answer(act, "order_town", None)
    assert said.slots == {"order_town": None} and said.messages == []


async def test_the_town_by_its_short_name_clears_the_retries(act) -> None:
    said = await answer(act, "order_town", "礼让", order_town_tries=2.0)
    assert said.slots == {
        "order_town": "礼让镇",
        "order_town_choices": None,
        "order_town_tries": None,
    }


async def test_an_unknown_town_is_counted_and_echoed_clipped(act) -> None:
    said = await answer(act, "order_town", "火星上的某某某某某某某某村", order_town_tries=1.0)
    assert said.slots == {"order_town": None, "order_town_choices": None, "order_town_tries": 2.0}
    assert said.texts[0].startswith("没找到“火星上的某某某某某某某")
    assert said.texts[0].endswith("”这个镇街。")
    assert len(said.texts[0]) < 30


async def test_two_towns_named_are_asked_as_a_choice_then_picked_by_number(act) -> None:
    said = await answer(act, "order_town", "礼让还是云龙")
    assert said.slots == {"order_town": None, "order_town_choices": ["礼让镇", "云龙镇"]}
    said = await answer(act, "order_town", "2", order_town_choices=["礼让镇", "云龙镇"])
    assert said.slots["order_town"] == "云龙镇"


async def test_the_village_drops_a_repeated_town(act) -> None:
    said = await answer(act, "order_village", "礼让镇川西村", order_town="礼让镇")
    assert said.slots == {"order_village": "川西村"}
    said = await answer(act, "order_village", "。。。", order_town="礼让镇")
    assert said.slots == {"order_village": None} and said.texts == ["没听清是哪个村或社区。"]


async def test_the_time_as_said_and_an_oversized_one(act) -> None:
    assert (await answer(act, "order_time", "星期六下午")).slots == {"order_time": "星期六下午"}
    said = await answer(act, "order_time", "下午" * 40)
    assert said.slots == {"order_time": None} and said.texts == ["没听清什么时候方便。"]


async def test_the_phone_is_read_and_a_wrong_one_never_echoed(act) -> None:
    said = await answer(act, "order_phone", "138 1234 5678")
    assert said.slots == {"order_phone": PHONE}
    said = await answer(act, "order_phone", "199 8765 432")  # ten digits
    assert said.slots == {"order_phone": None}
    assert said.texts[0].startswith("号码好像不对：手机号是 11 位数字")
    assert "8765" not in said.text


async def test_the_service_question_lists_the_catalogue(act) -> None:
    said = await act(ActionAskOrderService(), make_tracker("预约"))
    assert said.texts == [
        "要哪种帮助？回复数字：\n"
        "1 上门教用手机\n2 防骗讲解\n3 健康咨询/陪同就医\n4 农技指导\n5 其他"
    ]


async def test_the_town_question_gets_kinder_with_each_try(act) -> None:
    async def asked(**slots: Any) -> str:
        return (await act(ActionAskOrderTown(), make_tracker("", slots=slots))).text

    assert await asked() == "您住在哪个镇或街道？比如“礼让镇”“梁山街道”。"
    assert (
        await asked(order_town_tries=1.0)
        == "请再说一遍镇或街道的名字，打字、说话都行，比如“礼让镇”。"
    )
    third = await asked(order_town_tries=2.0)
    assert "\n梁平区的镇街有：梁山街道、双桂街道" in third and "龙胜乡" in third
    choices = await asked(order_town_choices=["礼让镇", "云龙镇"])
    assert choices == "您说的是哪一个？回复数字：\n1 礼让镇\n2 云龙镇"


# ---------------------------------------------------------------------------
# Placing the order


async def place(act, message_id: str = "wx-phone", **slots: Any):
    tracker = make_tracker(PHONE, slots={**FILLED, **slots}, message_id=message_id)
    return await act(ActionPlaceOrder(), tracker)


async def test_the_order_is_stored_once_and_its_number_given(act, kit, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="actions")
    said = await place(act)
    [(public_id, service, town, village, when, phone, state)] = await kit.rows(
        "SELECT public_id, service, town, village, convenient_time, phone, state"
        " FROM service_orders"
    )
    assert (service, town, village, when, phone, state) == (
        "phone_help",
        "礼让镇",
        "川西村",
        "明天上午",
        PHONE,
        "review",
    )
    assert said.texts[0].startswith(
        f"预约好了！编号 {public_id}\n上门教用手机，礼让镇川西村，明天上午，电话尾号 5678。"
    )
    assert PHONE not in said.text
    assert said.customs == [{"decision": "order_placed", "order": public_id}]
    assert said.slots == RESET
    again = await place(act)  # the same finishing message again (a channel's retry)
    assert again.customs == said.customs
    assert await kit.count("service_orders") == 1
    assert PHONE not in caplog.text


async def test_a_recent_help_request_is_marked_as_turned_into_the_order(act, kit) -> None:
    await kit.execute(
        "INSERT INTO handoff_requests (sender_hash, channel, hotlines, text, status, created_at)"
        " SELECT :hash, 'wechat', '120,119,110,96110,12316,12345', '找人帮忙', 'open', :now",
        hash=sender_hash(SENDER),
        now=stamp(),
    )
    said = await place(act)
    public_id = said.customs[0]["order"]
    [(kind, note)] = await kit.rows("SELECT kind, note FROM handled_marks")
    assert kind == "help" and public_id in note


async def test_cancel_during_the_form_says_goodbye_and_stores_nothing(act, kit) -> None:
    said = await place(act, order_stop=True, order_phone=None)
    assert said.texts == [STOPPED] and said.customs == [{"decision": "order_stopped"}]
    assert said.slots == RESET
    assert await kit.count("service_orders") == 0


async def test_database_down_no_receipt_and_the_form_cleared(act, kit, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="actions")
    kit.database_down()
    said = await place(act)
    assert said.texts == [NOT_SAVED] and said.customs == [{"decision": "order_failed"}]
    assert said.slots == RESET
    assert PHONE not in caplog.text


async def test_a_town_not_in_the_catalogue_is_refused_politely(act, kit) -> None:
    said = await place(act, order_town="火星镇")
    assert said.texts == [NOT_SAVED]
    assert await kit.count("service_orders") == 0


# ---------------------------------------------------------------------------
# "我的预约" and cancelling


async def booked(act, *message_ids: str) -> list[str]:
    said = [await place(act, message_id=m) for m in message_ids]
    return [s.customs[0]["order"] for s in said]


async def test_my_orders_none_yet_offers_to_book(act, kit) -> None:
    said = await act(ActionMyOrders(), make_tracker("我的预约"))
    assert said.texts == ["您还没有预约过志愿者。\n想请志愿者上门帮忙，回复 1。"]
    assert said.slots == {"pending_options": ["order:"]}


async def test_my_orders_lists_them_with_where_they_stand(act, kit) -> None:
    [public_id] = await booked(act, "m1")
    said = await act(ActionMyOrders(), make_tracker("我的预约"))
    assert said.texts == [
        f"您的预约：\n1. {public_id} 上门教用手机，明天上午：已收到，工作人员正在审核\n"
        "要取消预约，回复“取消预约”。"
    ]
    assert said.slots == {"pending_options": None}
    other = await act(ActionMyOrders(), make_tracker("我的预约", sender="someone-else"))
    assert public_id not in other.text


async def test_my_orders_database_down(act, kit) -> None:
    kit.database_down()
    said = await act(ActionMyOrders(), make_tracker("我的预约"))
    assert said.texts == ["抱歉，现在查不到，请过几分钟再问一次。"] and said.events == []


async def cancel(act, text: str = "取消预约", **tracker_args: Any):
    return await act(ActionCancelOrder(), make_tracker(text, intent="cancel_order", **tracker_args))


async def state_of(kit, public_id: str) -> tuple:
    return (
        await kit.rows("SELECT state, phone FROM service_orders WHERE public_id = :p", p=public_id)
    )[0]


async def test_nothing_to_cancel(act, kit) -> None:
    said = await cancel(act)
    assert said.texts == ["您现在没有可以取消的预约。"]


async def test_one_open_order_is_asked_about_then_cancelled_with_1(act, kit) -> None:
    [public_id] = await booked(act, "m1")
    said = await cancel(act)
    assert said.texts == [
        f"要取消这个预约吗？\n{public_id} 上门教用手机，明天上午\n回复 1 取消，2 不取消。"
    ]
    offer = [f"cancel:{public_id}", "keep:"]
    assert said.slots == {"pending_options": offer}
    reply = await act(
        ActionChooseOption(),
        make_tracker("1", intent="choose_option", slots={"pending_options": offer}),
    )
    assert reply.texts == [f"好的，预约 {public_id} 已取消。\n以后需要，回复“预约志愿者”就行。"]
    assert reply.customs == [{"decision": "order_cancelled"}]
    assert await state_of(kit, public_id) == ("cancelled", None)  # the number erased


async def test_yes_cancels_and_no_or_2_keeps(act, kit) -> None:
    [public_id] = await booked(act, "m1")
    offer = [f"cancel:{public_id}", "keep:"]
    for text, intent in (("不", "deny"), ("2", "choose_option")):
        tracker = make_tracker(text, intent=intent, slots={"pending_options": offer})
        said = await act(ActionChooseOption(), tracker)
        assert said.texts == ["好的，不取消，预约还在。"]
        assert said.slots == {"pending_options": None, "chosen": "other"}
    assert (await state_of(kit, public_id))[0] == "review"
    tracker = make_tracker("是的", intent="affirm", slots={"pending_options": offer})
    said = await act(ActionChooseOption(), tracker)
    assert said.customs == [{"decision": "order_cancelled"}]
    assert (await state_of(kit, public_id))[0] == "cancelled"


async def test_several_open_orders_are_listed_to_choose_from(act, kit) -> None:
    first, second = await booked(act, "m1", "m2")
    said = await cancel(act)
    lines = said.texts[0].split("\n")
    assert lines[0] == "要取消哪一个？回复数字："
    assert lines[-1] == "都不取消，回复“不取消”。"
    assert {lines[1][2:12], lines[2][2:12]} == {first, second}
    offer = said.slots["pending_options"]
    assert sorted(offer) == sorted([f"cancel:{first}", f"cancel:{second}"])
    # "是" cannot say which: the menu reads it
    tracker = make_tracker("是", intent="affirm", slots={"pending_options": offer})
    said = await act(ActionChooseOption(), tracker)
    assert said.customs == [] and said.slots["chosen"] == "other"


async def test_a_named_order_is_cancelled_at_once(act, kit) -> None:
    [public_id] = await booked(act, "m1")
    said = await cancel(act, f"取消预约 {public_id}")
    assert said.customs == [{"decision": "order_cancelled"}]
    said = await cancel(act, f"取消预约 {public_id}")  # again: it is over already
    assert said.texts == [f"预约 {public_id} 已经结束了，不用取消。"]


async def test_someone_elses_order_is_not_found(act, kit) -> None:
    [public_id] = await booked(act, "m1")
    said = await cancel(act, f"取消预约 {public_id}", sender="someone-else")
    assert said.texts == ["没找到这个预约。回复“我的预约”看看您的预约。"]
    assert (await state_of(kit, public_id))[0] == "review"


async def test_cancel_with_the_database_down(act, kit) -> None:
    kit.database_down()
    said = await cancel(act)
    assert said.texts == ["抱歉，现在查不到，请过几分钟再说一次。"] and said.events == []
    said = await cancel(act, "取消预约 D-ABCDEFGH")
    assert said.texts == ["抱歉，系统出了点问题，没有取消成功。请过几分钟再试。"]


# ---------------------------------------------------------------------------
# The rating question ("给这次服务打个分"), answered with a number


async def done_and_asked(act, kit, asked_at: datetime) -> str:
    [public_id] = await booked(act, "m1")
    await kit.execute(
        "UPDATE service_orders SET state = 'done', resident_notice = 'asked', updated_at = :at",
        at=stamp(asked_at),
    )
    return public_id


def rating_reply(text: str, previous_at: datetime):
    """The reply to the rating question, said with the reply to ``previous_at``'s message."""
    events = [user_event("我的预约", "m-prev", timestamp=previous_at.timestamp())]
    return make_tracker(text, intent="choose_option", events=events)


async def test_a_rating_is_stored_and_thanked(act, kit) -> None:
    now = datetime.now(timezone.utc)
    public_id = await done_and_asked(act, kit, now)
    said = await act(ActionChooseOption(), rating_reply("5分，小伙子耐心得很", now))
    assert said.texts == ["收到，您给了 5 分，谢谢您！\n还有什么需要，直接说就行。"]
    assert said.customs == [{"decision": "order_rated"}]
    assert said.slots == {"pending_options": None, "chosen": "other"}
    rows = await kit.rows(
        "SELECT r.score, r.comment, o.public_id FROM order_ratings r"
        " JOIN service_orders o ON o.id = r.order_id"
    )
    assert rows == [(5, "小伙子耐心得很", public_id)]


async def test_a_low_rating_promises_a_look(act, kit) -> None:
    now = datetime.now(timezone.utc)
    await done_and_asked(act, kit, now)
    said = await act(ActionChooseOption(), rating_reply("2", now))
    assert "这次没让您满意，我们会交给负责人查一查" in said.texts[0]


async def test_a_number_long_after_the_question_is_a_menu_choice(act, kit) -> None:
    now = datetime.now(timezone.utc)
    await done_and_asked(act, kit, now - timedelta(days=2))
    said = await act(ActionChooseOption(), rating_reply("2", now))
    assert said.texts[0].startswith("健康：")  # menu 2, not a rating
    assert await kit.count("order_ratings") == 0


async def test_a_bare_number_under_a_cancel_offer_cancels_though_a_rating_is_owed(act, kit) -> None:
    now = datetime.now(timezone.utc)
    await done_and_asked(act, kit, now)
    [open_id] = await booked(act, "m2")
    offer = [f"cancel:{open_id}", "keep:"]
    events = [user_event("取消预约", "m-prev", timestamp=now.timestamp())]
    said = await act(
        ActionChooseOption(),
        make_tracker("1", intent="choose_option", events=events, slots={"pending_options": offer}),
    )
    assert said.customs == [{"decision": "order_cancelled"}]
    assert (await state_of(kit, open_id))[0] == "cancelled"
    assert await kit.count("order_ratings") == 0
    # a marked score is still a rating
    said = await act(
        ActionChooseOption(),
        make_tracker(
            "1分", intent="choose_option", events=events, slots={"pending_options": offer}
        ),
    )
    assert said.customs == [{"decision": "order_rated"}]
