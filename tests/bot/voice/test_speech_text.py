"""What is read aloud of an answer: the first sentence and the steps, nothing else."""

from __future__ import annotations

from datetime import date

from bot.knowledge.reply import answer_messages
from bot.knowledge.schema import Entry
from bot.voice.speech import MAX_SPOKEN_CHARS, clean, spoken_text


def entry(**fields: object) -> Entry:
    base: dict[str, object] = {
        "id": "health-aed",
        "topic": "health",
        "title": "AED怎么用？",
        "questions": ["AED怎么用", "除颤器咋个用", "车站那个红盒子是啥子"],
        "answer": "有人心跳骤停时，先立即拨打120，同时尽快取来AED。AED会用语音一步步提示。",
        "steps": ["打开AED电源，听语音提示", "按图示把两片电极片贴在病人裸露的胸口"],
        "audience": ["all"],
        "source": {
            "organisation": "美国心脏协会（AHA）",
            "title": "《2020年美国心脏协会心肺复苏及心血管急救指南》",
            "url": "https://cpr.heart.org/",
        },
        "reviewed_on": date(2026, 11, 29),
    }
    base.update(fields)
    return Entry(**base)


def test_the_lead_and_the_steps_are_read_the_footer_and_links_are_not() -> None:
    messages = answer_messages(entry(), "https://kepu.example.cn")
    assert "https://kepu.example.cn/k/health-aed" in messages[-1]
    assert spoken_text(messages) == (
        "有人心跳骤停时，先立即拨打120，同时尽快取来AED。"
        "第一步，打开AED电源，听语音提示。"
        "第二步，按图示把两片电极片贴在病人裸露的胸口。"
    )


def test_a_debunk_says_its_verdict_first() -> None:
    vinegar = entry(
        id="rumor-vinegar",
        topic="rumor",
        claim="喝醋能软化血管",
        verdict="谣言",
        explanation="醋在消化道里被消化吸收，不会到血管里去。",
        answer="这是谣言。喝醋软化不了血管，也不能代替降压药。醋当调料吃没问题。",
        steps=[],
        questions=["喝醋能软化血管吗", "醋泡花生通血管", "听说喝醋血管就软了哦"],
    )
    messages = answer_messages(vinegar)
    assert messages[0].startswith("【谣言】")
    assert spoken_text(messages) == "谣言。喝醋软化不了血管，也不能代替降压药。"


def test_emoji_links_and_empty_brackets_go() -> None:
    assert clean("点这里👉 https://example.cn/a?b=1 看（ https://x.cn ）🔊好") == "点这里 看好"
    said = spoken_text(["📱 先打开设置⚙️。", "1. 点“显示” www.example.cn\n2. 拖动滑块", "来源：x"])
    assert said == "先打开设置。第一步，点“显示”。第二步，拖动滑块。"


def test_long_answers_keep_whole_steps_within_the_cap() -> None:
    step = "把这一步说得很长很长，" * 6  # 66 characters
    steps = "\n".join(f"{i}. {step}" for i in (1, 2, 3, 4))
    said = spoken_text(["这是第一句话，说明要做什么。", steps])
    assert len(said) <= MAX_SPOKEN_CHARS
    assert said.count("步，") == 2 and said.endswith("。")
    assert spoken_text([]) == "" and spoken_text(["🔊"]) == ""
