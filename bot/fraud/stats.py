"""Counts of fraud checks (by day, risk and type): the only trace a check leaves."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.fraud.checker import Verdict
from bot.fraud.signals import FRAUD_TYPES
from bot.storage.db import Database
from bot.storage.models import FraudCheckCount

_TYPE_IDS = {name: type_id for type_id, name in FRAUD_TYPES.items()}


async def count_check(db: Database, verdict: Verdict, day: date | None = None) -> None:
    """Add one to the count for this verdict's day, risk and likeliest type."""
    fraud_type = _TYPE_IDS.get(verdict.fraud_types[0], "") if verdict.fraud_types else ""
    insert = (sqlite.insert if db.is_sqlite else postgresql.insert)(FraudCheckCount)
    statement = insert.values(
        day=day or datetime.now(timezone.utc).date(),
        risk=verdict.risk,
        fraud_type=fraud_type,
        count=1,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["day", "risk", "fraud_type"],
        set_={"count": FraudCheckCount.count + 1},
    )
    async with db.session() as session:
        await session.execute(statement)


async def check_counts(db: Database) -> list[tuple[date, str, str, int]]:
    """Fraud checks counted per (day, risk, fraud type), in that order."""
    async with db.session() as session:
        rows = await session.execute(
            select(
                FraudCheckCount.day,
                FraudCheckCount.risk,
                FraudCheckCount.fraud_type,
                FraudCheckCount.count,
            ).order_by(FraudCheckCount.day, FraudCheckCount.risk, FraudCheckCount.fraud_type)
        )
        return [tuple(r) for r in rows]
