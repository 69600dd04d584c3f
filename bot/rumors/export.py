"""The claim queue as CSV rows: the filtered queue, redacted, for a spreadsheet.

Only what the console shows is written: claim titles (redacted at intake) and
counts, never a sender, a recipient or a report's text. Every export is
written to the audit log with its filters and the number of rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import datetime

from bot.accounts.access import Actor, require
from bot.accounts.audit import record
from bot.rumors.console import ClaimFilter, ClaimView, iter_claims
from bot.storage.db import Database
from bot.storage.models import CHINA_TIME

HEADER = (
    "编号",
    "说法",
    "优先级",
    "优先级分值",
    "危害",
    "状态",
    "结论",
    "举报条数",
    "举报人数",
    "渠道",
    "负责人",
    "首次举报",
    "最近举报",
)


def _when(value: datetime) -> str:
    return value.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def row(claim: ClaimView) -> list[object]:
    """One claim as a row of the export, in the order of ``HEADER``."""
    return [
        claim.id,
        claim.title,
        claim.priority_label,
        f"{claim.priority:.2f}",
        claim.harm_label,
        claim.status_label,
        claim.verdict_label,
        claim.reports,
        claim.reporters,
        "、".join(claim.channel_labels),
        claim.assignee or "",
        _when(claim.first_seen),
        _when(claim.last_seen),
    ]


def queue_rows(
    db: Database, actor: Actor, filters: ClaimFilter, sort: str
) -> AsyncIterator[list[object]]:
    """The header, then a row per claim of the filtered queue in its order; the
    export is audited once the last row is out. Refused before any row is made."""
    require(actor, "read_queue")
    filters.check()
    return _rows(db, actor, filters, sort)


async def _rows(
    db: Database, actor: Actor, filters: ClaimFilter, sort: str
) -> AsyncIterator[list[object]]:
    yield list(HEADER)
    count = 0
    async for claim in iter_claims(db, filters, sort=sort):
        count += 1
        yield row(claim)
    async with db.session() as session:
        shown = {k: v for k, v in asdict(filters).items() if v not in (None, "", ())}
        record(
            session,
            actor.name,
            "queue_export",
            "queue",
            filters={k: str(v) for k, v in shown.items()},
            sort=sort,
            rows=count,
        )
