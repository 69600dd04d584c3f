"""How an entry is said to a user: short, numbered, with its source."""

from __future__ import annotations

from bot.knowledge.feedback import PROMPT as FEEDBACK_PROMPT
from bot.knowledge.schema import Entry

MAX_MESSAGE_CHARS = 200


def source_line(entry: Entry) -> str:
    d = entry.reviewed_on
    return f"来源：{entry.source.organisation}{entry.source.title}；审核：{d.year}年{d.month}月"


def answer_messages(entry: Entry) -> list[str]:
    """The messages that answer with ``entry``: answer, steps, source.

    Each message stays under ~200 characters so a phone shows it without
    scrolling; steps are never split in the middle.
    """
    first = entry.answer
    if entry.verdict:
        first = f"【{entry.verdict}】{entry.answer}"
    messages = [first]
    # Console-published debunks answer with their explanation: say it once.
    if entry.explanation and entry.explanation != entry.answer:
        messages.append(entry.explanation)
    if entry.steps:
        chunk: list[str] = []
        for i, step in enumerate(entry.steps, start=1):
            line = f"{i}. {step}"
            if chunk and len("\n".join(chunk + [line])) > MAX_MESSAGE_CHARS:
                messages.append("\n".join(chunk))
                chunk = []
            chunk.append(line)
        messages.append("\n".join(chunk))
    messages.append(f"{source_line(entry)}\n{FEEDBACK_PROMPT}")
    return messages
