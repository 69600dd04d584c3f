"""The monthly report: one self-contained file, the 流言榜, the gaps, the privacy rule."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from bot.insights import report
from bot.insights.events import CHINA_TIME, Turn
from bot.insights.gaps import group
from bot.insights.writer import write_turns
from bot.rumors.reports import ReportQueue
from bot.storage.db import Database, sender_hash
from bot.storage.models import RumorClaim, UnansweredQuestion

MONTH = "2026-10"


def in_month(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=CHINA_TIME).astimezone(timezone.utc)


def test_months_are_whole_and_checked() -> None:
    period = report.month_period("2026-02")
    assert (period.start, period.end) == (date(2026, 2, 1), date(2026, 2, 28))
    assert report.previous(report.month_period("2026-01")).start == date(2025, 12, 1)
    for bad in ("2026-13", "2026-1", "26-01", "", "1999-01", "2026-01-01"):
        with pytest.raises(ValueError):
            report.month_period(bad)


def test_gaps_group_the_same_question_asked_differently() -> None:
    def vectors(texts):  # two directions: medical insurance, rice pests
        import numpy as np

        return np.array([[1.0, 0.0] if "医保" in t else [0.0, 1.0] for t in texts])

    rows = [
        SimpleNamespace(text=t, sender_hash=s, channel="wechat", best_entry_id=e, created_at=None)
        for t, s, e in [
            ("今年医保交多少钱", "a", "phone-medical"),
            ("二化名咋个治", "b", None),
            ("城乡医保要交好多", "c", "phone-medical"),
            ("梁平医保多少钱一年", "a", None),
        ]
    ]
    gaps = group(rows, vectors)
    assert [(g.people, len(g.texts)) for g in gaps] == [(2, 3), (1, 1)]
    assert gaps[0].example == "今年医保交多少钱" and gaps[0].nearest_entry == "phone-medical"
    # Without vectors: tf-idf over jieba's words still groups the near-identical.
    lexical = group(
        [
            SimpleNamespace(
                text=t, sender_hash=t, channel="web", best_entry_id=None, created_at=None
            )
            for t in ("柚子裂果怎么办", "柚子裂果咋办", "手机没声音")
        ]
    )
    assert sorted(len(g.texts) for g in lexical) == [1, 2]


async def seed(db: Database) -> None:
    turns = [
        Turn(
            at=in_month(5),
            channel="wechat",
            user_hash=f"u{i}",
            move="free_text",
            decision="answer",
            topic="health",
            entry_id="health-a",
            new_session=True,
        )
        for i in range(8)
    ]
    turns += [
        Turn(
            at=in_month(6),
            channel="wecom",
            user_hash=f"v{i}",
            move="check_message",
            decision="fraud_verdict",
            fraud_risk="high",
            fraud_type="冒充公检法",
        )
        for i in range(6)
    ]
    await write_turns(db, turns)
    queue = ReportQueue(db)
    for i in range(6):
        await queue.submit("听说喝醋能软化血管，是真的吗", sender_id=f"r{i}", channel="wechat")
    async with db.session() as session:
        claim = (await session.execute(sa.select(RumorClaim))).scalars().first()
        claim.verdict = "rumor"
        claim.debunk_title = "喝醋不能软化血管"
        claim.explanation = "醋进入胃里会被中和，不会改变血管。血管硬化要靠控制血压血脂。"
        for i in range(7):
            session.add(
                UnansweredQuestion(
                    sender_hash=sender_hash(f"q{i}"),
                    channel="wechat",
                    text="梁平今年高龄津贴发好多钱" if i % 2 else "梁平高龄津贴一个月好多钱",
                    created_at=in_month(9),
                )
            )
        session.add(
            UnansweredQuestion(
                sender_hash=sender_hash("x"),
                channel="wechat",
                text="我的电话[手机号]帮我查话费",
                created_at=in_month(9),
            )
        )
    # Reports were written now; move them into the month.
    async with db.session() as session:
        await session.execute(
            sa.text("UPDATE rumor_reports SET created_at = :t"), {"t": in_month(8)}
        )


async def test_the_monthly_report_is_one_printable_file(migrated_db: Database) -> None:
    db = migrated_db
    await seed(db)
    html = await report.monthly_html(db, MONTH)
    assert html.startswith("<!doctype html>") and "科普助手月度报告 · 2026年10月" in html
    # Self-contained: no script, no outside resource (only SVG's namespace URIs).
    assert "<script" not in html and "<link" not in html
    urls = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert html.count("<svg") >= 3
    # The figures: 14 users, 8 questions about health; the 流言榜 with its why.
    assert "喝醋不能软化血管" in html and "谣言" in html
    assert "醋进入胃里会被中和，不会改变血管。" in html and "血压血脂" not in html
    assert "冒充公检法" in html
    # The gap: 7 people asked about 高龄津贴 two ways; one group, first.
    built = await report.build(db, MONTH)
    assert built.gaps[0].people == 7 and built.gaps[0].asked == 7
    assert built.gaps[1].people is None  # one person: "<5"
    assert built.figures["users"] == 14
    assert built.rumours[0].reports == 6
    # 用户分层: 8 health askers on one day each (none), 6 fraud-exposed people.
    assert dict(built.segments)["防骗重点"] == 6 and dict(built.segments)["健康关注者"] == 0


async def test_an_empty_month_says_so(migrated_db: Database) -> None:
    html = await report.monthly_html(migrated_db, "2025-01")
    assert "本月没有提问。" in html and "本月没有答不上的问题。" in html
