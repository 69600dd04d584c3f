"""Every curated entry obeys the schema and the house rules for content."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from bot.knowledge.loader import load_entries
from bot.settings import PROJECT_ROOT

RESULT = load_entries(PROJECT_ROOT / "knowledge")
ENTRIES = RESULT.entries
# Titles of entries about an emergency happening now (not about prevention).
EMERGENCY_WORDS = (
    "中风",
    "心梗",
    "心肌梗",
    "心脏骤停",
    "心肺复苏",
    "溺水",
    "煤气中毒",
    "蛇咬",
    "农药中毒",
    "中毒了",
    "亚硝酸盐中毒",
    "噎住",
    "海姆立克",
    "急救",
)
PREVENTION_WORDS = ("预防", "怎么防", "防止", "风险")
# Drug doses ("每次2片", "500毫克"); dietary amounts like "每天5克盐" are fine.
DOSE = re.compile(
    r"\d+(?:\.\d+)?\s*(?:毫克|mg|片|粒)|每次\s*\d|一次\s*\d+\s*(?:片|粒|袋)", re.IGNORECASE
)


def test_every_file_is_valid() -> None:
    assert RESULT.errors == []


def test_enough_entries_per_topic() -> None:
    counts = Counter(e.topic for e in ENTRIES)
    minimum = {"smartphone": 60, "health": 60, "fraud": 50, "farming": 50, "rumor": 30}
    for topic, n in minimum.items():
        assert counts[topic] >= n, (topic, counts[topic])


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_entry_names_a_source_and_review_date(entry) -> None:
    assert entry.source.organisation and entry.source.title
    assert entry.reviewed_on.year >= 2024


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.topic == "health"], ids=lambda e: e.id)
def test_health_entries_never_dose(entry) -> None:
    text = " ".join([entry.answer, *entry.steps])
    assert not DOSE.search(text), DOSE.search(text)


@pytest.mark.parametrize(
    "entry",
    [
        e
        for e in ENTRIES
        if e.topic == "health"
        and any(w in e.title for w in EMERGENCY_WORDS)
        and not any(w in e.title for w in PREVENTION_WORDS)
    ],
    ids=lambda e: e.id,
)
def test_emergency_entries_say_120_first(entry) -> None:
    first_sentence = re.split(r"[。！!]", entry.answer, maxsplit=1)[0]
    assert "120" in first_sentence, entry.answer


def test_ids_are_unique_and_prefixed_by_topic() -> None:
    prefix = {
        "smartphone": "phone-",
        "health": "health-",
        "fraud": "fraud-",
        "farming": "farm-",
        "rumor": "rumor-",
    }
    assert len({e.id for e in ENTRIES}) == len(ENTRIES)
    for e in ENTRIES:
        assert e.id.startswith(prefix[e.topic]), e.id
