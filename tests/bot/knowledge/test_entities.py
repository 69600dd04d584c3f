"""A question about one app, crop or card is not answered with another's entry."""

from __future__ import annotations

import pytest

from bot.knowledge.entities import Things


@pytest.fixture(scope="module")
def things() -> Things:
    return Things()


@pytest.mark.parametrize(
    "question, entry, conflict",
    [
        ("支付宝怎么绑银行卡", "微信怎么绑银行卡：点我—服务—钱包", True),
        ("番茄叶子上长黑斑", "辣椒疫病怎么防，海椒苗倒伏", True),
        ("电子社保卡怎么领", "医保电子凭证（医保码）怎么激活", True),
        # the entry names the same thing by another name
        ("洋芋叶子黑了咋个整", "番茄、马铃薯晚疫病", False),
        ("海椒苗倒了", "辣椒疫病怎么防", False),
        # the entry names both, or names no thing of that kind
        ("支付宝怎么交电费", "微信和支付宝都能交水电费", False),
        ("手机字太小", "微信里的字怎么调大", False),
        ("微信和支付宝哪个好用", "微信怎么转账", False),
    ],
)
def test_conflicts(things: Things, question: str, entry: str, conflict: bool) -> None:
    assert things.conflicts(things.named(question), things.named(entry)) is conflict


def test_longer_names_are_read_first(things: Things) -> None:
    assert things.named("小龙虾死了好多") == {"animal": {things_index("虾")}}


def things_index(name: str) -> int:
    from bot.knowledge.entities import KINDS

    return next(i for i, names in enumerate(KINDS["animal"]) if name in names)
