"""The rumour report queue: redacted intake, exactly once, grouped into claims.

``ReportQueue.submit`` redacts the text first (nothing unredacted is passed on
or written), derives an idempotency key (the channel's message id, else the
sender and the normalised content) and writes the report, its claim and the
verdict delivery it is owed in one transaction. A retry of the same message,
sequential or concurrent, finds the stored report and gets the same number.
"""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.rumors.matching import ClaimIndex, masked
from bot.storage.db import Database, sender_hash
from bot.storage.models import ReportDelivery, RumorClaim, RumorReport
from bot.text.normalize import normalize
from bot.text.redact import redact

# Where people saw it: the options the form offers, in order.
SEEN_WHERE: dict[str, str] = {
    "wechat_group": "微信群",
    "moments": "朋友圈",
    "short_video": "短视频",
    "village": "村里听说",
    "other": "其他",
}
OPEN_STATUSES = ("pending", "verifying")
# Reports join an open claim whose masked text is this similar (bench/rumor_eval.py).
SAME_CLAIM = 0.5
HARM_WORDS: dict[str, tuple[str, ...]] = {
    "health": (
        "病",
        "癌",
        "药",
        "疫苗",
        "中毒",
        "血压",
        "血糖",
        "医院",
        "治",
        "吃",
        "喝",
        "食",
        "致癌",
        "辐射",
        "保健",
    ),
    "safety": (
        "地震",
        "停水",
        "停电",
        "爆炸",
        "火灾",
        "洪水",
        "塌",
        "拐",
        "抢",
        "杀",
        "失踪",
        "溺水",
        "泥石流",
        "疫情",
    ),
    "fraud": (
        "骗",
        "转账",
        "中奖",
        "补贴",
        "领钱",
        "退款",
        "养老金",
        "社保",
        "医保",
        "贷款",
        "投资",
    ),
}
HARM_WEIGHT = {"health": 3.0, "safety": 3.0, "fraud": 2.0, "other": 1.0}
RECENCY_HOURS = 72.0  # without new reports, priority falls by e every 72 hours


@dataclass(frozen=True)
class Receipt:
    public_id: str
    claim_id: int
    duplicate: bool  # this message had been received before


def harm_of(text: str) -> str:
    for harm, words in HARM_WORDS.items():
        if any(w in text for w in words):
            return harm
    return "other"


def priority(reporters: int, channels: int, harm: str, last_seen: datetime, now: datetime) -> float:
    """Reach × harm × recency."""
    reach = math.log2(1 + reporters) + 0.5 * math.log2(1 + channels)
    age_hours = max(0.0, (now - last_seen).total_seconds() / 3600)
    return round(reach * HARM_WEIGHT[harm] * math.exp(-age_hours / RECENCY_HOURS), 4)


def idempotency_key(channel: str, sender_id: str, message_id: str | None, text: str) -> str:
    if message_id:
        raw = f"msg\0{channel}\0{message_id}"
    else:
        raw = f"text\0{channel}\0{sender_id}\0{normalize(text)}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def public_id(key: str) -> str:
    digest = hashlib.sha256(key.encode("ascii")).digest()
    return "R-" + base64.b32encode(digest).decode("ascii")[:8]


def new_claim(text: str, now: datetime) -> RumorClaim:
    """A fresh open claim whose first (redacted) report is ``text``."""
    return RumorClaim(
        title=text[:500],
        match_text=masked(text),
        harm=harm_of(normalize(text)),
        status="pending",
        reporters=0,
        reports=0,
        channels=[],
        priority=0.0,
        first_seen=now,
        last_seen=now,
        updated_at=now,
    )


