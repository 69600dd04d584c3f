"""Subscription commands are known by their words, in plain words and dialect, and
nothing else is taken for one (a pasted SMS's "回复TD退订", "取消预约", a question)."""

from __future__ import annotations

import pytest

from bot.nlu.moves import FREE_TEXT, gate
from bot.outreach.commands import DIGEST, FARM, FRAUD, Command, parse


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("订阅防骗提醒", Command("subscribe", FRAUD)),
        ("我要订阅防骗提醒噻", Command("subscribe", FRAUD)),
        ("开通防骗提醒服务", Command("subscribe", FRAUD)),
        ("关注反诈", Command("subscribe", FRAUD)),
        ("给我发防骗的消息", Command("subscribe", FRAUD)),
        ("订阅农事提醒", Command("subscribe", FARM)),
        ("订阅农事提醒 水稻", Command("subscribe", FARM, "水稻")),
        ("订阅水稻的农事提醒", Command("subscribe", FARM, "水稻")),
        ("帮我订一下水稻的", Command("subscribe", FARM, "水稻")),
        ("订阅柚子提醒", Command("subscribe", FARM, "柑橘")),
        ("我想订养猪的提醒", Command("subscribe", FARM, "生猪")),
        ("订阅包谷", Command("subscribe", FARM, "玉米")),
        ("每月流言榜", Command("subscribe", DIGEST)),
        ("我想要每月流言榜", Command("subscribe", DIGEST)),
        ("订阅每个月的流言榜", Command("subscribe", DIGEST)),
        ("我的订阅", Command("list")),
        ("我订了啥子", Command("list")),
        ("退订", Command("unsubscribe")),
        ("TD", Command("unsubscribe")),
        ("取消订阅", Command("unsubscribe")),
        ("不要再给我发了", Command("unsubscribe")),
        ("莫发了", Command("unsubscribe")),
        ("停止推送", Command("unsubscribe")),
        ("退订防骗提醒", Command("unsubscribe", FRAUD)),
        ("不要发防骗的了", Command("unsubscribe", FRAUD)),
        ("取消农事提醒", Command("unsubscribe", FARM)),
        ("退订柚子", Command("unsubscribe", FARM, "柑橘")),
        ("退订流言榜", Command("unsubscribe", DIGEST)),
    ],
)
def test_commands_in_plain_words_and_dialect(text: str, command: Command) -> None:
    assert parse(text) == command
    assert gate(text, "check_message") == FREE_TEXT  # whatever DIET guessed: action_understand


@pytest.mark.parametrize(
    "text",
    [
        "取消预约",
        "取消",
        "不要",
        "不用了",
        "订阅",
        "防骗提醒",  # may ask what to watch out for: search answers it
        "谣言",
        "怎么防骗",
        "退订会员怎么退",
        "回复TD退订",
        "【某银行】您的积分即将清零，点击 http://x.cn 兑换，回复TD退订",
        "我要举报谣言",
        "不要信谣言",
        "莫喂猪",
        "收猪",
        "水稻",
        "二化螟怎么防治",
    ],
)
def test_other_messages_are_not_commands(text: str) -> None:
    assert parse(text) is None
