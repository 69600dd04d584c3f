"""Analytics on SQLite and PostgreSQL: events written in batches, days summed,
old events deleted with the sums kept, and every statistic's privacy rule."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot.insights import rollup, stats
from bot.insights.events import CHINA_TIME, Turn
from bot.insights.writer import EventWriter, write_turns
from bot.storage.db import Database
from bot.storage.models import (
    AnalyticsEvent,
    AnalyticsRollup,
    AnalyticsUser,
    AnalyticsUserDay,
    Feedback,
    KnowledgeRecord,
)

DAY = date(2026, 11, 2)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), CHINA_TIME).astimezone(timezone.utc)


def turn(user: str, day: date = DAY, **fields) -> Turn:
    values = {"channel": "wechat", "move": "free_text", "decision": "answer"}
    values.update(fields)
    return Turn(at=at(day, fields.pop("hour", 10)), user_hash=user, **values)


async def count(db: Database, model) -> int:
    async with db.session() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(model)))


async def test_batches_write_events_user_days_and_first_days(migrated_db: Database) -> None:
    db = migrated_db
    writer = EventWriter(db, flush_seconds=60)
    for i in range(3):
        writer.add(turn("u1", new_session=i == 0))
    writer.add(turn("u2", channel="webchat"))
    assert writer.waiting == 4
    assert await writer.flush() == 4 and writer.waiting == 0
    # A later batch: u1 again (a day later), and an event of an earlier day
    # arriving late (another process's batch) moves u2's first day back.
    await write_turns(
        db, [turn("u1", DAY + timedelta(days=1)), turn("u2", DAY - timedelta(days=3))]
    )
    await writer.close()
    assert await count(db, AnalyticsEvent) == 6
    async with db.session() as session:
        days = (
            await session.execute(
                sa.select(
                    AnalyticsUserDay.day,
                    AnalyticsUserDay.user_hash,
                    AnalyticsUserDay.turns,
                    AnalyticsUserDay.conversations,
                ).order_by(AnalyticsUserDay.day, AnalyticsUserDay.user_hash)
            )
        ).all()
        users = {
            u.user_hash: (u.first_day, u.last_day)
            for u in (await session.execute(sa.select(AnalyticsUser))).scalars()
        }
    assert [tuple(r) for r in days] == [
        (DAY - timedelta(days=3), "u2", 1, 0),
        (DAY, "u1", 3, 1),
        (DAY, "u2", 1, 0),
        (DAY + timedelta(days=1), "u1", 1, 0),
    ]
    assert users == {
        "u1": (DAY, DAY + timedelta(days=1)),
        "u2": (DAY - timedelta(days=3), DAY),
    }


async def test_turns_wait_while_the_database_is_away(migrated_db: Database, tmp_path) -> None:
    away = Database(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'x.db'}")
    async with away.engine.begin() as conn:  # a database without our tables
        await conn.execute(sa.text("SELECT 1"))
    writer = EventWriter(away, max_waiting=3)
    for i in range(5):
        writer.add(turn(f"u{i}"))
    assert writer.waiting == 3 and writer.dropped == 2  # bounded, oldest dropped
    assert await writer.flush() == 0 and writer.waiting == 3  # kept for the next try
    writer.db = migrated_db  # back
    assert await writer.flush() == 3
    await writer.close()
    await away.close()


async def test_finished_days_are_summed_once_and_old_events_go(migrated_db: Database) -> None:
    db = migrated_db
    await write_turns(db, [turn(f"u{i}", DAY + timedelta(days=i % 3)) for i in range(12)])
    now = at(DAY + timedelta(days=2), 12)  # the third day is not over
    assert await rollup.days_to_roll(db, now) == [DAY, DAY + timedelta(days=1)]
    assert await rollup.maintain(db, retention_days=400, now=now) == 2
    assert await rollup.days_to_roll(db, now) == []  # summed once
    # Just after midnight the day waits a few minutes for the last batches.
    assert await rollup.days_to_roll(db, at(DAY + timedelta(days=3), 0)) == []
    later = datetime.combine(DAY + timedelta(days=3), time(0, 10), CHINA_TIME)
    assert await rollup.days_to_roll(db, later) == [DAY + timedelta(days=2)]
    # Retention of 1 day, long after: events and per-user rows of summed days
    # go, the sums stay; the unsummed third day is summed first.
    await rollup.maintain(db, retention_days=1, now=at(DAY + timedelta(days=30)))
    assert await count(db, AnalyticsEvent) == 0
    assert await count(db, AnalyticsUserDay) == 0 and await count(db, AnalyticsUser) == 0
    async with db.session() as session:
        totals = dict(
            (
                await session.execute(
                    sa.select(AnalyticsRollup.day, AnalyticsRollup.turns).where(
                        AnalyticsRollup.dimension == "all", AnalyticsRollup.channel == "*"
                    )
                )
            ).all()
        )
    assert totals == {DAY: 4, DAY + timedelta(days=1): 4, DAY + timedelta(days=2): 4}


async def test_purge_never_deletes_days_not_yet_summed(migrated_db: Database) -> None:
    db = migrated_db
    await write_turns(db, [turn("u1")])
    await rollup.purge(db, retention_days=1, now=at(DAY + timedelta(days=30)))
    assert await count(db, AnalyticsEvent) == 1


async def test_statistics_hide_cells_of_fewer_than_five_people(migrated_db: Database) -> None:
    db = migrated_db
    turns = []
    # Health: 6 people; farming: 1 person asking on 5 different days (still 1).
    for i in range(6):
        turns.append(turn(f"h{i}", topic="health", entry_id="health-a"))
    for d in range(5):
        turns.append(turn("farmer", DAY + timedelta(days=d), topic="farming", decision="none"))
    # Fraud: 3 people got choices.
    for i in range(3):
        turns.append(turn(f"f{i}", topic="fraud", decision="choices", entry_id="fraud-b"))
    await write_turns(db, turns)
    await rollup.maintain(db, 400, now=at(DAY + timedelta(days=10)))
    period = stats.Period(DAY, DAY + timedelta(days=6))
    topics = await stats.topics(db, period)
    assert topics.rows == [["健康", 6], ["农业", None], ["防诈骗", None]]
    figures = await stats.overview(db, period)
    assert figures["users"] == 10 and figures["questions"] == 14
    assert figures["questions_direct"] == 6
    assert figures["questions_none"] is None and figures["questions_choices"] is None
    assert figures["reports"] == 0  # nobody reported anything: 0 is nobody's secret
    daily = await stats.daily(db, period)
    first = daily.rows[0]
    assert first[0] == DAY.isoformat() and first[1] == 10  # 10 users on the first day
    assert daily.rows[1][1] is None  # the farmer alone on day two
    entries = await stats.top_entries(db, period)
    assert [row[0] for row in entries.rows] == ["health-a", "fraud-b"]
    assert entries.rows[0][2] == 6 and entries.rows[1][2] is None
    # The channel filter: nothing came from the web chat.
    web = stats.Period(DAY, DAY + timedelta(days=6), "webchat")
    assert (await stats.topics(db, web)).rows == []


async def test_today_is_counted_from_its_events(migrated_db: Database) -> None:
    db = migrated_db
    today = rollup.local_now().date()
    await write_turns(db, [turn(f"u{i}", today, topic="health") for i in range(5)])
    topics = await stats.topics(db, stats.Period.last_days(7))
    assert topics.rows == [["健康", 5]]


async def test_feedback_worst_first_with_titles(migrated_db: Database) -> None:
    db = migrated_db
    async with db.session() as session:
        session.add(
            KnowledgeRecord(
                id="e-bad",
                topic="health",
                content_hash="x",
                data={"title": "不好用的回答"},
                origin="file",
            )
        )
        for i in range(6):
            session.add(
                Feedback(
                    sender_hash=f"s{i}",
                    channel="wechat",
                    entry_id="e-bad",
                    useful=i == 0,
                    created_at=at(DAY),
                )
            )
            session.add(
                Feedback(
                    sender_hash=f"s{i}",
                    channel="wechat",
                    entry_id="e-good",
                    useful=True,
                    created_at=at(DAY),
                )
            )
        session.add(
            Feedback(
                sender_hash="lone",
                channel="wechat",
                entry_id="e-lone",
                useful=False,
                created_at=at(DAY),
            )
        )
    table = await stats.feedback(db, stats.Period(DAY, DAY))
    assert table.rows[0] == ["e-lone", "e-lone", None, None]
    assert table.rows[1] == ["e-bad", "不好用的回答", 1, 5]
    assert table.rows[2] == ["e-good", "e-good", 6, 0]


def test_periods_are_checked() -> None:
    with pytest.raises(ValueError):
        stats.Period(DAY, DAY - timedelta(days=1))
    with pytest.raises(ValueError):
        stats.Period(DAY, DAY + timedelta(days=400))
    since, until = stats.Period(DAY, DAY).bounds
    assert until - since == timedelta(days=1) and since.hour == 16  # 00:00 China time


async def test_users_of_a_period_to_today_count_as_the_per_user_days_do(
    migrated_db: Database,
) -> None:
    """Up to today the last days tell who wrote (one indexed count); they agree
    with the distinct count over per-user days, which other periods use."""
    db = migrated_db
    today = rollup.local_now().date()
    turns = [turn("old", today - timedelta(days=40)), turn("both", today - timedelta(days=40))]
    turns += [turn("both", today - timedelta(days=3)), turn("recent", today - timedelta(days=1))]
    turns += [turn("web", today, channel="webchat")]
    await write_turns(db, turns)
    fast, _ = await stats._users(db, stats.Period.last_days(30))
    slow, _ = await stats._users(
        db, stats.Period(today - timedelta(days=29), today - timedelta(days=0), "wechat")
    )
    web, _ = await stats._users(db, stats.Period(today, today, "webchat"))
    assert (fast, slow, web) == (3, 2, 1)  # both, recent, web; the wechat ones; web
    long_ago, _ = await stats._users(
        db, stats.Period(today - timedelta(days=45), today - timedelta(days=35))
    )
    assert long_ago == 2  # a period before today: the per-user days


async def test_a_periods_figures_are_read_once_a_minute(
    migrated_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = migrated_db
    await write_turns(
        db, [turn(f"u{i}", rollup.local_now().date(), topic="health") for i in range(5)]
    )
    period = stats.Period.last_days(7)
    first = await stats._period_cells(db, period)
    assert await stats._period_cells(db, period) is first  # the same minute: not read again
    monkeypatch.setattr(stats, "monotonic", lambda: 10**9)  # a minute later
    assert await stats._period_cells(db, period) is not first


async def test_today_is_summed_in_the_background_not_by_a_page_view(
    migrated_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = migrated_db
    stats.forget()
    today = rollup.local_now().date()
    await write_turns(db, [turn(f"u{i}", today, topic="farming") for i in range(5)])
    await stats.keep_today_summed(db)  # the web service's minute task

    async def no_reading(*_args):
        raise AssertionError("a page view read today's events")

    monkeypatch.setattr(stats, "events_of_day", no_reading)
    assert (await stats.topics(db, stats.Period.last_days(3))).rows == [["农业", 5]]
