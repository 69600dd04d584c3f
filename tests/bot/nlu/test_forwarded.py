"""Pasted messages become message checks; long texts are never one-word replies."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.forwarded import ForwardedMessageOverride, looks_forwarded


@pytest.mark.parametrize(
    "text, forwarded",
    [
        ("【工商银行】您的账户存在异常，请登录 http://icbc-vip.top 认证", True),
        ("您的验证码是482913，请勿泄露。【中国移动】", True),
        ("点这个看看 t.cn/A6hJkQ2x", True),
        ("有人叫我把钱转到安全账户 怎么办", False),
        ("微信上的红包咋个收", False),
        ("1", False),
    ],
)
def test_looks_forwarded(text: str, forwarded: bool) -> None:
    assert looks_forwarded(text) is forwarded


def _run(text: str, intent: str) -> str:
    message = Message(data={TEXT: text, INTENT: {INTENT_NAME_KEY: intent, "confidence": 0.9}})
    ForwardedMessageOverride().process([message])
    return message.get(INTENT)[INTENT_NAME_KEY]


def test_a_pasted_sms_is_a_message_to_check() -> None:
    assert _run("【区医保局】您的医保卡已冻结，点击 http://yb-jd.top 解冻", "choose_option") == (
        "check_message"
    )


def test_a_long_text_is_not_a_menu_choice() -> None:
    text = "免费领鸡蛋！明早8点到村委会听健康讲座，专家讲保健品，名额有限先到先得"
    assert _run(text, "choose_option") == "nlu_fallback"


@pytest.mark.parametrize("text, intent", [("2", "choose_option"), ("好的", "affirm")])
def test_short_replies_are_left_alone(text: str, intent: str) -> None:
    assert _run(text, intent) == intent
