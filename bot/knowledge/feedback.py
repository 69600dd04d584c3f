""" "有用 / 没用" after an answer: read it, store it."""

from __future__ import annotations

import re

from bot.storage.db import Database, sender_hash
from bot.storage.models import Feedback

NOT_USEFUL = (
    "没用",
    "没得用",
    "莫得用",
    "不管用",
    "没有用",
    "没帮助",
    "没有帮助",
    "不对",
    "不行",
    "看不懂",
    "没看懂",
    "答非所问",
    "不是我要问的",
    "不好",
    "没啥用",
    "没什么用",
    "没多大用",
    "不懂",
    "没懂",
    "没学会",
    "用都没",
)
USEFUL = ("有用", "管用", "有帮助", "帮到", "好用", "清楚", "明白", "懂了", "学会了", "好的很")
# Words that hold a feedback word but say something else: an apology
# ("不好意思" holds 不好) and a question ("好不好").
NOT_FEEDBACK = ("不好意思", "好不好")
# A useful-word negated in its own clause ("没帮到", "看不清楚", "还不是很清楚")
# says the opposite.
_NEGATION = re.compile("[不没莫未]")
_CLAUSE_END = re.compile(r"[，,。.！!？?；;、\s]")
NEGATION_WINDOW = 3  # characters before the useful-word

PROMPT = "觉得有帮助请回复“有用”，没帮助请回复“没用”。"


def read_feedback(text: str) -> bool | None:
    """True for useful, False for not useful, None if it is neither."""
    for phrase in NOT_FEEDBACK:
        text = text.replace(phrase, "，")
    if any(w in text for w in NOT_USEFUL):
        return False
    found = False
    for word in USEFUL:
        for match in re.finditer(re.escape(word), text):
            clause = _CLAUSE_END.split(text[: match.start()])[-1]
            if _NEGATION.search(clause[-NEGATION_WINDOW:]):
                return False
            found = True
    return True if found else None


async def record_feedback(
    db: Database, sender_id: str, channel: str, entry_id: str | None, useful: bool
) -> None:
    async with db.session() as session:
        session.add(
            Feedback(
                sender_hash=sender_hash(sender_id),
                channel=channel[:32],
                entry_id=entry_id,
                useful=useful,
            )
        )
