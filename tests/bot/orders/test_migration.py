"""Migration 0010 creates exactly the order tables the models describe, on both backends."""

from __future__ import annotations

from tests.bot.storage_backends import schema_differences

ORDER_TABLES = {
    "volunteers",
    "service_orders",
    "order_events",
    "order_ratings",
    "service_hours",
    "handled_marks",
}


async def test_the_migration_matches_the_models(migrated_db) -> None:
    assert await schema_differences(migrated_db, ORDER_TABLES) == []
