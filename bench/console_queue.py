"""The console's queue page at 1,000,000 reports: filters, sorts and search (issue 24).

Usage: .venv/bin/python -m bench.console_queue [--reports 1000000] [--backends sqlite,postgresql]
       [--keep DIR]

``--keep DIR`` keeps the SQLite file (``DIR/queue-<reports>.db``) after the run and
reuses it in the next one instead of loading it again (several minutes at 1M
reports); PostgreSQL's database is always a throw-away one.

The reports and claims of ``bench.growth``'s console part (a year of reports over
100,000 claims, Zipf-like: the biggest claim holds about 121,000 reports; 5%
merged), plus each claim's search document as the service keeps it (title,
then reports oldest first, up to ``bot.rumors.search.MAX_TERMS``), bulk-loaded
into a fresh SQLite file and a fresh PostgreSQL database (``kepu_bench_queue_…``
on KEPU_BENCH_POSTGRES, dropped afterwards). Then the web service from its
factory serves the queue page to a signed-in moderator over loopback:

- "server" is the time the service spends on a request, from a middleware put in
  front of every other one (all of the view: parsing, the count, the page, the
  template), p50 and p95 of 15 requests after one warm-up request;
- "service CPU" is the CPU time the service's process spent meanwhile (the
  time a request costs when the machine is not shared; with PostgreSQL the
  database server's own work is not in it, with SQLite it is);
- "round trip" is what the client on the same host waited.

Search terms are a common word (in about a tenth of the claims), a rare one,
and the common word typed in pinyin. The query plans of the slowest case are
printed. Documents are cached in the temp folder between runs (building them
runs jieba over about half a million report texts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.console_data import console_data, console_tables
from bench.growth import SEED
from bench.growth_report import SQLITE
from bench.machine import machine_now
from bench.throwaway_db import Plans, Throwaway, load_postgres, load_sqlite, throwaway_database
from bench.timing import quantiles

REPEAT = 15
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def documents(data: dict[str, list[tuple]], reports: int) -> dict[int, list[str]]:
    """Each unmerged claim's search terms, as the service would have kept them."""
    from bot.rumors.search import MAX_TERMS
    from bot.text.search_terms import text_terms

    cache = Path(tempfile.gettempdir()) / f"kepu-bench-queue-docs-{reports}-{SEED}.json"
    if cache.exists():
        return {int(k): v for k, v in json.loads(cache.read_text(encoding="utf-8")).items()}
    texts: dict[int, list[str]] = {}
    for report in data["reports"]:  # in id order: a claim's oldest first is close enough
        texts.setdefault(report[3], []).append(report[7])
    docs: dict[int, list[str]] = {}
    for claim in data["claims"]:
        claim_id, title, merged_into = claim[0], claim[1], claim[5]
        if merged_into is not None:
            continue
        terms: dict[str, None] = {}
        for text in [title, *texts.get(claim_id, [])]:
            for term in sorted(text_terms(text)):
                terms.setdefault(term)
            if len(terms) >= MAX_TERMS:
                break
        docs[claim_id] = list(terms)[:MAX_TERMS]
    cache.write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8")
    return docs


def pick_words(docs: dict[int, list[str]]) -> dict[str, str]:
    """A common Chinese word (in ~10% of the claims), a rare one, and the common one's pinyin."""
    from bot.text.pinyin import fuzzy_pinyin
    from bot.text.stopwords import FUNCTION_WORDS

    df: Counter[str] = Counter()
    for terms in docs.values():
        df.update(t for t in terms if len(t) == 2 and all("\u4e00" <= c <= "\u9fff" for c in t))
    words = [(n, w) for w, n in df.items() if w not in FUNCTION_WORDS]
    common = min(words, key=lambda nw: abs(nw[0] - len(docs) / 10))[1]
    rare = min(words, key=lambda nw: abs(nw[0] - 10))[1]
    return {
        "common": common,
        "rare": rare,
        "pinyin": "".join(fuzzy_pinyin(common)),
        "df_common": str(df[common]),
        "df_rare": str(df[rare]),
    }


