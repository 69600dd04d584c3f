"""A finished day's events summed up once, kept after the events are gone.

Every dimension the statistics show (``dimensions_of``) is counted per day and
channel, and for all channels together (channel ``*``): turns, distinct users,
and a bottom-k sketch of those users. The sketch holds the ``SKETCH_K``
smallest 32-bit hashes (keyed by ``SKETCH_SALT``, so not the stored pseudonyms)
of the day's users of that cell. Merged over any period (union, keep the k
smallest) it holds fewer than k values exactly when fewer than k people are
in the cell: this is what lets a statistic over any period hide the cells of
fewer than 5 people (``bot.insights.suppress``) without reading the events.

Days are summed once they are over (a few minutes past midnight, China time,
so that the writers' last batches are in); today is summed on the fly. Events
and per-user days older than ``analytics_retention_days`` are then deleted;
the sums stay.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.insights.events import QUESTION_MOVES
from bot.storage.db import Database
from bot.storage.models import (
    CHINA_TIME,
    AnalyticsEvent,
    AnalyticsRollup,
    AnalyticsUser,
    AnalyticsUserDay,
)

log = logging.getLogger(__name__)

ALL_CHANNELS = "*"
SKETCH_K = 5
SKETCH_SALT = b"kepu-insights-sketch"
# A day is summed this long after it ended (the writers flush every 2 s).
SETTLE = timedelta(minutes=5)
_EVENT_COLUMNS = (
    AnalyticsEvent.day,
    AnalyticsEvent.hour,
    AnalyticsEvent.channel,
    AnalyticsEvent.user_hash,
    AnalyticsEvent.new_session,
    AnalyticsEvent.move,
    AnalyticsEvent.decision,
    AnalyticsEvent.topic,
    AnalyticsEvent.entry_id,
    AnalyticsEvent.score_band,
    AnalyticsEvent.fraud_risk,
    AnalyticsEvent.fraud_type,
    AnalyticsEvent.report_id,
    AnalyticsEvent.order_id,
)


def dimensions_of(event: Any) -> Iterator[tuple[str, str]]:
    """The (dimension, key) cells one event counts in."""
    yield "all", ""
    yield "hour", f"{int(event.hour):02d}"
    yield "move", event.move or ""
    if event.new_session:
        yield "session", ""
    if event.move in QUESTION_MOVES:
        yield "asked", event.decision or "unknown"
        if event.topic:
            yield "topic", event.topic
        if event.score_band:
            yield "band", event.score_band
    if event.entry_id:
        yield "entry", event.entry_id
        if event.decision == "debunk":
            yield "debunk", event.entry_id
    if event.fraud_risk:
        yield "fraud", f"{event.fraud_risk}|{event.fraud_type or ''}"
    if event.report_id:
        yield "report", ""
    if event.order_id:
        yield "order", ""


def sketch_value(user_hash: str) -> str:
    """The user's value in a bottom-k sketch: 8 hex digits of a keyed hash."""
    return hashlib.blake2b(user_hash.encode(), key=SKETCH_SALT, digest_size=4).hexdigest()


def merge_sketches(sketches: Iterable[str], k: int = SKETCH_K) -> list[str]:
    """The union of bottom-k sketches (stored as concatenated 8-digit hex), k smallest."""
    values: set[str] = set()
    for sketch in sketches:
        values.update(sketch[i : i + 8] for i in range(0, len(sketch), 8))
        if len(values) > 4 * k:
            values = set(sorted(values)[:k])
    return sorted(values)[:k]


@dataclass
class Cell:
    """One (day, channel, dimension, key) sum."""

    turns: int = 0
    users: set[str] = field(default_factory=set)

    def sketch(self) -> str:
        """The cell's users as a bottom-k sketch: the ``SKETCH_K`` smallest keyed hashes."""
        return "".join(sorted(sketch_value(u) for u in self.users)[:SKETCH_K])


