"""Finding 1: redaction misses no format the attack run used, wherever text is kept.

The attack run's strings go, inside ordinary messages, through the stores that
keep user text: rumour reports (``ReportQueue.submit``), requests for a person
(``bot.handoff.hotlines.record_request``) and unanswered questions
(``bot.knowledge.service.record_unanswered``); the rows are then read back,
every digit form read as ASCII and every separator dropped, and searched for
the personal data. Nothing of them is logged either.

The property test over thousands of generated shapes (digits in every script,
any separator, zero-width characters, names, plates, ids) is
tests/bot/text/test_redact_property.py; this is the attack run's replay.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.handoff.hotlines import hotlines_for, record_request
from bot.knowledge.service import record_unanswered
from bot.rumors.reports import ReportQueue
from bot.storage.db import Database
from bot.storage.models import HandoffRequest, RumorClaim, RumorReport, UnansweredQuestion
from tests.bot.storage_backends import database_url  # noqa: F401  (fixture)
from tests.bot.text.test_redact_property import normalised

# (as written in the attack, what must not survive once digits are read and separators dropped)
ATTACK = [
    ("一三八一二三四五六七八", "13812345678"),
    ("幺三八幺二三四五六七八", "13812345678"),
    ("1 3 8 1 2 3 4 5 6 7 8", "13812345678"),
    ("138.1234.5678", "13812345678"),
    ("138/1234/5678", "13812345678"),
    ("138_1234_5678", "13812345678"),
    ("138\u200b1234\u200b5678", "13812345678"),
    ("138一二三四5678", "13812345678"),
    ("①③⑧①②③④⑤⑥⑦⑧", "13812345678"),
    ("１３８－１２３４－５６７８", "13812345678"),
    ("wxid_a1b2c3d4e5", "A1B2C3D4E5"),
    ("加我微信zhangsan_1988", "ZHANGSAN1988"),
    ("QQ号：987654321", "987654321"),
    ("渝 A12345", "A12345"),
    ("邮箱 zhang.san@example.com", "ZHANG.SAN@EXAMPLE"),
    ("张三的电话13912345678", "张三"),
    ("李建国住在梁平区双桂街道幸福路12号", "李建国"),
    ("家里电话 68123456", "68123456"),
    ("座机023-6812-3457", "68123457"),
    ("身份证500228199001011234", "500228199001011234"),
]
SENTENCES = [
    "听说喝醋能软化血管，有事联系{}，快转发",
    "我要找人帮忙，{}，麻烦回个电话",
    "二化螟用什么药？我是{}",
]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:  # noqa: F811
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.close()


def leaked(stored: str) -> list[str]:
    seen = normalised(stored)
    return [secret for _, secret in ATTACK if normalised(secret) in seen]


async def test_the_attack_runs_formats_are_stored_redacted(db: Database, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    queue = ReportQueue(db)
    for n, (written, _) in enumerate(ATTACK):
        report, request, question = (s.format(written) for s in SENTENCES)
        await queue.submit(report, sender_id=f"u{n}", channel="webchat", message_id=f"m{n}")
        await record_request(db, f"u{n}", "wechat", request, hotlines_for(request))
        await record_unanswered(db, f"u{n}", "rest", question, None)
    async with db.session() as session:
        texts = [
            *(await session.execute(select(RumorReport.text))).scalars(),
            *(await session.execute(select(RumorClaim.title))).scalars(),
            *(await session.execute(select(RumorClaim.match_text))).scalars(),
            *(await session.execute(select(HandoffRequest.text))).scalars(),
            *(await session.execute(select(UnansweredQuestion.text))).scalars(),
        ]
    assert len(texts) >= 3 * len(ATTACK)
    found = {text: leaked(text) for text in texts if leaked(text)}
    assert found == {}
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert leaked(logged) == []


def test_the_check_finds_what_it_looks_for() -> None:
    """The search would see each datum if it were stored as written."""
    for written, secret in ATTACK:
        assert secret in leaked(f"前面{written}后面"), written
