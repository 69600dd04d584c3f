""" "有用 / 没用": counted against the entry last served, and thanked either way."""

from __future__ import annotations

from actions.feedback import ActionRecordFeedback
from tests.actions.support import SENDER, make_tracker

THANKS = "谢谢您！还有问题随时问我。"
WILL_IMPROVE = "谢谢告诉我们，我们会改进这条内容。"


async def stored(kit) -> list[tuple]:
    return await kit.rows("SELECT entry_id, useful, channel FROM feedback")


async def test_useful_is_stored_against_the_last_entry(act, kit) -> None:
    tracker = make_tracker("有用", intent="feedback", slots={"last_entry_id": "health-heatstroke"})
    said = await act(ActionRecordFeedback(), tracker)
    assert said.texts == [THANKS] and said.events == []
    assert await stored(kit) == [("health-heatstroke", 1, "wechat")]


async def test_not_useful_says_how_to_go_on(act, kit) -> None:
    tracker = make_tracker(
        "没用，看不懂", intent="feedback", slots={"last_entry_id": "smartphone-wechat-pay"}
    )
    said = await act(ActionRecordFeedback(), tracker)
    assert said.texts[0].startswith(WILL_IMPROVE) and "回复 7 找人帮忙" in said.texts[0]
    assert await stored(kit) == [("smartphone-wechat-pay", 0, "wechat")]


async def test_no_clear_word_counts_as_thanks(act, kit) -> None:
    said = await act(ActionRecordFeedback(), make_tracker("嗯嗯", intent="feedback"))
    assert said.texts == [THANKS]
    assert await stored(kit) == [(None, 1, "wechat")]  # no entry served yet


async def test_the_sender_is_stored_as_a_pseudonym_only(act, kit) -> None:
    await act(ActionRecordFeedback(), make_tracker("有用", sender="wx-openid-42"))
    hashes = await kit.rows("SELECT sender_hash FROM feedback")
    assert len(hashes) == 1 and "wx-openid-42" not in hashes[0][0] and SENDER not in hashes[0][0]


async def test_database_down_still_thanks(act, kit) -> None:
    kit.database_down()
    said = await act(ActionRecordFeedback(), make_tracker("没用", intent="feedback"))
    assert said.texts[0].startswith(WILL_IMPROVE)
