""" "再说一遍": the bot's last turn again, buttons and tags included; "多讲一点":
the detail of the entry it served."""

from __future__ import annotations

from actions.repeat import ActionRepeat
from tests.actions.support import bot_event, make_tracker, user_event

ANSWER_TAG = {"decision": "answer", "entry_id": "health-heatstroke", "topic": "health"}


def conversation(*bot_turns: list[dict]) -> list[dict]:
    """User message, the bot's turn, … (the current message comes after)."""
    events: list[dict] = []
    for i, turn in enumerate(bot_turns):
        events.append(user_event(f"问题{i}", f"m{i}"))
        events += turn
    return events


async def repeat(act, text: str, events: list[dict]):
    return await act(ActionRepeat(), make_tracker(text, intent="repeat", events=events))


async def test_repeats_the_last_turn_only_with_its_buttons_and_tags(act) -> None:
    older = [bot_event("老的回答", {"decision": "answer", "entry_id": "smartphone-wechat-pay"})]
    last = [
        bot_event("中暑要马上到阴凉处休息。", ANSWER_TAG),
        bot_event("选一个：", None, buttons=[{"title": "有用", "payload": "有用"}]),
    ]
    said = await repeat(act, "再说一遍", conversation(older, last))
    assert said.texts == ["中暑要马上到阴凉处休息。", "选一个："]
    assert said.messages[0]["custom"] == ANSWER_TAG
    assert said.messages[1]["buttons"] == [{"title": "有用", "payload": "有用"}]
    assert said.events == []


async def test_more_detail_sends_the_rest_of_the_entry_and_its_source(act, kit) -> None:
    said = await repeat(act, "多讲一点", conversation([bot_event("中暑要…", ANSWER_TAG)]))
    # The heatstroke entry's lead is its whole answer: the detail is the full source.
    assert said.texts == ["来源：国家卫生健康委员会健康科普指南2024；审核：2024年5月"]


async def test_more_detail_of_a_debunk_gives_its_explanation(act, kit) -> None:
    tag = {"decision": "debunk", "entry_id": "rumor-vinegar-vessels"}
    said = await repeat(act, "详细说说", conversation([bot_event("【谣言】…", tag)]))
    assert said.texts[0] == "醋的酸性在胃里就被中和，进不了血液，更到不了血管壁。"
    assert said.texts[1].startswith("来源：国家卫生健康委员会")


async def test_more_detail_of_an_entry_gone_since_repeats_the_turn(act, kit) -> None:
    tag = {"decision": "answer", "entry_id": "health-removed"}
    said = await repeat(act, "多讲一点", conversation([bot_event("旧的回答", tag)]))
    assert said.texts == ["旧的回答"] and said.messages[0]["custom"] == tag


async def test_nothing_said_yet(act) -> None:
    said = await repeat(act, "再说一遍", [])
    assert said.texts[0].startswith("我们刚开始聊，我还没说什么。\n请回复数字选择：")
