"""The moderator console's service, read side: vocabulary, the claim queue, claim details.

Plain async functions over ``Database`` (no web code). Changes live next
door: triage in ``bot.rumors.triage``; verdicts, debunks and publishing in
``bot.rumors.debunk``; users, tokens and sessions in ``bot.accounts.users``.
Refusals are the domain errors of ``bot.accounts.errors``.

A claim's "family" is the claim and the claims merged into it (one level
deep, see ``bot.rumors.triage``): its reports are the family's reports.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, cast, false, func, literal_column, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.operators import ColumnOperators

from bot.accounts.errors import InvalidInput, NotFound, clip
from bot.rumors import search
from bot.rumors.reports import (
    HARM_WEIGHT,
    OPEN_STATUSES,
    RECENCY_HOURS,
    SEEN_WHERE,
    PriorityParts,
    priority_parts,
)
from bot.storage.db import Database
from bot.storage.models import (
    CLAIM_STANDING_SQL,
    ReportDelivery,
    RumorClaim,
    RumorReport,
    aware,
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
# The queue's orders: by priority now, by the latest report, by reporters.
SORTS: dict[str, str] = {"priority": "优先级", "newest": "最近举报", "reporters": "举报人数"}
# Priority shown as 高/中/低. 9: a health or safety rumour that 4 people reported
# through 2 channels today (a fraud one needs about 15 people); 3: a single fresh
# report of a health, safety or fraud rumour. Three days without a report bring
# a claim down to about a third (RECENCY_HOURS).
PRIORITY_LEVELS: tuple[tuple[float, str, str], ...] = (
    (9.0, "high", "高"),
    (3.0, "medium", "中"),
    (0.0, "low", "低"),
)
MAX_PAGE = 500
# PostgreSQL, for the queue's statements only (the transaction's own settings):
# - no parallel workers: the count and the page touch at most some thousands of
#   claims, and two workers cost more to start than they save (a search with two
#   filters: 73 ms with a Gather against 40 ms without);
# - a plan for each statement's own values: asyncpg prepares every statement, and
#   after five runs PostgreSQL may keep a generic plan that knows neither the
#   search's words nor the statuses (pinyin 30 ms a statement against 11, two
#   filters 31 against 8), nor that open statuses may take the open claims' index
#   (bot.rumors.search.queue_condition);
# - room to hash a common word's matches (the page's walk, ``_conditions``): about
#   60 bytes a match, so 64 MB (x hash_mem_multiplier) holds two million.
QUEUE_SETTINGS = (
    "SET LOCAL max_parallel_workers_per_gather = 0",
    "SET LOCAL plan_cache_mode = force_custom_plan",
    "SET LOCAL work_mem = '64MB'",
)
# SQLite: the count of a search with no filter but the status, led by the matches
# (``_match_led_count``). CROSS JOIN keeps the full-text matches the outer loop.
MATCH_LED_COUNT = (
    "SELECT 1 FROM claim_search"
    " CROSS JOIN rumor_claims INDEXED BY ix_rumor_claims_unmerged_id_status"
    " ON rumor_claims.id = claim_search.rowid"
    " WHERE claim_search MATCH :search AND rumor_claims.merged_into IS NULL"
)


def claim_target(claim_id: int) -> str:
    """The audit log's target for a claim: ``claim:<id>``."""
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
    text: str | None = None  # words or pinyin (bot.rumors.search)
    channel: str | None = None  # at least one report from this channel
    seen_after: datetime | None = None  # the latest report at or after this moment
    seen_before: datetime | None = None  # ... and before this one

    def check(self) -> None:
        """Raise ``InvalidInput`` for a status, harm, verdict or channel we do not know."""
        for status in self.statuses:
            known(status, STATUSES, "状态")
        if self.harm:
            known(self.harm, HARMS, "危害类别")
        if self.verdict:
            known(self.verdict, VERDICTS, "结论")
        if self.channel:
            known(self.channel, CHANNEL_LABELS, "渠道")
        if self.seen_after and self.seen_before and self.seen_after >= self.seen_before:
            raise InvalidInput("开始日期要早于结束日期")


def _ago(hours: float) -> str:
    if hours < 1:
        return f"{max(1, round(hours * 60))} 分钟"
    if hours < 48:
        return f"{round(hours)} 小时"
    return f"{round(hours / 24)} 天"


