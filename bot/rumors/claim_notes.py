"""Internal notes on a claim: moderators and experts talk about it where they work.

A note is redacted before it is stored (a phone number a moderator pastes from
a report stays out of the database too), is written with its audit entry in
one transaction, and is shown to every console role that can see the claim.
Reporters never see notes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.accounts.access import ROLES, Actor, require
from bot.accounts.audit import record
from bot.accounts.errors import InvalidInput, NotFound
from bot.rumors.console import claim_target, family_ids
from bot.storage.db import Database
from bot.storage.models import ClaimNote, RumorClaim, aware, utcnow
from bot.text.redact import redact

MAX_NOTE_CHARS = 500
MAX_NOTES_SHOWN = 200


@dataclass(frozen=True)
class NoteView:
    id: int
    claim_id: int
    author: str
    author_role: str
    text: str  # redacted
    created_at: datetime

    @property
    def role_label(self) -> str:
        return ROLES.get(self.author_role, self.author_role)


async def add_note(db: Database, actor: Actor, claim_id: int, text: str) -> NoteView:
    """Store a redacted note on the claim, audited."""
    require(actor, "note")
    text = (text or "").strip()
    if not text:
        raise InvalidInput("备注不能为空")
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidInput(f"备注不超过 {MAX_NOTE_CHARS} 字（现在 {len(text)} 字）")
    clean = await asyncio.to_thread(redact, text)
    now = utcnow()
    async with db.session() as session:
        if await session.get(RumorClaim, claim_id) is None:
            raise NotFound(f"没有编号为 {claim_id} 的线索")
        note = ClaimNote(
            claim_id=claim_id, author=actor.name, author_role=actor.role, text=clean, created_at=now
        )
        session.add(note)
        await session.flush()
        record(session, actor.name, "note", claim_target(claim_id), note=note.id, chars=len(clean))
        return _view(note)


async def notes_of(db: Database, claim_id: int) -> list[NoteView]:
    """The notes on a claim and on the claims merged into it, oldest first."""
    async with db.session() as session:
        ids = await family_ids(session, claim_id)
        rows = (
            (
                await session.execute(
                    select(ClaimNote)
                    .where(ClaimNote.claim_id.in_(ids))
                    .order_by(ClaimNote.created_at.desc(), ClaimNote.id.desc())
                    .limit(MAX_NOTES_SHOWN)
                )
            )
            .scalars()
            .all()
        )
    return [_view(r) for r in reversed(rows)]


def _view(row: ClaimNote) -> NoteView:
    return NoteView(
        row.id, row.claim_id, row.author, row.author_role, row.text, aware(row.created_at)
    )
