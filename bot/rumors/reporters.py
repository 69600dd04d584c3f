"""Who counts as a reporter of a claim: what keeps invented senders out of the queue's order.

A claim's ``reporters`` is the number of reporters the queue counts, and its
priority grows with it. A web chat cookie or a REST sender id costs nothing (a
cookie-less request is a new sender), so a flood of them must not count as a
crowd. A sender new to a claim counts:

- **verified** (WeChat, WeCom: the platform signs every message with the
  account's token, and the sender is the user's openid): 1;
- web chat or REST, **from the same client address** as an earlier reporter of
  the claim within ``SAME_CLIENT_SECONDS``: 0, that address has been counted;
- web chat or REST with a **history**: 1. A history is a message to the assistant
  on an earlier (UTC) day within ``HISTORY_DAYS``, or an earlier day's report of
  a claim the moderators took on (verifying or concluded);
- any other web chat or REST sender (**fresh**): fresh senders together count as
  one reporter per claim and ``FRESH_SECONDS`` window.

The traces are keys in the channel receipts table (SHA-256 digests of the
raw keys, with an expiry, like the WeChat de-duplication), shared by every
process: the REST channel, which sees the client, writes them with
``Sightings.saw`` before the turn, and the report is counted in the action
server. No address is stored: only a key saying that two sender pseudonyms came
from one address, kept ``SAME_CLIENT_SECONDS``.

A moderator's merge or split recounts from the stored reports (``recount``):
verified and known senders as above, fresh ones one per window; the
same-address keys have expired by then and are not used.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.db import Database, rowcount, sender_hash
from bot.storage.models import ChannelReceipt, RumorClaim, RumorReport

log = logging.getLogger(__name__)

VERIFIED_CHANNELS = frozenset({"wechat", "wecom"})
# Statuses of a claim the moderators took on: an earlier report of one is a history.
TAKEN_ON = ("verifying", "concluded")
HISTORY_DAYS = 30
SAME_CLIENT_SECONDS = 3600.0
FRESH_SECONDS = 6 * 3600.0
# Bounds on the work one message or one report may cause.
PAIRS_PER_ADDRESS = 64  # recent senders remembered per address (the pairs a new one makes)
EARLIER_REPORTERS = 100  # a claim's recent reporters checked for a shared address
MAX_ADDRESSES = 10_000
MAX_SENDER_DAYS = 50_000
PURGE_SECONDS = 300.0  # how often expired keys are deleted (as the WeChat receipts are)
RECOUNT_HISTORIES = 200  # senders whose history a recount looks up; the rest count as fresh


def receipt_key(raw: str) -> str:
    """A key as the channel receipts table holds it: the SHA-256 of the raw key."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _day(value: date) -> str:
    return value.isoformat()


def active_key(hashed_sender: str, day: date) -> str:
    """The sender wrote to the assistant on ``day``."""
    return receipt_key(f"reporter\0active\0{hashed_sender}\0{_day(day)}")


def pair_key(a: str, b: str) -> str:
    """Two senders (hashed) came from one client address within ``SAME_CLIENT_SECONDS``."""
    first, second = sorted((a, b))
    return receipt_key(f"reporter\0same-client\0{first}\0{second}")


