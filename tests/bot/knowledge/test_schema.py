import datetime as dt

import pytest
from pydantic import ValidationError

from bot.knowledge.schema import Entry

BASE = {
    "id": "phone-font-size",
    "topic": "smartphone",
    "title": "怎么把字调大",
    "questions": ["字太小", "怎么调大字体", "字咋个弄大点"],
    "answer": "打开设置，调大字体。",
    "audience": ["senior"],
    "source": {"organisation": "工业和信息化部", "title": "适老化规范"},
    "reviewed_on": "2026-11-29",
    "tags": ["字体"],
}


def test_valid_entry_parses() -> None:
    entry = Entry.parse_obj(BASE)
    assert entry.reviewed_on == dt.date(2026, 11, 29)


@pytest.mark.parametrize(
    "change",
    [
        {"questions": ["一", "二"]},  # fewer than 3 phrasings
        {"questions": ["怎么调大字体", "如何调大字体", "调大字体的方法"]},  # none colloquial
        {"answer": "字" * 301},  # too long
        {"steps": ["步" * 61]},  # a step too long
        {"steps": [f"第{i}步" for i in range(6)]},  # more than one screen of steps
        {"topic": "weather"},
        {"id": "Phone Font"},
        {"source": {"organisation": "工信部"}},  # no document title
        {"verdict": "谣言"},  # debunk fields on a non-rumour
        {"unknown_field": 1},
        {"asked": ["字太小了", "字太小了"]},  # the same message twice
        {"asked": ["字"]},  # too short to be a question
        {"asked": ["字" * 201]},  # a pasted essay, not a question
    ],
)
def test_bad_entries_are_rejected(change: dict) -> None:
    with pytest.raises(ValidationError):
        Entry.parse_obj({**BASE, **change})


def test_rumor_needs_claim_verdict_explanation() -> None:
    rumor = {**BASE, "id": "rumor-x", "topic": "rumor"}
    with pytest.raises(ValidationError):
        Entry.parse_obj(rumor)
    ok = Entry.parse_obj(
        {**rumor, "claim": "隔夜水致癌", "verdict": "谣言", "explanation": "不会。"}
    )
    assert ok.verdict == "谣言"
    with pytest.raises(ValidationError):
        Entry.parse_obj({**rumor, "claim": "x", "verdict": "假的", "explanation": "y"})


def test_asked_messages_are_matched_but_not_shown_as_phrasings() -> None:
    entry = Entry.parse_obj({**BASE, "asked": ["手机上的字看不清楚咋个整"]})
    assert entry.search_texts() == ["怎么把字调大", "字太小", "怎么调大字体", "字咋个弄大点"]
    assert entry.matched_texts()[-1] == "手机上的字看不清楚咋个整"
    assert Entry.parse_obj(BASE).asked == []
