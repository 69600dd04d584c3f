import pytest

from bot.text.pinyin import fuzzy_pinyin, fuzzy_syllable


@pytest.mark.parametrize(
    "a, b",
    [
        ("zha", "za"),
        ("chi", "ci"),
        ("shi", "si"),
        ("nan", "lan"),
        ("fu", "hu"),
        ("xing", "xin"),
        ("sheng", "sen"),
        # "hu" before a vowel is said f: 化肥 fa fei, 火车 fo che, 黄 fang, 会 fei, 婚 fen
        ("hua", "fa"),
        ("huo", "fo"),
        ("huang", "fang"),
        ("hui", "fei"),
        ("huan", "fan"),
        ("hun", "fen"),
        # 风 and 蜂 are said fong, which a recogniser writes hong (中哄, 马哄)
        ("feng", "hong"),
        # ü is said u (绿豆 lu dou)
        ("lv", "lu"),
    ],
)
def test_each_sichuan_merge_folds_both_sounds_together(a: str, b: str) -> None:
    assert fuzzy_syllable(a) == fuzzy_syllable(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("ba", "pa"),
        ("da", "ta"),
        ("zi", "ji"),
        ("ma", "na"),
        ("gan", "kan"),
        ("an", "en"),
        ("hong", "hen"),  # 红 is not 很
        ("hu", "ha"),  # 湖 is not 哈: only a u before another vowel goes
    ],
)
def test_sounds_sichuanese_keeps_apart_stay_apart(a: str, b: str) -> None:
    # Aspiration, place of articulation and the an/en vowels are not merged
    # in Chongqing/Sichuan speech: folding them would match unrelated words.
    assert fuzzy_syllable(a) != fuzzy_syllable(b)


@pytest.mark.parametrize(
    "heard, meant",
    [
        ("砸骗", "诈骗"),
        ("二化名", "二化螟"),
        ("心机梗塞", "心肌梗塞"),
        ("牛奶", "刘奶"),
        ("湖南", "福兰"),
        ("龙药", "农药"),
        ("发肥", "化肥"),
        ("中哄", "中风"),
        ("路豆", "绿豆"),
    ],
)
def test_sichuan_merges_and_homophones_share_keys(heard: str, meant: str) -> None:
    assert fuzzy_pinyin(heard) == fuzzy_pinyin(meant)


def test_distinct_sounds_stay_distinct() -> None:
    assert fuzzy_pinyin("诈骗") != fuzzy_pinyin("咋办")
    assert fuzzy_syllable("ng") == "ng"  # 嗯's syllable is not an n- initial


def test_non_han_is_dropped() -> None:
    assert fuzzy_pinyin("abc 123 微信") == ["wei", "xin"]
