"""Every curated entry obeys the schema and the house rules for content."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from bot.knowledge.loader import load_entries, normalise_question
from bot.settings import PROJECT_ROOT
from bot.text.redact import redact

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


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.asked], ids=lambda e: e.id)
def test_asked_messages_are_stored_redacted_and_add_something(entry) -> None:
    # Messages residents sent are kept as they came, but never with a phone, card
    # or account number in them; one already a curated phrasing adds nothing.
    curated = {normalise_question(t) for t in entry.search_texts()}
    for text in entry.asked:
        assert redact(text) == text, text
        assert normalise_question(text) not in curated, text


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


# First aid and emergencies: entries curators tag 急救, titles about an emergency
# happening now, and every answer that opens with a call to 120. Fraud
# aftermath: the entry for "I was scammed" (tag 被骗后) and every entry whose
# title asks what to do after a scam.
FIRST_AID_TAG = "急救"
AFTERMATH_TAG = "被骗后"
AFTERMATH_TITLE = re.compile(r"(着骗|被骗|遭骗|被敲诈)[^防]*(咋办|怎么办|咋个办|该咋办)")
CALL_120 = re.compile(r"(?<!\d)120(?!\d)")
CALL_110 = re.compile(r"(?<!\d)110(?!\d)")


def _first_sentence(text: str) -> str:
    return re.split(r"[。！!]", text, maxsplit=1)[0]


def _is_emergency(entry) -> bool:
    emergency_title = (
        entry.topic == "health"
        and any(w in entry.title for w in EMERGENCY_WORDS)
        and not any(w in entry.title for w in PREVENTION_WORDS)
    )
    opens_with_120 = bool(CALL_120.search(_first_sentence(entry.answer)))
    return FIRST_AID_TAG in entry.tags or emergency_title or opens_with_120


FIRST_AID = [e for e in ENTRIES if _is_emergency(e)]
AFTERMATH = [e for e in ENTRIES if AFTERMATH_TAG in e.tags or AFTERMATH_TITLE.search(e.title)]


def test_first_aid_and_aftermath_entries_are_found() -> None:
    ids = {e.id for e in FIRST_AID}
    named = {"health-cpr-steps", "health-fall-help-others", "health-heart-attack-signs"}
    assert named <= ids and len(ids) >= 20
    assert {"fraud-beipian-zenme-ban", "fraud-luoliao-qiaozha"} <= {e.id for e in AFTERMATH}


@pytest.mark.parametrize("entry", FIRST_AID, ids=lambda e: e.id)
def test_first_aid_entries_have_numbered_steps_with_120_first(entry) -> None:
    assert len(entry.steps) >= 3
    if CALL_120.search(" ".join([entry.answer, *entry.steps])):
        # where calling 120 applies, it is said first
        assert CALL_120.search(_first_sentence(entry.answer)) or CALL_120.search(entry.steps[0])


@pytest.mark.parametrize("entry", AFTERMATH, ids=lambda e: e.id)
def test_fraud_aftermath_entries_have_numbered_steps_with_110_first(entry) -> None:
    assert len(entry.steps) >= 3
    assert CALL_110.search(entry.steps[0]), entry.steps


def _entry(entry_id: str):
    return next(e for e in ENTRIES if e.id == entry_id)


def test_co_poisoning_gets_the_person_to_fresh_air_before_calling() -> None:
    for entry in (_entry("health-co-poisoning"), _entry("rumor-water-basin-co")):
        text = entry.answer
        assert text.index("打开门窗") < text.index("120"), entry.id
        assert "不要" in text and "打电话" in text  # no phone where gas leaks
    steps = _entry("health-co-poisoning").steps
    assert "门窗" in steps[0] and "120" not in steps[0]
    assert any("屋外" in s and "120" in s for s in steps)


def test_stroke_while_waiting_uses_the_recovery_position() -> None:
    entry = _entry("health-stroke-while-waiting")
    assert "侧躺" in entry.answer and any("侧躺" in s for s in entry.steps)
    assert "不喂水" in entry.answer or any("不喂水" in s for s in entry.steps)


def test_a_medicine_overdose_with_symptoms_is_a_120_call() -> None:
    entry = _entry("health-medicine-safety-seniors")
    sentence = next(s for s in entry.answer.split("。") if "吃多了" in s)
    assert "120" in sentence and "药盒" in sentence
    assert "呼吸困难" in sentence and "抽搐" in sentence


def test_sprouted_potatoes_have_one_answer_that_says_not_to_eat_them() -> None:
    potato = [
        e
        for e in ENTRIES
        if any(w in t for t in (e.title, *e.questions) for w in ("发芽", "发绿", "变绿"))
        and any(w in " ".join((e.title, *e.questions)) for w in ("土豆", "洋芋"))
    ]
    assert [e.id for e in potato] == ["rumor-sprouted-potato"]
    entry = potato[0]
    assert "health-sprouted-potato" in entry.aliases
    # The position of the health authorities: sprouted a lot or green, do not eat.
    first = entry.answer.split("。")[1]
    assert "发芽多" in first and "变绿" in first and "不要吃" in first
    assert not re.search(r"\d+\s*(厘米|毫米|个芽|cm)", entry.answer + (entry.explanation or ""))


# Editions replaced by a current one (issue 17): no entry cites them again.
SUPERSEDED = (
    "中国高血压防治指南（2018年修订版）",
    "流行性感冒诊疗方案（2020年版）",
    "到2020年化肥使用量零增长行动方案",
)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_no_entry_cites_a_superseded_edition(entry) -> None:
    assert not any(title in entry.source.title for title in SUPERSEDED), entry.source.title


def test_someone_who_fell_alone_and_cannot_move_calls_120_first() -> None:
    entry = _entry("health-fall-get-up-alone")
    assert "120" in entry.steps[0] and "动不了" in entry.steps[0]
