import pytest

from bot.text.pinyin import FUZZY_FINALS, FUZZY_INITIALS, fuzzy_pinyin, fuzzy_syllable


@pytest.mark.parametrize(
    "a, b",
    [
        ("zha", "za"),
        ("chi", "ci"),
        ("shi", "si"),
        ("nan", "lan"),
        ("fu", "hu"),
        ("feng", "fen"),
        ("xing", "xin"),
    ],
)
def test_each_sichuan_merge_folds_both_sounds_together(a: str, b: str) -> None:
    assert fuzzy_syllable(a) == fuzzy_syllable(b)


def test_the_table_holds_exactly_the_merges_tested() -> None:
    assert set(FUZZY_INITIALS) == {("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("f", "h")}
    assert set(FUZZY_FINALS) == {("eng", "en"), ("ing", "in")}


@pytest.mark.parametrize(
    "heard, meant",
    [
        ("砸骗", "诈骗"),
        ("二化名", "二化螟"),
        ("心机梗塞", "心肌梗塞"),
        ("牛奶", "刘奶"),
        ("湖南", "福兰"),
    ],
)
def test_sichuan_merges_and_homophones_share_keys(heard: str, meant: str) -> None:
    assert fuzzy_pinyin(heard) == fuzzy_pinyin(meant)


def test_distinct_sounds_stay_distinct() -> None:
    assert fuzzy_pinyin("诈骗") != fuzzy_pinyin("咋办")
    assert fuzzy_syllable("ng") == "ng"  # 嗯's syllable is not an n- initial


def test_non_han_is_dropped() -> None:
    assert fuzzy_pinyin("abc 123 微信") == ["wei", "xin"]
