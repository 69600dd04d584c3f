"""The queue's search, filters, sorts and priority levels (SQLite FTS5 and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import select, update

from bot.accounts.access import Actor
from bot.accounts.errors import InvalidInput
from bot.rumors import console, search, triage
from bot.rumors.console import ClaimFilter, priority_level
from bot.rumors.reports import OPEN_STATUSES, ReportQueue, purge_expired
from bot.storage.db import Database
from bot.storage.models import RumorClaim, RumorReport, utcnow
from bot.text.search_terms import compile_query, split_pinyin, text_terms
from tests.bot.storage_backends import downgrade_to, upgrade_to

WELL = "老井的水不能喝了，喝了会得癌症"
SMS = "收到短信说社保卡要升级，点链接填银行卡"
PHONE = "手机充电的时候打电话会爆炸"
MOD = Actor(1, "mod", "moderator")
POISON = (  # "有毒" in each, "腊肉" in one
    "隔夜菜有毒，剩菜一口都不能吃",
    "手机充电时打电话，电池有毒还会爆炸",
    "自来水加了消毒粉有毒，要烧开晾三天",
    "腊肉熏得越黑越香，其实有毒会致癌",
    "香蕉和牛奶一起吃有毒，小孩千万注意",
    "微波炉加热的饭菜有毒，有辐射",
    "西瓜打了针才这么甜，有毒吃了肚子疼",
    "海带泡水变色说明有毒，加了染色剂",
)


@pytest.fixture
def db(migrated_db: Database) -> Database:
    return migrated_db


INDEX = "ix_rumor_claims_unmerged_id_status"  # migration 0019, SQLite only


async def _poison_claims(db: Database) -> list[int]:
    """The POISON claims, 1 to 4 reporters each (different priorities); their ids."""
    queue = ReportQueue(db)
    ids = []
    for i, text in enumerate(POISON):
        for sender in range(i % 4 + 1):
            receipt = await queue.submit(text, sender_id=f"{i}-{sender}", channel="wechat")
        ids.append(receipt.claim_id)
    return ids


async def _found(db: Database, typed: str, **filters) -> list[str]:
    page = await console.list_claims(db, ClaimFilter(statuses=(), text=typed, **filters))
    return [c.title for c in page.items]


def test_a_text_is_found_by_its_words_characters_and_pinyin() -> None:
    terms = text_terms(WELL)
    assert {"老井", "井", "水", "癌症"} <= terms
    assert {"jin", "sui", "laojin"} <= terms  # folded: jing/jin, shui/sui are one sound
    query = compile_query("井水")
    assert query.groups == ((("井水",), ("jinsui",), ("井", "水")),)
    assert compile_query("的 了 吗").groups  # function words only: still searched
    assert not compile_query("？！。")
    assert split_pinyin("jingshui") == ["jing", "shui"] and split_pinyin("app") is None


async def test_search_finds_words_pinyin_and_sound_alikes_not_substrings(db) -> None:
    queue = ReportQueue(db)
    for i, text in enumerate((WELL, SMS, PHONE)):
        await queue.submit(text, sender_id=f"s{i}", channel="wechat")
    assert await _found(db, "井水") == [WELL]  # not a substring of it
    assert await _found(db, "jing shui") == [WELL]
    assert await _found(db, "shebaoka") == [SMS]  # 社保卡 typed in pinyin
    assert await _found(db, "社保 短信") == [SMS]
    assert await _found(db, "蛇包") == [SMS]  # a sound-alike, as a voice transcript writes it
    assert await _found(db, "爆炸 井水") == []  # every word must match
    assert await _found(db, "？！") == []
    # Quotes and FTS or tsquery syntax are searched as text, never parsed.
    assert await _found(db, '" OR * NEAR(') == []
    assert await _found(db, "a' | b & !c") == []


async def test_reports_merges_and_splits_keep_the_search_true(db) -> None:
    queue = ReportQueue(db)
    well = (await queue.submit(WELL, sender_id="a", channel="wechat")).claim_id
    joined = await queue.submit(WELL + "，还会掉头发", sender_id="b", channel="wechat")
    assert joined.claim_id == well
    assert await _found(db, "掉头发") == [WELL]  # words of a later report
    sms = (await queue.submit(SMS, sender_id="c", channel="wechat")).claim_id
    await triage.merge(db, MOD, sms, well)
    assert await _found(db, "银行卡") == [WELL]  # the merged claim's words, on its target
    async with db.session() as session:
        report = (
            (await session.execute(select(RumorReport.id).where(RumorReport.claim_id == well)))
            .scalars()
            .all()
        )
    new = await triage.split(db, MOD, well, [report[-1]])
    assert new.title == SMS
    assert set(await _found(db, "银行卡")) == {WELL, SMS}


async def test_purged_reports_leave_the_search(db) -> None:
    queue = ReportQueue(db)
    well = (await queue.submit(WELL, sender_id="a", channel="wechat")).claim_id
    await queue.submit(WELL + "，还会掉头发", sender_id="b", channel="wechat")
    gone = (await queue.submit(PHONE, sender_id="c", channel="wechat")).claim_id
    old = utcnow() - dt.timedelta(days=40)
    async with db.session() as session:
        await session.execute(
            update(RumorReport)
            .where(RumorReport.text.like("%掉头发%") | (RumorReport.claim_id == gone))
            .values(created_at=old)
            .execution_options(synchronize_session=False)
        )
    assert await purge_expired(db, days=30) == 2
    assert await _found(db, "掉头发") == []
    assert await _found(db, "井水") == [WELL]  # the title stays
    async with db.session() as session:
        assert await search.terms_of(session, gone) is None
        assert await search.terms_of(session, well)


async def test_filters_by_channel_and_dates_and_three_orders(db) -> None:
    queue = ReportQueue(db)
    ids = {}
    for text, senders, channel in ((WELL, 3, "wecom"), (SMS, 1, "webchat"), (PHONE, 2, "wechat")):
        for n in range(senders):
            receipt = await queue.submit(text, sender_id=f"{text[:2]}{n}", channel=channel)
        ids[text] = receipt.claim_id
    now = utcnow()
    seen = {WELL: now - dt.timedelta(days=10), SMS: now - dt.timedelta(days=1), PHONE: now}
    async with db.session() as session:
        for text, when in seen.items():
            await session.execute(
                update(RumorClaim).where(RumorClaim.id == ids[text]).values(last_seen=when)
            )
    every = ClaimFilter(statuses=())
    web = await console.list_claims(db, ClaimFilter(statuses=(), channel="webchat"))
    assert [c.title for c in web.items] == [SMS] and web.total == 1
    # "webchat" must not match inside another name, nor "chat" at all.
    with pytest.raises(InvalidInput):
        await console.list_claims(db, ClaimFilter(statuses=(), channel="chat"))
    week = ClaimFilter(statuses=(), seen_after=now - dt.timedelta(days=7), seen_before=now)
    assert {c.title for c in (await console.list_claims(db, week)).items} == {SMS}
    newest = await console.list_claims(db, every, sort="newest")
    assert [c.title for c in newest.items] == [PHONE, SMS, WELL]
    most = await console.list_claims(db, every, sort="reporters")
    assert [c.title for c in most.items] == [WELL, PHONE, SMS]
    with pytest.raises(InvalidInput):
        await console.list_claims(db, every, sort="random")
    with pytest.raises(InvalidInput):
        await console.list_claims(db, ClaimFilter(seen_after=now, seen_before=now))


def test_priority_levels_and_their_reasons() -> None:
    now = utcnow()
    row = RumorClaim(
        id=1, title="t", harm="health", status="pending", reporters=4, reports=4,
        channels=["wechat", "webchat"], last_seen=now - dt.timedelta(hours=2),
        first_seen=now, merged_into=None, entry_id=None, verdict=None, assignee=None,
        debunk_title=None, explanation=None, sources=None,
    )  # fmt: skip
    view = console.ClaimView.of(row, now)
    assert view.priority_label == "高"  # 4 people, 2 channels, health, today
    reach, harm, recency = view.priority_reasons
    assert reach.startswith("传播：4 人举报，来自 2 个渠道")
    assert harm.startswith("危害：健康类，按 3 倍算")
    assert recency.startswith("新近：最近一次举报在 2 小时前，热度还剩 97%")
    row.harm, row.reporters, row.channels = "other", 1, ["wechat"]
    assert console.ClaimView.of(row, now).priority_label == "低"
    row.harm = "fraud"
    row.last_seen = now
    assert console.ClaimView.of(row, now).priority_label == "中"  # 1 fresh fraud report
    assert priority_level(9.0) == ("high", "高") and priority_level(0.0) == ("low", "低")


async def test_claims_stored_before_search_are_found_after_the_migration(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(upgrade_to, "0014")
        now = utcnow()
        async with db.engine.begin() as conn:
            insert = sa.text(
                "INSERT INTO rumor_claims (title, match_text, harm, status, reporters, reports,"
                " channels, priority, priority_log, first_seen, last_seen, updated_at)"
                " VALUES (:t, :t, 'health', 'pending', 1, 1, '[\"wechat\"]', 1, 0,"
                " :now, :now, :now)"
            ).bindparams(sa.bindparam("now", type_=sa.DateTime(timezone=True)))
            for title in (WELL, SMS):
                await conn.execute(insert, {"t": title, "now": now})
        await db.migrate()
        assert await _found(db, "井水") == [WELL]
        assert await _found(db, "shebaoka") == [SMS]
    finally:
        await db.close()


async def test_search_pages_keep_the_queue_order_with_many_or_few_matches(db) -> None:
    await _poison_claims(db)
    every = await console.list_claims(db, ClaimFilter(), limit=50)
    assert every.total == 8
    # "有毒" is in every claim: the page walks the queue's order; "腊肉" is in one.
    for typed, expected in (("有毒", 8), ("腊肉", 1)):
        for offset in (0, 3):
            page = await console.list_claims(db, ClaimFilter(text=typed), limit=3, offset=offset)
            assert page.total == expected
            in_order = [c.id for c in every.items if c.id in {p.id for p in page.items}]
            assert [c.id for c in page.items] == in_order
    first = await console.list_claims(db, ClaimFilter(text="有毒"), limit=3)
    assert [c.id for c in first.items] == [c.id for c in every.items[:3]]


async def test_a_capped_count_says_more_and_keeps_the_page_and_its_plan(db, monkeypatch) -> None:
    await _poison_claims(db)
    walks: list[bool] = []
    claims_query = console._claims_query

    def recorded(db, filters, sort, walk=True):
        walks.append(walk)
        return claims_query(db, filters, sort, walk)

    monkeypatch.setattr(console, "_claims_query", recorded)
    for typed, limit, offset, cap in (
        ("有毒", 3, 0, 2),  # counted to 6 (sqrt(3 * 8) rounded up to the cap): more
        ("有毒", 1, 0, 4),
        ("有毒", 3, 6, 2),  # the last page: counted to the end
        ("有毒", 3, 3, 100),
        ("腊肉", 1, 0, 2),
    ):
        exact = await console.list_claims(db, ClaimFilter(text=typed), limit=limit, offset=offset)
        capped = await console.list_claims(
            db, ClaimFilter(text=typed), limit=limit, offset=offset, count_cap=cap
        )
        assert [c.id for c in capped.items] == [c.id for c in exact.items]
        assert walks[-1] == walks[-3]  # the same choice between walking and sorting
        assert capped.has_next == exact.has_next == (exact.total > offset + limit)
        if capped.total_exact:
            assert capped.total == exact.total
        else:
            assert capped.total % cap == 0 and offset + limit <= capped.total < exact.total
    first = await console.list_claims(db, ClaimFilter(text="有毒"), limit=3, count_cap=2)
    assert (first.total, first.total_exact) == (6, False)
    last = await console.list_claims(db, ClaimFilter(text="有毒"), limit=3, offset=6, count_cap=2)
    assert (last.total, last.total_exact, last.has_next) == (8, True, False)


async def _statuses_and_a_merge(db: Database, ids: list[int]) -> dict[int, str]:
    """Claims in every status, the seventh merged (it keeps its document); the status
    of each claim left unmerged."""
    statuses = ("pending", "pending", "verifying", "verifying", "concluded", "rejected")
    statuses += ("pending", "pending")
    async with db.session() as session:
        for claim_id, status in zip(ids, statuses, strict=True):
            await session.execute(
                update(RumorClaim).where(RumorClaim.id == claim_id).values(status=status)
            )
    await triage.merge(db, MOD, ids[6], ids[0])
    async with db.session() as session:
        assert await search.terms_of(session, ids[6])  # still matches, but merged
    return {i: status for i, status in zip(ids, statuses, strict=True) if i != ids[6]}


def _statements(db: Database) -> list[tuple[str, object]]:
    """The statements the database runs from now on, with their parameters."""
    ran: list[tuple[str, object]] = []
    sa.event.listen(
        db.engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, parameters, *_: ran.append((statement, parameters)),
    )
    return ran


async def test_a_search_by_status_alone_counts_the_same_led_by_its_matches(db, monkeypatch) -> None:
    """A search with no filter but the status is counted from its matches
    (console._match_led_count; PostgreSQL from claim_search alone); totals, pages
    and the pager stay those of the conditions' count, capped or not, over every
    status or some, words or pinyin."""
    ids = await _poison_claims(db)
    unmerged = await _statuses_and_a_merge(db, ids)
    ran = _statements(db)
    led = console._match_led_count
    cases = [
        (typed, statuses, cap, offset)
        for typed in ("有毒", "youdu", "腊肉", "？！")
        for statuses in ((), ("pending", "verifying"), ("verifying",), ("concluded", "rejected"))
        for cap, offset in ((None, 0), (2, 0), (2, 3), (4, 3), (100, 0))
    ]
    for typed, statuses, cap, offset in cases:
        filters = ClaimFilter(statuses=statuses, text=typed)
        ran.clear()
        monkeypatch.setattr(console, "_match_led_count", led)
        page = await console.list_claims(db, filters, limit=3, offset=offset, count_cap=cap)
        counted_by_matches = any(
            INDEX in statement or "WITH matches AS MATERIALIZED" in statement
            for statement, _ in ran
        )
        monkeypatch.setattr(console, "_match_led_count", lambda *_: None)
        before = await console.list_claims(db, filters, limit=3, offset=offset, count_cap=cap)
        case = (typed, statuses, cap, offset)
        assert [c.id for c in page.items] == [c.id for c in before.items], case
        assert (page.total, page.total_exact, page.has_next) == (
            before.total,
            before.total_exact,
            before.has_next,
        ), case
        assert counted_by_matches is (typed != "？！"), case
        if typed == "有毒" and cap is None:  # in every claim: the statuses decide
            wanted = [i for i, s in unmerged.items() if not statuses or s in statuses]
            assert page.total == len(wanted), case
    # The pinyin finds what the word finds; a cap of 2 says "more" past it.
    word = await console.list_claims(db, ClaimFilter(statuses=(), text="有毒"), limit=7)
    sound = await console.list_claims(db, ClaimFilter(statuses=(), text="youdu"), limit=7)
    assert [c.id for c in sound.items] == [c.id for c in word.items] and word.total == 7
    capped = await console.list_claims(
        db, ClaimFilter(statuses=(), text="youdu"), limit=3, count_cap=2
    )
    assert (capped.total, capped.total_exact, capped.has_next) == (6, False, True)


async def test_sqlite_counts_a_search_from_its_matches_unless_other_filters_narrow_it(
    db,
) -> None:
    """The count led by the matches reads them first, then the unmerged claims'
    (id, status) index by id (migration 0019); with a harm (or any filter but the
    status) the conditions' count stays. PostgreSQL has neither the index nor this
    statement (its own is tested below)."""
    ids = await _poison_claims(db)
    await _statuses_and_a_merge(db, ids)
    ran = _statements(db)
    page = await console.list_claims(db, ClaimFilter(text="有毒"), count_cap=1000)
    assert page.total == 5
    led = [(statement, params) for statement, params in ran if INDEX in statement]
    assert len(led) == (1 if db.is_sqlite else 0)
    if db.is_sqlite:
        async with db.engine.connect() as conn:
            index = await conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = ?", (INDEX,)
            )
            assert index.scalar_one().endswith("(id, status) WHERE merged_into IS NULL")
            plan = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + led[0][0], led[0][1])
            steps = [row[-1] for row in plan.all()]
        scan = next(i for i, step in enumerate(steps) if step.startswith("SCAN claim_search"))
        seek = next(i for i, step in enumerate(steps) if INDEX in step)
        assert scan < seek and steps[seek].endswith(f"{INDEX} (id=?)"), steps
    harm = page.items[0].harm
    ran.clear()
    narrowed = await console.list_claims(db, ClaimFilter(text="有毒", harm=harm), count_cap=1000)
    assert narrowed.total == len([c for c in page.items if c.harm == harm]) > 0
    assert not any(INDEX in statement for statement, _ in ran)


async def test_postgresql_walks_a_common_words_matches_as_a_hashed_filter(db) -> None:
    """Many matches: PostgreSQL tests each claim it walks in the order against the
    matches, hashed once (as a join it would sort them all); few matches: they
    lead. Pages are the same either way. The count reads the unmerged claims'
    (status, id) index there (migration 0020)."""
    ids = await _poison_claims(db)
    unmerged = await _statuses_and_a_merge(db, ids)
    ran = _statements(db)
    for typed, walks in (("有毒", True), ("腊肉", False)):
        for statuses in ((), ("pending", "verifying")):
            ran.clear()
            filters = ClaimFilter(statuses=statuses, text=typed)
            page = await console.list_claims(db, filters, limit=3)
            pages = [(s, p) for s, p in ran if "ORDER BY" in s]
            assert len(pages) == 1
            statement, params = pages[0]
            assert ("IS true" in statement) is (walks and not db.is_sqlite), typed
            if walks and not db.is_sqlite:
                async with db.engine.connect() as conn:
                    plan = await conn.exec_driver_sql("EXPLAIN " + statement, params)
                    assert "hashed SubPlan" in " ".join(row[0] for row in plan.all())
            if walks:  # in every claim: the queue's own first page
                every = await console.list_claims(db, ClaimFilter(statuses=statuses), limit=3)
                assert [c.id for c in page.items] == [c.id for c in every.items]
                wanted = [i for i, s in unmerged.items() if not statuses or s in statuses]
                assert page.total == len(wanted)
    async with db.engine.connect() as conn:
        if db.is_sqlite:
            found = await conn.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master"
                " WHERE name = 'ix_rumor_claims_unmerged_status_id'"
            )
            assert found.scalar_one() == 0
        else:
            index = await conn.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes"
                " WHERE indexname = 'ix_rumor_claims_unmerged_status_id'"
            )
            assert index.scalar_one().endswith("(status, id) WHERE (merged_into IS NULL)")


OPEN_INDEX = "ix_claim_search_open_document"  # migration 0021, PostgreSQL only


async def _queue_statuses(db: Database) -> tuple[dict[int, str | None], dict[int, str | None]]:
    """PostgreSQL: each document's queue status, and its claim's (NULL once merged)."""
    async with db.engine.connect() as conn:
        kept = await conn.exec_driver_sql("SELECT claim_id, queue_status FROM claim_search")
        claims = await conn.exec_driver_sql(
            "SELECT id, CASE WHEN merged_into IS NULL THEN status END FROM rumor_claims"
            " WHERE id IN (SELECT claim_id FROM claim_search)"
        )
        return dict(kept.all()), dict(claims.all())


async def test_postgresql_keeps_each_claims_queue_status_beside_its_document(db) -> None:
    """Triggers copy a claim's status (NULL once merged) to its search document
    whichever way it changes: new claims, statuses set in the console or straight
    in the table, merges, splits. The migration fills it for claims stored before
    it and goes down and up again. Open claims' documents have their own index,
    whose statuses are the queue's open ones."""
    ids = await _poison_claims(db)
    if db.is_sqlite:  # an FTS5 table: no such column, no partial index
        async with db.engine.connect() as conn:
            found = await conn.exec_driver_sql(
                f"SELECT count(*) FROM sqlite_master WHERE name = '{OPEN_INDEX}'"
            )
            assert found.scalar_one() == 0
        return
    kept, claims = await _queue_statuses(db)
    assert kept == claims and set(kept.values()) == {"pending"} and len(kept) == len(ids)
    await _statuses_and_a_merge(db, ids)  # statuses written straight, a merge
    await triage.set_status(db, MOD, ids[0], "verifying")  # through the console
    await triage.set_status(db, MOD, ids[5], "pending")  # rejected -> pending
    async with db.session() as session:
        reports = await session.execute(
            select(RumorReport.id).where(RumorReport.claim_id == ids[3])
        )
        report = reports.scalars().first()
    new = await triage.split(db, MOD, ids[3], [report])  # a new claim, pending
    kept, claims = await _queue_statuses(db)
    assert kept == claims and kept[new.id] == "pending", (kept, claims)
    assert kept[ids[6]] is None and kept[ids[0]] == "verifying" and kept[ids[5]] == "pending"
    async with db.engine.begin() as conn:
        await conn.run_sync(downgrade_to, "0020")
        columns = await conn.exec_driver_sql(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = 'claim_search' AND column_name = 'queue_status'"
        )
        assert columns.scalar_one() == 0
        await conn.execute(
            update(RumorClaim).where(RumorClaim.id == ids[2]).values(status="concluded")
        )
        await conn.run_sync(upgrade_to, "head")
    kept, claims = await _queue_statuses(db)
    assert kept == claims and kept[ids[2]] == "concluded"
    async with db.engine.connect() as conn:
        index = await conn.exec_driver_sql(
            f"SELECT indexdef FROM pg_indexes WHERE indexname = '{OPEN_INDEX}'"
        )
        predicate = index.scalar_one().split(" WHERE ", 1)[1]
    assert sorted(re.findall(r"'(\w+)'", predicate)) == sorted(OPEN_STATUSES), predicate