def summarise(events: Iterable[Any]) -> dict[tuple[date, str, str, str], Cell]:
    """Cells of ``events`` per day, channel and (dimension, key); all channels as ``*``."""
    cells: dict[tuple[date, str, str, str], Cell] = defaultdict(Cell)
    for event in events:
        for dimension, key in dimensions_of(event):
            for channel in (event.channel, ALL_CHANNELS):
                cell = cells[(event.day, channel, dimension, key[:80])]
                cell.turns += 1
                cell.users.add(event.user_hash)
    return cells


def rollup_rows(cells: dict[tuple[date, str, str, str], Cell]) -> list[dict[str, Any]]:
    """The cells as rows of the rollup table."""
    return [
        {
            "day": day,
            "channel": channel,
            "dimension": dimension,
            "key": key,
            "turns": cell.turns,
            "users": len(cell.users),
            "sketch": cell.sketch(),
        }
        for (day, channel, dimension, key), cell in sorted(cells.items())
    ]


async def events_of_day(db: Database, day: date) -> list[Any]:
    """The analytics events of a day (the columns a rollup reads)."""
    async with db.session() as session:
        result = await session.execute(sa.select(*_EVENT_COLUMNS).where(AnalyticsEvent.day == day))
        return list(result.all())


async def rollup_day(db: Database, day: date) -> int:
    """(Re)compute the sums of ``day``; how many rows were written."""
    events = await events_of_day(db, day)
    # CPU work (a second or two for a busy day): off the web service's event loop.
    rows = await asyncio.to_thread(lambda: rollup_rows(summarise(events)))
    async with db.session() as session:
        await session.execute(sa.delete(AnalyticsRollup).where(AnalyticsRollup.day == day))
        if rows:
            await session.execute(sa.insert(AnalyticsRollup), rows)
    return len(rows)


def local_now() -> datetime:
    return datetime.now(CHINA_TIME)


async def days_to_roll(db: Database, now: datetime | None = None) -> list[date]:
    """Finished days with events and no sums yet (after the last summed day)."""
    now = (now or local_now()).astimezone(CHINA_TIME)
    last_finished = (now - SETTLE).date() - timedelta(days=1)
    async with db.session() as session:
        rolled = await session.scalar(
            sa.select(sa.func.max(AnalyticsRollup.day)).where(
                AnalyticsRollup.dimension == "all", AnalyticsRollup.channel == ALL_CHANNELS
            )
        )
        query = sa.select(AnalyticsEvent.day).where(AnalyticsEvent.day <= last_finished)
        if rolled is not None:
            query = query.where(AnalyticsEvent.day > rolled)
        result = await session.execute(query.group_by(AnalyticsEvent.day))
        return sorted(day for (day,) in result.all())


async def roll_finished(db: Database, now: datetime | None = None) -> int:
    """Sum the finished days not yet summed; how many."""
    days = await days_to_roll(db, now)
    for day in days:
        rows = await rollup_day(db, day)
        log.info("analytics: summed %s (%d rows)", day, rows)
    return len(days)


async def maintain(db: Database, retention_days: int, now: datetime | None = None) -> int:
    """Sum the finished days, then delete what is past the retention; days summed."""
    summed = await roll_finished(db, now)
    await purge(db, retention_days, now)
    return summed


async def purge(db: Database, retention_days: int, now: datetime | None = None) -> None:
    """Delete events, per-user days and users older than the retention (days
    not yet summed are summed first by ``maintain``; never deleted unsummed)."""
    cutoff = (now or local_now()).astimezone(CHINA_TIME).date() - timedelta(days=retention_days)
    async with db.session() as session:
        rolled = await session.scalar(
            sa.select(sa.func.max(AnalyticsRollup.day)).where(
                AnalyticsRollup.dimension == "all", AnalyticsRollup.channel == ALL_CHANNELS
            )
        )
        if rolled is not None:
            cutoff = min(cutoff, rolled + timedelta(days=1))
        else:
            return
        await session.execute(sa.delete(AnalyticsEvent).where(AnalyticsEvent.day < cutoff))
        await session.execute(sa.delete(AnalyticsUserDay).where(AnalyticsUserDay.day < cutoff))
        await session.execute(sa.delete(AnalyticsUser).where(AnalyticsUser.last_day < cutoff))
