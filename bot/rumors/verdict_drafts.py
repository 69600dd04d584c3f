"""What an expert has typed into a claim's verdict form, kept on the server as they type.

One draft per claim and console user: the page saves it every few seconds and
on "保存草稿", and shows it again on the next visit, so that nothing typed is
lost to a closed tab, an expired session or a refused publish. Drafts are
checked only for size (a half-written debunk is a draft), redacted like
everything we store, and deleted when the claim is published from them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from bot.accounts.access import Actor, require
from bot.accounts.errors import InvalidInput, NotFound
from bot.knowledge.schema import MAX_ANSWER_CHARS
from bot.rumors.console import VERDICTS
from bot.rumors.debunk import MAX_SOURCES, MAX_TITLE_CHARS
from bot.storage.db import Database
from bot.storage.models import ClaimDraft, RumorClaim, aware, utcnow
from bot.text.redact import redact

# A draft may run past what publishing accepts (the form says so), not without end.
DRAFT_SLACK = 200
SOURCE_FIELDS = ("organisation", "title", "url")


@dataclass(frozen=True)
class Draft:
    verdict: str | None
    title: str
    explanation: str
    sources: list[dict[str, str]]
    updated_at: datetime | None = None


def _clean(draft: Draft) -> Draft:
    """Redacted text; the sizes checked. URLs are kept as typed (publishing checks them)."""
    if draft.verdict and draft.verdict not in VERDICTS:
        raise InvalidInput(f"没有这个结论：{draft.verdict[:20]}")
    if len(draft.title) > MAX_TITLE_CHARS + DRAFT_SLACK:
        raise InvalidInput("草稿的标题太长了")
    if len(draft.explanation) > MAX_ANSWER_CHARS + DRAFT_SLACK:
        raise InvalidInput("草稿的说明太长了")
    if len(draft.sources) > MAX_SOURCES:
        raise InvalidInput(f"来源最多 {MAX_SOURCES} 个")
    sources = []
    for source in draft.sources:
        row = {k: str(source.get(k) or "")[: MAX_TITLE_CHARS + DRAFT_SLACK] for k in SOURCE_FIELDS}
        row["organisation"] = redact(row["organisation"]) if row["organisation"] else ""
        row["title"] = redact(row["title"]) if row["title"] else ""
        sources.append(row)
    return Draft(
        verdict=draft.verdict or None,
        title=redact(draft.title) if draft.title else "",
        explanation=redact(draft.explanation) if draft.explanation else "",
        sources=sources,
    )


def draft_from(
    verdict: str | None, title: str, explanation: str, sources: Sequence[Mapping[str, Any]]
) -> Draft:
    """A draft from the form's fields; sources cut to ``SOURCE_FIELDS``."""
    return Draft(
        verdict=(verdict or "").strip() or None,
        title=title or "",
        explanation=explanation or "",
        sources=[{k: str(s.get(k) or "") for k in SOURCE_FIELDS} for s in sources],
    )


async def save_draft(db: Database, actor: Actor, claim_id: int, draft: Draft) -> Draft:
    """Keep ``actor``'s draft for the claim (one per claim and user); not audited:
    nothing changes for anyone else until it is published."""
    require(actor, "conclude")
    clean = await asyncio.to_thread(_clean, draft)
    now = utcnow()
    async with db.session() as session:
        if await session.get(RumorClaim, claim_id) is None:
            raise NotFound(f"没有编号为 {claim_id} 的线索")
        row = (
            await session.execute(
                select(ClaimDraft)
                .where(ClaimDraft.claim_id == claim_id, ClaimDraft.user_id == actor.user_id)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if row is None:
            row = ClaimDraft(claim_id=claim_id, user_id=actor.user_id)
            session.add(row)
        row.verdict, row.title, row.explanation = clean.verdict, clean.title, clean.explanation
        row.sources, row.updated_at = clean.sources, now
    return Draft(clean.verdict, clean.title, clean.explanation, clean.sources, now)


async def draft_of(db: Database, actor: Actor, claim_id: int) -> Draft | None:
    """``actor``'s saved draft for the claim, if any."""
    async with db.session() as session:
        row = (
            await session.execute(
                select(ClaimDraft).where(
                    ClaimDraft.claim_id == claim_id, ClaimDraft.user_id == actor.user_id
                )
            )
        ).scalar_one_or_none()
    if row is None:
        return None
    return Draft(
        row.verdict, row.title, row.explanation, list(row.sources or []), aware(row.updated_at)
    )


async def drop_draft(db: Database, actor: Actor, claim_id: int) -> None:
    """Forget ``actor``'s draft: what it held has been published."""
    async with db.session() as session:
        await session.execute(
            delete(ClaimDraft).where(
                ClaimDraft.claim_id == claim_id, ClaimDraft.user_id == actor.user_id
            )
        )
