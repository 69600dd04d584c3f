"""Databases the storage tests run on: SQLite always, PostgreSQL when it is there.

PostgreSQL is the production profile's database (127.0.0.1:5432, trust auth,
database ``test`` on CI). Each test gets a database of its own, created and
dropped around it; the test is skipped, saying why, only when no server answers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import service_absent

if TYPE_CHECKING:
    from alembic.config import Config

PG_DSN = os.environ.get("KEPU_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


async def _pg_admin():
    import asyncpg

    return await asyncpg.connect(PG_DSN, timeout=3)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'kepu.db'}"
        return
    async for url in _postgres_database():
        yield url


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database only (for tests of a database *server*, e.g. one
    that goes away); skipped, saying why, only when no server answers."""
    async for url in _postgres_database():
        yield url


async def _postgres_database() -> AsyncIterator[str]:
    try:
        admin = await _pg_admin()
    except (OSError, ConnectionError) as exc:
        service_absent(f"PostgreSQL is not running at {PG_DSN}: {exc}")
    name = f"kepu_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def migrated_db(database_url: str) -> AsyncIterator:
    """A ``Database`` on each backend, migrated to the newest schema."""
    from bot.storage.db import Database

    database = Database(database_url)
    await database.migrate()
    yield database
    await database.close()


def upgrade_to(connection: object, revision: str) -> None:
    """Migrate a database to ``revision`` (``run_sync`` on an async connection): data
    stored before a migration, for the tests of what that migration does with it."""
    from alembic import command

    command.upgrade(_alembic(connection), revision)


def downgrade_to(connection: object, revision: str) -> None:
    """Migrate a database down to ``revision`` (``run_sync`` on an async connection)."""
    from alembic import command

    command.downgrade(_alembic(connection), revision)


def _alembic(connection: object) -> Config:
    from alembic.config import Config

    from bot.storage.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def schema_differences(database, tables: set[str]) -> list:
    """What differs between a migrated ``database`` and the models, for ``tables``:
    empty when the migrations create exactly what the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.storage.models import Base

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with database.engine.connect() as conn:
        changes = await conn.run_sync(diff)

    def table_of(change) -> str | None:
        item = change[0] if isinstance(change, list) else change
        for part in item[1:]:
            name = getattr(part, "name", None)
            table = getattr(part, "table", None)
            if table is not None and getattr(table, "name", None):
                return table.name
            if isinstance(part, str) and part in tables:
                return part
            if name in tables:
                return name
        return None

    return [c for c in changes if table_of(c) in tables]
