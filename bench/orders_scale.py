"""The dispatch queue and the volunteer suggestions at 100k orders and 5k volunteers
(issue 20, item 9: each ≤ 50 ms on PostgreSQL).

Usage:
    .venv/bin/python -m bench.orders_scale [--orders 100000] [--volunteers 5000]
        [--backends postgresql,sqlite] [--repeat 30]

A throw-away database per backend (PostgreSQL: a new database on
KEPU_BENCH_POSTGRES, default postgresql://postgres@127.0.0.1:5432/test; SQLite:
a temporary file) is migrated with the project's migrations and filled by bulk
copy: orders spread over the real services and places, over a year, 2% open
and waiting, 3% with a volunteer, the rest finished, some urgent and some back
from a timeout; volunteers with one to three skills and one to four towns.
Each operation is the service call the console page or the API makes, timed
``--repeat`` times after one warm-up call; the query plans are printed so a
sequential scan shows.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import random
import sqlite3
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.throwaway_db import Plans, Table, load_postgres, load_sqlite, throwaway_database

SEED = 20261204
TARGET_MS = 50.0

VOLUNTEER_COLUMNS = (
    "id, code, name, skills, towns, availability, available, active, console_user, "
    "id_checked_by, id_document, id_checked_at, minutes_served, created_at"
)
ORDER_COLUMNS = (
    "id, public_id, sender_hash, channel, recipient, service, town, village, "
    "convenient_time, note, phone, urgent, flagged, state, volunteer_id, declined_by, "
    "reason, verify_code, entered, state_at, reminded_at, resident_notice, created_at, "
    "updated_at"
)


def make_data(orders: int, volunteers: int, seed: int) -> dict[str, list[tuple]]:
    import json

    from bot.orders import catalogue
    from bot.orders.service import public_id

    rng = random.Random(seed)
    services = [s.key for s in catalogue.services()]
    towns = [p.name for p in catalogue.places()]
    now = datetime.now(timezone.utc)
    vols = []
    for i in range(1, volunteers + 1):
        checked = rng.random() < 0.8
        vols.append(
            (
                i,
                f"LP{i:05d}",
                f"志愿者{i}",
                json.dumps(rng.sample(services, rng.randint(1, 3))),
                json.dumps(rng.sample(towns, rng.randint(1, 4)), ensure_ascii=False),
                "周末全天",
                rng.random() < 0.9,
                rng.random() < 0.97,
                f"vol{i}",
                "张主任" if checked else None,
                "身份证" if checked else None,
                now - timedelta(days=rng.randint(1, 400)) if checked else None,
                rng.randint(0, 6000),
                now - timedelta(days=rng.randint(1, 400)),
            )
        )
    rows = []
    for i in range(1, orders + 1):
        created = now - timedelta(minutes=rng.randint(1, 365 * 24 * 60))
        roll = rng.random()
        if roll < 0.02:
            state, volunteer = rng.choice(("review", "open", "open", "open")), None
        elif roll < 0.05:
            state = rng.choice(("assigned", "accepted", "in_service"))
            volunteer = rng.randint(1, volunteers)
        else:
            state = rng.choice(("done",) * 8 + ("cancelled", "failed"))
            volunteer = rng.randint(1, volunteers) if state != "cancelled" else None
        rows.append(
            (
                i,
                public_id(f"bench-{i}"),
                uuid.UUID(int=rng.getrandbits(128)).hex * 2,
                "wechat",
                None,
                rng.choice(services),
                rng.choice(towns),
                "某某村",
                "明天下午",
                "",
                None,
                rng.random() < 0.01,
                state == "open" and rng.random() < 0.1,
                state,
                volunteer,
                "[]",
                None,
                None,
                json.dumps({state: created.isoformat()}),
                created,
                None,
                None,
                created,
                created,
            )
        )
    return {"volunteers": vols, "orders": rows}


def order_tables(data: dict[str, list[tuple]]) -> list[Table]:
    return [
        ("volunteers", VOLUNTEER_COLUMNS, data["volunteers"]),
        ("service_orders", ORDER_COLUMNS, data["orders"]),
    ]


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float]:
    await call()  # warm-up: connections, statement caches
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.95 * len(samples)))]


async def measure(backend: str, orders: int, volunteers: int, repeat: int) -> list[tuple]:
    from bot.accounts.access import Actor
    from bot.orders import service
    from bot.orders.states import OPEN_STATES
    from bot.storage.db import Database

    data = make_data(orders, volunteers, SEED)
    open_order = next(r[1] for r in data["orders"] if r[13] == "open")
    busy = max(
        range(1, volunteers + 1),
        key=lambda v: sum(1 for r in data["orders"][:20000] if r[14] == v),
    )
    async with throwaway_database(backend, "kepu_orders") as place:
        db = Database(place.url)
        try:
            await db.migrate()
            t = time.perf_counter()
            if place.path is not None:
                await db.close()  # the file is filled by sqlite3 directly
                load_sqlite(place.path, order_tables(data))
                with sqlite3.connect(place.path) as conn:
                    conn.execute("ANALYZE")
                db = Database(place.url)
            else:
                await load_postgres(place.url, order_tables(data))
            fill = time.perf_counter() - t
            # The rows were for the fill only; a server holds none of them. Kept
            # alive, they make each full garbage collection of this process take
            # ~25 ms, which then lands in whichever call happens to trigger it.
            data.clear()
            gc.collect()
            dispatcher = Actor(1, "mod", "moderator")
            volunteer = Actor(2, f"vol{busy}", "volunteer")
            operations: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
                (
                    "dispatch queue, page 1 (open orders)",
                    lambda: service.list_orders(db, dispatcher, states=OPEN_STATES, limit=30),
                ),
                (
                    "dispatch queue, page 1 (all orders)",
                    lambda: service.list_orders(db, dispatcher, limit=30),
                ),
                (
                    "dispatch queue, page 50 (all orders)",
                    lambda: service.list_orders(db, dispatcher, limit=30, offset=49 * 30),
                ),
                ("counts by state (queue header)", lambda: service.counts_by_state(db)),
                (
                    "suggested volunteers for an open order",
                    lambda: service.suggest(db, dispatcher, open_order),
                ),
                (
                    "a volunteer's own orders",
                    lambda: service.list_orders(db, volunteer, states=OPEN_STATES, limit=30),
                ),
                ("orders a volunteer may take (抢单)", lambda: service.takeable(db, volunteer)),
                ("order page", lambda: service.order_detail(db, dispatcher, open_order)),
            ]
            results = []
            for label, call in operations:
                plans = Plans(db.engine)
                await call()
                plans.stop()
                median, p95 = await timed(call, repeat)
                shown = await plans.explain()
                results.append((backend, label, median, p95, fill, shown))
            return results
        finally:
            await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--volunteers", type=int, default=5_000)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; "
        f"{args.orders:,} orders, {args.volunteers:,} volunteers; {args.repeat} calls each\n"
    )
    print("| backend | operation | median ms | p95 ms | target (PostgreSQL) |")
    print("|---|---|---|---|---|")
    plans = []
    for backend in args.backends.split(","):
        rows = asyncio.run(measure(backend, args.orders, args.volunteers, args.repeat))
        for b, label, median, p95, _fill, shown in rows:
            met = ("yes" if p95 <= TARGET_MS else "NO") if b == "postgresql" else "-"
            print(f"| {b} | {label} | {median:.1f} | {p95:.1f} | ≤ {TARGET_MS:.0f} ms: {met} |")
            plans.append((b, label, shown))
        print(f"\n({backend}: filled in {rows[0][4]:.1f} s)\n" if rows else "")
    print("Query plans:\n")
    for b, label, shown in plans:
        for line in shown:
            print(f"- {b}, {label}: {line[:300]}")


if __name__ == "__main__":
    main()
