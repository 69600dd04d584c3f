"""Rasa's event broker, pointed at our statistics.

Rasa hands every event it stores to the configured event broker (Rasa X and
Botfront built their analytics on this stream). ``AnalyticsBroker`` folds the
stream into one ``bot.insights.events.Turn`` per user message and lets
``bot.insights.writer.EventWriter`` write them in batches, in the background.
So every channel (REST, web chat, WeChat, WeCom, Rasa's HTTP API) is counted
in one place, and a turn pays only for appending to a list.

Configured in ``bot/endpoints.yml``::

    event_broker:
      type: bot.channels.analytics.AnalyticsBroker

Our tables' database comes from ``KEPU_DATABASE_URL`` (``bot.settings``); the
events themselves reach ``publish`` raw, and nothing but names, tags and times
is read from them (``TurnAssembler``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.channels import speedups
from bot.insights.events import TurnAssembler
from bot.insights.writer import EventWriter
from bot.settings import Settings
from bot.storage.db import Database

log = logging.getLogger(__name__)


class AnalyticsBroker(EventBroker):
    """Turns in, analytics events out (batched)."""

    def __init__(self, writer: EventWriter) -> None:
        self.writer = writer
        self.assembler = TurnAssembler()
        self._own_db: Database | None = None

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: EndpointConfig | None,
        event_loop: asyncio.AbstractEventLoop | None = None,
    ) -> AnalyticsBroker:
        kwargs = dict(broker_config.kwargs) if broker_config is not None else {}
        flush_seconds = float(kwargs.get("flush_seconds", 2.0))
        db = Database(  # one writer, closed with the broker (``close``)
            Settings.from_env().database_url,
            pool_size=1,
            keep_connections=speedups.keeps_connections(),
        )
        broker = cls(EventWriter(db, flush_seconds=flush_seconds))
        broker._own_db = db
        return broker

    def publish(self, event: dict[str, Any]) -> None:
        try:
            turns = self.assembler.feed(event)
        except Exception:  # a statistic must never break a turn
            log.exception("analytics: an event could not be read")
            return
        for turn in turns:
            self.writer.add(turn)

    def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        await self.writer.close()
        if self._own_db is not None:
            await self._own_db.close()
            self._own_db = None
