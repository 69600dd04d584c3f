"""Pictures a user sends while a rumour report is in progress (screenshots of
the claim), kept as evidence with the report.

The channel records the picture's platform media id at once (and its content
when the platform API hands it over); the report, when it is stored, takes
the sender's pictures of the last hour. Pictures cannot be redacted, so they
are shown only to console users, are deleted with their report, and a
picture whose report was never finished is deleted after a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.storage.db import Database, rowcount, sender_hash
from bot.storage.models import ReportEvidence, RumorReport

MAX_IMAGE_BYTES = 2 * 1024 * 1024
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp")
# A report takes the pictures its sender sent within this time before it.
ATTACH_WINDOW = timedelta(hours=1)
UNATTACHED_TTL = timedelta(days=1)


@dataclass(frozen=True)
class EvidenceView:
    id: int
    report_id: int
    content_type: str | None
    pic_url: str | None


async def keep_image(
    db: Database, *, sender_id: str, channel: str, media_id: str, pic_url: str | None
) -> int | None:
    """Record a picture (once per media id); its id, or None if it was already kept."""
    row = ReportEvidence(
        sender_hash=sender_hash(sender_id),
        channel=channel[:32],
        media_id=media_id[:128],
        pic_url=pic_url[:512] if pic_url and pic_url.startswith(("https://", "http://")) else None,
        created_at=datetime.now(timezone.utc),
    )
    try:
        async with db.session() as session:
            session.add(row)
            await session.flush()
            return row.id
    except IntegrityError:
        return None


async def store_content(db: Database, evidence_id: int, content: bytes, content_type: str) -> bool:
    """Keep the picture's bytes, if they are a picture of a sensible size."""
    kind = content_type.split(";")[0].strip().lower()
    if kind not in IMAGE_TYPES or not 0 < len(content) <= MAX_IMAGE_BYTES:
        return False
    async with db.session() as session:
        await session.execute(
            update(ReportEvidence)
            .where(ReportEvidence.id == evidence_id)
            .values(content=content, content_type=kind)
        )
    return True


async def attach_recent(db: Database, *, sender_id: str, report_public_id: str) -> int:
    """Give the report the sender's unattached pictures of the last hour; how many."""
    since = datetime.now(timezone.utc) - ATTACH_WINDOW
    async with db.session() as session:
        report_id = (
            await session.execute(
                select(RumorReport.id).where(RumorReport.public_id == report_public_id)
            )
        ).scalar_one_or_none()
        if report_id is None:
            return 0
        result = await session.execute(
            update(ReportEvidence)
            .where(
                ReportEvidence.sender_hash == sender_hash(sender_id),
                ReportEvidence.report_id.is_(None),
                ReportEvidence.created_at >= since,
            )
            .values(report_id=report_id)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)


async def for_reports(db: Database, report_ids: list[int]) -> dict[int, list[EvidenceView]]:
    """The pictures of each report (without their bytes)."""
    if not report_ids:
        return {}
    out: dict[int, list[EvidenceView]] = {}
    async with db.session() as session:
        rows = await session.execute(
            select(
                ReportEvidence.id,
                ReportEvidence.report_id,
                ReportEvidence.content_type,
                ReportEvidence.pic_url,
            )
            .where(ReportEvidence.report_id.in_(report_ids))
            .order_by(ReportEvidence.id)
        )
        for r in rows:
            out.setdefault(r.report_id, []).append(
                EvidenceView(r.id, r.report_id, r.content_type, r.pic_url)
            )
    return out


async def image(db: Database, evidence_id: int) -> tuple[bytes, str] | None:
    """The bytes of an attached picture, if we hold them."""
    async with db.session() as session:
        row = (
            await session.execute(
                select(ReportEvidence.content, ReportEvidence.content_type).where(
                    ReportEvidence.id == evidence_id,
                    ReportEvidence.report_id.is_not(None),
                    ReportEvidence.content.is_not(None),
                )
            )
        ).first()
    return (row.content, row.content_type) if row else None


async def purge_unattached(db: Database, now: datetime | None = None) -> int:
    """Delete pictures whose report never came (a day old)."""
    cutoff = (now or datetime.now(timezone.utc)) - UNATTACHED_TTL
    async with db.session() as session:
        result = await session.execute(
            delete(ReportEvidence)
            .where(ReportEvidence.report_id.is_(None), ReportEvidence.created_at < cutoff)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)