def priority_level(value: float) -> tuple[str, str]:
    """("high", "高"), ("medium", "中") or ("low", "低") for a priority now."""
    for floor, level, label in PRIORITY_LEVELS:
        if value >= floor:
            return level, label
    return PRIORITY_LEVELS[-1][1:]


def priority_reasons(
    parts: PriorityParts, reporters: int, channels: int, harm: str
) -> tuple[str, ...]:
    """Why a claim ranks where it does, in three short lines."""
    weight = f"{parts.harm:g}"
    return (
        f"传播：{reporters} 人举报，来自 {channels} 个渠道。人越多、渠道越多，越靠前。",
        f"危害：{HARMS.get(harm, harm)}类，按 {weight} 倍算"
        f"（健康、安全 {HARM_WEIGHT['health']:g} 倍，诈骗 {HARM_WEIGHT['fraud']:g} 倍，"
        f"其他 {HARM_WEIGHT['other']:g} 倍）。",
        f"新近：最近一次举报在 {_ago(parts.age_hours)}前，热度还剩 {parts.recency:.0%}"
        f"（{RECENCY_HOURS / 24:g} 天没人再举报，降到约三分之一）。",
    )


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
    priority_reasons: tuple[str, ...] = ()  # reach, harm, recency in plain words

    @classmethod
    def of(cls, row: RumorClaim, now: datetime) -> ClaimView:
        last_seen = aware(row.last_seen)
        channels = list(row.channels or [])
        harm = row.harm if row.harm in HARM_WEIGHT else "other"
        parts = priority_parts(row.reporters, len(channels), harm, last_seen, now)
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
            priority=parts.value,
            first_seen=aware(row.first_seen),
            last_seen=last_seen,
            merged_into=row.merged_into,
            entry_id=row.entry_id,
            debunk_title=row.debunk_title,
            explanation=row.explanation,
            sources=list(row.sources or []),
            priority_reasons=priority_reasons(parts, row.reporters, len(channels), row.harm),
        )

    @property
    def priority_level(self) -> str:
        return priority_level(self.priority)[0]

    @property
    def priority_label(self) -> str:
        return priority_level(self.priority)[1]

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
    total: int  # with ``total_exact`` false: more than this many match
    limit: int
    offset: int
    total_exact: bool = True

    @property
    def has_next(self) -> bool:
        """Whether claims follow this page."""
        end = self.offset + self.limit
        return self.total > end if self.total_exact else self.total >= end


@dataclass(frozen=True)
class ClaimDetail:
    claim: ClaimView
    reports: list[ReportView]  # a page of them
    merged_ids: list[int]  # claims merged into this one
    reports_total: int = 0  # all of the family's reports


def known(value: str, table: dict[str, str], what: str) -> None:
    """Raise ``InvalidInput`` (naming ``what``) unless ``value`` is a key of ``table``."""
    if value not in table:
        raise InvalidInput(f"没有这个{what}：{clip(value)}")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(db: Database, filters: ClaimFilter, walk: bool = False) -> list[Any]:
    """The filters as SQL conditions, the status aside (``_claims_query``)."""
    where: list[Any] = [RumorClaim.merged_into.is_(None)]
    if filters.harm:
        where.append(RumorClaim.harm == filters.harm)
    if filters.verdict:
        where.append(RumorClaim.verdict == filters.verdict)
    if filters.assignee:
        where.append(RumorClaim.assignee == filters.assignee)
    if filters.channel:
        # channels is a JSON list of names: '["wechat", "webchat"]'; quoted, a name
        # never matches inside another.
        listed = cast(RumorClaim.channels, String)
        where.append(listed.like(_like(f'"{filters.channel}"'), escape="\\"))
    if filters.seen_after:
        where.append(RumorClaim.last_seen >= filters.seen_after)
    if filters.seen_before:
        where.append(RumorClaim.last_seen < filters.seen_before)
    if filters.text and filters.text.strip():
        found = search.matching_claims(
            filters.text.strip(), db.engine.dialect.name, filters.statuses
        )
        if found is None:
            where.append(false())
        elif not walk:
            where.append(RumorClaim.id.in_(found))
        elif db.is_sqlite:
            # "+id" (no index): SQLite walks the order's index (see _claims_query).
            where.append(literal_column("+rumor_claims.id", RumorClaim.id.type).in_(found))
        else:
            # "IS TRUE": a filter PostgreSQL does not turn into a join. It hashes the
            # matches once and tests each claim it walks in the order's index; as an
            # IN it joins every match and sorts them all (see _claims_query).
            where.append(RumorClaim.id.in_(found).is_(true()))
    return where


