"""The queue's order and pages come from the database, the same as the priority shown
(SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import math

import pytest
import sqlalchemy as sa
from sqlalchemy import select, update

from bot.accounts.errors import InvalidInput
from bot.rumors import console
from bot.rumors.console import ClaimFilter
from bot.rumors.reports import ReportQueue, priority
from bot.storage.db import Database
from bot.storage.models import RumorClaim, utcnow
from tests.bot.storage_backends import upgrade_to

RUMOURS = (
    "重庆市梁平区明天停水三天，大家赶快储水",
    "群里说喝醋能软化血管，大家每天喝一碗",
    "养老金要停发了，赶紧去领补贴",
    "5G基站辐射会致癌，家门口不能建",
    "明星某某下个月要来镇上演出",
    "吃洋芋和香蕉会中毒，千万别一起吃",
)


@pytest.fixture
def db(migrated_db: Database) -> Database:
    return migrated_db


async def test_the_queue_is_in_order_of_the_priority_it_shows(db) -> None:
    queue = ReportQueue(db)
    ids = []
    for n, text in enumerate(RUMOURS):  # 1..6 reporters, on one or two channels
        for sender in range(n + 1):
            receipt = await queue.submit(
                text, sender_id=f"u{n}-{sender}", channel="web" if sender % 2 else "wechat"
            )
        ids.append(receipt.claim_id)
    async with db.session() as session:  # reported 0-10 days ago
        for n, claim_id in enumerate(ids):
            await session.execute(
                update(RumorClaim)
                .where(RumorClaim.id == claim_id)
                .values(last_seen=utcnow() - dt.timedelta(hours=(37 * n) % 240))
            )
    later = utcnow() + dt.timedelta(days=2)
    page = await console.list_claims(db, now=later)
    shown = [(c.priority, c.id) for c in page.items]
    assert len(set(c.priority for c in page.items)) == len(RUMOURS)
    assert shown == sorted(shown, reverse=True) and page.total == len(RUMOURS)
    second = await console.list_claims(db, limit=2, offset=2, now=later)
    assert [c.id for c in second.items] == [i for _, i in shown[2:4]]


async def test_a_claim_page_holds_a_page_of_its_reports(db) -> None:
    queue = ReportQueue(db)
    claim_id = 0
    for sender in range(5):
        claim_id = (
            await queue.submit(RUMOURS[0], sender_id=f"u{sender}", channel="wechat")
        ).claim_id
    detail = await console.claim_detail(db, claim_id, limit=2, offset=2)
    everything = await console.claim_detail(db, claim_id)
    assert detail.reports_total == everything.reports_total == 5 == len(everything.reports)
    assert [r.id for r in detail.reports] == [r.id for r in everything.reports[2:4]]
    with pytest.raises(InvalidInput):
        await console.claim_detail(db, claim_id, limit=console.MAX_PAGE + 1)


async def test_claims_stored_before_the_order_was_indexed_keep_their_place(
    database_url: str,  # noqa: F811
) -> None:
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(upgrade_to, "0007")
        now = utcnow()
        rows = [  # reporters, last seen, as the queue stored them
            (1, now - dt.timedelta(hours=1)),
            (3, now - dt.timedelta(days=3)),
            (40, now - dt.timedelta(days=5)),
        ]
        async with db.engine.begin() as conn:
            for reporters, seen in rows:
                await conn.execute(
                    sa.text(
                        "INSERT INTO rumor_claims (title, match_text, harm, status, reporters,"
                        " reports, channels, priority, first_seen, last_seen, updated_at)"
                        " VALUES ('t', 't', 'health', 'pending', :n, :n, '[\"web\"]', :p,"
                        " :seen, :seen, :seen)"
                    ).bindparams(sa.bindparam("seen", type_=sa.DateTime(timezone=True))),
                    {
                        "n": reporters,
                        "p": priority(reporters, 1, "health", seen, seen),
                        "seen": seen,
                    },
                )
        await db.migrate()
        async with db.session() as session:
            logs = (
                await session.execute(select(RumorClaim.priority_log).order_by(RumorClaim.id))
            ).scalars()
            stored = [math.log(priority(n, 1, "health", seen, seen)) for n, seen in rows]
            assert [round(v, 6) for v in logs] == [round(v, 6) for v in stored]
        page = await console.list_claims(db, ClaimFilter(statuses=()), now=now)
        shown = [c.priority for c in page.items]
        assert shown == sorted(shown, reverse=True) and len(set(shown)) == 3
        assert [c.id for c in page.items] == [1, 3, 2]  # neither by id nor by stored priority
    finally:
        await db.close()


async def test_postgresql_settings_hold_for_the_queues_own_statements_only(db) -> None:
    """No parallel workers, a plan for each search's own words, room to hash the
    matches: set for the queue's transaction, gone after it."""
    statements: list[str] = []
    sa.event.listen(
        db.engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement),
    )
    page = await console.list_claims(db, ClaimFilter(text="停水"), sort="reporters")
    assert page.total == 0
    assert all((s in statements) is (not db.is_sqlite) for s in console.QUEUE_SETTINGS)
    if not db.is_sqlite:
        async with db.session() as session:
            for name, inside in (
                ("max_parallel_workers_per_gather", "0"),
                ("plan_cache_mode", "force_custom_plan"),
                ("work_mem", "64MB"),
            ):
                setting = await session.execute(sa.text(f"SHOW {name}"))
                assert setting.scalar_one() != inside, name
