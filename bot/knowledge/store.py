"""Knowledge entries in the database: file import, reading what is served.

Files under ``knowledge/`` are upserted by id and content hash (an unchanged
file is not written); entries whose file disappeared are retired, not
deleted. Console-published entries (origin "console") are never touched by
the import. The upsert is a single INSERT ... ON CONFLICT, so two processes
importing at once cannot collide.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.knowledge.loader import LoadResult
from bot.knowledge.schema import Entry
from bot.storage.db import Database
from bot.storage.models import KnowledgeRecord, utcnow


@dataclass(frozen=True)
class ImportReport:
    inserted_or_changed: int
    unchanged: int
    retired: int


def _insert(db: Database) -> Any:
    # Any: sqlalchemy2-stubs leave the dialects' insert() untyped, and type their
    # on_conflict_do_update() as returning None with column expressions only.
    return (sqlite.insert if db.is_sqlite else postgresql.insert)(KnowledgeRecord)


async def import_files(db: Database, loaded: LoadResult) -> ImportReport:
    """Upsert changed file entries (never over a console one) and retire files that are gone."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(
                    KnowledgeRecord.id,
                    KnowledgeRecord.content_hash,
                    KnowledgeRecord.origin,
                    KnowledgeRecord.retired,
                )
            )
        ).all()
        current = {r.id: r for r in rows}
        changed = 0
        for entry in loaded.entries:
            digest = loaded.hashes[entry.id]
            row = current.get(entry.id)
            if row is not None and row.content_hash == digest and not row.retired:
                continue
            if row is not None and row.origin == "console":
                continue  # a published debunk keeps precedence over a file of the same id
            await _upsert(session, db, entry, json.loads(entry.json()), digest, "file")
            changed += 1
        on_disk = {e.id for e in loaded.entries}
        gone = [
            i
            for i, r in current.items()
            if r.origin == "file" and not r.retired and i not in on_disk
        ]
        if gone:
            await session.execute(
                update(KnowledgeRecord)
                .where(KnowledgeRecord.id.in_(gone))
                .values(retired=True, updated_at=utcnow())
            )
    return ImportReport(changed, len(loaded.entries) - changed, len(gone))


async def upsert_console_entry(session: AsyncSession, db: Database, entry: Entry) -> None:
    """Serve ``entry`` as published in the console, in the caller's transaction."""
    data = json.loads(entry.json())
    digest = hashlib.sha256(
        json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
    ).hexdigest()
    await _upsert(session, db, entry, data, digest, "console")


async def _upsert(
    session: AsyncSession,
    db: Database,
    entry: Entry,
    data: dict[str, Any],
    digest: str,
    origin: str,
) -> None:
    """Insert or replace the served row of ``entry`` (served again if it was retired)."""
    values = {
        "id": entry.id,
        "topic": entry.topic,
        "content_hash": digest,
        "data": data,
        "origin": origin,
        "retired": False,
        "updated_at": utcnow(),
    }
    stmt = _insert(db).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[KnowledgeRecord.id],
        set_={k: v for k, v in values.items() if k != "id"},
    )
    await session.execute(stmt)


async def retire_console_entry(session: AsyncSession, entry_id: str) -> None:
    """Stop serving a console-published entry (its claim's verdict was corrected)."""
    await session.execute(
        update(KnowledgeRecord)
        .where(KnowledgeRecord.id == entry_id, KnowledgeRecord.origin == "console")
        .values(retired=True, updated_at=utcnow())
    )


async def version(db: Database) -> tuple[Any, ...]:
    """Changes whenever any served entry changes (cheap to poll)."""
    async with db.session() as session:
        row = (
            await session.execute(
                select(func.count(KnowledgeRecord.id), func.max(KnowledgeRecord.updated_at))
            )
        ).one()
    return tuple(row)


async def served_entries(db: Database, origin: str | None = None) -> list[Entry]:
    """Entries being served (of one origin, "file" or "console", if given), by id."""
    query = select(KnowledgeRecord.data).where(KnowledgeRecord.retired.is_(False))
    if origin is not None:
        query = query.where(KnowledgeRecord.origin == origin)
    async with db.session() as session:
        rows = (await session.execute(query.order_by(KnowledgeRecord.id))).scalars().all()
    return [Entry.parse_obj(data) for data in rows]


async def served_entry(db: Database, entry_id: str) -> Entry | None:
    """The served entry ``entry_id`` names: its own id, or an alias (the id of an
    entry merged into it), so old links and feedback rows still find their answer."""
    served = KnowledgeRecord.retired.is_(False)
    async with db.session() as session:
        data = (
            await session.execute(
                select(KnowledgeRecord.data).where(KnowledgeRecord.id == entry_id, served)
            )
        ).scalar_one_or_none()
        if data is None:
            # Only rows whose JSON mentions the id can hold it as an alias.
            mentions = cast(KnowledgeRecord.data, String).contains(f'"{entry_id}"', autoescape=True)
            rows = (
                await session.execute(
                    select(KnowledgeRecord.data)
                    .where(served, mentions)
                    .order_by(KnowledgeRecord.id)
                )
            ).scalars()
            data = next((d for d in rows if entry_id in (d.get("aliases") or ())), None)
    return Entry.parse_obj(data) if data is not None else None


async def resolve_entry_id(db: Database, entry_id: str) -> str | None:
    """The id ``entry_id`` is served under now (itself, or the entry it was merged
    into); None when nothing served answers to it. For feedback and report links."""
    entry = await served_entry(db, entry_id)
    return entry.id if entry else None