async def purge_expired(db: Database, days: int, now: datetime | None = None) -> int:
    """Delete reports older than ``days`` (with their deliveries), and open claims left
    without reports. Concluded claims stay: their verdicts are published. Returns the
    number of reports deleted."""
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    async with db.session() as session:
        old = select(RumorReport.id).where(RumorReport.created_at < cutoff)
        bulk = {"synchronize_session": False}
        await session.execute(
            delete(ReportDelivery).where(ReportDelivery.report_id.in_(old)), execution_options=bulk
        )
        deleted = await session.execute(
            delete(RumorReport).where(RumorReport.created_at < cutoff), execution_options=bulk
        )
        merged = aliased(RumorClaim)
        await session.execute(
            delete(RumorClaim).where(
                RumorClaim.status.in_(OPEN_STATUSES),
                ~RumorClaim.id.in_(select(RumorReport.claim_id).distinct()),
                ~RumorClaim.id.in_(
                    select(merged.merged_into).where(merged.merged_into.is_not(None))
                ),
            ),
            execution_options=bulk,
        )
    return deleted.rowcount


class ReportQueue:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def submit(
        self,
        text: str,
        *,
        sender_id: str,
        channel: str,
        message_id: str | None = None,
        seen_where: str | None = None,
    ) -> Receipt:
        clean = redact(text)
        key = idempotency_key(channel, sender_id, message_id, clean)
        found = await self._find(key)
        if found is not None:
            return found
        try:
            async with self.db.session() as session:
                return await self._insert(session, key, clean, sender_id, channel, seen_where)
        except IntegrityError:  # the same message, stored by a concurrent request
            found = await self._find(key)
            if found is None:
                raise
            return found

    async def _find(self, key: str) -> Receipt | None:
        async with self.db.session() as session:
            row = (
                await session.execute(
                    select(RumorReport.public_id, RumorReport.claim_id).where(
                        RumorReport.idempotency_key == key
                    )
                )
            ).first()
        return Receipt(row.public_id, row.claim_id, duplicate=True) if row else None

    async def _insert(
        self,
        session: AsyncSession,
        key: str,
        text: str,
        sender_id: str,
        channel: str,
        seen_where: str | None,
    ) -> Receipt:
        now = datetime.now(timezone.utc)
        claim = await self._claim_for(session, text, now)
        report = RumorReport(
            public_id=public_id(key),
            idempotency_key=key,
            claim_id=claim.id,
            sender_hash=sender_hash(sender_id),
            channel=channel[:32],
            seen_where=seen_where if seen_where in SEEN_WHERE else None,
            text=text,
            created_at=now,
        )
        session.add(report)
        await session.flush()  # a duplicate key fails here, before anything is committed
        session.add(
            ReportDelivery(
                report_id=report.id, channel=channel[:32], recipient=sender_id[:128], attempts=0
            )
        )
        await self._recount(session, claim, channel, now)
        return Receipt(report.public_id, claim.id, duplicate=False)

    async def _claim_for(self, session: AsyncSession, text: str, now: datetime) -> RumorClaim:
        """The open claim this report repeats, or a new one."""
        rows = (
            await session.execute(
                select(RumorClaim.id, RumorClaim.match_text).where(
                    RumorClaim.status.in_(OPEN_STATUSES), RumorClaim.merged_into.is_(None)
                )
            )
        ).all()
        if rows:
            index = ClaimIndex((str(r.id), r.match_text) for r in rows)
            best = index.best(text)
            if best and best[0].score >= SAME_CLAIM:
                return await session.get(RumorClaim, int(best[0].key))
        claim = new_claim(text, now)
        session.add(claim)
        await session.flush()
        return claim

    async def _recount(
        self, session: AsyncSession, claim: RumorClaim, channel: str, now: datetime
    ) -> None:
        counts = (
            await session.execute(
                select(
                    func.count(RumorReport.id), func.count(func.distinct(RumorReport.sender_hash))
                ).where(RumorReport.claim_id == claim.id)
            )
        ).one()
        claim.reports, claim.reporters = counts[0], counts[1]
        if channel not in (claim.channels or []):
            claim.channels = [*(claim.channels or []), channel]
        claim.last_seen = now
        claim.updated_at = now
        claim.priority = priority(claim.reporters, len(claim.channels), claim.harm, now, now)
