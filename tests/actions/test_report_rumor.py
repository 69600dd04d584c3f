"""Reporting a rumour: the form (what counts as a claim, where it was seen, a
question asked instead of an answer) and action_report_rumor (a verdict at once
when a debunk answers it; else the report stored once, redacted, and its number
given; never a number without a stored report)."""

from __future__ import annotations

import re
from typing import Any

from actions.report_rumor import NOT_SAVED, ActionReportRumor, ValidateReportRumorForm
from bot.knowledge.service import AskResult
from bot.storage.db import sender_hash
from bot.understanding.decide import Decision
from tests.actions.support import (
    HEATSTROKE,
    SENDER,
    VINEGAR,
    VINEGAR_LEAD,
    VINEGAR_TAG,
    Broken,
    hit,
    make_entry,
    make_tracker,
    stamp,
    user_event,
)

CLAIM = "听说七星村下个月要拆迁，每家赔十万，我电话13812345678"
RESET = {"rumor_claim": None, "rumor_where": None, "rumor_match": None, "rumor_aside": None}
RECEIPT = re.compile(r"R-[A-Z2-7]{8}")


# ---------------------------------------------------------------------------
# The form


async def validate(act, extracted: dict[str, Any], slots: dict[str, Any] | None = None):
    text = str(next(iter(extracted.values())))
    tracker = make_tracker(text, active_loop="report_rumor_form", slots=slots, extracted=extracted)
    return await act(ValidateReportRumorForm(), tracker)


async def test_a_request_without_a_claim_is_asked_again(act, kit) -> None:
    for value in ("举报谣言", "我要举报", None):
        said = await validate(act, {"rumor_claim": value})
        assert said.slots == {"rumor_claim": None}


async def test_a_claim_a_debunk_answers_ends_the_form_without_asking_where(act, kit) -> None:
    kit.knowledge.debunks["群里说喝醋能软化血管"] = (VINEGAR, 0.8)
    said = await validate(act, {"rumor_claim": "群里说喝醋能软化血管"})
    assert said.slots == {
        "rumor_claim": "群里说喝醋能软化血管",
        "rumor_match": "rumor-vinegar-vessels",
        "requested_slot": None,  # the form is done
    }


async def test_a_claim_search_answers_with_a_debunk_matches_it(act, kit) -> None:
    claim = "醋泡黄豆能软化血管是真的吗"
    kit.knowledge.answers[claim] = AskResult("answer", [hit(VINEGAR, 0.7)])
    said = await validate(act, {"rumor_claim": claim})
    assert said.slots["rumor_match"] == "rumor-vinegar-vessels"


async def test_an_answer_on_another_topic_is_no_match(act, kit) -> None:
    claim = "听说天热了要多喝冰水防中暑"
    kit.knowledge.answers[claim] = AskResult("answer", [hit(HEATSTROKE, 0.7)])
    said = await validate(act, {"rumor_claim": claim})
    assert said.slots == {"rumor_claim": claim, "rumor_where": None}  # asks where next


async def test_a_claim_that_says_where_it_was_seen_skips_that_question(act, kit) -> None:
    claim = "朋友圈里说吃大蒜能防新冠"
    said = await validate(act, {"rumor_claim": claim})
    assert said.slots == {"rumor_claim": claim, "rumor_where": "moments", "requested_slot": None}


async def test_where_by_number_and_a_number_not_offered(act, kit) -> None:
    said = await validate(act, {"rumor_where": "2"}, slots={"rumor_claim": CLAIM})
    assert said.slots["rumor_where"] == "moments" and said.messages == []
    said = await validate(act, {"rumor_where": "9"}, slots={"rumor_claim": CLAIM})
    assert said.slots["rumor_where"] is None
    assert said.texts == ["没有这个选项，请回复 1 到 5 的数字。"]


async def test_a_question_instead_of_where_is_kept_for_after_the_receipt(act, kit) -> None:
    aside = "一天喝多少水才合适呢"
    said = await validate(act, {"rumor_where": aside}, slots={"rumor_claim": CLAIM})
    assert said.slots["rumor_where"] == "other" and said.slots["rumor_aside"] == aside
    said = await validate(act, {"rumor_where": "其他"}, slots={"rumor_claim": CLAIM})
    assert said.slots["rumor_where"] == "other" and "rumor_aside" not in said.slots


# ---------------------------------------------------------------------------
# Filing the report


def finished(
    claim: str = CLAIM,
    *,
    where: str | None = "village",
    match: str | None = None,
    aside: str | None = None,
    message_id: str = "wx-4",
):
    """The tracker when the form is done: the claim came in ``wx-claim``, "4" now."""
    events = [
        user_event("举报谣言", "wx-start"),
        user_event(claim, "wx-claim"),
        {"event": "slot", "name": "rumor_claim", "value": claim},
    ]
    slots = {"rumor_claim": claim, "rumor_where": where, "rumor_match": match, "rumor_aside": aside}
    return make_tracker(
        "4", intent="choose_option", slots=slots, events=events, message_id=message_id
    )


async def test_a_report_is_stored_redacted_and_its_number_given(act, kit) -> None:
    said = await act(ActionReportRumor(), finished())
    [(public_id, text, where, channel)] = await kit.rows(
        "SELECT public_id, text, seen_where, channel FROM rumor_reports"
    )
    assert RECEIPT.fullmatch(public_id)
    assert said.texts[0].startswith(f"已收到，编号 {public_id}，核实后会告诉您结论。\n")
    assert said.customs == [{"decision": "report_filed", "report": public_id}]
    assert said.slots == RESET
    assert "13812345678" not in text and text.startswith("听说七星村下个月要拆迁")
    assert (where, channel) == ("village", "wechat")


