"""Cost growth table (issue 8, item 7): nothing quadratic on a hot path.

Usage: .venv/bin/python -m bench.growth [--parts kb,claims,console,kb-cached]
       [--kb-sizes 1000,10000,100000] [--claim-sizes 10000,100000]
       [--report-sizes 100000,1000000] [--backends sqlite,postgresql]

Three hot paths, each at growing sizes, each measurement in a fresh child
process (so that its memory is its own):

- knowledge search (``SearchIndex``, as bench/kb_eval.py): entries made from the
  real ones with 30% homophone noise (``bench.kb_eval.synthetic``), random unit
  sentence vectors; index build time, memory, p50/p95 of 200 dev questions × 3;
- claim matching (``ClaimIndex``, ``ReportQueue.submit``): claims made of windows
  of the CED Weibo texts in ../shared/eval/rumors (read in place) with 10%
  homophone noise, masked as the queue stores them; the index's build and
  memory, a match (the CPU part), and a whole ``submit`` against a SQLite
  database holding that many open claims (redaction, refresh, match, insert);
- the console on a reports table of 100,000 and 1,000,000 rows over 10,000 and
  100,000 claims (SQLite; PostgreSQL through COPY): the queue page, a claim's
  page of reports and ``GET /api/v1/reports``, through the same functions the
  console and the API call (``bot.rumors.console``), with each statement's
  query plan (EXPLAIN) printed under the table.

Every row says the 1-minute load average while it was measured: the machine
may be shared. Prints Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import math
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bench.console_data import console_data, console_tables
from bench.growth_report import SQLITE, report
from bench.machine import machine_now
from bench.report_texts import ReportTexts, masked_claims
from bench.throwaway_db import Plans, load_postgres, load_sqlite, sqlite_time, throwaway_database
from bench.timing import peak_mib, row, rss_mib, timed, timed_async
from bot.settings import PROJECT_ROOT

SEED = 20251129
KB_QUERIES = 200
CLAIM_QUERIES = 300
SUBMITS = 150
CONSOLE_REPEAT = 15


# Knowledge search ------------------------------------------------------------------


def measure_kb(size: int, pinyin_cache: bool = False) -> list[dict]:
    from bench.kb_eval import SyntheticVectors, read_dev, synthetic
    from bot.knowledge import search
    from bot.knowledge.loader import load_entries
    from bot.knowledge.search import SearchIndex

    if pinyin_cache:
        # What-if, not the product: the build spends most of its time converting
        # the same words to pinyin again and again (bot.knowledge.search._pinyin).
        cached = functools.lru_cache(maxsize=1 << 20)(search.fuzzy_pinyin)
        search.fuzzy_pinyin = lambda word: list(cached(word))

    entries = load_entries(PROJECT_ROOT / "knowledge").entries
    corpus = synthetic(entries, size, random.Random(SEED))
    queries = [r["question"] for r in read_dev()][:KB_QUERIES]
    SearchIndex(entries[:20], SyntheticVectors(SEED))  # jieba, pypinyin, BLAS loaded
    before = rss_mib()
    t = time.perf_counter()
    index = SearchIndex(corpus, SyntheticVectors(SEED))
    build = time.perf_counter() - t
    memory = rss_mib() - before
    samples = [ms for q in queries for ms in timed(lambda q=q: index.search(q))]
    samples += [ms for q in queries for ms in timed(lambda q=q: index.search(q), repeat=2)]
    return [
        row(
            size,
            "knowledge search" + (" (what-if: pinyin memoised per word)" if pinyin_cache else ""),
            samples,
            build_s=build,
            memory_mib=memory,
            peak_mib=peak_mib(),
            phrasings=sum(len(e.search_texts()) for e in corpus),
        )
    ]


# Claim matching --------------------------------------------------------------------


def measure_claims(size: int) -> list[dict]:
    from bot.rumors.reports import CANDIDATES, SAME_CLAIM
    from bot.text.matching import ClaimIndex, masked

    texts, masked_texts = masked_claims(size, SEED)
    source = ReportTexts(SEED + 1)
    queries = [
        source.variant(texts[source.rng.randrange(size)]) if i % 2 else source.claim()
        for i in range(CLAIM_QUERIES)
    ]
    masked_queries = [masked(q) for q in queries]
    before = rss_mib()
    t = time.perf_counter()
    index = ClaimIndex(((str(i), m) for i, m in enumerate(masked_texts)), premasked=True)
    build = time.perf_counter() - t
    memory = rss_mib() - before
    samples = [
        ms
        for q in masked_queries
        for ms in timed(lambda q=q: index.best_masked(q, CANDIDATES, SAME_CLAIM))
    ]
    matched = sum(bool(index.best_masked(q, 1, SAME_CLAIM)) for q in masked_queries)
    adds = timed(
        lambda: [index.add(f"new-{i}", m, premasked=True) for i, m in enumerate(masked_queries)]
    )[0]
    return [
        row(
            size,
            "claim match (index only)",
            samples,
            build_s=build,
            memory_mib=memory,
            peak_mib=peak_mib(),
            matched=f"{matched}/{len(queries)}",
            add_ms=adds / len(masked_queries),
        )
    ]


def fill_claims_sqlite(path: Path, texts: list[str], masked_texts: list[str]) -> None:
    """Open claims as the queue leaves them, written straight through sqlite3."""
    from bot.rumors.reports import harm_of, priority

    now = datetime.now(timezone.utc)
    rows = []
    for i, (text, match_text) in enumerate(zip(texts, masked_texts, strict=True), start=1):
        seen = now - timedelta(minutes=5 + i % 100_000)
        harm = harm_of(text)
        p = priority(1, 1, harm, seen, seen)
        stamp = sqlite_time(seen)
        rows.append(
            (i, text[:500], match_text, harm, '["wechat"]', p, math.log(p), stamp, stamp, stamp)
        )
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO rumor_claims (id, title, match_text, harm, status, reporters, reports,"
            " channels, priority, priority_log, first_seen, last_seen, updated_at)"
            " VALUES (?, ?, ?, ?, 'pending', 1, 1, ?, ?, ?, ?, ?, ?)",
            rows,
        )


async def measure_submit(size: int) -> list[dict]:
    from bot.rumors.reports import ReportQueue
    from bot.storage.db import Database
    from bot.text.matching import masked
    from bot.text.redact import redact

    texts, masked_texts = masked_claims(size, SEED)
    source = ReportTexts(SEED + 2)
    reports = [
        source.variant(texts[source.rng.randrange(size)]) if i % 2 else source.claim()
        for i in range(SUBMITS)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kepu.db"
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.migrate()
        fill_claims_sqlite(path, texts, masked_texts)
        await asyncio.to_thread(redact, "幸福小区3栋2单元501")  # spaCy, jieba: loaded once
        masked("听说明天要停水")
        queue = ReportQueue(db)
        before = rss_mib()
        t = time.perf_counter()
        await queue.claims.refresh()  # the first report of a process loads the index
        load = time.perf_counter() - t
        memory = rss_mib() - before
        samples = []
        for i, text in enumerate(reports):
            t = time.perf_counter()
            await queue.submit(text, sender_id=f"bench-{i}", channel="wechat")
            samples.append((time.perf_counter() - t) * 1000)
        await db.close()
    return [
        row(
            size,
            "report submit (SQLite, end to end)",
            samples,
            build_s=load,
            memory_mib=memory,
            peak_mib=peak_mib(),
        )
    ]


def measure_rebuild(size: int) -> list[dict]:
    """What one report cost before this change: every open claim's text masked
    again and a TF-IDF vectoriser fitted on them all (as ``ClaimIndex`` did)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from bot.text.matching import masked

    texts, masked_texts = masked_claims(size, SEED)
    samples = []
    for query in texts[:3]:
        t = time.perf_counter()
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(2, 4), sublinear_tf=True)
        matrix = vectorizer.fit_transform([masked(m) for m in masked_texts])
        (matrix @ vectorizer.transform([masked(query)]).T).toarray()
        samples.append((time.perf_counter() - t) * 1000)
    return [row(size, "claim match, index rebuilt per report (before)", samples)]


