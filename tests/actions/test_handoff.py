"""action_handoff: the right hotline first, the request recorded (redacted), a
volunteer offered or booked when no emergency service must come first."""

from __future__ import annotations

from actions.handoff import ActionHandoff
from bot.knowledge.service import AskResult
from tests.actions.support import HEATSTROKE, REFUND_SCAM, Broken, hit, make_tracker

RECORDED = "您的求助已经记下，工作人员会看到。"
OFFER = "想请志愿者上门帮忙，回复 1。"


async def handoff(act, text: str):
    return await act(ActionHandoff(), make_tracker(text, intent="ask_human"))


async def test_a_plain_request_lists_the_hotlines_records_it_and_offers_a_volunteer(
    act, kit
) -> None:
    said = await handoff(act, "找人帮忙")
    assert len(said.messages) == 1
    text = said.texts[0]
    assert text.startswith("您可以打这些电话找人帮忙：\n120 急救电话")
    assert "12345 政务服务便民热线" in text
    assert text.endswith(f"{RECORDED}\n{OFFER}")
    assert said.customs == [{"decision": "handoff"}]
    assert said.slots == {"pending_options": ["order:"]}
    rows = await kit.rows("SELECT hotlines, text, status, channel FROM handoff_requests")
    assert rows == [("120,119,110,96110,12316,12345", "找人帮忙", "open", "wechat")]


async def test_the_stored_request_is_redacted(act, kit) -> None:
    await handoff(act, "找人帮忙，我电话13812345678")
    [(text,)] = await kit.rows("SELECT text FROM handoff_requests")
    assert "13812345678" not in text and text.startswith("找人帮忙")


async def test_an_emergency_gets_120_first_and_no_volunteer(act, kit) -> None:
    said = await handoff(act, "我老汉晕倒了")
    assert said.texts[0].startswith("请马上拨打 120（急救电话）")
    assert OFFER not in said.text
    assert said.slots == {"pending_options": None}
    assert await kit.rows("SELECT hotlines FROM handoff_requests") == [("120",)]


async def test_while_waiting_for_120_a_fitting_health_entry_follows(act, kit) -> None:
    text = "有人晕倒了，天太热了"
    kit.knowledge.answers[text] = AskResult("answer", [hit(HEATSTROKE, 0.9)])
    said = await handoff(act, text)
    assert said.texts[0].startswith("请马上拨打 120")
    assert said.texts[1] == "等救护车的时候可以这样做："
    assert said.texts[2] == "中暑要马上到阴凉处休息。补充淡盐水，别喝酒。"
    assert said.texts[3].startswith("1. 扶到阴凉通风的地方\n2. ")
    assert said.messages[2]["custom"] == {
        "decision": "first_aid",
        "entry_id": "health-heatstroke",
        "topic": "health",
    }
    assert said.slots == {"pending_options": None, "last_entry_id": "health-heatstroke"}


async def test_no_first_aid_from_an_entry_on_another_topic(act, kit) -> None:
    text = "有人晕倒了"
    kit.knowledge.answers[text] = AskResult("answer", [hit(REFUND_SCAM, 0.9)])
    said = await handoff(act, text)
    assert len(said.messages) == 1 and said.slots == {"pending_options": None}


async def test_asking_someone_to_come_starts_the_order_form_at_once(act, kit) -> None:
    said = await handoff(act, "有没得人上门来教我用手机，我是礼让镇的")
    assert said.texts[0] == f"急事请直接打 120（急救）或 110（报警）。\n{RECORDED}"
    assert said.texts[1].startswith("好的，帮您预约志愿者：上门教用手机。")
    assert said.followup == "service_order_form"
    assert said.slots["order_service"] == "phone_help"
    assert said.slots["order_town"] == "礼让镇"
    assert said.slots["order_phone"] is None and said.slots["pending_options"] is None


async def test_database_down_gives_the_numbers_without_claiming_a_record(act, kit) -> None:
    kit.database_down()
    said = await handoff(act, "找人帮忙")
    assert RECORDED not in said.text
    assert said.texts[0].startswith("您可以打这些电话找人帮忙：")
    assert said.texts[0].endswith(OFFER)
    assert said.slots == {"pending_options": ["order:"]}


async def test_an_oversized_request_is_stored_clipped(act, kit) -> None:
    await handoff(act, "找人帮忙" + "啊" * 5000)
    [(length,)] = await kit.rows("SELECT length(text) FROM handoff_requests")
    assert length == 2000


async def test_search_failing_does_not_lose_the_120_message(act, kit) -> None:
    kit.services.knowledge = Broken(RuntimeError("index away"))
    said = await handoff(act, "我老汉晕倒了")
    assert said.texts[0].startswith("请马上拨打 120（急救电话）")
    assert len(said.messages) == 1 and said.slots == {"pending_options": None}
