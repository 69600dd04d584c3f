from bot.knowledge.reply import MAX_MESSAGE_CHARS, answer_messages
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
    assert messages[-1].splitlines()[0] == "来源：腾讯微信帮助中心；审核：2026年11月"
    assert "有用" in messages[-1] and "没用" in messages[-1]


def test_long_step_lists_split_between_steps() -> None:
    entry = ENTRY.copy(update={"steps": [f"第{i}步" + "很长的说明" * 8 for i in range(8)]})
    messages = answer_messages(entry)
    step_messages = messages[1:-1]
    assert len(step_messages) > 1
    assert all(len(m) <= MAX_MESSAGE_CHARS for m in step_messages)
    joined = "\n".join(step_messages).split("\n")
    assert [line.split(".")[0] for line in joined] == [str(i) for i in range(1, 9)]


def test_debunk_leads_with_the_verdict() -> None:
    rumor = ENTRY.copy(
        update={"topic": "rumor", "verdict": "谣言", "claim": "x", "explanation": "原因"}
    )
    messages = answer_messages(rumor)
    assert messages[0].startswith("【谣言】") and messages[1] == "原因"
