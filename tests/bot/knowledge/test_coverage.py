"""How much of a question an entry covers (``Hit.coverage``): the words that say
what is asked count, the asker's circumstances do not."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.knowledge.schema import Entry, Source
from bot.knowledge.search import SearchIndex


def entry(entry_id: str, title: str, answer: str, questions: list[str]) -> Entry:
    return Entry(
        id=entry_id,
        topic="fraud",
        title=title,
        questions=questions,
        answer=answer,
        audience=["all"],
        source=Source(organisation="国家反诈中心", title="防骗指南"),
        reviewed_on=dt.date(2026, 1, 1),
    )


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(
        [
            entry(
                "refund",
                "冒充电商客服退款",
                "骗子冒充电商的客服，说要给您退款，让您点链接、报验证码。",
                ["客服打电话说要退款", "冒充电商客服咋个骗人", "退款诈骗"],
            ),
            entry(
                "input",
                "语音输入",
                "不会打字可以用输入法里的话筒说话，文字自己出来。",
                ["不会打字咋个办", "怎么用语音输入", "说话变成字"],
            ),
            entry(
                "lag",
                "手机卡顿了清理空间",
                "手机用久了会卡顿。清理不用的照片和应用，空间够了就快了。",
                ["手机好慢", "手机卡顿咋个办", "清理手机空间"],
            ),
            entry(
                "sim",
                "手机卡丢了先挂失",
                "手机卡丢了，马上打运营商客服挂失，再去营业厅补卡。",
                ["手机卡丢了", "电话卡掉了咋个办", "补办手机卡"],
            ),
            entry(
                "heart",
                "心口痛可能是心梗",
                "突然胸口痛、出冷汗，可能是急性心肌梗死，立即拨打120。",
                ["心梗有什么症状", "胸口痛要不要紧哦", "心肌梗死前兆咋个看"],
            ),
        ]
    )


def covers(index: SearchIndex, query: str, entry_id: str) -> float:
    i = next(n for n, e in enumerate(index.entries) if e.id == entry_id)
    return index.coverage(query, i)


def test_amounts_kin_and_days_are_not_what_is_asked(index) -> None:
    assert covers(index, "我妈昨天遭冒充客服退款骗了八千块钱", "refund") == 1.0


def test_a_compound_counts_when_the_entry_has_its_parts(index) -> None:
    # 冒充客服 is one dictionary word; the entry says 冒充 … 客服.
    assert covers(index, "冒充客服是怎么骗人的", "refund") == 1.0


def test_a_compound_missing_a_part_that_matters_is_not_covered(index) -> None:
    # 手写 is the point of the question; the entry has only 输入法.
    i = next(n for n, e in enumerate(index.entries) if e.id == "input")
    assert index._found("手写输入法", i) == 0.0
    assert index._found("语音输入法", i) == 1.0  # all but one character: 语音 + 输入


def test_a_term_the_entry_writes_another_way_counts_by_its_longer_part(index) -> None:
    # People say 心肌梗塞, the guideline 心肌梗死: 心肌梗 is three of four characters.
    assert covers(index, "心肌梗塞有什么症状", "heart") == 1.0
    # One character in common is not enough (梗塞 alone is another word).
    i = next(n for n, e in enumerate(index.entries) if e.id == "heart")
    assert index._found("脑梗塞", i) == 0.0


def test_a_question_in_a_not_a_form_is_about_a(index) -> None:
    words = index._query_words("验证码会不会被骗走")
    assert "不会" not in words


def test_nothing_but_circumstances_covers_nothing(index) -> None:
    assert covers(index, "我儿子昨天", "refund") == 0.0


def test_a_phone_that_lags_finds_the_cleaning_entry_not_the_sim_card(index) -> None:
    assert index._query_words("手机好卡") == ["手机", "卡顿"]
    assert index.search("手机好卡咋个办", k=1)[0].entry.id == "lag"
    assert index.search("手机卡丢了咋个办", k=1)[0].entry.id == "sim"


def test_a_misheard_character_counts_by_its_sound_beside_its_neighbour(index) -> None:
    # A recogniser writes 胸口通 for 胸口痛: 通 alone is no word of the entry, but
    # 胸口通 sounds as the entry's 胸口痛 does.
    assert covers(index, "胸口通出冷汗", "heart") == covers(index, "胸口痛出冷汗", "heart")
    assert covers(index, "胸口通出冷汗", "heart") == 1.0


def test_a_character_that_sounds_like_nothing_beside_it_counts_for_nothing(index) -> None:
    # 拉 beside 冷汗 sounds like nothing the entry says.
    assert covers(index, "胸口痛冷汗拉", "heart") < 1.0
