"""用户分层: each rule, finished months kept as sums, the current month live."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa

from bot.insights import segments
from bot.insights.events import CHINA_TIME, Turn
from bot.insights.writer import write_turns
from bot.storage.db import Database
from bot.storage.models import AnalyticsEvent, AnalyticsRollup

OCT = date(2026, 10, 1)


def at(day: date) -> datetime:
    return datetime.combine(day, time(9), CHINA_TIME).astimezone(timezone.utc)


def turn(user: str, day: date, **fields) -> Turn:
    values = {"channel": "wechat", "move": "free_text", "decision": "answer"}
    values.update(fields)
    return Turn(at=at(day), user_hash=user, **values)


def test_each_rule_reads_behaviour() -> None:
    d1, d2 = OCT, OCT + timedelta(days=3)
    events = [
        turn("phone", d1, topic="smartphone", entry_id="phone-font"),
        turn("phone", d2, topic="smartphone", entry_id="phone-font"),
        turn("one-phone-question", d1, topic="smartphone"),
        turn("health", d1, topic="health"),
        turn("health", d2, topic="health"),
        turn("health-one-day", d1, topic="health"),
        turn("health-one-day", d1, topic="health"),
        turn("farmer", d1, topic="farming", entry_id="farm-rice-borer"),
        turn("scammed", d1, move="check_message", decision="fraud_verdict", fraud_risk="high"),
        turn("lost-money", d1, decision="fraud_aftermath"),
        turn("low-risk", d1, move="check_message", decision="fraud_verdict", fraud_risk="low"),
        turn("reporter", d1, move="report_rumor", report_id="R-AAAAAAAA"),
        turn("debunk-reader", d1, decision="debunk", topic="rumor"),
    ]
    rows = [type("Row", (), {**e.row()}) for e in events]
    people = segments.classify(rows)
    assert {u: p.segments() for u, p in people.items() if p.segments()} == {
        "phone": ["smartphone"],
        "health": ["health"],
        "farmer": ["farming"],
        "scammed": ["fraud"],
        "lost-money": ["fraud"],
        "reporter": ["rumor"],
        "debunk-reader": [
            "rumor",
        ],
    }
    month = segments.summarise(OCT, rows)
    assert month.people == {"smartphone": 1, "health": 1, "farming": 1, "fraud": 2, "rumor": 2}
    assert month.entries["smartphone"]["phone-font"] == 2
    assert month.topics["farming"]["farming"] == 1


async def test_finished_months_are_kept_and_outlive_their_events(migrated_db: Database) -> None:
    db = migrated_db
    turns = []
    for i in range(6):  # six farmers in October, one in November
        turns.append(turn(f"f{i}", OCT + timedelta(days=i), topic="farming", entry_id="farm-a"))
    turns.append(turn("late", date(2026, 11, 2), topic="farming"))
    await write_turns(db, turns)
    assert await segments.keep_finished_months(db, today=date(2026, 11, 20)) == 1
    assert await segments.keep_finished_months(db, today=date(2026, 11, 20)) == 0  # once
    async with db.session() as session:
        await session.execute(
            sa.delete(AnalyticsEvent).where(AnalyticsEvent.day < date(2026, 11, 1))
        )
    (october,) = await segments.months(db, OCT, OCT)
    assert october.people["farming"] == 6 and october.entries["farming"]["farm-a"] == 6
    async with db.session() as session:
        kept = await session.scalar(
            sa.select(sa.func.count()).where(AnalyticsRollup.dimension == "segment")
        )
    assert kept == len(segments.SEGMENTS)


async def test_the_current_month_is_read_from_its_events(migrated_db: Database) -> None:
    db = migrated_db
    today = segments.local_now().date()
    await write_turns(
        db,
        [turn(f"p{i}", today, topic="smartphone") for i in range(2)]
        + [turn("p0", today, topic="smartphone")],
    )
    (current,) = await segments.months(db, today, today)
    assert current.month == today.replace(day=1) and current.people["smartphone"] == 1
