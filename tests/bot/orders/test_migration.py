"""Migration 0010 creates exactly the order tables the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.storage.models import Base

ORDER_TABLES = {
    "volunteers",
    "service_orders",
    "order_events",
    "order_ratings",
    "service_hours",
    "handled_marks",
}


async def test_the_migration_matches_the_models(migrated_db) -> None:
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with migrated_db.engine.connect() as conn:
        changes = await conn.run_sync(diff)

    def table_of(change) -> str | None:
        item = change[0] if isinstance(change, list) else change
        for part in item[1:]:
            name = getattr(part, "name", None)
            table = getattr(part, "table", None)
            if table is not None and getattr(table, "name", None):
                return table.name
            if isinstance(part, str) and part in ORDER_TABLES:
                return part
            if name in ORDER_TABLES:
                return name
        return None

    ours = [c for c in changes if table_of(c) in ORDER_TABLES]
    assert ours == []
