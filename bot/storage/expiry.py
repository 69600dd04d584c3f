"""Deleting queue items past their retention, with the staff's handled marks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, select

from bot.storage.db import Database, rowcount
from bot.storage.models import HandledMark


async def delete_older(db: Database, model: Any, mark_kind: str, retention_days: int) -> int:
    """Delete rows of ``model`` (a staff queue: unanswered questions, help requests)
    created more than ``retention_days`` ago, and the handled marks of ``mark_kind``
    on them. Returns how many rows were deleted."""
    cutoff = datetime.now(timezone.utc) - timedelta(days=retention_days)
    async with db.session() as session:
        old = select(model.id).where(model.created_at < cutoff)
        bulk = {"synchronize_session": False}
        await session.execute(
            delete(HandledMark).where(HandledMark.kind == mark_kind, HandledMark.item_id.in_(old)),
            execution_options=bulk,
        )
        deleted = await session.execute(
            delete(model).where(model.created_at < cutoff), execution_options=bulk
        )
        return int(rowcount(deleted) or 0)
