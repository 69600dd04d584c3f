"""The async engine and sessions, created explicitly (never at import time)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import event, text
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool

MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    """Owns one engine; ``session()`` yields a transaction that commits on success."""

    def __init__(
        self, url: str, *, pool_size: int | None = None, keep_connections: bool = False
    ) -> None:
        """``pool_size``: connections for a single writer (e.g. 1), instead of the
        settings' pool and overflow; ignored for SQLite.

        ``keep_connections``: a SQLite file's connections are kept open and reused
        (SQLAlchemy 2.0's pool for a SQLite file) instead of one opened per session
        (SQLAlchemy 1.4's ``NullPool``: a thread started, the file opened, three
        pragmas, and for the last connection of a WAL database a checkpoint on
        closing; four times for one console page). Only for an owner that calls
        ``close()`` (the web service and the Rasa process's channels do, on
        shutdown): aiosqlite runs each connection in a thread that is no daemon,
        so a kept connection never closed would hold the process open at exit.
        Either pool is named, not left to the dialect's default, so a Database
        behaves the same whatever else the process has patched. PostgreSQL
        always pools.
        """
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        options: dict[str, Any] = {"pool_pre_ping": True}
        if self.is_sqlite:
            path = url.split(":///", 1)[1].split("?", 1)[0]
            if path and path != ":memory:":
                make_private(Path(path))
                if keep_connections:
                    # A file's connection does not drop: no ping before each use.
                    options = {"poolclass": AsyncAdaptedQueuePool}
                else:
                    options["poolclass"] = NullPool
        else:
            from bot.settings import Settings

            settings = Settings.from_env()
            options |= {
                # Sized so that every process together stays under max_connections
                # (bot/run/profile.py checks the sum before start).
                "pool_size": pool_size or settings.db_pool_size,
                "max_overflow": 0 if pool_size else settings.db_max_overflow,
                # A database that is down must fail a turn in seconds, not minutes.
                "pool_timeout": 10,
                "connect_args": {"timeout": 5, "command_timeout": 30},
            }
        self.engine: AsyncEngine = create_async_engine(url, future=True, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed when the block ends, rolled back on an error."""
        async with self._sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)

    async def close(self) -> None:
        await self.engine.dispose()


def make_private(path: Path) -> None:
    """Create the SQLite file ``path`` readable by its owner only (0600, a new folder
    0700) before SQLite creates it with the umask's mode; tighten an existing one
    and its journals (SQLite gives new journals the database file's mode).

    An existing file is never opened here: closing any descriptor of a SQLite
    file releases every POSIX lock the process holds on it, including those of
    the process's open connections (SQLite's documented "close() breaks locks"
    pitfall). A second ``Database`` made later in a process (the WeChat channel's,
    at its first message) then left the analytics writer's commits invisible to
    other processes until it closed.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
        candidate = path.with_name(name)
        try:
            if candidate.stat().st_mode & 0o077:
                os.chmod(candidate, 0o600)
        except FileNotFoundError:
            continue


def _upgrade(connection: object) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _sqlite_pragmas(dbapi_conn: Any, _record: object) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets the web service read while the action server writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def rowcount(result: Result) -> int:
    """Rows an UPDATE, DELETE or INSERT touched. Its result is a ``CursorResult``
    (which has ``rowcount``), though ``AsyncSession.execute`` is typed as ``Result``."""
    return cast(CursorResult, result).rowcount


def sender_hash(sender_id: str, salt: str = "kepu") -> str:
    """A stable pseudonym for a sender: lets us count and group without the raw id."""
    return hashlib.sha256(f"{salt}:{sender_id}".encode()).hexdigest()
