"""One answer per question: phrasings of two entries must not be near-identical."""

from __future__ import annotations

import pytest

from bot.knowledge.loader import (
    NEAR_DUPLICATE_JACCARD,
    NEAR_DUPLICATE_WORDS,
    load_entries,
    near_duplicate_questions,
    normalise_question,
)
from bot.knowledge.schema import Entry
from bot.settings import PROJECT_ROOT


def entry(entry_id: str, *questions: str, title: str | None = None) -> Entry:
    return Entry.parse_obj(
        {
            "id": entry_id,
            "topic": "health",
            "title": title or f"不一样的标题{entry_id}",
            "questions": [*questions, f"{entry_id}咋个办", f"{entry_id}是啥子"],
            "answer": "一个回答。",
            "audience": ["all"],
            "source": {"organisation": "某机构", "title": "某文件"},
            "reviewed_on": "2026-11-29",
        }
    )


def test_normalisation_drops_punctuation_spaces_and_width() -> None:
    assert normalise_question(" 打农药，要注意啥？ ") == "打农药要注意啥"
    assert normalise_question("ＡＰＰ 在哪里下载!") == "app在哪里下载"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("发芽的土豆能吃吗", "发芽的土豆能吃吗？"),  # equal once normalised
        ("冬天烤火怎么防煤气中毒", "冬天烤火怎么防煤气中毒嘛"),  # bigram Jaccard 0.91
    ],
)
def test_near_identical_questions_of_two_entries_are_found(first: str, second: str) -> None:
    found = near_duplicate_questions([entry("health-a", first), entry("health-b", second)])
    assert [(d.first_id, d.second_id) for d in found] == [("health-a", "health-b")]
    assert found[0].similarity >= NEAR_DUPLICATE_JACCARD
    assert "health-a" in str(found[0]) and second in str(found[0])


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # dialect, particles and fillers: the same content words
        ("菜上有农药咋个洗得干净", "菜的农药怎么洗干净"),
        ("发芽的洋芋还能吃不", "发芽的土豆能吃吗"),
        ("嗯那个狗咬了要打疫苗吗", "狗咬了要不要打疫苗哦"),
    ],
)
def test_questions_with_the_same_content_words_are_found(first: str, second: str) -> None:
    found = near_duplicate_questions([entry("health-a", first), entry("health-b", second)])
    assert [(d.first_id, d.second_id) for d in found] == [("health-a", "health-b")]
    assert found[0].similarity >= NEAR_DUPLICATE_WORDS
    assert "content-word" in str(found[0])


def test_asked_messages_count_as_phrasings() -> None:
    a = entry("health-a", "一个问题")
    b = entry("health-b", "另一个问题")
    a = a.copy(update={"asked": ["被狗咬了要打狂犬疫苗吗"]})
    b = b.copy(update={"asked": ["被狗咬了要打狂犬疫苗吗？"]})
    assert len(near_duplicate_questions([a, b])) == 1


def test_titles_count_as_phrasings() -> None:
    a = entry("health-a", "一个问题", title="发芽的土豆能吃吗")
    b = entry("health-b", "发芽的土豆能吃吗")
    assert len(near_duplicate_questions([a, b])) == 1


def test_similar_but_different_questions_pass() -> None:
    pairs = [
        ("微信红包怎么领", "微信红包怎么发"),
        ("降压药可以自己停吗", "药可以自己停吗"),
        # before a scam and after it: one content word more on four
        ("屏幕共享会不会把我的钱转走", "我把屏幕共享开了他把我的钱转走了怎么办"),
        ("加别人微信", "让别个加我微信咋个弄"),
    ]
    for first, second in pairs:
        assert near_duplicate_questions([entry("health-a", first), entry("health-b", second)]) == []


def test_phrasings_of_one_entry_may_be_close() -> None:
    assert near_duplicate_questions([entry("health-a", "土豆能吃吗", "土豆能吃吗？")]) == []


def test_the_curated_knowledge_has_no_near_duplicate_questions() -> None:
    found = near_duplicate_questions(load_entries(PROJECT_ROOT / "knowledge").entries)
    assert found == [], "\n".join(map(str, found))
