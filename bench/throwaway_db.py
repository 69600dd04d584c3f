"""Throw-away databases for the benches (a SQLite file, or a new PostgreSQL database
dropped afterwards), bulk-loaded with rows, and the query plans of the statements a
call ran."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

PG_DSN = os.environ.get("KEPU_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def sqlite_time(value: Any) -> Any:
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
                    sql, [tuple(map(sqlite_time, r)) for r in rows[start : start + 100_000]]
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
        if words.startswith(("SELECT", "WITH")):
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
