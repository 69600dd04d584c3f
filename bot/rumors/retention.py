"""What we keep is deleted on time: rumour reports past the retention period
(with their deliveries and pictures), pictures whose report never came, and,
with the same retention, the unanswered questions kept for curators and the
help requests kept for staff.

``kepu run`` purges once before the processes start; the web service then
sweeps every hour, so a service that runs for months keeps its promise too.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError

from bot.handoff.hotlines import purge_requests
from bot.knowledge.service import purge_unanswered
from bot.rumors.evidence import purge_unattached
from bot.rumors.reports import purge_expired
from bot.storage.db import Database

log = logging.getLogger(__name__)
SWEEP_SECONDS = 3600.0


async def purge(db: Database, retention_days: int) -> tuple[int, int]:
    """Delete expired reports and abandoned pictures (how many of each), and
    unanswered questions and help requests as old as an expired report."""
    reports = await purge_expired(db, retention_days)
    pictures = await purge_unattached(db)
    questions = await purge_unanswered(db, retention_days)
    requests = await purge_requests(db, retention_days)
    if questions or requests:
        log.info(
            "deleted %d unanswered questions and %d help requests past the retention",
            questions,
            requests,
        )
    return reports, pictures


async def sweep(db: Database, retention_days: int, every: float = SWEEP_SECONDS) -> None:
    """Purge expired reports every ``every`` seconds, forever; a failed round is logged."""
    while True:
        await asyncio.sleep(every)
        try:
            reports, pictures = await purge(db, retention_days)
        except (SQLAlchemyError, OSError):
            log.exception("retention sweep failed; trying again in an hour")
            continue
        if reports or pictures:
            log.info("deleted %d expired reports and %d abandoned pictures", reports, pictures)
