"""The rumour report queue: redacted intake, exactly once, grouped into claims.

``ReportQueue.submit`` redacts the text first (nothing unredacted is passed on
or written), derives an idempotency key (channel and sender, with the message
id, else the normalised content) and writes the report, its claim and the
verdict delivery it is owed in one transaction. A retry of the same message,
sequential or concurrent, finds the stored report and gets the same number.

A claim's reporters are the senders the queue counts (``bot.rumors.reporters``):
a flood of invented web chat or REST senders does not make a crowd.

The claim a report joins is found in ``OpenClaims``, an index of the open
claims kept in this process and brought up to date before each match from the
rows other processes (and the console) changed; the CPU work (redaction,
masking, matching) runs in a worker thread, not on the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.rumors import reporters, search
from bot.storage.db import Database, rowcount, sender_hash
from bot.storage.models import ReportDelivery, RumorClaim, RumorReport, RumorReReport, utcnow
from bot.text.matching import ClaimIndex, Match, masked
from bot.text.normalize import normalize
from bot.text.redact import redact
from bot.text.search_terms import text_terms

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
CANDIDATES = 3  # matches above SAME_CLAIM checked against the database, best first
# Changed claims are read back by ``updated_at``. A transaction stamped before our
# last look may commit after it, and two hosts' clocks differ: rows stamped up to
# this long before the last look are read again (applying them twice is harmless).
REFRESH_OVERLAP = timedelta(seconds=60)
# The index is rebuilt from scratch this often (seconds): a backstop that also
# forgets claims deleted by ``purge_expired``, which leave no row to read back.
RELOAD_SECONDS = 3600.0
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
    """The harm category whose words ``text`` uses first (``other`` if none)."""
    for harm, words in HARM_WORDS.items():
        if any(w in text for w in words):
            return harm
    return "other"


@dataclass(frozen=True)
class PriorityParts:
    """The three factors of a claim's priority (the console explains each)."""

    reach: float  # log2(1 + reporters) + 0.5 * log2(1 + channels)
    harm: float  # HARM_WEIGHT of the claim's harm
    recency: float  # 1 at the last report, e^-1 after RECENCY_HOURS without one
    age_hours: float  # since the last report

    @property
    def value(self) -> float:
        return round(self.reach * self.harm * self.recency, 4)


def priority_parts(
    reporters: int, channels: int, harm: str, last_seen: datetime, now: datetime
) -> PriorityParts:
    """Reach (reporters, channels), harm weight and recency, whose product is the priority."""
    reach = math.log2(1 + reporters) + 0.5 * math.log2(1 + channels)
    age_hours = max(0.0, (now - last_seen).total_seconds() / 3600)
    recency = math.exp(-age_hours / RECENCY_HOURS)
    return PriorityParts(reach, HARM_WEIGHT[harm], recency, age_hours)


def priority(reporters: int, channels: int, harm: str, last_seen: datetime, now: datetime) -> float:
    """Reach × harm × recency."""
    return priority_parts(reporters, channels, harm, last_seen, now).value


def idempotency_key(channel: str, sender_id: str, message_id: str | None, text: str) -> str:
    """Scoped by channel and sender: a message id is unique only per sender (REST
    clients choose their own), so another sender's "m1" is another report."""
    if message_id:
        raw = f"msg\0{channel}\0{sender_id}\0{message_id}"
    else:
        raw = f"text\0{channel}\0{sender_id}\0{normalize(text)}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def public_id(key: str) -> str:
    """The report number for an idempotency ``key``: ``R-`` and 8 base32 characters."""
    digest = hashlib.sha256(key.encode("ascii")).digest()
    return "R-" + base64.b32encode(digest).decode("ascii")[:8]


