"""The message check (menu 5): the form keeps asking until a message comes, then
action_check_message says the verdict, counts it (never the text) and, for a
message that is no likely scam, answers or offers to check the claim in it."""

from __future__ import annotations

from actions.check_message import ActionCheckMessage, ValidateCheckMessageForm
from bot.fraud.checker import Verdict
from bot.understanding.decide import Decision
from tests.actions.support import REFUND_SCAM, VINEGAR, VINEGAR_LEAD, VINEGAR_TAG, make_tracker

SMS = "【客服】您的快递丢失，我们将为您办理理赔退款，请加QQ 12345678 领取"
HIGH = Verdict("high", 9.0, 0.95, ["冒充电商物流客服"], classifier_type="冒充电商物流客服")
LOW = Verdict("low", 0.0, 0.05)
FORWARDED = "转发：喝醋能软化血管，每天一勺"


async def validate(act, value):
    tracker = make_tracker(
        str(value), active_loop="check_message_form", extracted={"suspicious_text": value}
    )
    return await act(ValidateCheckMessageForm(), tracker)


async def test_the_form_keeps_a_pasted_message(act) -> None:
    said = await validate(act, SMS)
    assert said.slots == {"suspicious_text": SMS} and said.messages == []


async def test_the_form_asks_again_for_a_request_without_the_message(act) -> None:
    for value in ("帮我看看这条短信", "", None):
        said = await validate(act, value)
        assert said.slots == {"suspicious_text": None}


async def check(act, kit, text: str, decision: Decision | None):
    if decision is not None:
        kit.understanding.decisions[text] = decision
    tracker = make_tracker(text, intent="free_text", slots={"suspicious_text": text})
    return await act(ActionCheckMessage(), tracker)


async def test_a_scam_gets_the_verdict_counted_without_its_text(act, kit) -> None:
    said = await check(act, kit, SMS, Decision("fraud_verdict", verdict=HIGH))
    assert said.texts == [HIGH.as_text()]
    assert said.texts[0].startswith("检查结果：高风险，像是“冒充电商物流客服”类诈骗")
    assert said.customs == [
        {"decision": "fraud_verdict", "risk": "high", "fraud_type": "冒充电商物流客服"}
    ]
    assert said.slots == {"suspicious_text": None, "pending_options": None}
    assert kit.understanding.calls == [(SMS, {"expect_message": True})]
    rows = await kit.rows("SELECT risk, fraud_type, count FROM fraud_check_counts")
    assert rows == [("high", "fake_customer_service", 1)]


async def test_a_harmless_message_with_a_checked_claim_gets_the_debunk(act, kit) -> None:
    kit.knowledge.debunks[FORWARDED] = (VINEGAR, 0.75)
    said = await check(act, kit, FORWARDED, Decision("fraud_verdict", verdict=LOW))
    assert said.texts[0].startswith("检查结果：低风险")
    assert said.texts[1] == "消息里的说法，我们核实过："
    assert said.texts[2] == VINEGAR_LEAD
    assert said.customs[1] == VINEGAR_TAG
    assert said.slots == {
        "suspicious_text": None,
        "pending_options": None,
        "last_entry_id": "rumor-vinegar-vessels",
    }


async def test_a_harmless_message_with_an_unchecked_claim_is_offered_to_the_desk(act, kit) -> None:
    kit.knowledge.debunks[FORWARDED] = (VINEGAR, 0.5)  # similar, not the same claim
    said = await check(act, kit, FORWARDED, Decision("fraud_verdict", verdict=LOW))
    assert said.texts[1] == "想知道消息里的说法是真是假，回复 1，我帮您交给辟谣平台核实。"
    assert said.slots["pending_options"] == [f"report:{FORWARDED}"]
    assert await kit.rows("SELECT risk, fraud_type FROM fraud_check_counts") == [("low", "")]


async def test_a_question_typed_instead_of_a_message_is_answered(act, kit) -> None:
    text = "客服说要给我退款，是真的吗"
    said = await check(act, kit, text, Decision("answer", entry=REFUND_SCAM))
    assert said.customs[0]["entry_id"] == "fraud-refund-call"
    assert said.slots["suspicious_text"] is None
    assert await kit.count("fraud_check_counts") == 0


async def test_the_verdict_is_given_even_when_it_cannot_be_counted(act, kit) -> None:
    kit.database_down()
    said = await check(act, kit, SMS, Decision("fraud_verdict", verdict=HIGH))
    assert said.texts == [HIGH.as_text()]
    assert said.slots == {"suspicious_text": None, "pending_options": None}


async def test_an_empty_slot_is_not_rated(act, kit) -> None:
    tracker = make_tracker("菜单", slots={"suspicious_text": None})
    said = await act(ActionCheckMessage(), tracker)
    assert said.customs == [{"decision": "not_understood"}]
    assert kit.understanding.calls == [("", {"expect_message": True})]
