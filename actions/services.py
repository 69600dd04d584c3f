"""Shared services for the actions, created on first use (never at import time).

rasa-sdk imports every module of this package when the action server starts;
opening databases or building indexes then would slow start-up and break
imports in tests. Everything here is built lazily, once, on the event loop
that runs the actions.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.fraud.checker import FraudChecker
from bot.knowledge.dense import DenseEncoder
from bot.knowledge.service import KnowledgeService
from bot.rumors.reports import ReportQueue
from bot.settings import Settings
from bot.storage.db import Database
from bot.text.redact import redact
from bot.understanding.decide import Understanding


@dataclass
class Services:
    settings: Settings
    db: Database
    knowledge: KnowledgeService
    fraud: FraudChecker
    reports: ReportQueue
    understanding: Understanding


_services: Services | None = None
_lock: asyncio.Lock | None = None


async def get_services() -> Services:
    global _services, _lock
    if _services is not None:
        return _services
    if _lock is None:
        _lock = asyncio.Lock()
    async with _lock:
        if _services is None:
            settings = Settings.from_env()
            db = Database(settings.database_url)
            encoder = DenseEncoder(settings.vector_cache)
            knowledge = KnowledgeService(settings.knowledge_dir, encoder, db)
            # The classifier loads (or trains, once per training file) and the
            # redactor builds its spaCy matcher while the index loads, not in
            # someone's first turn.
            fraud, _, _ = await asyncio.gather(
                asyncio.to_thread(FraudChecker, cache_dir=settings.cache_dir),
                asyncio.to_thread(redact, "联系人张三 13812345678，幸福小区3栋2单元501"),
                knowledge.refresh(force=True),
            )
            _services = Services(
                settings, db, knowledge, fraud, ReportQueue(db), Understanding(knowledge, fraud)
            )
    return _services
