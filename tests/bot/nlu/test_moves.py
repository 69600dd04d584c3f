"""The move gate: DIET's moves kept only when the message is one."""

from __future__ import annotations

import pytest

pytest.importorskip("rasa")

import yaml  # noqa: E402
from rasa.shared.nlu.constants import INTENT, TEXT  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402

from bot.nlu import moves  # noqa: E402
from bot.nlu.moves import (  # noqa: E402
    FREE_TEXT,
    MOVE_WORDS,
    REPORT_STATUS_INTENT,
    MoveGate,
    gate,
)
from bot.settings import PROJECT_ROOT  # noqa: E402
from bot.text.normalize import canonical  # noqa: E402


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        # Commands that name what they ask for stay commands.
        ("找人帮忙", "handoff", None),
        ("我要找真人", "handoff", None),
        ("找个人来帮我弄一下手机", "handoff", None),
        ("有没得真人跟我说一哈", "handoff", None),
        # A visit told (the understanding step judges it) and a question about us.
        ("昨天有两个人上门说是自来水公司的，要换水表收三百", "handoff", FREE_TEXT),
        ("你到底是机器人还是真人哦", "handoff", FREE_TEXT),
        # a call to make for the user is an errand, not a person asked for
        ("帮我打个电话给我儿子", "handoff", FREE_TEXT),
        ("能不能给我打个电话", "handoff", None),
        ("村干部的电话是多少", "handoff", None),
        ("有没有人能帮我一下", "handoff", None),
        ("我要举报谣言", "report_rumor", None),
        ("帮我看看这条短信", "check_message", None),
        # Commands that carry a question or a claim are free text.
        ("一天喝多少水合适", "handoff", FREE_TEXT),
        ("听说喝醋能软化血管是不是谣言", "report_rumor", FREE_TEXT),
        ("路边捡的野果子能不能吃", "check_message", FREE_TEXT),
        ("【某银行】您的账户异常请点击链接验证", "check_message", FREE_TEXT),
        ("有人打电话说我医保卡冻结了，要我按1转人工，是不是骗子", "check_message", FREE_TEXT),
        # Short moves stay; long ones, or ones that ask, are free text.
        ("你好", "greet", None),
        ("2", "choose_option", None),
        ("第二个", "choose_option", None),
        ("健康", "choose_option", None),
        ("朋友圈", "choose_option", FREE_TEXT),
        ("你好，我想问一下高血压的人能不能吃鸡蛋", "greet", FREE_TEXT),
        ("好的那要不要先交钱", "affirm", FREE_TEXT),
        ("嗯那个三国演义是谁写的", "affirm", FREE_TEXT),  # a question word: 谁
        ("明天梁平下不下雨", "goodbye", FREE_TEXT),  # A-not-A asks (a model once said goodbye)
        ("多讲一点", "affirm", "repeat"),  # the last answer's detail
        ("看出处", "nlu_fallback", "repeat"),
        ("多讲一点红包的事", "free_text", None),
        ("谢谢", "thanks", None),
        # Looking up one's reports.
        ("我的举报有结果了吗", "report_rumor", REPORT_STATUS_INTENT),
        ("R-ABCD2345 怎么样了", "free_text", REPORT_STATUS_INTENT),
        ("我的举报有结果了吗", REPORT_STATUS_INTENT, None),
        ("我要举报", REPORT_STATUS_INTENT, FREE_TEXT),
        # A question about a visit is no booking and no hand-off; a request that
        # asks the price too still is one.
        ("志愿者上门要收钱吗", "order_service", FREE_TEXT),
        ("志愿者上门要收钱吗", "handoff", FREE_TEXT),
        ("志愿者来屋头帮忙收不收钱哦", "free_text", None),
        ("请志愿者上门帮我交电费", "free_text", "order_service"),
        ("派个人上门帮我认证养老金，收费不", "handoff", "order_service"),
        # Free text stays free text.
        ("二化螟怎么防治", "free_text", None),
    ],
)
def test_gate(text: str, intent: str, expected: str | None) -> None:
    assert gate(text, intent) == expected


def test_the_component_rewrites_the_intent_with_full_confidence() -> None:
    message = Message({TEXT: "一天喝多少水合适", INTENT: {"name": "handoff", "confidence": 0.8}})
    MoveGate().process([message])
    assert message.get(INTENT) == {"name": FREE_TEXT, "confidence": 1.0}


# --- issue 13: a short move says its own kind of words -------------------------------


@pytest.mark.parametrize(
    "text, intent",
    [
        ("高压锅的阀门在哪换", "greet"),
        ("膝盖痛 爬楼梯难受", "greet"),
        ("小猪崽拉稀站不稳", "deny"),
        ("帮我讲个笑话听", "repeat"),
        ("帮我把电费交了", "menu"),
        # a question that names no person to talk to
        ("种油菜有没有政府补贴", "handoff"),
        ("县医院的电话是多少", "handoff"),
    ],
)
def test_a_short_message_without_a_moves_words_is_free_text(text: str, intent: str) -> None:
    assert gate(canonical(text), intent) == FREE_TEXT


def _training_examples(intent: str) -> list[str]:
    examples: list[str] = []
    for path in sorted((PROJECT_ROOT / "nlu_data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if block.get("intent") == intent:
                lines = block["examples"].splitlines()
                examples += [line.strip()[2:] for line in lines if line.strip().startswith("- ")]
    return examples


@pytest.mark.parametrize("intent", sorted(MOVE_WORDS))
def test_every_training_example_of_a_move_says_its_words(
    intent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    examples = [canonical(text) for text in _training_examples(intent)]
    assert examples
    with_words = [gate(text, intent) for text in examples]
    monkeypatch.setattr(moves, "MOVE_WORDS", {})
    # the move words turn away no example that the other rules keep
    assert with_words == [gate(text, intent) for text in examples]