def fresh_key(claim_id: int, at: datetime) -> str:
    """A fresh sender has been counted for ``claim_id`` in ``at``'s window."""
    window = int(at.timestamp() // FRESH_SECONDS)
    return receipt_key(f"reporter\0fresh\0{claim_id}\0{window}")


def _insert(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql if dialect == "postgresql" else sqlite).insert


async def _remember(session: AsyncSession, keys: Sequence[tuple[str, datetime]]) -> int:
    """Write ``(digest, expires_at)`` keys; an existing live key stays. Returns the number
    written (for one key: 1 if it was not there)."""
    now = datetime.now(timezone.utc)
    digests = [key for key, _ in keys]
    # An expired key is as good as none: clear it so that the insert can take its place.
    await session.execute(
        delete(ChannelReceipt)
        .where(ChannelReceipt.key.in_(digests), ChannelReceipt.expires_at < now)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(
        _insert(session)(ChannelReceipt)
        .values([{"key": key, "expires_at": expires} for key, expires in keys])
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return int(rowcount(result) or 0)


async def _live(session: AsyncSession, digests: Iterable[str], now: datetime) -> bool:
    digests = list(digests)
    if not digests:
        return False
    found = (
        await session.execute(
            select(ChannelReceipt.key)
            .where(ChannelReceipt.key.in_(digests), ChannelReceipt.expires_at >= now)
            .limit(1)
        )
    ).first()
    return found is not None


class Sightings:
    """The channel's side: remember who wrote, on which day, from which address.

    Per process, bounded: the recent senders of each address (least recently
    seen address first out) and the sender-days already written, so that a
    sender's messages cost one write a day, and a sender new at an address one
    write of at most ``PAIRS_PER_ADDRESS`` keys.
    """

    def __init__(
        self, db_factory: Callable[[], Database], clock: Callable[[], float] = time.time
    ) -> None:
        self._db_factory = db_factory
        self.clock = clock
        self._recent: OrderedDict[str, OrderedDict[str, float]] = OrderedDict()
        self._written: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._purged = -PURGE_SECONDS

    async def saw(self, sender: str, client: str | None) -> None:
        """``sender`` sent a message from ``client`` (None: unknown). Never raises."""
        now = self.clock()
        at = datetime.fromtimestamp(now, timezone.utc)
        hashed = sender_hash(sender)
        keys: list[tuple[str, datetime]] = []
        day = (hashed, _day(at.date()))
        if day not in self._written:
            keys.append((active_key(hashed, at.date()), at + timedelta(days=HISTORY_DAYS + 1)))
        if client:
            keys += [
                (pair_key(hashed, other), at + timedelta(seconds=SAME_CLIENT_SECONDS))
                for other in self._new_at(client, hashed, now)
            ]
        if not keys:
            return
        try:
            async with self._db_factory().session() as session:
                await _remember(session, keys)
                if now - self._purged > PURGE_SECONDS:  # expired keys count as none anyway
                    self._purged = now
                    await session.execute(
                        delete(ChannelReceipt)
                        .where(ChannelReceipt.expires_at < at)
                        .execution_options(synchronize_session=False)
                    )
        except (SQLAlchemyError, OSError):
            log.exception("could not note a sender for the reporter count")
            return
        self._written[day] = None
        while len(self._written) > MAX_SENDER_DAYS:
            self._written.popitem(last=False)

    def _new_at(self, client: str, hashed: str, now: float) -> list[str]:
        """The other recent senders of ``client`` if ``hashed`` is new there, else none."""
        recent = self._recent.pop(client, None) or OrderedDict()
        self._recent[client] = recent
        while len(self._recent) > MAX_ADDRESSES:
            self._recent.popitem(last=False)
        for other, seen in list(recent.items()):
            if now - seen > SAME_CLIENT_SECONDS:
                del recent[other]
        others = [] if hashed in recent else [s for s in recent if s != hashed]
        recent.pop(hashed, None)
        recent[hashed] = now
        while len(recent) > PAIRS_PER_ADDRESS:
            recent.popitem(last=False)
        return others


async def has_history(session: AsyncSession, hashed: str, at: datetime) -> bool:
    """Whether the sender wrote on an earlier day, or reported earlier a claim taken on."""
    today = at.astimezone(timezone.utc).date()
    days = [today - timedelta(days=n) for n in range(1, HISTORY_DAYS + 1)]
    if await _live(session, (active_key(hashed, d) for d in days), at):
        return True
    start_of_day = datetime.combine(today, datetime.min.time(), tzinfo=timezone.utc)
    earlier = (
        await session.execute(
            select(RumorReport.id)
            .join(RumorClaim, RumorClaim.id == RumorReport.claim_id)
            .where(
                RumorReport.sender_hash == hashed,
                RumorReport.created_at < start_of_day,
                RumorClaim.status.in_(TAKEN_ON),
            )
            .limit(1)
        )
    ).first()
    return earlier is not None


async def counts(session: AsyncSession, claim_id: int, report: RumorReport, at: datetime) -> int:
    """How many reporters ``report`` adds to its claim: 1 or 0 (the sender has not
    reported this claim before; the caller checks that)."""
    if report.channel in VERIFIED_CHANNELS:
        return 1
    since = at - timedelta(seconds=SAME_CLIENT_SECONDS)
    earlier = (
        (
            await session.execute(
                select(RumorReport.sender_hash)
                .where(
                    RumorReport.claim_id == claim_id,
                    RumorReport.id != report.id,
                    RumorReport.created_at >= since,
                    RumorReport.channel.not_in(VERIFIED_CHANNELS),
                    RumorReport.sender_hash != report.sender_hash,
                )
                .order_by(RumorReport.created_at.desc())
                .limit(EARLIER_REPORTERS)
            )
        )
        .scalars()
        .all()
    )
    if await _live(session, (pair_key(report.sender_hash, other) for other in earlier), at):
        return 0
    if await has_history(session, report.sender_hash, at):
        return 1
    expires = at + timedelta(seconds=2 * FRESH_SECONDS)
    return min(1, await _remember(session, [(fresh_key(claim_id, at), expires)]))


async def recount(session: AsyncSession, claim_ids: Sequence[int]) -> int:
    """The reporters of these claims' reports, counted again (merge, split)."""
    rows = (
        await session.execute(
            select(
                RumorReport.sender_hash,
                func.max(case((RumorReport.channel.in_(VERIFIED_CHANNELS), 1), else_=0)),
                func.min(RumorReport.created_at),
            )
            .where(RumorReport.claim_id.in_(claim_ids))
            .group_by(RumorReport.sender_hash)
            .order_by(func.min(RumorReport.created_at))
        )
    ).all()
    total, fresh_windows, looked_up = 0, set(), 0
    for hashed, verified, first in rows:
        first = first if first.tzinfo else first.replace(tzinfo=timezone.utc)
        if verified:
            total += 1
            continue
        if looked_up < RECOUNT_HISTORIES:
            looked_up += 1
            if await has_history(session, hashed, first):
                total += 1
                continue
        fresh_windows.add(int(first.timestamp() // FRESH_SECONDS))
    return total + len(fresh_windows)