async def test_postgresql_narrows_a_search_to_its_statuses_before_reading_claims(db) -> None:
    """PostgreSQL: an open-claims search finds its matches through the open claims'
    index, and with no filter but the status it is counted from the documents
    alone; totals are those of the claims themselves."""
    if db.is_sqlite:
        return
    ids = await _poison_claims(db)
    unmerged = await _statuses_and_a_merge(db, ids)
    ran = _statements(db)
    cases = [
        (s, cap) for s in (OPEN_STATUSES, ("verifying",), ("concluded",), ()) for cap in (None, 1)
    ]
    for statuses, cap in cases:
        ran.clear()
        filters = ClaimFilter(statuses=statuses, text="有毒")
        page = await console.list_claims(db, filters, limit=1, count_cap=cap)
        wanted = [i for i, s in unmerged.items() if not statuses or s in statuses]
        if cap is None:
            assert page.total == len(wanted) and page.total_exact, statuses
        else:  # a cap of 1: counted up to 3 (the square root of 1 x 8 claims, rounded up)
            assert (page.total, page.total_exact) == (3, False) or page.total == len(wanted) <= 3
        counts = [(s, p) for s, p in ran if "count(" in s]
        assert len(counts) == 1 and "rumor_claims" not in counts[0][0], counts
        open_only = bool(statuses) and set(statuses) <= set(OPEN_STATUSES)
        async with db.engine.begin() as conn:
            for setting in console.QUEUE_SETTINGS:
                await conn.exec_driver_sql(setting)
            for statement, params in counts + [(s, p) for s, p in ran if "ORDER BY" in s]:
                await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # 8 claims
                plan = await conn.exec_driver_sql("EXPLAIN " + statement, params)
                text = " ".join(row[0] for row in plan.all())
                assert (OPEN_INDEX in text) is open_only, (statuses, text)


