"""A debunked rumour going round again: re-reports counted on its claim, and reopening.

A re-report is a report that reached a claim whose verdict was already
published (``ReportQueue.submit_again``: the report form matched the claim's
debunk, and the reporter got the verdict there and then). The claim page
shows how many there were, week by week ("又有人问"), so that moderators see
a rumour coming back; a moderator or expert can then reopen the claim for
review (audited), which puts it back in the queue as "核实中".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo

from sqlalchemy import and_, case, func, select

from bot.accounts.access import Actor, require
from bot.accounts.audit import record
from bot.accounts.errors import InvalidInput, InvalidTransition
from bot.rumors.console import ClaimView, claim_target, family_ids
from bot.rumors.triage import claim_for_update, refuse_merged
from bot.storage.db import Database
from bot.storage.models import RumorReport, RumorReReport, aware, utcnow
from bot.text.redact import redact

TREND_WEEKS = 8
MAX_REASON_CHARS = 200


@dataclass(frozen=True)
class WeekCount:
    start: date  # the Monday the week starts on, local time
    count: int


@dataclass(frozen=True)
class AskedAgain:
    total: int
    weeks: list[WeekCount]  # the last ``TREND_WEEKS`` weeks, oldest first, this week last
    last: datetime | None

    @property
    def busiest(self) -> int:
        """The most re-reports in one of the weeks (0 if none): the chart's scale."""
        return max((w.count for w in self.weeks), default=0)


async def asked_again(
    db: Database, claim_id: int, tz: tzinfo, now: datetime | None = None
) -> AskedAgain:
    """How often the claim (with the claims merged into it) was reported again after
    its verdict was published: in all, and in each of the last ``TREND_WEEKS`` weeks."""
    now = aware(now or utcnow()).astimezone(tz)
    this_monday = now.date() - timedelta(days=now.weekday())
    mondays = [this_monday - timedelta(weeks=TREND_WEEKS - 1 - i) for i in range(TREND_WEEKS)]
    # In UTC, as the times are stored (SQLite keeps them without their offset).
    bounds = [
        datetime.combine(d, datetime.min.time(), tzinfo=tz).astimezone(timezone.utc)
        for d in mondays
    ]
    bounds.append(bounds[-1] + timedelta(weeks=1))
    at = RumorReReport.created_at
    # One pass over the claim's re-reports, counted into the weeks by the database.
    weekly = [
        func.coalesce(func.sum(case((and_(at >= lo, at < hi), 1), else_=0)), 0)
        for lo, hi in zip(bounds, bounds[1:], strict=False)
    ]
    async with db.session() as session:
        ids = await family_ids(session, claim_id)
        total, last, *counts = (
            await session.execute(
                select(func.count(), func.max(at), *weekly)
                .select_from(RumorReReport)
                .join(RumorReport, RumorReport.id == RumorReReport.report_id)
                .where(RumorReport.claim_id.in_(ids))
            )
        ).one()
    weeks = [WeekCount(monday, int(n)) for monday, n in zip(mondays, counts, strict=True)]
    return AskedAgain(total, weeks, aware(last) if last is not None else None)


async def reopen(db: Database, actor: Actor, claim_id: int, reason: str) -> ClaimView:
    """Put a published claim back under review ("核实中"), with why; audited. Its
    debunk is still served until a corrected verdict is published."""
    require(actor, "reopen")
    reason = " ".join((reason or "").split())
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInput(f"理由不超过 {MAX_REASON_CHARS} 字")
    reason = await asyncio.to_thread(redact, reason) if reason else ""
    now = utcnow()
    async with db.session() as session:
        claim = await claim_for_update(session, claim_id)
        refuse_merged(claim)
        if claim.status != "concluded":
            raise InvalidTransition("只有已发布结论的线索才能重新打开复核")
        ids = await family_ids(session, claim_id)
        again = (
            await session.execute(
                select(func.count())
                .select_from(RumorReReport)
                .join(RumorReport, RumorReport.id == RumorReReport.report_id)
                .where(RumorReport.claim_id.in_(ids))
            )
        ).scalar_one()
        claim.status, claim.updated_at = "verifying", now
        record(
            session,
            actor.name,
            "reopen",
            claim_target(claim_id),
            before="concluded",
            after="verifying",
            again=again,
            reason=reason,
        )
        return ClaimView.of(claim, now)


async def re_reports_among(db: Database, report_ids: list[int]) -> set[int]:
    """Which of these reports are re-reports."""
    if not report_ids:
        return set()
    async with db.session() as session:
        rows = await session.execute(
            select(RumorReReport.report_id).where(RumorReReport.report_id.in_(report_ids))
        )
        return set(rows.scalars().all())
