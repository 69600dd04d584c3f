"""action_show_menu and action_choose_option: a number, a word, "是" or "不是" read
against what the bot offered last (``pending_options``), else the main menu.
(Numbered replies that rate or cancel an order: test_orders.)"""

from __future__ import annotations

from actions.menu import ActionChooseOption, ActionShowMenu
from tests.actions.support import make_tracker

MENU_FIRST_LINE = "请回复数字选择："
MENU_ITEMS = "1 手机使用\n2 健康\n3 防骗\n4 种植养殖\n5 查可疑短信\n6 举报谣言\n7 找人帮忙"


async def choose(act, text: str, pending: list[str] | None = None, intent: str = "choose_option"):
    tracker = make_tracker(text, intent=intent, slots={"pending_options": pending})
    return await act(ActionChooseOption(), tracker)


async def test_show_menu_lists_the_seven_items_and_forgets_offers(act) -> None:
    tracker = make_tracker("菜单", intent="menu", slots={"pending_options": ["kb:x"]})
    said = await act(ActionShowMenu(), tracker)
    assert said.texts == [f"{MENU_FIRST_LINE}\n{MENU_ITEMS}\n也可以直接说出您的问题。"]
    assert said.events == [
        {"event": "slot", "timestamp": None, "name": "pending_options", "value": None}
    ]


async def test_a_number_with_nothing_on_offer_opens_that_topic_page(act) -> None:
    said = await choose(act, "2")
    assert said.texts[0].startswith("健康：您可以直接问")
    assert "请马上拨打 120" in said.text
    assert said.slots == {
        "pending_options": [
            "kb:health-stroke-120",
            "kb:health-hypertension-lifestyle",
            "kb:health-salt-limit",
            "kb:rumor-mushroom-test",
        ],
        "chosen": "topic",
    }


async def test_a_menu_word_picks_its_item(act) -> None:
    said = await choose(act, "我想问种庄稼的")
    assert said.texts[0].startswith("种植养殖：") and said.slots["chosen"] == "topic"


async def test_the_menu_items_handled_by_rules_only_set_chosen(act) -> None:
    for number, chosen in (("5", "check_message"), ("6", "report_rumor"), ("7", "help")):
        said = await choose(act, number)
        assert said.messages == [] and said.slots == {"pending_options": None, "chosen": chosen}


async def test_a_number_picks_the_offered_entry_for_action_understand(act) -> None:
    said = await choose(act, "第二个", ["kb:health-heatstroke", "kb:smartphone-wechat-pay"])
    assert said.messages == []
    assert said.slots == {
        "pending_options": None,
        "chosen": "question",
        "chosen_question": "kb:smartphone-wechat-pay",
    }


async def test_yes_takes_a_single_offer_and_option_one_of_a_yes_no(act) -> None:
    said = await choose(act, "是的", ["kb:health-heatstroke", "none:"], intent="affirm")
    assert said.slots["chosen_question"] == "kb:health-heatstroke"
    said = await choose(act, "要得", ["ask:中暑怎么办"], intent="affirm")
    assert said.slots["chosen_question"] == "ask:中暑怎么办"


async def test_yes_to_a_list_is_not_a_choice(act) -> None:
    said = await choose(act, "是", ["kb:a", "kb:b", "kb:c"], intent="affirm")
    assert said.texts[0].startswith("好的。还有什么想问的，直接说就行。\n" + MENU_FIRST_LINE)
    assert said.slots == {"pending_options": None, "chosen": "other"}


async def test_no_and_option_two_of_a_yes_no_decline(act) -> None:
    for text, intent in (("不是", "deny"), ("2", "choose_option")):
        said = await choose(act, text, ["kb:health-heatstroke", "none:"], intent=intent)
        assert said.texts[0].startswith("好的。您可以换个说法再问一次。")
        assert said.slots == {"pending_options": None, "chosen": "other"}


async def test_the_report_offer_carries_the_checked_message_into_the_form(act) -> None:
    said = await choose(act, "1", ["report:群里说喝醋能软化血管"])
    assert said.slots == {
        "pending_options": None,
        "rumor_claim": "群里说喝醋能软化血管",
        "chosen": "report_rumor",
    }


async def test_the_order_offer_starts_the_form_with_its_service(act) -> None:
    said = await choose(act, "1", ["order:phone_help"])
    assert said.slots == {"pending_options": None, "order_hint": "phone_help", "chosen": "order"}
    said = await choose(act, "1", ["order:"])
    assert said.slots["order_hint"] is None and said.slots["chosen"] == "order"


async def test_a_number_not_on_offer_lists_the_offer_with_titles(act) -> None:
    pending = ["kb:health-heatstroke", "kb:gone-entry", "none:"]
    said = await choose(act, "5", pending)
    assert said.texts == [
        "没有这个选项，请回复 1 到 3 之间的数字：\n"
        "1 中暑了怎么办\n2 （这条内容已更新）\n3 不是\n回复“菜单”回到主菜单。"
    ]
    assert said.slots == {"chosen": "other"}  # the offer stays open


async def test_a_number_beyond_the_main_menu_lists_the_menu(act) -> None:
    said = await choose(act, "9")
    lines = said.texts[0].split("\n")
    assert lines[0] == "没有这个选项，请回复 1 到 7 之间的数字："
    assert lines[1:] == MENU_ITEMS.split("\n")


async def test_a_single_offer_asks_for_its_number(act) -> None:
    said = await choose(act, "3", ["order:"])
    assert said.texts == ["没有这个选项，请回复数字：\n1 预约志愿者上门\n回复“菜单”回到主菜单。"]


async def test_empty_and_oversized_replies_pick_nothing(act) -> None:
    for text in ("", "哦" * 5000):
        said = await choose(act, text)
        assert said.texts[0].startswith("没有这个选项") and said.slots == {"chosen": "other"}


async def test_the_menu_works_with_the_database_down(act, kit) -> None:
    kit.database_down()  # a number is first looked up as a rating the sender owes
    said = await choose(act, "4")
    assert said.texts[0].startswith("种植养殖：") and said.slots["chosen"] == "topic"
