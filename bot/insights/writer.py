"""Analytics events written in batches, off the turn's path.

A turn only appends its ``Turn`` to a list (``EventWriter.add``); a background
task writes what has gathered every ``flush_seconds`` (or sooner, once
``batch`` turns wait) in one transaction: the events, each sender's turns of
the day (``analytics_user_days``) and first and last days (``analytics_users``).
When the database is away the turns wait, up to ``max_waiting``; beyond that
the oldest are dropped and counted in the log. A statistic is never worth a
slower or failed answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from bot.insights.events import Turn
from bot.storage.db import Database
from bot.storage.models import AnalyticsEvent, AnalyticsUser, AnalyticsUserDay

log = logging.getLogger(__name__)

FLUSH_SECONDS = 2.0
BATCH = 500
MAX_WAITING = 50_000


class EventWriter:
    """Gathers turns and writes them to ``db`` in the background."""

    def __init__(
        self,
        db: Database,
        *,
        flush_seconds: float = FLUSH_SECONDS,
        batch: int = BATCH,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        self.db = db
        self.flush_seconds = flush_seconds
        self.batch = batch
        self.max_waiting = max_waiting
        self.dropped = 0
        self._waiting: list[Turn] = []
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._closed = False

    def add(self, turn: Turn) -> None:
        """Queue one turn (never blocks, never raises for the database)."""
        if self._closed:
            return
        self._waiting.append(turn)
        if len(self._waiting) > self.max_waiting:
            excess = len(self._waiting) - self.max_waiting
            del self._waiting[:excess]
            self.dropped += excess
            log.warning("analytics: %d turns dropped while the database was away", excess)
        self._ensure_task()
        if len(self._waiting) >= self.batch and self._wake is not None:
            self._wake.set()

    @property
    def waiting(self) -> int:
        """Events queued and not yet written."""
        return len(self._waiting)

    def _ensure_task(self) -> None:
        if self._task is not None and not self._task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a script): the caller flushes
            return
        self._wake = asyncio.Event()
        self._task = loop.create_task(self._run(), name="kepu-analytics-writer")

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_seconds)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> int:
        """Write everything waiting now; how many turns were written (0 on failure:
        they wait for the next try)."""
        if not self._waiting:
            return 0
        turns, self._waiting = self._waiting, []
        try:
            await write_turns(self.db, turns)
        except (SQLAlchemyError, OSError):
            log.exception("analytics: could not write %d turns; trying again later", len(turns))
            self._waiting[:0] = turns
            return 0
        return len(turns)

    async def close(self) -> None:
        """Stop the background task and write what is left (once)."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()


async def write_turns(db: Database, turns: Iterable[Turn]) -> None:
    """Insert the turns' events and update the per-user rows, in one transaction."""
    rows = [turn.row() for turn in turns]
    if not rows:
        return
    days: dict[tuple[date, str, str], list[int]] = defaultdict(lambda: [0, 0])
    users: dict[str, tuple[date, str, date]] = {}
    for row in rows:
        counts = days[(row["day"], row["channel"], row["user_hash"])]
        counts[0] += 1
        counts[1] += int(row["new_session"])
        first = users.get(row["user_hash"])
        if first is None:
            users[row["user_hash"]] = (row["day"], row["channel"], row["day"])
        else:
            earlier = row["day"] < first[0]
            users[row["user_hash"]] = (
                row["day"] if earlier else first[0],
                row["channel"] if earlier else first[1],
                max(first[2], row["day"]),
            )
    insert = sqlite.insert if db.is_sqlite else postgresql.insert
    async with db.session() as session:
        await session.execute(sa.insert(AnalyticsEvent), rows)
        # Sorted by key: concurrent writers (one per Rasa process) lock rows in
        # the same order, so they cannot deadlock.
        day_rows: list[dict[str, Any]] = [
            {"day": d, "channel": c, "user_hash": u, "turns": n, "conversations": s}
            for (d, c, u), (n, s) in sorted(days.items())
        ]
        stmt = insert(AnalyticsUserDay)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["day", "channel", "user_hash"],
                set_={
                    "turns": AnalyticsUserDay.turns + stmt.excluded.turns,
                    "conversations": AnalyticsUserDay.conversations + stmt.excluded.conversations,
                },
            ),
            day_rows,
        )
        user_rows = [
            {"user_hash": u, "first_day": f, "first_channel": c, "last_day": last}
            for u, (f, c, last) in sorted(users.items())
        ]
        stmt = insert(AnalyticsUser)
        earlier = stmt.excluded.first_day < AnalyticsUser.first_day
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_hash"],
                set_={
                    "first_day": sa.case(
                        (earlier, stmt.excluded.first_day), else_=AnalyticsUser.first_day
                    ),
                    "first_channel": sa.case(
                        (earlier, stmt.excluded.first_channel), else_=AnalyticsUser.first_channel
                    ),
                    "last_day": sa.case(
                        (stmt.excluded.last_day > AnalyticsUser.last_day, stmt.excluded.last_day),
                        else_=AnalyticsUser.last_day,
                    ),
                },
            ),
            user_rows,
        )
