"""The moderator console's service, read side: vocabulary, the claim queue, claim details.

Plain async functions over ``Database`` (no web code). Changes live next
door: triage in ``bot.rumors.triage``; verdicts, debunks and publishing in
``bot.rumors.debunk``; users, tokens and sessions in ``bot.rumors.users``.
Refusals are the domain errors of ``bot.rumors.errors``.

A claim's "family" is the claim and the claims merged into it (one level
deep, see ``bot.rumors.triage``): its reports are the family's reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rumors.errors import InvalidInput, NotFound
from bot.rumors.reports import OPEN_STATUSES, SEEN_WHERE, priority
from bot.storage.db import Database
from bot.storage.models import (
    CLAIM_STANDING_SQL,
    ReportDelivery,
    RumorClaim,
    RumorReport,
    utcnow,
)

STATUSES: dict[str, str] = {
    "pending": "待处理",
    "verifying": "核实中",
    "concluded": "已结论",
    "rejected": "不予处理",
}
# Where a claim may go from each status. "concluded" is reached only by publishing.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("verifying", "rejected"),
    "verifying": ("pending", "concluded", "rejected"),
    "concluded": ("verifying",),  # reopened to correct a published verdict
    "rejected": ("pending",),
}
VERDICTS: dict[str, str] = {
    "rumor": "谣言",
    "partly_true": "部分属实",
    "true": "属实",
    "unproven": "尚无定论",
    "not_science": "非科学问题",
    "suspected_fraud": "疑似诈骗",
}
HARMS: dict[str, str] = {"health": "健康", "safety": "安全", "fraud": "诈骗", "other": "其他"}
DELIVERY_STATUSES: dict[str, str] = {"waiting": "等结论", "due": "待发送", "sent": "已发送"}
# Where a report came in, as moderators call it (the statistics pages use it too).
CHANNEL_LABELS: dict[str, str] = {
    "wechat": "微信公众号",
    "wecom": "企业微信",
    "webchat": "网页",
    "rest": "其他接口",
}
# "Where did you see it", said as a phrase: "在微信群看到", not "在村里听说看到".
SEEN_WHERE_PHRASES: dict[str, str] = {
    "wechat_group": "在微信群看到",
    "moments": "在朋友圈看到",
    "short_video": "在短视频看到",
    "village": "在村里听说",
    "other": "在别处看到",
}
MAX_PAGE = 500


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; ours are all UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def claim_target(claim_id: int) -> str:
    return f"claim:{claim_id}"


def channel_label(channel: str) -> str:
    """A channel's Chinese name; one we do not know is named as it is."""
    return CHANNEL_LABELS.get(channel, channel)


@dataclass(frozen=True)
class ClaimFilter:
    """Which claims the queue shows; empty ``statuses`` means every status."""

    statuses: tuple[str, ...] = OPEN_STATUSES
    harm: str | None = None
    verdict: str | None = None
    assignee: str | None = None
    text: str | None = None

    def check(self) -> None:
        for status in self.statuses:
            known(status, STATUSES, "状态")
        if self.harm:
            known(self.harm, HARMS, "危害类别")
        if self.verdict:
            known(self.verdict, VERDICTS, "结论")


@dataclass(frozen=True)
class ClaimView:
    id: int
    title: str
    harm: str
    status: str
    verdict: str | None
    assignee: str | None
    reports: int
    reporters: int
    channels: list[str]
    priority: float  # recomputed for the time of reading
    first_seen: datetime
    last_seen: datetime
    merged_into: int | None
    entry_id: str | None
    debunk_title: str | None
    explanation: str | None
    sources: list[dict[str, Any]]

    @classmethod
    def of(cls, row: RumorClaim, now: datetime) -> ClaimView:
        last_seen = aware(row.last_seen)
        channels = list(row.channels or [])
        return cls(
            id=row.id,
            title=row.title,
            harm=row.harm,
            status=row.status,
            verdict=row.verdict,
            assignee=row.assignee,
            reports=row.reports,
            reporters=row.reporters,
            channels=channels,
            priority=priority(row.reporters, len(channels), row.harm, last_seen, now),
            first_seen=aware(row.first_seen),
            last_seen=last_seen,
            merged_into=row.merged_into,
            entry_id=row.entry_id,
            debunk_title=row.debunk_title,
            explanation=row.explanation,
            sources=list(row.sources or []),
        )

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def verdict_label(self) -> str:
        return VERDICTS.get(self.verdict or "", "")

    @property
    def harm_label(self) -> str:
        return HARMS.get(self.harm, self.harm)

    @property
    def channel_labels(self) -> list[str]:
        return [channel_label(c) for c in self.channels]


@dataclass(frozen=True)
class ReportView:
    id: int
    public_id: str
    claim_id: int
    channel: str
    seen_where: str | None
    text: str  # redacted at intake
    created_at: datetime
    delivery_status: str | None

    @property
    def seen_where_label(self) -> str:
        return SEEN_WHERE.get(self.seen_where or "", "")

    @property
    def seen_where_phrase(self) -> str:
        """ "在微信群看到", or "" when the reporter did not say."""
        return SEEN_WHERE_PHRASES.get(self.seen_where or "", "")

    @property
    def channel_label(self) -> str:
        return channel_label(self.channel)

    @property
    def delivery_label(self) -> str:
        status = self.delivery_status or ""
        return DELIVERY_STATUSES.get(status, status)


