"""Claim matching on masked text; where a rumour was seen."""

from __future__ import annotations

import random

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.knowledge.service import KnowledgeService
from bot.rumors.where import read_where, where_from_claim
from bot.settings import PROJECT_ROOT
from bot.text.matching import ASK_MATCH, AUTO_MATCH, ClaimIndex, masked


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
    # The 5G claim shares no words with it: it is not a match at any score.
    assert [m.key for m in best] == ["vinegar"]
    assert ClaimIndex([]).best("任何话") == []


async def test_published_debunks_are_matched_in_two_tiers() -> None:
    service = KnowledgeService(PROJECT_ROOT / "knowledge")
    await service.refresh(force=True)
    entry, score = await service.match_debunk("喝醋能软化血管")
    assert entry.id == "rumor-vinegar-vessels" and score >= AUTO_MATCH
    # A question about the weather shares nothing with any debunk: no match at all.
    assert await service.match_debunk("今天天气怎么样") is None


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
        ("朋友圈", "moments"),
        ("抖音上看的", "short_video"),
        ("听村里人说的", "village"),
        ("微信群", "wechat_group"),
        ("电视上", "other"),
    ],
)
def test_reading_the_answer_never_asks_twice(reply: str, where: str) -> None:
    assert read_where(reply) == where


# The index kept up to date claim by claim -------------------------------------------

FRAGMENTS = (
    "喝醋能软化血管",
    "5G基站辐射会致癌",
    "明天停水三天赶快储水",
    "吃洋芋和香蕉会中毒",
    "养老金下个月要停发",
    "隔夜菜吃了得癌症",
    "村里要收老人的地",
    "微波炉加热会产生毒素",
    "转发这条能领补贴",
    "鸡蛋和豆浆不能一起吃",
)


def texts(n: int, seed: int) -> list[str]:
    """Rumour-like texts: two fragments and a few characters of their own."""
    rng = random.Random(seed)
    own = "天地人你我他上下左右春夏秋冬东南西北金木水火土山石田禾米"
    return [
        "".join(rng.sample(FRAGMENTS, 2)) + "".join(rng.choices(own, k=rng.randint(0, 6)))
        for _ in range(n)
    ]


def refit_scores(live: dict[str, str], query: str) -> dict[str, float]:
    """What the original matcher (a TfidfVectorizer fitted on the claims) scores."""
    keys = list(live)
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(2, 4), sublinear_tf=True)
    matrix = vectorizer.fit_transform([live[k] for k in keys])
    scores = (matrix @ vectorizer.transform([query]).T).toarray().ravel()
    return {k: float(s) for k, s in zip(keys, scores, strict=True)}


def test_claims_added_and_dropped_score_as_a_refit_index() -> None:
    corpus = [masked(t) for t in texts(700, seed=1)]
    index = ClaimIndex([(str(i), t) for i, t in enumerate(corpus[:100])], premasked=True)
    live = {str(i): t for i, t in enumerate(corpus[:100])}
    rng = random.Random(2)
    for i, text in enumerate(corpus[100:], start=100):  # enough to compact several times
        index.add(str(i), text, premasked=True)
        live[str(i)] = text
        if rng.random() < 0.3:
            gone = rng.choice(sorted(live))
            assert index.discard(gone)
            del live[gone]
    assert len(index) == len(live)
    for query in [masked(t) for t in texts(30, seed=3)]:
        expected = refit_scores(live, query)
        got = index.best_masked(query, k=5)
        assert [round(m.score, 9) for m in got] == sorted(
            (round(s, 9) for s in expected.values() if s > 0), reverse=True
        )[:5]
        assert all(abs(expected[m.key] - m.score) < 1e-6 for m in got)
        above = index.best_masked(query, k=5, min_score=0.5)
        assert above == [m for m in got if m.score >= 0.5]


def test_a_dropped_claim_is_never_returned() -> None:
    index = ClaimIndex([("water", "明天停水三天，大家赶快储水"), ("vinegar", "喝醋能软化血管")])
    index.discard("water")
    assert "water" not in index and len(index) == 1
    assert all(m.key != "water" for m in index.best("万州区后天停水三天！大家赶快储水", k=5))
    index.add("water", "明天停水三天，大家赶快储水")
    assert index.best("万州区后天停水三天！大家赶快储水")[0].key == "water"


def test_with_a_minimum_score_only_claims_sharing_a_rare_ngram_are_read(monkeypatch) -> None:
    # 3,000 claims that all share a long common opening; one of them is the report.
    rng = random.Random(4)
    own = "".join(chr(0x4E00 + i) for i in range(2000))
    claims = [(str(i), "大家注意转发给亲人" + "".join(rng.choices(own, k=12))) for i in range(3000)]
    index = ClaimIndex(claims)
    scored: list[int] = []
    original = ClaimIndex._scores

    def spy(self, rows, *args):
        scored.append(len(rows))
        return original(self, rows, *args)

    monkeypatch.setattr(ClaimIndex, "_scores", spy)
    query = "大家注意转发给亲人" + claims[1234][1][-12:]
    best = index.best(query, min_score=0.5)
    assert best and best[0].key == "1234"
    assert scored[-1] < 30  # not the 3,000 claims that share the opening
    index.best(query)  # without a minimum every claim sharing an n-gram is scored
    assert scored[-1] == 3000


@pytest.mark.parametrize("reply", ["9", "12", "第十个"])
def test_a_number_that_was_not_offered_is_refused(reply: str) -> None:
    assert read_where(reply) is None
