"""action_understand: the one action for free text, and how each move of the
understanding step is said (``actions.render``): answers and debunks tagged with
their entry, choices, offers, an honest "not yet" recorded for the curators."""

from __future__ import annotations

from actions.understand import ENTRY_GONE, ActionUnderstand
from bot.text.normalize import CANONICAL_KEY, Canonical, canonical
from bot.understanding.decide import Decision, hotline_for
from tests.actions.support import (
    HEATSTROKE,
    REFUND_SCAM,
    VINEGAR,
    VINEGAR_LEAD,
    VINEGAR_TAG,
    WECHAT_PAY,
    hit,
    make_tracker,
)

FEEDBACK_LINE = "觉得有帮助请回复“有用”，没帮助请回复“没用”。"
MENU_FIRST_LINE = "请回复数字选择："


async def understand(act, kit, text: str, decision: Decision | None = None, **tracker_args):
    if decision is not None:
        kit.understanding.decisions[text] = decision
    return await act(ActionUnderstand(), make_tracker(text, **tracker_args))


async def test_an_answer_is_the_entry_tagged_with_id_topic_and_score_band(act, kit) -> None:
    decision = Decision("answer", entry=HEATSTROKE, hits=[hit(HEATSTROKE, 0.7)])
    said = await understand(act, kit, "中暑了咋个办", decision, intent="free_text", confidence=0.42)
    assert said.texts[0] == "中暑要马上到阴凉处休息。补充淡盐水，别喝酒。"
    assert said.texts[1].startswith("1. 扶到阴凉通风的地方")
    assert (
        said.texts[2]
        == f"来源：国家卫生健康委员会，2024（回复“多讲一点”看详细和出处）\n{FEEDBACK_LINE}"
    )
    assert said.customs == [
        {"decision": "answer", "entry_id": "health-heatstroke", "topic": "health", "band": "high"}
    ]
    assert said.slots == {
        "chosen_question": None,
        "pending_options": None,
        "last_entry_id": "health-heatstroke",
    }
    # Decided on the canonical form the NLU carried (咋个 → 怎么), not the raw words.
    assert kit.understanding.calls == [
        ("中暑了怎么办", {"intent": "free_text", "confidence": 0.42})
    ]


async def test_the_form_the_nlu_carried_is_decided_on_not_worked_out_again(act, kit) -> None:
    await understand(act, kit, "中暑了咋个办", text_canonical="中暑了怎么办（NLU）")
    ((text, _),) = kit.understanding.calls
    assert text == "中暑了怎么办（NLU）" and isinstance(text, Canonical)
    assert canonical(text) is text  # search and matching take it as it is


async def test_a_message_the_nlu_did_not_read_is_made_canonical_here(act, kit) -> None:
    tracker = make_tracker("中暑了咋个办")
    del tracker.latest_message[CANONICAL_KEY]  # an "/intent" payload skips the NLU
    await act(ActionUnderstand(), tracker)
    assert kit.understanding.calls[0][0] == "中暑了怎么办"


async def test_the_score_band_follows_the_hit_of_the_served_entry(act, kit) -> None:
    decision = Decision(
        "answer", entry=WECHAT_PAY, hits=[hit(HEATSTROKE, 0.9), hit(WECHAT_PAY, 0.5)]
    )
    said = await understand(act, kit, "微信咋付钱", decision)
    assert said.customs[0]["band"] == "medium"


async def test_an_urgent_answer_says_120_first(act, kit) -> None:
    decision = Decision("answer", entry=HEATSTROKE, urgent=True)
    said = await understand(act, kit, "我爸热得发昏", decision)
    assert said.texts[0] == "情况严重的，请马上拨打 120（急救电话）。"
    assert said.messages[0]["custom"] == {"decision": "urgent"}
    assert said.customs[1] == {
        "decision": "answer",
        "entry_id": "health-heatstroke",
        "topic": "health",
    }