async def load_documents(place: Any, docs: dict[int, list[str]]) -> None:
    rows = [(claim_id, " ".join(terms)) for claim_id, terms in docs.items()]
    if place.path is not None:
        import sqlite3

        with sqlite3.connect(place.path) as conn:
            conn.executemany("INSERT INTO claim_search (rowid, terms) VALUES (?, ?)", rows)
        return
    import asyncpg

    conn = await asyncpg.connect(place.url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.copy_records_to_table(
            "claim_search", records=rows, columns=["claim_id", "terms"]
        )
        await conn.execute("VACUUM ANALYZE claim_search")
    finally:
        await conn.close()


@asynccontextmanager
async def database_place(backend: str, reports: int, keep: Path | None) -> AsyncIterator[Any]:
    """Where the data live: a throw-away database, or with ``keep`` a SQLite file kept."""
    if keep is None or backend != "sqlite":
        async with throwaway_database(backend, "kepu_bench_queue") as place:
            yield place
        return
    keep.mkdir(parents=True, exist_ok=True)
    path = keep / f"queue-{reports}-{SEED}.db"
    yield Throwaway(f"sqlite+aiosqlite:///{path}", path=path)


async def measure(backend: str, reports: int, keep: Path | None = None) -> list[dict]:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from bot.accounts.users import add_user
    from bot.fraud.checker import default_checker
    from bot.knowledge.service import KnowledgeService
    from bot.settings import Settings
    from bot.storage.db import Database
    from bot.web import keys
    from bot.web.app import create_app

    t = time.perf_counter()
    data = console_data(reports, reports // 10, SEED)
    docs = documents(data, reports)
    prepare = time.perf_counter() - t
    words = pick_words(docs)
    rows: list[dict] = []
    async with database_place(backend, reports, keep) as place:
        reuse = place.path is not None and place.path.exists()
        db = Database(place.url)
        await db.migrate()
        t = time.perf_counter()
        try:
            if place.path is None:
                await load_postgres(place.url, console_tables(data))
            elif not reuse:
                load_sqlite(place.path, console_tables(data))
            if not reuse:
                await load_documents(place, docs)
        except BaseException:
            if keep is not None and place.path is not None:
                place.path.unlink(missing_ok=True)  # never reuse a half-loaded file
            raise
        fill = time.perf_counter() - t
        del data
        # A user of its own per run: a kept file holds the earlier runs' users.
        user = f"bench{uuid.uuid4().hex[:8]}"
        password = await add_user(db, user, "moderator")
        await db.close()

        server_ms: list[float] = []
        cpu_ms: list[float] = []

        @web.middleware
        async def stopwatch(request: web.Request, handler: Callable[..., Awaitable[Any]]) -> Any:
            began, cpu = time.perf_counter(), time.process_time()
            try:
                return await handler(request)
            finally:
                server_ms.append((time.perf_counter() - began) * 1000)
                cpu_ms.append((time.process_time() - cpu) * 1000)

        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "kb").mkdir()
            # Retention far beyond the data's year: the sweep must not delete it mid-run.
            settings = Settings(
                var_dir=Path(tmp), database_url=place.url, report_retention_days=3650
            )
            app = create_app(
                settings, knowledge=KnowledgeService(Path(tmp) / "kb"), fraud=default_checker()
            )
            app.middlewares.insert(0, stopwatch)
            async with TestClient(TestServer(app)) as client:
                page = await client.get("/console/login")
                token = CSRF.search(await page.text()).group(1)
                signed = await client.post(
                    "/console/login", data={"csrf": token, "name": user, "password": password}
                )
                assert signed.status == 200, await signed.text()
                month_ago = (datetime.now(timezone.utc) - timedelta(days=30)).date().isoformat()
                cases = [
                    ("open claims, by priority", {}),
                    ("every status, page 40", {"status": "all", "page": "40"}),
                    ("by most reporters, every status", {"status": "all", "sort": "reporters"}),
                    ("by newest report", {"sort": "newest"}),
                    (
                        "pending + health + 企业微信 + last 30 days",
                        {
                            "status": "pending",
                            "harm": "health",
                            "channel": "wecom",
                            "from": month_ago,
                        },
                    ),  # fmt: skip
                    (f"search common word q={words['common']}", {"q": words["common"]}),
                    (f"search rare word q={words['rare']}", {"q": words["rare"]}),
                    (f"search pinyin q={words['pinyin']}", {"q": words["pinyin"]}),
                    (
                        f"search q={words['common']} + verifying + fraud, by reporters",
                        {
                            "q": words["common"],
                            "status": "verifying",
                            "harm": "fraud",
                            "sort": "reporters",
                        },
                    ),  # fmt: skip
                    (
                        f"search q={words['common']}, every status, by newest",
                        {"q": words["common"], "status": "all", "sort": "newest"},
                    ),
                ]
                for label, query in cases:
                    url = "/console/?" + urlencode(query)
                    resp = await client.get(url)  # warm: cold pages, the tokenizer
                    assert resp.status == 200, (url, resp.status, (await resp.text())[:500])
                    # "共 19916 条", or past the count's cap "共 2000 多条".
                    total = re.search(r"共 (\d+) (多)?条", await resp.text())
                    server_ms.clear()
                    cpu_ms.clear()
                    trips = []
                    for _ in range(REPEAT):
                        began = time.perf_counter()
                        resp = await client.get(url)
                        await resp.read()
                        trips.append((time.perf_counter() - began) * 1000)
                    p50, p95 = quantiles(server_ms)
                    c50, _ = quantiles(cpu_ms)
                    t50, t95 = quantiles(trips)
                    recorder = Plans(app[keys.DATABASE].engine)
                    try:
                        await client.get(url)
                    finally:
                        recorder.stop()
                    rows.append(
                        {
                            "backend": backend,
                            "case": label,
                            "matches": int(total.group(1)) if total else None,
                            "more": bool(total and total.group(2)),
                            "server_p50": p50,
                            "server_p95": p95,
                            "cpu_p50": c50,
                            "trip_p50": t50,
                            "trip_p95": t95,
                            "load": os.getloadavg()[0],
                            "plans": await recorder.explain(),
                        }
                    )
                    print(f"# {backend} {label}: {p50:.1f} / {p95:.1f} ms", flush=True)
        for r in rows:
            r.update(prepare_s=prepare, fill_s=fill, words=words)
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| database | queue page | claims matched | server p50 (ms) | server p95 (ms) "
        "| service CPU p50 (ms) | round trip p50 (ms) | load (1 min) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['case']} | {r['matches']:,}{'+' if r.get('more') else ''} "
            f"| {r['server_p50']:.1f} "
            f"| {r['server_p95']:.1f} | {r['cpu_p50']:.1f} | {r['trip_p50']:.1f} "
            f"| {r['load']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the SQLite file in this folder")
    args = parser.parse_args()
    print(f"machine: {machine_now(SQLITE)}\n", flush=True)
    rows: list[dict] = []
    for backend in args.backends.split(","):
        rows += asyncio.run(measure(backend, args.reports, args.keep))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    print(table(rows))
    first = rows[0]
    print(
        f"\nwords: {first['words']}; data and documents {first['prepare_s']:.0f} s, "
        f"bulk load {first['fill_s']:.0f} s (first backend)"
    )
    slowest = max(rows, key=lambda r: r["server_p50"])
    print(f"\nQuery plans of the slowest case ({slowest['backend']}, {slowest['case']}):")
    for plan in slowest["plans"]:
        print(f"- `{plan[:400]}`")


if __name__ == "__main__":
    main()