async def test_the_same_report_sent_again_is_stored_once(act, kit) -> None:
    first = await act(ActionReportRumor(), finished(message_id="wx-4"))
    again = await act(ActionReportRumor(), finished(message_id="wx-5"))  # "4" sent again
    assert first.customs == again.customs
    assert await kit.count("rumor_reports") == 1


async def test_pictures_sent_during_the_report_go_with_it(act, kit) -> None:
    now = stamp()
    for media in ("pic-1", "pic-2"):
        await kit.execute(
            "INSERT INTO report_evidence (sender_hash, channel, media_id, created_at)"
            " VALUES (:hash, 'wechat', :media, :now)",
            hash=sender_hash(SENDER),
            media=media,
            now=now,
        )
    said = await act(ActionReportRumor(), finished())
    assert said.texts[0].startswith("已收到（连同 2 张图片），编号 R-")
    [(attached,)] = await kit.rows(
        "SELECT COUNT(*) FROM report_evidence e JOIN rumor_reports r ON e.report_id = r.id"
    )
    assert attached == 2


async def test_no_number_when_the_report_cannot_be_stored(act, kit) -> None:
    kit.services.reports = Broken(OSError("database away"))
    said = await act(ActionReportRumor(), finished())
    assert said.texts == [NOT_SAVED]
    assert not RECEIPT.search(said.text)
    assert said.slots == RESET


async def test_the_number_is_given_even_if_pictures_cannot_be_attached(act, kit) -> None:
    kit.database_down()  # the report queue keeps its own working database
    said = await act(ActionReportRumor(), finished())
    assert RECEIPT.search(said.texts[0]) and said.customs[0]["decision"] == "report_filed"


async def test_a_matched_debunk_is_the_answer_and_nothing_is_filed(act, kit) -> None:
    said = await act(ActionReportRumor(), finished(match="rumor-vinegar-vessels"))
    assert said.texts[0] == "这个说法我们核实过："
    assert said.texts[1] == VINEGAR_LEAD
    assert said.customs[0] == VINEGAR_TAG
    assert said.slots == {
        **RESET,
        "pending_options": None,
        "last_entry_id": "rumor-vinegar-vessels",
    }
    assert await kit.count("rumor_reports") == 0


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.fail = fail

    async def submit_again(self, claim_id: int, text: str, **details: Any) -> None:
        self.calls.append((claim_id, text, details))
        if self.fail:
            raise OSError("database away")


PUBLISHED = make_entry(
    "rumor-claim-7",
    "rumor",
    "七星村要拆迁吗",
    "这是谣言。区里没有七星村的拆迁计划。",
    claim="七星村下个月要拆迁",
    verdict="谣言",
    explanation="区住建委说明：七星村没有拆迁计划，也没有赔偿标准。",
)


async def test_a_console_debunk_counts_the_claim_going_round_again(act, kit) -> None:
    kit.knowledge.entries[PUBLISHED.id] = PUBLISHED
    kit.services.reports = recorder = Recorder()
    said = await act(ActionReportRumor(), finished(match="rumor-claim-7"))
    assert said.texts[1] == "【谣言】区里没有七星村的拆迁计划。"
    assert recorder.calls == [
        (
            7,
            CLAIM,
            {
                "sender_id": SENDER,
                "channel": "wechat",
                "message_id": "wx-claim",  # the claim's message: the idempotency key
                "seen_where": "village",
            },
        )
    ]


async def test_the_verdict_is_given_even_if_the_count_fails(act, kit) -> None:
    kit.knowledge.entries[PUBLISHED.id] = PUBLISHED
    kit.services.reports = Recorder(fail=True)
    said = await act(ActionReportRumor(), finished(match="rumor-claim-7"))
    assert said.texts[:2] == ["这个说法我们核实过：", "【谣言】区里没有七星村的拆迁计划。"]


async def test_a_similar_debunk_is_offered_as_yes_or_no(act, kit) -> None:
    kit.knowledge.debunks[CLAIM] = (VINEGAR, 0.45)
    said = await act(ActionReportRumor(), finished())
    assert said.texts[1] == (
        "我们核实过一条相似的说法：『喝醋能软化血管吗』\n是不是这条？回复 1 是，2 不是"
    )
    assert said.slots == {**RESET, "pending_options": ["kb:rumor-vinegar-vessels", "none:"]}


async def test_the_question_asked_instead_of_where_is_answered_after_the_receipt(act, kit) -> None:
    aside = "中暑了咋个办"
    kit.understanding.decisions[aside] = Decision("answer", entry=HEATSTROKE)
    said = await act(ActionReportRumor(), finished(where="other", aside=aside))
    assert said.customs[0]["decision"] == "report_filed"
    assert said.customs[1] == {
        "decision": "answer",
        "entry_id": "health-heatstroke",
        "topic": "health",
    }
    assert said.slots == {**RESET, "pending_options": None, "last_entry_id": "health-heatstroke"}
    assert await kit.rows("SELECT seen_where FROM rumor_reports") == [("other",)]


async def test_the_receipt_stands_when_the_similar_debunk_lookup_fails(act, kit) -> None:
    kit.services.knowledge = Broken(RuntimeError("index away"))
    said = await act(ActionReportRumor(), finished())
    assert len(said.messages) == 1 and RECEIPT.search(said.texts[0])
    assert said.slots == RESET
    assert await kit.count("rumor_reports") == 1


async def test_the_receipt_stands_when_the_aside_cannot_be_answered(act, kit) -> None:
    kit.services.understanding = Broken(RuntimeError("understanding away"))
    said = await act(ActionReportRumor(), finished(where="other", aside="中暑了咋个办"))
    assert len(said.messages) == 1 and said.customs[0]["decision"] == "report_filed"
