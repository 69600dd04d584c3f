"""Sound-alike misspellings of the assistant's own terms are put right, nothing else."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.knowledge.loader import load_entries
from bot.knowledge.search import TWO_CHAR_TERM_MIN
from bot.settings import PROJECT_ROOT
from bot.text.homophone import HomophoneCorrector
from bot.text.normalize import normalize
from bot.text.segment import user_dictionary_words


@pytest.fixture(scope="module")
def corrector() -> HomophoneCorrector:
    """Learned as search learns it: the entries' titles and phrasings, their tags as key words."""
    entries = load_entries(PROJECT_ROOT / "knowledge").entries
    return HomophoneCorrector.learn(
        [normalize(t) for e in entries for t in e.search_texts()],
        user_dictionary_words(),
        two_char_min=TWO_CHAR_TERM_MIN,
        keywords=[normalize(t) for e in entries for t in e.tags],
    )


@pytest.mark.parametrize(
    ("heard", "meant"),
    [
        ("二化名咋个防", "二化螟"),
        ("心机梗塞有什么症状", "心肌梗塞"),
        ("养老金认正在手机上怎么弄", "养老金认证"),
        ("挂好怎么在手机上挂", "挂号"),
        ("糖尿并能吃水果不", "糖尿病"),
        # two-character words the content uses often
        ("想发个洪包给孙子", "红包"),
        ("字体在哪里社置", "设置"),
        ("我刚才那个验证马报给他了", "验证码"),
        ("我爸他打农要以后头昏", "打农药"),
        # a longer term heard right but written with one character of it left
        ("体检查出来胆故纯高要吃药吗", "胆固醇"),
        ("柚子树叶子上长了好多红知珠", "红蜘蛛"),
        # key words jieba's dictionary splits (百草/枯, 小龙/虾)
        ("那个白草枯现在还能买到吗", "百草枯"),
        ("小龙瞎死了好多是怎么回事", "小龙虾"),
        # two characters one of which a Chongqing/Sichuan sound merge changed
        ("打龙药的时候要戴口罩不", "农药"),  # n/l
        ("怎么分辨买的发肥是不是假的", "化肥"),  # hu/f
        ("被马哄蛰了手肿了", "马蜂"),  # 蜂 said fong
        ("感冒和牛感有什么区别", "流感"),  # n/l
        # a term heard right (微信付款) ending inside a misheard one (付款马)
        ("去超市买东西微信付款马在哪里打开", "付款码"),
    ],
)
def test_voice_transcript_errors_are_put_right(corrector, heard: str, meant: str) -> None:
    assert meant in corrector(normalize(heard))


@pytest.mark.parametrize(
    "text",
    [
        "老是收到乱七八糟的短信",  # 老是 is not 老师
        "一天吃多少油才合适",  # 油才 is not 油菜
        "我要怎么才收得到",  # 才收 is not 采收
        "过年想坐火车回老家",  # 车回 is not 撤回
        "隔壁王阿姨喊我加她微信",
        "他这个人很有心机",  # 心机 is a word of its own
        "刚发现给骗子转了钱",
        "最近就是老是闷闷不乐",
        "手机上的字太小了看不清",
        "水稻从插秧到收割要多久",
        "手机好卡",  # 好 is a degree word: not 手机号
        "微信很卡怎么办",
        "他说明天来看我",
        "我们村里有个老师会用电脑",
        "这个事情好办不好办",
        "打完药以后喘不过气来",  # 气来 is not 起来: grammar words are never terms
        "所以我就想冲点蜂蜜水给他喝",  # two characters that keep none: 冲点 is no 充电
        "手机充一晚上的电会不会爆炸",  # a modal verb: 电会 is no 电费 (会 said as 费)
        "我想要个药盒子",
    ],
)
def test_correct_text_is_left_alone(corrector, text: str) -> None:
    assert corrector(normalize(text)) == normalize(text)


def test_digits_links_and_numbers_pass_unchanged(corrector) -> None:
    text = "打12345问 网址http://t.cn/A6hJ 电话13812345678 验证码4821"
    assert corrector(text) == text


def test_terms_come_from_the_content_and_the_user_dictionary() -> None:
    learned = HomophoneCorrector.learn(["老师说心肌梗塞要打120"], ["二化螟", "挂号"])
    assert {"二化螟", "挂号", "心肌梗塞"} <= learned.terms
    assert "老师" not in learned.terms  # two-character terms only from our dictionary
    assert learned("二化名") == "二化螟"


def test_key_words_of_three_or_more_characters_are_terms_as_they_stand() -> None:
    # jieba does not know 百草枯 as one word, so the texts alone never make it a term.
    assert "百草枯" not in HomophoneCorrector.learn(["百草枯禁用了吗"]).terms
    learned = HomophoneCorrector.learn(["百草枯禁用了吗"], keywords=["百草枯", "农药", "x光"])
    assert "百草枯" in learned.terms
    assert learned("白草枯还能买不") == "百草枯还能买不"
    assert not {"农药", "x光"} & learned.terms  # two characters are texts, not terms; Han only


def test_common_two_character_words_of_the_content_are_terms_when_asked() -> None:
    texts = ["收到的红包怎么收", "红包怎么发", "这个红包是真的吗", "老师说的"]
    learned = HomophoneCorrector.learn(texts, two_char_min=3)
    assert "红包" in learned.terms and "老师" not in learned.terms  # used once only
    assert learned("洪包怎么收") == "红包怎么收"
    assert "红包" not in HomophoneCorrector.learn(texts).terms


def test_everyday_grammar_words_of_the_content_are_never_terms() -> None:
    # 起来 is in every third phrasing, but it is grammar, not a word of our domain.
    texts = ["字怎么调大起来", "红包收起来", "手机用起来卡", "红包怎么发", "红包是真的吗"]
    learned = HomophoneCorrector.learn(texts, two_char_min=3)
    assert "红包" in learned.terms and "起来" not in learned.terms
    assert learned("喘不过气来") == "喘不过气来"


def test_a_term_written_right_is_not_rewritten_to_a_longer_one_that_sounds_the_same() -> None:
    """One voice-style question wrote 身分证正反面; the texts write 身份证 everywhere
    else. A message that writes 身份证正反面 keeps it: rewriting would change a term
    of ours into a variant. A slip that is no term of ours is still put right."""
    texts = ["身份证丢了怎么办", "身份证过期了", "身份证在哪补办", "拍身分证正反面给他们会不会出事"]
    learned = HomophoneCorrector.learn(texts)
    assert {"身份证", "身分证正反面"} <= learned.terms
    assert learned("把身份证正反面照片发给了他") == "把身份证正反面照片发给了他"
    assert HomophoneCorrector.learn(["心肌梗塞要打120"])("心机梗塞") == "心肌梗塞"


def test_without_terms_nothing_changes() -> None:
    assert HomophoneCorrector({})("二化名咋个防") == "二化名咋个防"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_correction_never_raises_and_keeps_every_non_han_character(text: str) -> None:
    corrector = HomophoneCorrector.learn(["二化螟 心肌梗塞 养老金认证"], ["挂号", "诈骗"])
    out = corrector(text)
    assert len(out) == len(text)
    han = re.compile(r"[\u4e00-\u9fff]")
    assert [c for c in out if not han.match(c)] == [c for c in text if not han.match(c)]
    assert corrector(out) == out  # idempotent


def test_large_input_is_handled(corrector) -> None:
    text = "二化名咋个防，挂好在哪里挂。" * 4700  # ~64 KiB
    out = corrector(text)
    assert out.count("二化螟") == 4700
