"""Durable de-duplication: a message id (or request nonce) is accepted once.

WeChat retries a message up to three times with the same MsgId, and retries
may land on different Rasa processes at the same moment. Each key is written
with ``INSERT .. ON CONFLICT DO NOTHING``: the database lets exactly one
writer create the row, so exactly one caller hears "first time". Rows expire;
expired rows are deleted now and then, and an expired key counts as new
(which is how a short lease held by a process that died is taken over).
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from bot.storage.db import Database, rowcount
from bot.storage.models import ChannelReceipt

log = logging.getLogger(__name__)

PURGE_EVERY_SECONDS = 300.0


def receipt_key(raw: str) -> str:
    """Keys hold user ids: store a digest, never the id."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ReceiptLog:
    """Remembers keys for a while, shared by every process using the database.

    If the database cannot be reached, keys are remembered in this process
    only (and the failure is logged): a retry may then be answered twice, but
    the user is never left without an answer.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = (postgresql if db.url.startswith("postgresql") else sqlite).insert
        self._last_purge = 0.0
        self._fallback: dict[str, float] = {}

    async def first_time(self, raw_key: str, ttl_seconds: float) -> bool:
        """True for the first caller with ``raw_key`` within ``ttl_seconds``; False after."""
        key = receipt_key(raw_key)
        now = datetime.now(timezone.utc)
        try:
            if time.monotonic() - self._last_purge > PURGE_EVERY_SECONDS:
                await self.purge(now)
            async with self.db.session() as session:
                # An expired row for this key no longer counts.
                await session.execute(
                    delete(ChannelReceipt).where(
                        ChannelReceipt.key == key, ChannelReceipt.expires_at < now
                    )
                )
                result = await session.execute(
                    self._insert(ChannelReceipt)
                    .values(key=key, expires_at=now + timedelta(seconds=ttl_seconds))
                    .on_conflict_do_nothing(index_elements=["key"])
                )
                return rowcount(result) == 1
        except (SQLAlchemyError, OSError):
            log.exception("receipt log unavailable; de-duplicating in this process only")
            return self._first_time_here(key, ttl_seconds)

    async def remaining(self, raw_key: str) -> float:
        """Seconds until ``raw_key`` expires (0 if it is not remembered)."""
        key = receipt_key(raw_key)
        try:
            async with self.db.session() as session:
                expires: datetime | None = (
                    await session.execute(
                        select(ChannelReceipt.expires_at).where(ChannelReceipt.key == key)
                    )
                ).scalar_one_or_none()
        except (SQLAlchemyError, OSError):
            log.exception("receipt log unavailable; looking in this process only")
            return max(0.0, self._fallback.get(key, 0.0) - time.monotonic())
        if expires is None:
            return 0.0
        if expires.tzinfo is None:  # SQLite hands back naive UTC
            expires = expires.replace(tzinfo=timezone.utc)
        return max(0.0, (expires - datetime.now(timezone.utc)).total_seconds())

    async def keep(self, raw_key: str, ttl_seconds: float) -> None:
        """Remember ``raw_key`` for ``ttl_seconds`` from now (e.g. a lease become "done")."""
        key = receipt_key(raw_key)
        try:
            async with self.db.session() as session:
                await session.execute(
                    update(ChannelReceipt)
                    .where(ChannelReceipt.key == key)
                    .values(expires_at=datetime.now(timezone.utc) + timedelta(seconds=ttl_seconds))
                )
        except (SQLAlchemyError, OSError):
            log.exception("receipt log unavailable; remembering in this process only")
            self._fallback[key] = time.monotonic() + ttl_seconds

    async def purge(self, now: datetime | None = None) -> int:
        """Delete expired keys; returns how many."""
        self._last_purge = time.monotonic()
        async with self.db.session() as session:
            result = await session.execute(
                delete(ChannelReceipt).where(
                    ChannelReceipt.expires_at < (now or datetime.now(timezone.utc))
                )
            )
        return int(rowcount(result) or 0)

    def _first_time_here(self, key: str, ttl_seconds: float) -> bool:
        now = time.monotonic()
        self._fallback = {k: t for k, t in self._fallback.items() if t > now}
        if key in self._fallback:
            return False
        self._fallback[key] = now + ttl_seconds
        return True
