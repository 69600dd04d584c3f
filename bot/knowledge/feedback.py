""" "有用 / 没用" after an answer: read it, store it."""

from __future__ import annotations

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
)
USEFUL = ("有用", "管用", "有帮助", "帮到", "好用", "清楚", "明白了", "懂了", "学会了", "好的很")

PROMPT = "觉得有帮助请回复“有用”，没帮助请回复“没用”。"


def read_feedback(text: str) -> bool | None:
    """True for useful, False for not useful, None if it is neither."""
    if any(w in text for w in NOT_USEFUL):
        return False
    if any(w in text for w in USEFUL):
        return True
    return None


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