async def test_a_debunk_is_introduced_marked_and_followed_up(act, kit) -> None:
    decision = Decision("debunk", entry=VINEGAR, hits=[hit(VINEGAR, 0.55)])
    said = await understand(act, kit, "喝醋真的能软化血管不", decision)
    assert said.texts[0] == "这个说法我们核实过："
    assert said.texts[1] == VINEGAR_LEAD
    assert said.texts[-1] == "还想让我们核实别的说法，回复 6。"
    assert said.customs[1] == {**VINEGAR_TAG, "band": "medium"}
    assert said.slots["last_entry_id"] == "rumor-vinegar-vessels"


async def test_a_chosen_entry_is_served_without_asking_understanding(act, kit) -> None:
    said = await understand(
        act,
        kit,
        "2",
        intent="choose_option",
        slots={"chosen_question": "kb:smartphone-wechat-pay"},
    )
    assert said.texts[0].startswith("打开微信，点右上角加号")
    assert said.customs == [
        {"decision": "choice", "entry_id": "smartphone-wechat-pay", "topic": "smartphone"}
    ]
    assert said.slots["chosen_question"] is None
    assert kit.understanding.calls == []


async def test_a_chosen_question_is_understood_as_if_typed(act, kit) -> None:
    decision = Decision("answer", entry=HEATSTROKE)
    kit.understanding.decisions["中暑了怎么办"] = decision
    tracker_slots = {"chosen_question": "ask:中暑了怎么办"}
    said = await understand(act, kit, "1", intent="choose_option", slots=tracker_slots)
    assert said.customs[0]["entry_id"] == "health-heatstroke"
    assert kit.understanding.calls[0][0] == "中暑了怎么办"


async def test_a_chosen_entry_gone_since_asks_again_and_searches_nothing(act, kit) -> None:
    slots = {"chosen_question": "kb:health-removed"}
    said = await understand(act, kit, "是", intent="affirm", slots=slots)
    assert said.texts == [ENTRY_GONE]
    assert said.customs == [{"decision": "none"}]
    assert said.slots["chosen_question"] is None
    assert kit.understanding.calls == []


async def test_a_stale_choice_does_not_hijack_a_new_question(act, kit) -> None:
    slots = {"chosen_question": "kb:smartphone-wechat-pay"}
    decision = Decision("answer", entry=HEATSTROKE)
    said = await understand(act, kit, "中暑了咋办", decision, intent="free_text", slots=slots)
    assert said.customs[0]["entry_id"] == "health-heatstroke"
    assert said.slots["chosen_question"] is None


async def test_one_candidate_is_a_yes_no_question(act, kit) -> None:
    said = await understand(act, kit, "付款", Decision("choices", hits=[hit(WECHAT_PAY)]))
    assert said.texts == ["您是想问『微信怎么付钱』吗？回复 1 是，2 不是。"]
    assert said.customs == [
        {"decision": "choices", "choices": "smartphone-wechat-pay", "topic": "smartphone"}
    ]
    assert said.slots["pending_options"] == ["kb:smartphone-wechat-pay", "none:"]


async def test_several_candidates_are_numbered(act, kit) -> None:
    hits = [hit(REFUND_SCAM), hit(WECHAT_PAY)]
    said = await understand(act, kit, "退钱", Decision("choices", hits=hits))
    assert said.texts == [
        "您是想问：\n1. 冒充客服退款\n2. 微信怎么付钱\n请回复数字。都不是的话，回复“不是”。"
    ]
    assert said.customs[0]["choices"] == "fraud-refund-call|smartphone-wechat-pay"
    assert said.slots["pending_options"] == ["kb:fraud-refund-call", "kb:smartphone-wechat-pay"]


async def test_an_unchecked_claim_is_offered_to_the_rumour_desk(act, kit) -> None:
    text = "听说吃隔夜菜会得癌症"
    said = await understand(act, kit, text, Decision("report_offer", hits=[hit(VINEGAR, 0.3)]))
    assert said.texts[0].startswith("这个说法我们还没有核实过，先别转发。")
    assert said.texts[0].endswith("想先看看『喝醋能软化血管吗』，回复 2。")
    assert said.slots["pending_options"] == [f"report:{text}", "kb:rumor-vinegar-vessels"]


