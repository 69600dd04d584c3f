"""Statistics at scale (issue 21 item 7): the 统计 page, the monthly report and the
cost of writing one analytics event per turn, on PostgreSQL with 10 million events.

Usage: .venv/bin/python -m bench.insights [--events 10000000] [--days 400]
       [--backend postgresql|sqlite]

A throw-away database (``bench.throwaway_db.throwaway_database``) is filled with
``--events`` analytics events over ``--days`` days ending yesterday (China time):
60,000 hashed users, about 5 turns each on a day they write, channels, moves,
decisions, topics, 300 entries, fraud checks, in proportions like the
held-out evaluations'. The events go in by COPY; the per-user days and first
days are then made from them in SQL, and every day is summed exactly as the
web service's hourly task does (``bot.insights.rollup.roll_finished``; its time
per day is reported). Unanswered questions for the month are the public
health and farming questions in ../shared/eval (read in place), 200 a day.

Measured, each after one warm-up call unless said "cold":
- the statistics of the last 30 days (every table of the page and the headline
  figures: ``bot.insights.stats``), cold and warm; the charts drawn (cold, and
  from the cache that same figures hit); the whole page through the web app;
- the monthly report of the last whole month (``bot.insights.report``), with
  the knowledge base loaded as in the web service;
- writing events: what a turn pays (folding its Rasa events and queueing the
  turn: ``TurnAssembler.feed`` + ``EventWriter.add``), and what the background
  writer spends per turn in 500-turn batches against the full table.

Prints Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import random
import statistics
import time
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock
from pathlib import Path
from typing import Any

from bench.growth_report import SQLITE
from bench.machine import machine_now
from bench.throwaway_db import PG_DSN, throwaway_database
from bot.insights.events import CHINA_TIME, Turn, TurnAssembler
from bot.settings import PROJECT_ROOT

EVAL = PROJECT_ROOT.parent / "shared" / "eval"
SEED = 20261206
USERS = 60_000
ENTRIES = [f"entry-{i:03d}" for i in range(300)]
TOPICS = ["smartphone", "health", "fraud", "farming", "rumor"]
CHANNELS = ["wechat"] * 6 + ["webchat"] * 2 + ["wecom", "rest"]
MOVES = ["free_text"] * 6 + ["choose_option"] * 2 + ["menu", "feedback", "check_message", "greet"]
DECISIONS = ["answer"] * 7 + ["choices", "none", "none", "debunk", "report_offer"]
FRAUD_TYPES = ["冒充客服退款", "冒充公检法", "刷单返利", "虚假投资理财", "冒充熟人领导"]


def ms(samples: list[float]) -> str:
    return f"{statistics.median(samples):.0f} ms" if samples else "—"


def day_events(day: date, per_day: int, rng: random.Random) -> list[tuple]:
    """One day's events as COPY records (the columns of ``analytics_events``)."""
    start = datetime.combine(day, clock(), CHINA_TIME).astimezone(timezone.utc)
    active = rng.sample(range(USERS), max(1, per_day // 5))
    records = []
    for _ in range(per_day):
        user = rng.choice(active)
        at = start + timedelta(seconds=rng.randrange(86400))
        move = rng.choice(MOVES)
        question = move in ("free_text", "check_message")
        decision = rng.choice(DECISIONS) if question else None
        fraud = move == "check_message"
        if fraud:
            decision = "fraud_verdict"
        entry = rng.choice(ENTRIES) if decision in ("answer", "debunk") else None
        records.append(
            (
                at,
                day,
                at.astimezone(CHINA_TIME).hour,
                rng.choice(CHANNELS),
                f"{user:064x}",
                rng.random() < 0.25,
                move,
                decision,
                rng.choice(TOPICS) if question and decision != "none" else None,
                entry,
                rng.choice(("high", "medium")) if entry else None,
                rng.choice(("high", "medium", "low")) if fraud else None,
                rng.choice(FRAUD_TYPES) if fraud else None,
                None,
                None,
            )
        )
    return records


COLUMNS = [
    "at",
    "day",
    "hour",
    "channel",
    "user_hash",
    "new_session",
    "move",
    "decision",
    "topic",
    "entry_id",
    "score_band",
    "fraud_risk",
    "fraud_type",
    "report_id",
    "order_id",
]


def questions() -> list[str]:
    """Real residents' questions (health and farming), read in place."""
    out = []
    with open(EVAL / "health_qa" / "toyhom_internal_medicine_sample.csv", encoding="utf-8") as f:
        out += [row["title"] for row in csv.DictReader(f) if row.get("title")]
    with open(EVAL / "agri_qa" / "agrieval_openqa_sample.jsonl", encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            text = item.get("question") or item.get("instruction") or ""
            if text:
                out.append(text[:120])
    return out


async def fill(db: Any, url: str, events: int, days: int) -> dict[str, float]:
    """The throw-away database filled; seconds each step took."""
    from bot.insights.rollup import local_now

    rng = random.Random(SEED)
    yesterday = local_now().date() - timedelta(days=1)
    first = yesterday - timedelta(days=days - 1)
    per_day = events // days
    took: dict[str, float] = {}
    started = time.perf_counter()
    if db.is_sqlite:
        import sqlalchemy as sa

        from bot.storage.models import AnalyticsEvent

        for i in range(days):
            rows = [
                dict(zip(COLUMNS, r, strict=True))
                for r in day_events(first + timedelta(days=i), per_day, rng)
            ]
            async with db.session() as session:
                await session.execute(sa.insert(AnalyticsEvent), rows)
    else:
        import asyncpg

        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            for i in range(days):
                records = day_events(first + timedelta(days=i), per_day, rng)
                await conn.copy_records_to_table(
                    "analytics_events", records=records, columns=COLUMNS
                )
        finally:
            await conn.close()
    took["events"] = time.perf_counter() - started
    import sqlalchemy as sa

    started = time.perf_counter()
    first_channel = (
        "min(channel)"  # SQLite has no array_agg: any channel of the first day will do
        if db.is_sqlite
        else "(array_agg(channel ORDER BY day))[1]"
    )
    statements = [
        "INSERT INTO analytics_user_days (day, channel, user_hash, turns, conversations)"
        " SELECT day, channel, user_hash, count(*),"
        " sum(CASE WHEN new_session THEN 1 ELSE 0 END)"
        " FROM analytics_events GROUP BY day, channel, user_hash",
        "INSERT INTO analytics_users (user_hash, first_day, first_channel, last_day)"
        f" SELECT user_hash, min(day), {first_channel}, max(day)"
        " FROM analytics_events GROUP BY user_hash",
    ]
    if db.is_sqlite:
        async with db.session() as session:
            for statement in statements:
                await session.execute(sa.text(statement))
    else:  # without the service's 30 s statement timeout: this is set-up, not a query
        import asyncpg

        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            for statement in statements:
                await conn.execute(statement)
            for table in ("analytics_events", "analytics_user_days", "analytics_users"):
                await conn.execute(f"ANALYZE {table}")
        finally:
            await conn.close()
    took["user rows"] = time.perf_counter() - started
    from bot.insights.rollup import roll_finished
    from bot.storage.models import UnansweredQuestion

    started = time.perf_counter()
    summed = await roll_finished(db)
    took["sums"] = time.perf_counter() - started
    took["sums per day"] = took["sums"] / max(1, summed)
    texts = questions()
    month_start = yesterday.replace(day=1) - timedelta(days=1)
    month_start = month_start.replace(day=1)
    async with db.session() as session:
        for i in range(30 * 200):
            day = month_start + timedelta(days=i % 28)
            session.add(
                UnansweredQuestion(
                    sender_hash=f"{rng.randrange(USERS):064x}",
                    channel="wechat",
                    text=rng.choice(texts),
                    created_at=datetime.combine(day, clock(12), CHINA_TIME),
                )
            )
    return took


@contextlib.asynccontextmanager
async def _database(backend: str, keep: str | None) -> AsyncIterator[str]:
    """A throw-away database, or the kept one named ``keep`` (PostgreSQL), made if
    missing: filled once, measured again later (e.g. on a quiet machine)."""
    if not keep:
        async with throwaway_database(backend, "kepu_insights") as spare:
            yield spare.url
        return
    import asyncpg

    admin = await asyncpg.connect(PG_DSN)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", keep):
            await admin.execute(f'CREATE DATABASE "{keep}"')
    finally:
        await admin.close()
    base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{keep}"


async def measure(
    events: int, days: int, backend: str, keep: str | None = None, fill_only: bool = False
) -> list[tuple[str, str]]:
    from bot.insights import figures, report, stats
    from bot.knowledge.dense import DenseEncoder
    from bot.knowledge.service import KnowledgeService
    from bot.settings import Settings
    from bot.storage.db import Database

    rows: list[tuple[str, str]] = []
    async with _database(backend, keep) as url:
        db = Database(url)
        await db.migrate()
        async with db.session() as session:
            import sqlalchemy as sa

            present = await session.scalar(sa.text("SELECT count(*) FROM analytics_events"))
        if not present:
            took = await fill(db, url, events, days)
            rows.append(("events written by COPY (setup)", f"{took['events']:.0f} s"))
            rows.append(
                ("summing one day (the hourly task)", f"{took['sums per day'] * 1000:.0f} ms")
            )
        if fill_only:
            await db.close()
            return rows
        period = stats.Period.last_days(30)

        async def page_data() -> list[Any]:
            tables = await stats.report(db, period)
            await stats.overview(db, period)
            return tables

        started = time.perf_counter()
        tables = await page_data()
        rows.append(
            ("statistics of 30 days, cold", f"{(time.perf_counter() - started) * 1000:.0f} ms")
        )
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            await page_data()
            samples.append((time.perf_counter() - started) * 1000)
        rows.append(("statistics of 30 days (median of 5)", ms(samples)))
        figures._draw.cache_clear()
        started = time.perf_counter()
        figures.draw_all(tables)
        rows.append(("charts drawn, cold", f"{(time.perf_counter() - started) * 1000:.0f} ms"))
        started = time.perf_counter()
        figures.draw_all(tables)
        rows.append(
            ("charts, same figures (cache)", f"{(time.perf_counter() - started) * 1000:.1f} ms")
        )
        settings = Settings.from_env()
        knowledge = KnowledgeService(
            settings.knowledge_dir, DenseEncoder(settings.vector_cache), db
        )
        await knowledge.refresh(force=True)
        from bot.insights.segments import keep_finished_months

        started = time.perf_counter()
        kept = await keep_finished_months(db)  # the hourly task's; done at fill time
        if kept:
            per_month = f"{(time.perf_counter() - started) / kept:.1f} s"
            rows.append(("a month's segments (the hourly task, once a month)", per_month))
        month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        started = time.perf_counter()
        html = await report.monthly_html(db, month, knowledge)
        rows.append(
            (f"monthly report {month} (knowledge loaded)", f"{time.perf_counter() - started:.1f} s")
        )
        rows.append(("monthly report size", f"{len(html) // 1024} KiB"))
        rows += await writing(db)
        await db.close()
        rows += await page(url)
    return rows


async def page(url: str) -> list[tuple[str, str]]:
    """The 统计 page and its charts through the web app, signed in as an expert."""
    import re
    import tempfile

    from aiohttp.test_utils import TestClient, TestServer

    from bot.accounts.users import add_user
    from bot.fraud.checker import default_checker
    from bot.insights import figures, stats
    from bot.knowledge.service import KnowledgeService
    from bot.settings import Settings
    from bot.web import keys
    from bot.web.app import create_app
    from bot.web.views import console_stats

    stats._pages.clear()
    console_stats._tables.clear()
    stats._live.clear()
    figures._draw.cache_clear()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "kb").mkdir()
        settings = Settings(var_dir=Path(tmp), database_url=url)
        app = create_app(
            settings, knowledge=KnowledgeService(Path(tmp) / "kb"), fraud=default_checker()
        )
        async with TestClient(TestServer(app)) as client:
            user = f"bench{random.getrandbits(30)}"
            password = await add_user(app[keys.DATABASE], user, "expert")
            login = await (await client.get("/console/login")).text()
            csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)
            signed_in = await client.post(
                "/console/login",
                data={"csrf": csrf, "name": user, "password": password},
                allow_redirects=False,
            )
            assert signed_in.status == 303, await signed_in.text()
            # A service that has been up: its minute task has summed today.
            deadline = time.monotonic() + 60
            while not stats._live and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            started = time.perf_counter()
            first = await client.get("/console/stats?from=2026-01-01&to=2026-01-07")
            assert first.status == 200
            process = f"{(time.perf_counter() - started) * 1000:.0f} ms"
            rows.append(("first page a new web process serves (another period)", process))
            timings = []
            for _ in range(6):
                started = time.perf_counter()
                resp = await client.get("/console/stats")
                html = await resp.text()
                timings.append((time.perf_counter() - started) * 1000)
                assert resp.status == 200
            rows.append(("statistics page, first view of the last 30 days", f"{timings[0]:.0f} ms"))
            rows.append(("statistics page (median of 5 more)", ms(timings[1:])))
            charts = [c.replace("&amp;", "&") for c in re.findall(r'<img src="([^"]+)"', html)]
            for label in ("cold", "again"):
                started = time.perf_counter()
                for chart in charts:
                    assert (await client.get(chart)).status == 200
                took = (time.perf_counter() - started) * 1000
                rows.append((f"its {len(charts)} charts, {label}", f"{took:.0f} ms"))
    return rows


async def writing(db: Any) -> list[tuple[str, str]]:
    """What a turn pays for its analytics event, and the background writer's cost."""
    from bot.insights.writer import EventWriter, write_turns

    assembler = TurnAssembler()
    writer = EventWriter(db, flush_seconds=3600)
    turn_events = [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "action", "name": "action_listen"},
        {
            "event": "user",
            "text": "微信红包咋个收",
            "parse_data": {"intent": {"name": None}},
            "input_channel": "wechat",
            "timestamp": time.time(),
        },
        {"event": "user_featurization"},
        {"event": "action", "name": "action_understand"},
        {
            "event": "bot",
            "text": "1. …",
            "data": {
                "custom": {
                    "decision": "answer",
                    "entry_id": "phone-wechat-hongbao",
                    "topic": "smartphone",
                    "band": "high",
                }
            },
        },
        {"event": "bot", "text": "2. …", "data": {"custom": None}},
        {"event": "bot", "text": "有用吗", "data": {"custom": None}},
        {"event": "slot", "name": "chosen_question"},
        {"event": "slot", "name": "pending_options"},
        {"event": "action", "name": "action_listen"},
    ]
    n = 20_000
    started = time.perf_counter()
    for i in range(n):
        sender = f"bench-{i}"
        for event in turn_events:
            for turn in assembler.feed({"sender_id": sender, **event}):
                writer.add(turn)
    per_turn_us = (time.perf_counter() - started) / n * 1e6
    batch = writer._waiting[:500]
    writer._waiting.clear()
    samples = []
    for _ in range(5):
        fresh = [
            Turn(
                at=t.at,
                channel=t.channel,
                user_hash=f"{random.getrandbits(200):064x}",
                move=t.move,
                decision=t.decision,
                topic=t.topic,
                entry_id=t.entry_id,
            )
            for t in batch
        ]
        started = time.perf_counter()
        await write_turns(db, fresh)
        samples.append((time.perf_counter() - started) * 1000 / len(fresh))
    await writer.close()
    return [
        ("a turn's cost on its path (fold 12 events + queue)", f"{per_turn_us:.0f} µs"),
        ("background write per turn (500-turn batches)", f"{statistics.median(samples):.2f} ms"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--backend", default="postgresql", choices=("postgresql", "sqlite"))
    parser.add_argument("--keep", help="a PostgreSQL database to fill once and keep")
    parser.add_argument("--fill-only", action="store_true", help="fill --keep, measure nothing")
    args = parser.parse_args()
    rows = asyncio.run(measure(args.events, args.days, args.backend, args.keep, args.fill_only))
    print(
        f"\n{args.events:,} events over {args.days} days, {args.backend}; {machine_now(SQLITE)}\n"
    )
    print("| measured | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
