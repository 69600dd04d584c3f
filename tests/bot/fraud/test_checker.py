"""Verdicts: one risk level, the type, two to four quoted reasons, what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.fraud.checker import RISK_LABELS, FraudChecker, default_checker
from bot.fraud.signals import FRAUD_TYPES
from bot.fraud.stats import check_counts, count_check
from bot.storage.db import Database


@pytest.fixture(scope="module")
def checker() -> FraudChecker:
    return default_checker()


@pytest.mark.parametrize(
    "text, fraud_type",
    [
        (
            "您好，我是市公安局民警，您的身份证涉嫌洗钱案件，请配合调查，"
            "把资金转到安全账户，此事要保密，不要告诉家人",
            "冒充公检法及政府机关",
        ),
        ("爸 我换了新号 手机掉了 急用钱 先转我3000 别告诉妈", "冒充领导熟人"),
        ("【淘宝客服】您的订单异常，需要退款，请下载腾讯会议开启屏幕共享", "冒充电商物流客服"),
        ("免费领鸡蛋！明早到村委会听健康讲座，专家讲保健品包治百病，可以停药", "养老诈骗"),
        ("在家动动手指刷单点赞，日结佣金，先垫付后返利", "刷单返利"),
    ],
)
def test_scams_are_high_risk_with_their_type(checker, text: str, fraud_type: str) -> None:
    verdict = checker.check(text)
    assert verdict.risk == "high"
    assert verdict.fraud_types[0] == fraud_type
    assert 2 <= len(verdict.reasons) <= 4


@pytest.mark.parametrize(
    "text",
    [
        "【中国移动】您的验证码是482913，5分钟内有效，请勿泄露给他人。",
        "【区公安分局】反诈提醒：公检法机关不会通过电话要求转账到安全账户，如遇可疑请拨打96110。",
        "【区人民医院】您预约的明天上午9:00内科门诊，请携带医保卡按时就诊。",
        "奶奶，周末我回来看您，给您带了点水果",
    ],
)
def test_genuine_messages_are_low_risk(checker, text: str) -> None:
    verdict = checker.check(text)
    assert verdict.risk == "low" and verdict.fraud_types == []
    assert verdict.reasons


def test_reasons_quote_the_message(checker) -> None:
    verdict = checker.check("点击 http://icbc-vip.top/login 认证，否则今日冻结")
    assert any("“http://icbc-vip.top/login”" in r for r in verdict.reasons)
    assert any("链接不是官方网址" in r for r in verdict.reasons)


def test_chat_text_names_exactly_one_risk_level(checker) -> None:
    for text in ("把钱转到安全账户", "你好", "点击 t.cn/abc 领取补贴"):
        reply = checker.check(text).as_text()
        assert sum(label in reply for label in RISK_LABELS.values()) == 1, reply
        assert "96110" in reply


def test_high_risk_advice_says_110_if_money_was_sent(checker) -> None:
    advice = checker.check("把钱转到安全账户，马上，保密").advice
    assert "110" in advice and "96110" in advice


def test_same_text_same_verdict(checker) -> None:
    text = "恭喜您获得大奖，先交500元手续费即可领取"
    first = checker.check(text)
    assert checker.check(text) == first
    assert FraudChecker().check(text) == first  # a freshly trained model agrees


def test_types_are_named_as_the_ministry_names_them(checker) -> None:
    verdict = checker.check("您的校园贷没有注销，会影响征信，请马上把钱转到指定账户")
    assert set(verdict.fraud_types) <= set(FRAUD_TYPES.values())


async def test_only_counts_are_stored(tmp_path: Path, checker) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    await db.migrate()
    text = "我是你孙子，换了新号 13812345678，急用钱转到6222020200112233445"
    for _ in range(2):
        await count_check(db, checker.check(text))
    await count_check(db, checker.check("你好"))
    counts = await check_counts(db)
    await db.close()
    assert sorted((risk, kind, n) for _, risk, kind, n in counts) == [
        ("high", "impersonate_acquaintance", 2),
        ("low", "", 1),
    ]
    dump = (tmp_path / "k.db").read_bytes()
    assert b"13812345678" not in dump and "孙子".encode() not in dump