def _order(db: Database, sort: str, claim: Any = RumorClaim) -> list[Any]:
    if sort == "newest":
        return [claim.last_seen.desc(), claim.id.desc()]
    if sort == "reporters":
        return [claim.reporters.desc(), claim.id.desc()]
    # Priority decays with time since the last report, the same factor for every
    # claim at a given moment: the stored, indexed order of models.CLAIM_STANDING_SQL
    # is the order of the priority now, and only a page is loaded.
    standing = literal_column(CLAIM_STANDING_SQL[db.engine.dialect.name])
    return [standing.desc(), claim.id.desc()]


def _claims_query(
    db: Database, filters: ClaimFilter, sort: str, walk: bool = True
) -> tuple[list[Any], Select]:
    """The count's conditions, and the claims in ``sort``'s order (no limit yet).

    Without statistics SQLite takes a status or a search for a selective condition
    and sorts every claim that meets it (every match of a common word: 120 ms at
    100,000 claims). With ``walk``, "+status" and "+id" (no index) make it walk
    the order's index and stop at the page instead, which is quick unless few
    claims match; then ``list_claims`` asks for the other plan. PostgreSQL joins a
    search's matches to the claims and sorts them all (a common word, every
    status, by newest: 42 ms at 100,000 claims); with ``walk`` the search is a
    filter instead (``_conditions``) and it walks the order's index (18 ms, most
    of it finding the matches). The count always uses the indexes.
    """
    filters.check()
    known(sort, SORTS, "排序")
    where = _conditions(db, filters)
    on_page = _conditions(db, filters, walk)
    if filters.statuses:
        where.append(RumorClaim.status.in_(filters.statuses))
        status: ColumnOperators[Any] = RumorClaim.status
        # A date range narrows more than a status does: let it choose the index.
        dated = filters.seen_after is not None or filters.seen_before is not None
        if (walk or dated) and db.is_sqlite:
            status = literal_column("+rumor_claims.status", RumorClaim.status.type)
        on_page.append(status.in_(filters.statuses))
    return where, select(RumorClaim).where(*on_page).order_by(*_order(db, sort))


