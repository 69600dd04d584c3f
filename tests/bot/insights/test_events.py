"""One analytics event per turn, from the events Rasa stores, never the text."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.insights.events import FREE_TEXT, TurnAssembler
from bot.storage.db import sender_hash

T0 = datetime(2026, 12, 1, 15, 30, tzinfo=timezone.utc).timestamp()  # 23:30 in China


def user(sender: str, text: str, intent: str | None, channel: str = "wechat", at: float = T0):
    parse = {"intent": {"name": intent, "confidence": 0.9}} if intent else {"intent": {}}
    return {
        "sender_id": sender,
        "event": "user",
        "text": text,
        "parse_data": {"text": text, **parse},
        "input_channel": channel,
        "timestamp": at,
        "metadata": {"phone": "13812345678"},
    }


def bot(sender: str, text: str, custom: dict | None = None):
    return {"sender_id": sender, "event": "bot", "text": text, "data": {"custom": custom}}


def action(sender: str, name: str):
    return {"sender_id": sender, "event": "action", "name": name}


def session_start(sender: str):
    return [
        action(sender, "action_session_start"),
        {"sender_id": sender, "event": "session_started"},
        action(sender, "action_listen"),
    ]


def feed(assembler: TurnAssembler, events):
    turns = []
    for event in events:
        turns += assembler.feed(event)
    return turns


def test_a_question_makes_one_turn_with_its_tags_and_no_text() -> None:
    sender = "oWx-13812345678"
    events = [
        *session_start(sender),
        user(sender, "我的电话13812345678，微信红包咋个收", None),
        action(sender, "action_understand"),
        bot(
            sender,
            "1. 打开微信",
            {
                "decision": "answer",
                "entry_id": "phone-wechat-red-packet",
                "topic": "smartphone",
                "band": "high",
            },
        ),
        bot(sender, "2. 点红包", None),
        bot(sender, "这个回答有用吗？", {"decision": "feedback_prompt"}),
        action(sender, "action_listen"),
    ]
    (turn,) = feed(TurnAssembler(), events)
    assert turn.move == FREE_TEXT and turn.new_session
    assert (turn.decision, turn.entry_id, turn.topic, turn.score_band) == (
        "answer",
        "phone-wechat-red-packet",
        "smartphone",
        "high",
    )
    assert turn.channel == "wechat" and turn.user_hash == sender_hash(sender)
    # China time: 15:30 UTC is 23:30 on the same day.
    assert (turn.day.isoformat(), turn.hour) == ("2026-12-01", 23)
    row = turn.row()
    assert not any("1381234" in str(v) or "红包" in str(v) for v in row.values())


def test_moves_fraud_reports_and_orders_are_read_from_their_tags() -> None:
    s = "web-1"
    events = [
        user(s, "2", "choose_option", channel="webchat"),
        bot(
            s,
            "检查结果：高风险",
            {"decision": "fraud_verdict", "risk": "high", "fraud_type": "冒充客服退款"},
        ),
        action(s, "action_listen"),
        user(s, "举报谣言", "report_rumor", channel="webchat"),
        bot(s, "已收到，编号 R-ABCD2345", {"decision": "report_filed", "report": "R-ABCD2345"}),
        action(s, "action_listen"),
        user(s, "好", "affirm", channel="webchat"),
        bot(s, "预约好了", {"decision": "order_placed", "order": "D-ABCDEFGH"}),
        action(s, "action_listen"),
    ]
    first, second, third = feed(TurnAssembler(), events)
    assert (first.move, first.fraud_risk, first.fraud_type) == (
        "choose_option",
        "high",
        "冒充客服退款",
    )
    assert not first.new_session
    assert (second.move, second.report_id) == ("report_rumor", "R-ABCD2345")
    assert (third.move, third.order_id) == ("affirm", "D-ABCDEFGH")


def test_turns_of_interleaved_senders_stay_apart() -> None:
    a, b = "a", "b"
    assembler = TurnAssembler()
    turns = feed(
        assembler,
        [
            user(a, "x", None),
            user(b, "y", "greet", channel="wecom"),
            bot(b, "您好", {"decision": "greet"}),
            bot(a, "答案", {"decision": "answer", "entry_id": "e1"}),
            action(b, "action_listen"),
            action(a, "action_listen"),
        ],
    )
    assert [(t.user_hash, t.decision, t.channel) for t in turns] == [
        (sender_hash(b), "greet", "wecom"),
        (sender_hash(a), "answer", "wechat"),
    ]
    assert len(assembler) == 0  # nothing left pending


def test_a_turn_that_never_listened_again_is_closed_by_the_next_message() -> None:
    s = "s"
    turns = feed(
        TurnAssembler(),
        [
            user(s, "x", None),
            bot(s, "…", {"decision": "none"}),
            user(s, "y", "menu"),
            action(s, "action_listen"),
        ],
    )
    assert [(t.move, t.decision) for t in turns] == [(FREE_TEXT, "none"), ("menu", None)]


def test_the_services_own_warm_up_conversations_are_not_counted() -> None:
    s = "kepu-warmup-1a2b"
    assert (
        feed(TurnAssembler(), [user(s, "微信红包怎么发", None), action(s, "action_listen")]) == []
    )


def test_odd_events_are_ignored_and_long_tags_cut() -> None:
    s = "s"
    turns = feed(
        TurnAssembler(),
        [
            {"event": "user"},  # no sender
            action(s, "action_listen"),  # nothing pending
            user(s, "x", None, channel=""),
            bot(s, "…", {"decision": "d" * 100, "entry_id": 5, "unknown": "x"}),
            bot(s, "…", "not a dict"),
            action(s, "action_listen"),
        ],
    )
    (turn,) = turns
    assert turn.channel == "unknown" and turn.decision == "d" * 32 and turn.entry_id is None
