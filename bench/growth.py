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
import contextlib
import functools
import hashlib
import json
import math
import os
import platform
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT

EVAL = PROJECT_ROOT.parent / "shared" / "eval" / "rumors"
PG_DSN = os.environ.get("KEPU_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
SEED = 20251129
KB_QUERIES = 200
CLAIM_QUERIES = 300
SUBMITS = 150
CONSOLE_REPEAT = 15


# Measuring -------------------------------------------------------------------------


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quantiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def timed(call: Callable[[], Any], repeat: int = 1) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        call()
        out.append((time.perf_counter() - t) * 1000)
    return out


async def timed_async(call: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        await call()
        out.append((time.perf_counter() - t) * 1000)
    return out


def row(size: int, operation: str, samples: list[float] | None = None, **extra: Any) -> dict:
    out: dict[str, Any] = {"size": size, "operation": operation, "load": os.getloadavg()[0]}
    if samples:
        out["p50"], out["p95"] = quantiles(samples)
        out["n"] = len(samples)
    out.update(extra)
    return out


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


def eval_texts() -> list[str]:
    texts = []
    for name in ("ced_weibo_rumor_sample.jsonl", "ced_rumor_variant_clusters.jsonl"):
        with (EVAL / name).open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    item = json.loads(line)
                    texts += [item["text"]] if "text" in item else item["variants"]
    return texts


class ReportTexts:
    """Report-like texts cut from the Weibo posts: one window, sometimes two joined,
    with 10% homophone noise (a new claim); and re-worded copies of a given text."""

    def __init__(self, seed: int) -> None:
        self.pool = eval_texts()
        self.rng = random.Random(seed)

    def window(self, low: int = 15, high: int = 60) -> str:
        text = self.rng.choice(self.pool)
        length = self.rng.randint(low, high)
        start = self.rng.randrange(max(1, len(text) - length))
        return text[start : start + length]

    def claim(self) -> str:
        from bench.noise import add_noise

        text = self.window()
        if self.rng.random() < 0.5:
            text += self.window(5, 25)
        return add_noise(text, 0.1, self.rng)

    def variant(self, text: str) -> str:
        from bench.noise import add_noise

        cut = self.rng.randint(0, max(0, len(text) // 8))
        return add_noise(text[cut:], 0.1, self.rng)


def masked_claims(size: int, seed: int) -> tuple[list[str], list[str]]:
    """``size`` claim texts and their masked forms (cached: masking runs jieba)."""
    from bot.text.matching import masked

    cache = Path(tempfile.gettempdir()) / f"kepu-growth-claims-{size}-{seed}.json"
    if cache.exists():
        data = json.loads(cache.read_text(encoding="utf-8"))
        return data["texts"], data["masked"]
    source = ReportTexts(seed)
    texts = [source.claim() for _ in range(size)]
    masked_texts = [masked(t) for t in texts]
    cache.write_text(json.dumps({"texts": texts, "masked": masked_texts}), encoding="utf-8")
    return texts, masked_texts


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
        stamp = _sqlite_time(seen)
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

CHANNELS = ("wechat", "wecom", "web", "rest")
STATUS_SHARE = (("pending", 0.15), ("verifying", 0.05), ("concluded", 0.6), ("rejected", 0.2))
HARMS = ("health", "safety", "fraud", "other")


def console_data(reports: int, claims: int, seed: int) -> dict[str, list[tuple]]:
    """Claims (5% merged into another), reports spread as attention is (a few claims
    get thousands), a verdict delivery per report; all over the last year."""
    from bot.rumors.reports import priority

    rng = random.Random(seed)
    source = ReportTexts(seed)
    now = datetime.now(timezone.utc)
    # Every claim one report; the rest by a Zipf-like weight of the claim's rank.
    weights = [1 / (rank**1.1) for rank in range(1, claims + 1)]
    rng.shuffle(weights)
    per_claim = [1] * claims
    for i in rng.choices(range(claims), weights=weights, k=reports - claims):
        per_claim[i] += 1
    statuses = [s for s, share in STATUS_SHARE for _ in range(round(share * 100))]
    status = [rng.choice(statuses) for _ in range(claims)]
    merged: dict[int, int] = {}  # claim -> the claim it was merged into (indexes)
    for c in rng.sample(range(claims), claims // 20):
        target = rng.randrange(claims)
        while target == c or target in merged:
            target = rng.randrange(claims)
        merged[c] = target
    for c, target in merged.items():  # the merge moved its reports to the target
        per_claim[target] += per_claim[c]
        per_claim[c] = 0
        status[c] = "pending"
        status[target] = "verifying" if status[target] == "rejected" else status[target]
    claim_rows, report_rows, delivery_rows = [], [], []
    senders = max(1000, reports // 3)
    for c in range(claims):
        count, harm = per_claim[c], rng.choice(HARMS)
        last = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
        first = last - timedelta(minutes=rng.randrange(1, 30 * 24 * 60))
        chans = sorted({rng.choice(CHANNELS) for _ in range(min(count, 3))})
        reporters = max(1, int(count * 0.8)) if count else 0
        p = priority(reporters, len(chans), harm, last, last) if count else 0.0
        base = source.window(20, 60)
        target = merged.get(c)
        claim_rows.append(
            (
                c + 1,
                base,
                base,
                harm,
                status[c],
                None if target is None else target + 1,
                reporters,
                count,
                json.dumps(chans),
                p,
                math.log(max(p, 1e-9)),
                first,
                last,
                last,
            )
        )
        for _ in range(count):
            report_id = len(report_rows) + 1
            sender = rng.randrange(senders)
            channel = rng.choice(CHANNELS)
            report_rows.append(
                (
                    report_id,
                    f"R-{report_id:08X}",
                    hashlib.sha256(f"bench\0{report_id}".encode()).hexdigest(),
                    c + 1,
                    hashlib.sha256(f"kepu:s{sender}".encode()).hexdigest(),
                    channel,
                    None,
                    source.window(10, 50),
                    first + (last - first) * rng.random(),
                )
            )
            if status[c] == "concluded":
                owed = "sent" if rng.random() < 0.9 else "due"
            else:
                owed = "waiting"
            delivery_rows.append((report_id, report_id, channel, f"user-{sender}", owed, 0))
    return {"claims": claim_rows, "reports": report_rows, "deliveries": delivery_rows}


CLAIM_COLUMNS = (
    "id, title, match_text, harm, status, merged_into, reporters, reports, channels,"
    " priority, priority_log, first_seen, last_seen, updated_at"
)
REPORT_COLUMNS = (
    "id, public_id, idempotency_key, claim_id, sender_hash, channel, seen_where, text, created_at"
)
DELIVERY_COLUMNS = "id, report_id, channel, recipient, status, attempts"


def _sqlite_time(value: Any) -> Any:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


# A table to bulk-load: name, its columns (comma-separated), the rows.
Table = tuple[str, str, list[tuple]]


def load_sqlite(path: Path, tables: list[Table]) -> None:
    """Bulk-insert rows into a migrated SQLite file, 100,000 at a time."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        for table, columns, rows in tables:
            marks = ", ".join("?" * len(columns.split(",")))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
            for start in range(0, len(rows), 100_000):
                conn.executemany(
                    sql, [tuple(map(_sqlite_time, r)) for r in rows[start : start + 100_000]]
                )
                conn.commit()


async def load_postgres(url: str, tables: list[Table]) -> None:
    """COPY rows into a migrated PostgreSQL database; ids continue after them."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for table, columns, rows in tables:
            names = [c.strip() for c in columns.split(",")]
            await conn.copy_records_to_table(table, records=rows, columns=names)
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {len(rows) + 1})"
            )
        await conn.execute("VACUUM ANALYZE")  # as autovacuum does after a bulk load
    finally:
        await conn.close()


def console_tables(data: dict[str, list[tuple]]) -> list[Table]:
    return [
        ("rumor_claims", CLAIM_COLUMNS, data["claims"]),
        ("rumor_reports", REPORT_COLUMNS, data["reports"]),
        ("report_deliveries", DELIVERY_COLUMNS, data["deliveries"]),
    ]


@dataclass
class Throwaway:
    """An empty database for one measurement: a SQLite file or a PostgreSQL database."""

    url: str
    path: Path | None = None  # SQLite
    admin: Any = None  # PostgreSQL: a connection to the server's own database
    name: str = ""

    async def size_mib(self) -> float:
        if self.path is not None:
            return self.path.stat().st_size / 2**20
        return (await self.admin.fetchval(f"SELECT pg_database_size('{self.name}')")) / 2**20


@contextlib.asynccontextmanager
async def throwaway_database(backend: str, prefix: str) -> AsyncIterator[Throwaway]:
    """A temporary SQLite file, or a new database on PG_DSN; gone afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "sqlite":
            path = Path(tmp) / "kepu.db"
            yield Throwaway(f"sqlite+aiosqlite:///{path}", path=path)
            return
        import asyncpg

        admin = await asyncpg.connect(PG_DSN)
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            yield Throwaway(f"{base}/{name}", admin=admin, name=name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


class Plans:
    """The statements a call runs, for EXPLAIN afterwards, under the settings the
    call made for its transaction (``SET LOCAL max_parallel_workers_per_gather``:
    without it PostgreSQL would plan parallel workers the request never uses)."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.statements: list[tuple[str, Any]] = []
        self.settings: list[str] = []
        self.engine = engine
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def stop(self) -> None:
        from sqlalchemy import event

        event.remove(self.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, parameters, _context, _many) -> None:
        words = statement.lstrip().upper()
        if words.startswith("SELECT"):
            self.statements.append((statement, parameters))
        elif words.startswith("SET LOCAL") and statement not in self.settings:
            self.settings.append(statement)

    async def explain(self) -> list[str]:
        out = []
        prefix = "EXPLAIN QUERY PLAN " if self.engine.dialect.name == "sqlite" else "EXPLAIN "
        async with self.engine.begin() as conn:  # SET LOCAL lasts as long as this transaction
            for setting in self.settings:
                await conn.exec_driver_sql(setting)
            for statement, parameters in self.statements:
                result = await conn.exec_driver_sql(prefix + statement, parameters)
                lines = [str(r[-1]) for r in result.all()]
                out.append(" / ".join(line.strip() for line in lines))
        return out


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


def fmt(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if value >= 100:
        return f"{value:,.0f}{unit}"
    if value >= 10:
        return f"{value:.1f}{unit}"
    return f"{value:.2f}{unit}"


def table(rows: list[dict]) -> str:
    """Markdown: growth is p50 (and build) over the same operation 10× smaller."""
    key = {(r.get("group", r["operation"]), r["size"]): r for r in rows}
    lines = [
        "| size | operation | p50 (ms) | p95 (ms) | build (s) | memory (MiB) "
        "| p50 growth per 10× | build growth per 10× | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['size']:,} | {r['operation']} | failed ({r['error']}) |||||||")
            continue
        smaller = key.get((r.get("group", r["operation"]), r["size"] // 10))
        growth = build_growth = "—"
        if smaller and "error" not in smaller and smaller.get("p50"):
            growth = f"{r['p50'] / smaller['p50']:.1f}×"
            if smaller.get("build_s") and r.get("build_s"):
                build_growth = f"{r['build_s'] / smaller['build_s']:.1f}×"
        lines.append(
            f"| {r['size']:,} | {r['operation']} | {fmt(r.get('p50'))} | {fmt(r.get('p95'))} "
            f"| {fmt(r.get('build_s'))} | {fmt(r.get('memory_mib'))} | {growth} "
            f"| {build_growth} | {r['load']:.2f} |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        int(line.split()[1]) / 2**20
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; {datetime.now().strftime('%Y-%m-%d %H:%M')}; "
        f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


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
    print(f"machine: {machine()}\n", flush=True)
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


def report(rows: list[dict]) -> None:
    print(table(rows))
    plans = [(r["operation"], r["size"], r["plans"]) for r in rows if r.get("plans")]
    if plans:
        print("\nQuery plans at the largest size (one line per statement):\n")
        largest = max(size for _, size, _ in plans)
        for operation, size, statements in plans:
            if size == largest:
                print(f"- {operation}:")
                for plan in statements:
                    print(f"  - `{plan[:300]}`")


if __name__ == "__main__":
    main()