@dataclass(frozen=True)
class ClaimPage:
    items: list[ClaimView]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class ClaimDetail:
    claim: ClaimView
    reports: list[ReportView]  # a page of them
    merged_ids: list[int]  # claims merged into this one
    reports_total: int = 0  # all of the family's reports


def known(value: str, table: dict[str, str], what: str) -> None:
    if value not in table:
        raise InvalidInput(f"没有这个{what}：{clip(value)}")


def clip(value: object, chars: int = 40) -> str:
    """A value quoted back in a message, cut short: a refusal must stay short."""
    text = str(value)
    return text if len(text) <= chars else text[:chars] + "…"


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_claims(
    db: Database,
    filters: ClaimFilter | None = None,
    *,
    limit: int = 20,
    offset: int = 0,
    now: datetime | None = None,
) -> ClaimPage:
    """Claims that match ``filters``, highest priority now first (merged ones left out)."""
    filters = filters or ClaimFilter()
    filters.check()
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"每页 1 到 {MAX_PAGE} 条")
    now = now or utcnow()
    where: list[Any] = [RumorClaim.merged_into.is_(None)]
    if filters.harm:
        where.append(RumorClaim.harm == filters.harm)
    if filters.verdict:
        where.append(RumorClaim.verdict == filters.verdict)
    if filters.assignee:
        where.append(RumorClaim.assignee == filters.assignee)
    if filters.text and filters.text.strip():
        pattern = _like(filters.text.strip())
        in_reports = select(RumorReport.claim_id).where(
            RumorReport.text.ilike(pattern, escape="\\")
        )
        where.append(
            or_(RumorClaim.title.ilike(pattern, escape="\\"), RumorClaim.id.in_(in_reports))
        )
    on_page = list(where)
    if filters.statuses:
        where.append(RumorClaim.status.in_(filters.statuses))
        # Without statistics SQLite takes a status for a selective condition and
        # sorts every claim that has it; "+status" (no index) makes it walk the
        # queue's order and stop at the page. The count uses the index.
        status = RumorClaim.status
        if db.is_sqlite:
            status = literal_column("+rumor_claims.status", RumorClaim.status.type)
        on_page.append(status.in_(filters.statuses))
    # Priority decays with time since the last report, the same factor for every
    # claim at a given moment: the stored, indexed order of models.CLAIM_STANDING_SQL
    # is the order of the priority now, and only a page is loaded.
    standing = literal_column(CLAIM_STANDING_SQL[db.engine.dialect.name])
    async with db.session() as session:
        total = (
            await session.execute(select(func.count()).select_from(RumorClaim).where(*where))
        ).scalar_one()
        rows = (
            (
                await session.execute(
                    select(RumorClaim)
                    .where(*on_page)
                    .order_by(standing.desc(), RumorClaim.id.desc())
                    .limit(limit)
                    .offset(offset)
                )
            )
            .scalars()
            .all()
        )
    return ClaimPage([ClaimView.of(row, now) for row in rows], total, limit, offset)


async def claim_detail(
    db: Database,
    claim_id: int,
    now: datetime | None = None,
    *,
    limit: int = MAX_PAGE,
    offset: int = 0,
) -> ClaimDetail:
    """A claim with a page of the reports grouped under it, oldest first."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"每页 1 到 {MAX_PAGE} 条")
    async with db.session() as session:
        claim = await session.get(RumorClaim, claim_id)
        if claim is None:
            raise NotFound(f"没有编号为 {claim_id} 的线索")
        ids = await family_ids(session, claim_id)
        where = [RumorReport.claim_id.in_(ids)]
        total = (
            await session.execute(select(func.count(RumorReport.id)).where(*where))
        ).scalar_one()
        reports = await _reports(session, where, limit=limit, offset=offset)
    return ClaimDetail(
        ClaimView.of(claim, now or utcnow()),
        reports,
        [i for i in ids if i != claim_id],
        reports_total=total,
    )


async def list_reports(
    db: Database,
    *,
    claim_id: int | None = None,
    delivery_status: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[ReportView]:
    """Redacted reports, oldest first; ``since`` is inclusive."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit 要在 1 到 {MAX_PAGE} 之间")
    where: list[Any] = []
    if since is not None:
        where.append(RumorReport.created_at >= since)
    if delivery_status:
        where.append(ReportDelivery.status == delivery_status)
    async with db.session() as session:
        if claim_id is not None:
            where.append(RumorReport.claim_id.in_(await family_ids(session, claim_id)))
        return await _reports(session, where, limit=limit)


async def _reports(
    session: AsyncSession, where: list[Any], limit: int, offset: int = 0
) -> list[ReportView]:
    query = (
        select(RumorReport, ReportDelivery.status)
        .outerjoin(ReportDelivery, ReportDelivery.report_id == RumorReport.id)
        .where(*where)
        .order_by(RumorReport.created_at, RumorReport.id)
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(query)).all()
    return [
        ReportView(
            id=r.id,
            public_id=r.public_id,
            claim_id=r.claim_id,
            channel=r.channel,
            seen_where=r.seen_where,
            text=r.text,
            created_at=aware(r.created_at),
            delivery_status=status,
        )
        for r, status in rows
    ]


async def family_ids(session: AsyncSession, claim_id: int) -> list[int]:
    """The claim and the claims merged into it."""
    merged = (
        (await session.execute(select(RumorClaim.id).where(RumorClaim.merged_into == claim_id)))
        .scalars()
        .all()
    )
    return [claim_id, *sorted(merged)]