def new_claim(text: str, now: datetime, match_text: str | None = None) -> RumorClaim:
    """A fresh open claim whose first (redacted) report is ``text`` (``match_text``:
    ``masked(text)``, when the caller has it already)."""
    return RumorClaim(
        title=text[:500],
        match_text=masked(text) if match_text is None else match_text,
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
        # Claims that lose reports: their search documents forget those reports' words.
        touched = (
            (
                await session.execute(
                    select(RumorReport.claim_id).where(RumorReport.created_at < cutoff).distinct()
                )
            )
            .scalars()
            .all()
        )
        deleted = await session.execute(
            delete(RumorReport).where(RumorReport.created_at < cutoff), execution_options=bulk
        )
        merged = aliased(RumorClaim)
        unreported = (
            RumorClaim.status.in_(OPEN_STATUSES),
            ~RumorClaim.id.in_(select(RumorReport.claim_id).distinct()),
            ~RumorClaim.id.in_(select(merged.merged_into).where(merged.merged_into.is_not(None))),
        )
        empty = (await session.execute(select(RumorClaim.id).where(*unreported))).scalars().all()
        await session.execute(delete(RumorClaim).where(*unreported), execution_options=bulk)
        await search.forget(session, empty)
        await search.rebuild(session, sorted(set(touched) - set(empty)))
    return rowcount(deleted)


def _is_open(row: Any) -> bool:
    return row.status in OPEN_STATUSES and row.merged_into is None


def _masked_matches(index: ClaimIndex, text: str) -> tuple[str, list[Match]]:
    match_text = masked(text)
    return match_text, index.best_masked(match_text, CANDIDATES, SAME_CLAIM)


class OpenClaims:
    """This process's index of the open claims a report can join.

    Built from the database on first use; afterwards, before each match, only the
    claims changed since the previous look are read (``updated_at``, which every
    change to a claim stamps, or an id above the highest seen): claims merged,
    concluded or rejected in the console leave the index, reopened and split-off
    ones join it, and claims other processes opened are added. Claims this
    process opens are added once their transaction has committed. Building,
    updating and matching run in a worker thread, off the event loop.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.index = ClaimIndex()
        # Claim id -> hash of the match text indexed for it. SQLite may give a deleted
        # claim's id to a new claim: a different text under a known id is replaced.
        self._texts: dict[str, int] = {}
        self._lock = asyncio.Lock()
        self._loaded_at: float | None = None  # time.monotonic() of the last full load
        self._looked_at = datetime.min.replace(tzinfo=timezone.utc)  # by our clock
        self._refreshed = -math.inf  # time.monotonic() when the last refresh began
        self._max_id = 0

    def holds(self, key: str, match_text: str) -> bool:
        """Whether the index holds this claim with this text."""
        return self._texts.get(key) == hash(match_text)

    async def refresh(self) -> None:
        """Bring the index up to date with every claim committed before this call."""
        asked = time.monotonic()
        async with self._lock:
            if self._refreshed >= asked:  # a refresh that began after we asked just ended
                return
            began, started = time.monotonic(), utcnow()
            if self._loaded_at is None or began - self._loaded_at > RELOAD_SECONDS:
                await self._load()
                self._loaded_at = began
            else:
                await self._catch_up()
            self._looked_at, self._refreshed = started, began

    async def match(self, text: str) -> tuple[str, list[Match]]:
        """``masked(text)``, and the open claims at least ``SAME_CLAIM`` like it, best first."""
        await self.refresh()
        return await asyncio.to_thread(_masked_matches, self.index, text)

    async def settle(self, opened: tuple[int, str] | None, gone: list[str]) -> None:
        """After a transaction: add the claim it opened (id, match text), drop claims
        that turned out closed, deleted or not what the index holds."""
        await self._apply([(str(opened[0]), opened[1])] if opened else [], gone)

    async def _load(self) -> None:
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(RumorClaim.id, RumorClaim.match_text).where(
                        RumorClaim.status.in_(OPEN_STATUSES), RumorClaim.merged_into.is_(None)
                    )
                )
            ).all()
        claims = [(str(r.id), r.match_text) for r in rows]
        self.index = await asyncio.to_thread(ClaimIndex, claims, premasked=True)
        self._texts = {key: hash(text) for key, text in claims}
        self._max_id = max((r.id for r in rows), default=0)

    async def _catch_up(self) -> None:
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(
                        RumorClaim.id,
                        RumorClaim.match_text,
                        RumorClaim.status,
                        RumorClaim.merged_into,
                    ).where(
                        or_(
                            RumorClaim.updated_at >= self._looked_at - REFRESH_OVERLAP,
                            RumorClaim.id > self._max_id,
                        )
                    )
                )
            ).all()
        if not rows:
            return
        self._max_id = max(self._max_id, *(r.id for r in rows))
        # Most rows read back are claims that only gained a report: nothing to do.
        add = [(str(r.id), r.match_text) for r in rows if _is_open(r)]
        add = [(key, text) for key, text in add if not self.holds(key, text)]
        drop = [str(r.id) for r in rows if not _is_open(r) and str(r.id) in self._texts]
        await self._apply(add, drop + [key for key, _ in add if key in self._texts])

    async def _apply(self, add: list[tuple[str, str]], drop: list[str]) -> None:
        if not (add or drop):
            return
        for key in drop:
            self._texts.pop(key, None)
        for key, text in add:
            self._texts[key] = hash(text)
        await asyncio.to_thread(self.index.update, add, drop, premasked=True)


async def _add_report(
    session: AsyncSession,
    key: str,
    claim_id: int,
    sender_id: str,
    channel: str,
    seen_where: str | None,
    text: str,
    now: datetime,
) -> RumorReport:
    """The report row, flushed: a duplicate key fails here, before anything is committed."""
    report = RumorReport(
        public_id=public_id(key),
        idempotency_key=key,
        claim_id=claim_id,
        sender_hash=sender_hash(sender_id),
        channel=channel[:32],
        seen_where=seen_where if seen_where in SEEN_WHERE else None,
        text=text,
        created_at=now,
    )
    session.add(report)
    await session.flush()
    return report


class ReportQueue:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.claims = OpenClaims(db)

    async def submit(
        self,
        text: str,
        *,
        sender_id: str,
        channel: str,
        message_id: str | None = None,
        seen_where: str | None = None,
    ) -> Receipt:
        """Redact, de-duplicate and file a report under a matching or new claim."""
        clean = await asyncio.to_thread(redact, text)
        key = idempotency_key(channel, sender_id, message_id, clean)
        found = await self._find(key)
        if found is not None:
            return found
        match_text, matches = await self.claims.match(clean)
        terms = await asyncio.to_thread(text_terms, clean)
        gone: list[str] = []
        try:
            async with self.db.session() as session:
                receipt, opened = await self._insert(
                    session, key, clean, match_text, matches, gone, sender_id, channel, seen_where
                )
                await search.add_terms(session, receipt.claim_id, terms)
        except IntegrityError:  # the same message, stored by a concurrent request
            await self.claims.settle(None, gone)
            found = await self._find(key)
            if found is None:
                raise
            return found
        await self.claims.settle((receipt.claim_id, match_text) if opened else None, gone)
        return receipt

    async def submit_again(
        self,
        claim_id: int,
        text: str,
        *,
        sender_id: str,
        channel: str,
        message_id: str | None = None,
        seen_where: str | None = None,
    ) -> Receipt | None:
        """A report of claim ``claim_id`` that the report form matched to its published
        debunk: stored (redacted, exactly once) and counted on that claim, or on the
        claim it was merged into; None if the claim is gone.

        While the verdict is published the reporter was given it in the same turn:
        the report is a re-report (``bot.rumors.again``) and its delivery is done.
        If the claim was reopened, the report waits for the corrected verdict.
        """
        clean = await asyncio.to_thread(redact, text)
        key = idempotency_key(channel, sender_id, message_id, clean)
        found = await self._find(key)
        if found is not None:
            return found
        try:
            async with self.db.session() as session:
                return await self._insert_again(
                    session, claim_id, key, clean, sender_id, channel, seen_where
                )
        except IntegrityError:  # the same message, stored by a concurrent request
            found = await self._find(key)
            if found is None:
                raise
            return found

    async def _insert_again(
        self,
        session: AsyncSession,
        claim_id: int,
        key: str,
        text: str,
        sender_id: str,
        channel: str,
        seen_where: str | None,
    ) -> Receipt | None:
        claim = await session.get(RumorClaim, claim_id)
        if claim is not None and claim.merged_into is not None:
            claim = await session.get(RumorClaim, claim.merged_into)
        if claim is None:
            return None
        await session.refresh(claim, with_for_update=True)
        now = datetime.now(timezone.utc)
        report = await _add_report(
            session, key, claim.id, sender_id, channel, seen_where, text, now
        )
        published = claim.status == "concluded"
        session.add(
            ReportDelivery(
                report_id=report.id,
                channel=channel[:32],
                recipient=None if published else sender_id[:128],
                status="sent" if published else "waiting",
                attempts=1 if published else 0,
                delivered_at=now if published else None,
            )
        )
        if published:
            session.add(RumorReReport(report_id=report.id, created_at=now))
        await self._count(session, claim, report, now)
        return Receipt(report.public_id, claim.id, duplicate=False)

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
        match_text: str,
        matches: list[Match],
        gone: list[str],
        sender_id: str,
        channel: str,
        seen_where: str | None,
    ) -> tuple[Receipt, bool]:
        """Store the report; also says whether it opened a new claim."""
        now = datetime.now(timezone.utc)
        claim = await self._joined(session, matches, gone)
        opened = claim is None
        if claim is None:
            claim = new_claim(text, now, match_text)
            session.add(claim)
            await session.flush()
        report = await _add_report(
            session, key, claim.id, sender_id, channel, seen_where, text, now
        )
        session.add(
            ReportDelivery(
                report_id=report.id, channel=channel[:32], recipient=sender_id[:128], attempts=0
            )
        )
        await self._count(session, claim, report, now)
        return Receipt(report.public_id, claim.id, duplicate=False), opened

    async def _joined(
        self, session: AsyncSession, matches: list[Match], gone: list[str]
    ) -> RumorClaim | None:
        """The best matched claim that is still open, by its row (the index may lag
        behind the console by a moment); claims found closed, deleted or with another
        text go in ``gone``."""
        for match in matches:
            claim = await session.get(RumorClaim, int(match.key))
            if (
                claim is not None
                and _is_open(claim)
                and self.claims.holds(match.key, claim.match_text)
            ):
                break
            gone.append(match.key)
        else:
            return None
        # Locked (PostgreSQL), one claim only, so that reports never wait for each
        # other in a circle: reports joining it are counted one at a time, and a
        # merge or status change in progress is seen as it ends.
        await session.refresh(claim, with_for_update=True)
        return claim if _is_open(claim) else None

    async def _count(
        self, session: AsyncSession, claim: RumorClaim, report: RumorReport, now: datetime
    ) -> None:
        """Count ``report`` into its claim: one more report, and one more reporter if
        its sender had not reported the claim before and counts as a reporter
        (``bot.rumors.reporters``: verified WeChat/WeCom users do; web chat and REST
        senders from an address already counted do not, fresh ones together once a
        window). Index lookups, not a recount of the claim's reports, which would
        make each report cost more than the last."""
        # The latest counts: SQLite reads them now that this transaction holds the
        # write lock, PostgreSQL holds the claim's row lock (``_joined``).
        await session.refresh(claim)
        earlier = (
            await session.execute(
                select(RumorReport.id)
                .where(
                    RumorReport.claim_id == claim.id,
                    RumorReport.sender_hash == report.sender_hash,
                    RumorReport.id != report.id,
                )
                .limit(1)
            )
        ).first()
        claim.reports += 1
        if earlier is None:
            claim.reporters += await reporters.counts(session, claim.id, report, now)
        if report.channel not in (claim.channels or []):
            claim.channels = [*(claim.channels or []), report.channel]
        claim.last_seen = now
        claim.updated_at = now
        claim.priority = priority(claim.reporters, len(claim.channels), claim.harm, now, now)