async def list_claims(
    db: Database,
    filters: ClaimFilter | None = None,
    *,
    sort: str = "priority",
    limit: int = 20,
    offset: int = 0,
    now: datetime | None = None,
    count_cap: int | None = None,
) -> ClaimPage:
    """Claims that match ``filters`` in the order ``sort`` names (``SORTS``; highest
    priority now first by default), merged ones left out.

    With ``count_cap`` the count stops early: counting every match of a common word
    took longer than the page itself (docs/benchmarks.md). It goes on to a multiple
    of ``count_cap`` that covers this page and the walk-or-sort choice below; when
    more claims match, ``total`` is that figure and ``total_exact`` is false.
    """
    filters = filters or ClaimFilter()
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"每页 1 到 {MAX_PAGE} 条")
    now = now or utcnow()
    where, _ = _claims_query(db, filters, sort)
    async with db.session() as session:
        if not db.is_sqlite:
            for setting in QUEUE_SETTINGS:
                await session.execute(text(setting))
        # Walking the order reads about (offset + limit) * claims / total rows;
        # sorting the matches reads total rows. The highest id stands for claims.
        claims = (await session.execute(select(func.max(RumorClaim.id)))).scalar() or 0
        upto = None
        if count_cap is not None:
            # Enough to decide: past sqrt((offset + limit) * claims) the walk wins.
            needed = max(count_cap, offset + limit, _ceil_sqrt((offset + limit) * claims))
            upto = -(-needed // count_cap) * count_cap
        stop = None if upto is None else upto + 1
        led = _match_led_count(db, filters, stop)
        count = _count(where, stop) if led is None else led
        total = (await session.execute(count)).scalar_one()
        exact = upto is None or total <= upto
        walk = total * total >= (offset + limit) * claims
        _, page = _claims_query(db, filters, sort, walk)
        if not walk and not db.is_sqlite:
            # PostgreSQL too takes a rare search word for a common one and walks the
            # order's index through most of the queue (300 ms at 95,000 claims): a
            # fence (OFFSET 0) makes it find the few matches first, then sort them.
            fenced = aliased(RumorClaim, page.order_by(None).offset(0).subquery())
            page = select(fenced).order_by(*_order(db, sort, fenced))
        rows = (await session.execute(page.limit(limit).offset(offset))).scalars().all()
    items = [ClaimView.of(row, now) for row in rows]
    if exact:
        return ClaimPage(items, total, limit, offset)
    return ClaimPage(items, upto or 0, limit, offset, total_exact=False)


def _ceil_sqrt(value: int) -> int:
    return math.isqrt(value - 1) + 1 if value > 0 else 0


def _count(where: list[Any], limit: int | None) -> Select:
    """The count of the claims that meet ``where``, stopping at ``limit`` if given."""
    if limit is None:
        return select(func.count()).select_from(RumorClaim).where(*where)
    first = select(literal_column("1")).select_from(RumorClaim).where(*where)
    return select(func.count()).select_from(first.limit(limit).subquery())


def _match_led_count(db: Database, filters: ClaimFilter, limit: int | None) -> TextClause | None:
    """The count of a search with no filter but the status, led by the matches;
    ``None`` for any other filter (or no word to search for), which keep ``_count``
    of ``_claims_query``'s conditions: a harm, verdict, assignee, channel or date
    narrows the claims more than a common word does, and the queue's filter index
    leads that count.

    SQLite: the matches come in id order and each is looked up in the unmerged
    claims' ``(id, status)`` (migration 0019), once, stopping at ``limit``. The
    conditions' count listed every match first (about 12,000 for a common word at
    100,000 claims) and sought each once per status asked for: 9 ms against 4 ms,
    over every status 5 against 1 ms (docs/benchmarks.md).

    PostgreSQL: from ``claim_search`` alone, which holds each claim's queue status
    (migration 0021); the open claims' matches through their own index. The
    conditions' count hashed every match and probed it with the claims.
    """
    if replace(filters, statuses=(), text=None) != ClaimFilter(statuses=()):
        return None
    matched = search.match_query((filters.text or "").strip(), db.engine.dialect.name)
    if matched is None:
        return None
    params: list[Any] = []
    if db.is_sqlite:
        sql = MATCH_LED_COUNT
        params.append(bindparam("search", matched))
        if filters.statuses:
            # "+": one seek by id, the status read from the entry (not one seek per status).
            sql += " AND +rumor_claims.status IN :statuses"
            params.append(bindparam("statuses", list(filters.statuses), expanding=True))
        if limit is not None:
            sql += " LIMIT :limit"
            params.append(bindparam("limit", limit))
        return text(f"SELECT count(*) FROM ({sql})").bindparams(*params)
    where, params = search.queue_condition(matched, filters.statuses)
    # MATERIALIZED: planned for every match (a GIN index, a bitmap), read only up to
    # the limit. As a subquery under the LIMIT, PostgreSQL would scan claim_search
    # and test each document (detoasted) until enough matched: 100 ms against 10.
    matches = f"WITH matches AS MATERIALIZED (SELECT 1 FROM claim_search WHERE {where})"
    if limit is None:
        return text(f"{matches} SELECT count(*) FROM matches").bindparams(*params)
    params.append(bindparam("limit", limit))
    return text(
        f"{matches} SELECT count(*) FROM (SELECT 1 FROM matches LIMIT :limit) AS capped"
    ).bindparams(*params)


async def iter_claims(
    db: Database, filters: ClaimFilter, *, sort: str = "priority", now: datetime | None = None
) -> AsyncIterator[ClaimView]:
    """Every claim ``list_claims`` would page through, read in one go (for export)."""
    now = now or utcnow()
    _, claims = _claims_query(db, filters, sort)
    async with db.session() as session:
        result = await session.stream(claims.execution_options(yield_per=MAX_PAGE))
        async for row in result.scalars():
            yield ClaimView.of(row, now)


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
