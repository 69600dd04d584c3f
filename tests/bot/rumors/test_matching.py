"""Claim matching on masked text; where a rumour was seen."""

from __future__ import annotations

import pytest

from bot.knowledge.service import KnowledgeService
from bot.rumors.matching import ASK_MATCH, AUTO_MATCH, ClaimIndex, masked
from bot.rumors.where import read_where, where_from_claim
from bot.settings import PROJECT_ROOT


@pytest.mark.parametrize(
    "a, b",
    [
        ("重庆市梁平区明天停水三天", "万州区后天停水三天"),
        ("3月5日七星村有人吃野生菌中毒", "4月2日石桥村有人吃野生菌中毒"),
        ("看 http://a.example.com 说疫苗有毒", "看 http://b.example.cn 说疫苗有毒"),
    ],
)
def test_places_dates_numbers_and_links_are_masked(a: str, b: str) -> None:
    assert masked(a) == masked(b)


def test_a_reworded_claim_finds_its_key_and_a_key_scores_its_best_text() -> None:
    index = ClaimIndex(
        [
            ("vinegar", "喝醋能软化血管"),
            ("vinegar", "醋泡黑豆能降血压"),
            ("5g", "5G基站辐射会致癌"),
        ]
    )
    assert len(index) == 2
    best = index.best("群里说天天喝醋可以软化血管", k=2)
    assert best[0].key == "vinegar" and best[0].score >= ASK_MATCH
    assert [m.key for m in best] == ["vinegar", "5g"] or len(best) == 1
    assert ClaimIndex([]).best("任何话") == []


async def test_published_debunks_are_matched_in_two_tiers() -> None:
    service = KnowledgeService(PROJECT_ROOT / "knowledge")
    await service.refresh(force=True)
    entry, score = await service.match_debunk("喝醋能软化血管")
    assert entry.topic == "rumor" and score >= AUTO_MATCH
    match = await service.match_debunk("今天天气怎么样")
    assert match is None or match[1] < ASK_MATCH


@pytest.mark.parametrize(
    "claim, where",
    [
        ("群里说喝醋能软化血管", "wechat_group"),
        ("朋友圈说要地震了", "moments"),
        ("抖音上说吃大蒜能治癌", "short_video"),
        ("村里都在传要收地", "village"),
        ("听说明天停水", None),
        ("赶场的时候听人讲猪肉要涨价", "village"),
        ("紧急通知：明天起镇上停水一个星期", None),  # the place is what it is about
        ("村里的井水有毒，大家不要喝", None),
    ],
)
def test_where_from_the_claim(claim: str, where: str | None) -> None:
    assert where_from_claim(claim) == where


@pytest.mark.parametrize(
    "reply, where",
    [
        ("1", "wechat_group"),
        ("第二个", "moments"),
        ("3", "short_video"),
        ("村里听说的", "village"),
        ("5", "other"),
        ("不记得了", "other"),
        ("9", "other"),
    ],
)
def test_reading_the_answer_never_asks_twice(reply: str, where: str) -> None:
    assert read_where(reply) == where
