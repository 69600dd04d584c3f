from pathlib import Path

from bot.knowledge.loader import load_entries
from bot.knowledge.reply import (
    MAX_MESSAGE_CHARS,
    answer_messages,
    detail_messages,
    full_text,
    lead_and_rest,
)
from bot.knowledge.schema import Entry

ENTRY = Entry.parse_obj(
    {
        "id": "phone-hongbao",
        "topic": "smartphone",
        "title": "微信红包怎么领",
        "questions": ["红包咋个收", "怎么领红包", "红包怎么打开"],
        "answer": "领红包就三步。",
        "steps": ["点一下红包", "点“开”", "钱进零钱"],
        "audience": ["senior"],
        "source": {"organisation": "腾讯", "title": "微信帮助中心"},
        "reviewed_on": "2026-11-29",
    }
)


def test_answer_steps_and_source_line() -> None:
    messages = answer_messages(ENTRY)
    assert messages[0] == "领红包就三步。"
    assert messages[1] == "1. 点一下红包\n2. 点“开”\n3. 钱进零钱"
    assert messages[-1].splitlines()[0] == "来源：腾讯（回复“多讲一点”看详细和出处）"
    assert "有用" in messages[-1] and "没用" in messages[-1]


def test_long_step_lists_split_between_steps() -> None:
    entry = ENTRY.copy(update={"steps": [f"第{i}步" + "很长的说明" * 11 for i in range(5)]})
    messages = answer_messages(entry)
    step_messages = messages[1:-1]
    assert len(step_messages) > 1
    assert all(len(m) <= MAX_MESSAGE_CHARS for m in step_messages)
    joined = "\n".join(step_messages).split("\n")
    assert [line.split(".")[0] for line in joined] == [str(i) for i in range(1, 6)]


def test_debunk_leads_with_the_verdict() -> None:
    rumor = ENTRY.copy(
        update={"topic": "rumor", "verdict": "谣言", "claim": "x", "explanation": "原因"}
    )
    messages = answer_messages(rumor)
    assert messages[0] == "【谣言】领红包就三步。" and "原因" not in "\n".join(messages)
    assert detail_messages(rumor)[0] == "原因"  # the long why waits for "多讲一点"


LONG = Entry.parse_obj(
    {
        **ENTRY.dict(),
        "answer": "有人倒地不醒时，先打120，再去拿AED。"
        "AED会用语音一步步提示。车站、商场常配有AED。",
        "source": {
            "organisation": "美国心脏协会（AHA）",
            "title": "《2020年美国心脏协会心肺复苏及心血管急救指南》",
            "url": "https://cpr.heart.org/",
        },
    }
)


def test_the_first_sentence_leads_and_the_rest_waits_for_more() -> None:
    assert lead_and_rest(LONG.answer) == (
        "有人倒地不醒时，先打120，再去拿AED。",
        "AED会用语音一步步提示。车站、商场常配有AED。",
    )
    messages = answer_messages(LONG)
    assert messages[0] == "有人倒地不醒时，先打120，再去拿AED。"
    assert "车站" not in "\n".join(messages)
    assert messages[-1].startswith("来源：美国心脏协会（AHA），2020（回复“多讲一点”")
    detail = detail_messages(LONG)
    assert detail[0] == "AED会用语音一步步提示。车站、商场常配有AED。"
    assert detail[1].splitlines() == [
        "来源：美国心脏协会（AHA）《2020年美国心脏协会心肺复苏及心血管急救指南》；审核：2026年11月",
        "原文：https://cpr.heart.org/",
    ]


def test_a_public_service_links_the_entry_page() -> None:
    last = answer_messages(LONG, "https://kepu.example.cn/")[-1]
    assert "详细说明和出处：https://kepu.example.cn/k/phone-hongbao" in last
    assert detail_messages(LONG, "https://kepu.example.cn")[-1].endswith(
        "整页查看：https://kepu.example.cn/k/phone-hongbao"
    )


def test_an_entry_without_steps_is_said_whole() -> None:
    entry = LONG.copy(update={"steps": []})
    assert answer_messages(entry)[0] == LONG.answer
    assert detail_messages(entry)[0].startswith("来源：")  # only the source is left


def test_the_api_text_is_the_whole_entry() -> None:
    text = full_text(LONG)
    assert LONG.answer in text and "1. 点一下红包" in text and "审核：2026年11月" in text


def test_every_entry_reads_in_one_screen_and_one_wechat_reply() -> None:
    for entry in load_entries(Path(__file__).parents[3] / "knowledge").entries:
        text = "\n\n".join(answer_messages(entry, "https://kepu.example.cn"))
        assert len(entry.steps) <= 5, entry.id
        assert len(text.encode("utf-8")) <= 2048, entry.id  # one passive WeChat reply
        assert len(text) <= 520, (entry.id, len(text))
