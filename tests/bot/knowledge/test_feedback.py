""" "有用 / 没用" after an answer: read right (an apology is no verdict), stored,
read back; and a question we could not answer kept redacted for the curators."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.knowledge.feedback import read_feedback, record_feedback
from bot.knowledge.loader import load_entries
from bot.knowledge.search import Hit
from bot.knowledge.service import record_unanswered
from bot.settings import PROJECT_ROOT
from bot.storage.db import sender_hash
from bot.storage.models import Feedback, UnansweredQuestion


@pytest.mark.parametrize(
    "text, useful",
    [
        ("有用", True),
        ("很有用，谢谢", True),
        ("说得清楚", True),
        ("学会了", True),
        ("有用，不好意思打扰你了", True),
        ("没用", False),
        ("一点用都没得", False),
        ("你说的不对", False),
        ("不好意思，还是没用", False),
        # a useful-word negated in its clause says the opposite
        ("看不清楚", False),
        ("没帮到我", False),
        ("还不是很清楚", False),
        ("不太明白", False),
        # neither: an apology holds 不好, a question holds 好不好
        ("不好意思", None),
        ("不好意思，我想问一下", None),
        ("这样好不好", None),
        ("今天天气好", None),
    ],
)
def test_feedback_is_read_by_what_it_says(text: str, useful: bool | None) -> None:
    assert read_feedback(text) is useful


async def test_feedback_is_stored_and_read_back(migrated_db) -> None:
    await record_feedback(migrated_db, "wx-user-1", "wechat", "phone-wechat-hongbao", True)
    await record_feedback(migrated_db, "wx-user-1", "wechat", "phone-wechat-hongbao", False)
    await record_feedback(migrated_db, "web-user-2", "x" * 40, None, True)
    async with migrated_db.session() as session:
        rows = (await session.execute(select(Feedback).order_by(Feedback.id))).scalars().all()
    assert [(r.sender_hash, r.channel, r.entry_id, r.useful) for r in rows] == [
        (sender_hash("wx-user-1"), "wechat", "phone-wechat-hongbao", True),
        (sender_hash("wx-user-1"), "wechat", "phone-wechat-hongbao", False),
        (sender_hash("web-user-2"), "x" * 32, None, True),  # the column holds 32
    ]
    assert all(r.created_at is not None for r in rows)
    assert all("user" not in r.sender_hash for r in rows)  # pseudonyms, not the ids


async def test_an_unanswered_question_is_stored_redacted(migrated_db) -> None:
    entry = next(e for e in load_entries(PROJECT_ROOT / "knowledge").entries)
    text = "帮我算一下八字，我叫王建国，电话13812345678，身份证11010519491231002X"
    await record_unanswered(migrated_db, "rest-user-3", "rest", text, Hit(entry, 0.31234, 0.5))
    await record_unanswered(migrated_db, "rest-user-3", "rest", "长" * 3000, None)
    async with migrated_db.session() as session:
        query = select(UnansweredQuestion).order_by(UnansweredQuestion.id)
        first, long = (await session.execute(query)).scalars().all()
    assert "八字" in first.text and "[手机号]" in first.text
    for secret in ("13812345678", "11010519491231002X", "王建国"):
        assert secret not in first.text
    assert first.sender_hash == sender_hash("rest-user-3") and first.channel == "rest"
    assert (first.best_entry_id, first.best_score) == (entry.id, pytest.approx(0.3123))
    assert long.text == "长" * 2000 and long.best_entry_id is None and long.best_score is None