async def test_after_a_scam_the_urgent_steps_come_first(act, kit) -> None:
    decision = Decision("fraud_aftermath", entry=REFUND_SCAM)
    said = await understand(act, kit, "我被骗了五千块", decision)
    assert said.texts[0].startswith("如果已经转了钱、说了验证码，请马上拨打 110 报警")
    assert said.customs[1]["entry_id"] == "fraud-refund-call"
    said = await understand(act, kit, "钱被骗走了咋办", Decision("fraud_aftermath"))
    assert len(said.messages) == 1 and said.slots["pending_options"] is None


async def test_who_we_are_and_what_the_service_is(act, kit) -> None:
    said = await understand(act, kit, "你是不是机器人", Decision("about_us"))
    assert said.texts[0].startswith("我是科普助手，是一个电脑程序，不是真人。")
    said = await understand(act, kit, "这个要收钱不", Decision("about_service"))
    assert "问问题不收钱" in said.texts[0] and f"\n{MENU_FIRST_LINE}\n" in said.texts[0]
    assert said.customs == [{"decision": "menu"}]


async def test_an_emergency_is_handed_to_120(act, kit) -> None:
    said = await understand(act, kit, "我妈突然晕倒了", Decision("emergency"))
    assert said.texts[0].startswith("请马上拨打 120（急救电话）")
    assert await kit.rows("SELECT hotlines FROM handoff_requests") == [("120",)]


async def test_no_answer_is_honest_recorded_and_gives_the_hotline(act, kit) -> None:
    text = "我家包谷叶子发黄卷起来了"
    decision = Decision("none", hits=[hit(WECHAT_PAY, 0.2)], hotline=hotline_for(text))
    said = await understand(act, kit, text, decision)
    lines = said.texts[0].split("\n")
    assert lines[0] == "这个我还答不上来。已经记下来，请专家补充。"
    assert lines[1].startswith("您可以拨打 12316（三农服务热线）问问")
    assert lines[2] == MENU_FIRST_LINE
    assert said.customs == [{"decision": "none"}]
    assert said.slots["pending_options"] is None
    rows = await kit.rows("SELECT text, best_entry_id, best_score FROM unanswered_questions")
    assert rows == [(text, "smartphone-wechat-pay", 0.2)]


async def test_no_answer_lists_related_entries_one_tap_away(act, kit) -> None:
    decision = Decision("none", related=[hit(HEATSTROKE, 0.4), hit(VINEGAR, 0.35)])
    said = await understand(act, kit, "夏天老人要注意啥子", decision)
    assert said.texts == [
        "这个问题我没有把握答准。已经记下来，请专家补充。\n"
        "下面这些也许有用，回复数字查看：\n"
        "1. 中暑了怎么办\n2. 喝醋能软化血管吗\n"
        "都不是的话，可以换个说法再问，或者回复“菜单”。"
    ]
    assert said.customs == [
        {"decision": "none", "related": "health-heatstroke|rumor-vinegar-vessels"}
    ]
    assert said.slots["pending_options"] == ["kb:health-heatstroke", "kb:rumor-vinegar-vessels"]


async def test_gibberish_and_empty_text_are_not_recorded(act, kit) -> None:
    for text in ("", "ok", "？？", "1a"):
        said = await understand(act, kit, text)
        assert said.texts[0].startswith("不好意思，我没太明白您的意思。\n" + MENU_FIRST_LINE)
        assert said.customs == [{"decision": "not_understood"}]
    assert await kit.count("unanswered_questions") == 0


async def test_an_oversized_question_is_stored_redacted_and_clipped(act, kit) -> None:
    text = "我电话13812345678，" + "请问这个药能不能吃" * 400
    said = await understand(act, kit, text)
    assert said.texts[0].startswith("这个我还答不上来。已经记下来")
    [(stored,)] = await kit.rows("SELECT text FROM unanswered_questions")
    assert len(stored) == 2000 and "13812345678" not in stored


async def test_database_down_still_answers_without_claiming_a_record(act, kit) -> None:
    kit.database_down()
    said = await understand(act, kit, "我家包谷叶子发黄卷起来了")
    assert said.texts[0].startswith("这个我还答不上来。\n" + MENU_FIRST_LINE)
    assert "已经记下来" not in said.text