# The console on a large reports table ---------------------------------------------


async def measure_console(size: int, backend: str) -> list[dict]:
    from bot.rumors import console
    from bot.rumors.console import ClaimFilter
    from bot.storage.db import Database

    claims = size // 10
    t = time.perf_counter()
    data = console_data(size, claims, SEED)
    generate = time.perf_counter() - t
    counts = [c[7] for c in data["claims"]]  # reports per claim, claim ids from 1
    biggest = max(range(claims), key=counts.__getitem__) + 1
    typical = sorted(range(claims), key=counts.__getitem__)[claims // 2] + 1
    by_claim = dict(enumerate(counts, start=1))
    since = datetime.now(timezone.utc) - timedelta(days=7)
    async with throwaway_database(backend, "kepu_growth") as place:
        db = Database(place.url)
        try:
            await db.migrate()
            t = time.perf_counter()
            if place.path is not None:
                load_sqlite(place.path, console_tables(data))
            else:
                await load_postgres(place.url, console_tables(data))
            disk = await place.size_mib()
            fill = time.perf_counter() - t
            del data
            big, median = f"{by_claim[biggest]:,}", f"{by_claim[typical]}"
            operations: list[tuple[str, str, Callable[[], Awaitable[Any]]]] = [
                ("queue p1", "queue page 1 (open claims)", lambda: console.list_claims(db)),
                (
                    "queue p50",
                    "queue page 50, every status",
                    lambda: console.list_claims(db, ClaimFilter(statuses=()), offset=980),
                ),
                (
                    "queue filtered",
                    "queue page 1, verifying + harm=fraud",
                    lambda: console.list_claims(
                        db, ClaimFilter(statuses=("verifying",), harm="fraud")
                    ),
                ),
                (
                    "claim big p1",
                    f"claim page 1 (biggest claim: {big} reports)",
                    lambda: console.claim_detail(db, biggest, limit=50),
                ),
                (
                    "claim big p100",
                    "claim page 100 (biggest claim)",
                    lambda: console.claim_detail(db, biggest, limit=50, offset=4950),
                ),
                (
                    "claim median p1",
                    f"claim page 1 (median claim: {median} reports)",
                    lambda: console.claim_detail(db, typical, limit=50),
                ),
                (
                    "reports due",
                    "GET /api/v1/reports?status=due&limit=100",
                    lambda: console.list_reports(db, delivery_status="due", limit=100),
                ),
                (
                    "reports since",
                    "GET /api/v1/reports?since=(7 days ago)&limit=100",
                    lambda: console.list_reports(db, since=since, limit=100),
                ),
                (
                    "reports claim",
                    "GET /api/v1/reports?claim_id=(biggest)&limit=100",
                    lambda: console.list_reports(db, claim_id=biggest, limit=100),
                ),
                (
                    "queue search",
                    "queue page 1, q=谣言 (substring search of claims and reports)",
                    lambda: console.list_claims(db, ClaimFilter(text="谣言")),
                ),
            ]
            rows = []
            for group, label, call in operations:
                await call()  # warm: the first call pays for cold pages
                samples = await timed_async(call, 3 if "search" in group else CONSOLE_REPEAT)
                recorder = Plans(db.engine)
                try:
                    await call()
                finally:
                    recorder.stop()
                rows.append(
                    row(
                        size,
                        f"{label} [{backend}]",
                        samples,
                        group=f"{group} [{backend}]",
                        build_s=fill,
                        memory_mib=disk,
                        generate_s=generate,
                        plans=await recorder.explain(),
                    )
                )
        finally:
            await db.close()
    return rows


# Running and reporting -------------------------------------------------------------


def measure(part: str, size: int, backend: str) -> list[dict]:
    if part == "kb":
        return measure_kb(size)
    if part == "kb-cached":
        return measure_kb(size, pinyin_cache=True)
    if part == "claims":
        return measure_claims(size)
    if part == "submit":
        return asyncio.run(measure_submit(size))
    if part == "rebuild":
        return measure_rebuild(size)
    if part == "console":
        return asyncio.run(measure_console(size, backend))
    raise ValueError(part)


def child(part: str, size: int, backend: str = "sqlite") -> list[dict]:
    """One measurement in a fresh interpreter; its rows come back as JSON."""
    command = [sys.executable, "-m", "bench.growth", "--child", part, str(size), backend]
    print(f"# {part} {size} {backend} …", file=sys.stderr, flush=True)
    t = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT)
    if done.returncode:
        print(done.stderr[-3000:], file=sys.stderr)
        return [{"size": size, "operation": f"{part} [{backend}]", "error": done.returncode}]
    print(f"#   {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="kb,claims,console")
    parser.add_argument("--kb-sizes", default="1000,10000,100000")
    parser.add_argument("--claim-sizes", default="10000,100000")
    parser.add_argument("--report-sizes", default="100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument(
        "--report", type=Path, nargs="+", help="print the table of rows saved with --json"
    )
    parser.add_argument("--child", nargs=3, metavar=("PART", "SIZE", "BACKEND"), help="internal")
    args = parser.parse_args()
    if args.child:
        part, size, backend = args.child
        print(json.dumps(measure(part, int(size), backend), default=str))
        return

    def sizes(text: str) -> list[int]:
        return [int(s) for s in text.split(",") if s]

    rows: list[dict] = []
    if args.report:
        for path in args.report:
            rows += json.loads(path.read_text(encoding="utf-8"))
        report(rows)
        return
    print(f"machine: {machine_now(SQLITE)}\n", flush=True)
    parts = set(args.parts.split(","))
    for part in ("kb", "kb-cached"):
        if part in parts:
            rows += [r for n in sizes(args.kb_sizes) for r in child(part, n)]
    if "claims" in parts:
        for n in sizes(args.claim_sizes):
            rows += child("claims", n) + child("submit", n)
        rows += child("rebuild", sizes(args.claim_sizes)[0])
    if "console" in parts:
        for backend in args.backends.split(","):
            rows += [r for n in sizes(args.report_sizes) for r in child("console", n, backend)]
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str), encoding="utf-8")
    report(rows)


if __name__ == "__main__":
    main()