async def test_documents_folded_before_the_sichuan_sounds_are_written_again(db) -> None:
    """Migration 0022: a document folded as before (化肥 stored as "huahei") is written
    again with today's folding, so pinyin and sound-alike searches find it."""
    fertiliser = "听说化肥撒多了地会板结，以后种不出庄稼"
    queue = ReportQueue(db)
    receipt = await queue.submit(fertiliser, sender_id="farmer", channel="wechat")
    assert await _found(db, "huafei") == [fertiliser]
    assert await _found(db, "发肥") == [fertiliser]  # a voice transcript's 化肥
    async with db.session() as session:
        terms = await search.terms_of(session, receipt.claim_id)
    assert terms is not None and "hahei" in terms
    # As the folding before 0022 wrote them: 化 kept its u, 肥 folded f onto h.
    before = [{"hahei": "huahei", "ha": "hua"}.get(t, t) for t in terms]
    key = "rowid" if db.is_sqlite else "claim_id"
    async with db.engine.begin() as conn:
        await conn.run_sync(downgrade_to, "0021")
        await conn.execute(
            sa.text(f"UPDATE claim_search SET terms = :terms WHERE {key} = :id"),
            {"terms": " ".join(before), "id": receipt.claim_id},
        )
    assert await _found(db, "huafei") == []  # the old document misses today's query
    async with db.engine.begin() as conn:
        await conn.run_sync(upgrade_to, "head")
    assert await _found(db, "huafei") == [fertiliser]
    assert await _found(db, "发肥") == [fertiliser]
    async with db.session() as session:
        assert await search.terms_of(session, receipt.claim_id) == terms
