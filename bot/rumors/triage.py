"""Triage of rumour claims: assign, change status, merge and split (moderators and admins).

Each change locks the claims it touches, is checked against the actor's role
and the claim's state, and is written with its audit entry in one transaction.

Claims merged into another keep pointing at it (``merged_into``), always one
level deep: merging a claim that others were merged into re-points them too.
A report that reached a claim while it was being merged therefore stays in
its target's family and is counted, shown and told the verdict with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts.access import Actor, require
from bot.accounts.audit import record
from bot.accounts.errors import InvalidInput, InvalidTransition, NotFound
from bot.rumors import reporters, search
from bot.rumors.console import (
    STATUSES,
    TRANSITIONS,
    ClaimView,
    claim_target,
    family_ids,
    known,
)
from bot.rumors.reports import HARM_WEIGHT, OPEN_STATUSES, new_claim, priority
from bot.storage.db import Database, rowcount
from bot.storage.models import (
    ConsoleUser,
    ReportDelivery,
    RumorClaim,
    RumorReport,
    aware,
    utcnow,
)


async def assign(db: Database, actor: Actor, claim_id: int, assignee: str | None) -> ClaimView:
    """Give the claim to an active console user, or to nobody (``None``)."""
    require(actor, "triage")
    assignee = (assignee or "").strip() or None
    async with db.session() as session:
        claim = await claim_for_update(session, claim_id)
        refuse_merged(claim)
        if assignee is not None:
            user = (
                await session.execute(
                    select(ConsoleUser.id).where(
                        ConsoleUser.name == assignee, ConsoleUser.active.is_(True)
                    )
                )
            ).first()
            if user is None:
                raise NotFound(f"没有这个用户：{assignee}")
        before, claim.assignee = claim.assignee, assignee
        claim.updated_at = utcnow()
        record(session, actor.name, "assign", claim_target(claim_id), before=before, after=assignee)
        return ClaimView.of(claim, utcnow())


async def set_status(db: Database, actor: Actor, claim_id: int, status: str) -> ClaimView:
    """Move the claim along ``TRANSITIONS``; setting its current status changes nothing."""
    require(actor, "triage")
    known(status, STATUSES, "状态")
    async with db.session() as session:
        claim = await claim_for_update(session, claim_id)
        refuse_merged(claim)
        if claim.status != status:
            if status == "concluded":
                raise InvalidTransition("“已结论”要通过发布结论来设置")
            check_transition(claim.status, status)
            before, claim.status = claim.status, status
            claim.updated_at = utcnow()
            record(
                session, actor.name, "status", claim_target(claim_id), before=before, after=status
            )
        return ClaimView.of(claim, utcnow())


async def merge(db: Database, actor: Actor, source_id: int, target_id: int) -> ClaimView:
    """Merge claim ``source_id`` into ``target_id``: its reports move, counts are recomputed.

    Reports merged into an already concluded claim are owed its verdict at once.
    """
    require(actor, "triage")
    if source_id == target_id:
        raise InvalidInput("不能把线索并入它自己")
    now = utcnow()
    async with db.session() as session:
        # Lock both rows in id order, so two crossing merges cannot deadlock.
        locked = {i: await claim_for_update(session, i) for i in sorted((source_id, target_id))}
        source, target = locked[source_id], locked[target_id]
        refuse_merged(source)
        refuse_merged(target)
        if source.status not in OPEN_STATUSES:
            raise InvalidTransition(f"“{STATUSES[source.status]}”的线索不能再并入别处")
        if target.status == "rejected":
            raise InvalidTransition("不能并入“不予处理”的线索")
        moved_from = await family_ids(session, source_id)
        await session.execute(
            update(RumorReport)
            .where(RumorReport.claim_id.in_(moved_from))
            .values(claim_id=target_id)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(RumorClaim)
            .where(RumorClaim.merged_into == source_id)
            .values(merged_into=target_id, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        source.merged_into = target_id
        await recount(session, source, now)
        await recount(session, target, now)
        await search.add_terms(session, target_id, await search.terms_of(session, source_id) or [])
        due = 0
        if target.status == "concluded":
            due = await mark_due(session, await family_ids(session, target_id))
        record(session, actor.name, "merge", claim_target(target_id), merged=source_id, due=due)
        record(session, actor.name, "merged_into", claim_target(source_id), into=target_id)
        return ClaimView.of(target, now)


async def split(db: Database, actor: Actor, claim_id: int, report_ids: Sequence[int]) -> ClaimView:
    """Move the chosen reports of a claim into a new claim of their own."""
    require(actor, "triage")
    chosen = sorted(set(report_ids))
    if not chosen:
        raise InvalidInput("请至少选一条举报")
    now = utcnow()
    async with db.session() as session:
        claim = await claim_for_update(session, claim_id)
        refuse_merged(claim)
        if claim.status not in OPEN_STATUSES:
            raise InvalidTransition(f"“{STATUSES[claim.status]}”的线索不能拆分")
        family = await family_ids(session, claim_id)
        # The chosen reports and a count of the rest: a claim may hold thousands.
        moving = (
            await session.execute(
                select(RumorReport.id, RumorReport.text)
                .where(RumorReport.id.in_(chosen), RumorReport.claim_id.in_(family))
                .order_by(RumorReport.created_at, RumorReport.id)
            )
        ).all()
        if len(moving) != len(chosen):
            raise NotFound("所选举报不属于这条线索")
        total = (
            await session.execute(
                select(func.count(RumorReport.id)).where(RumorReport.claim_id.in_(family))
            )
        ).scalar_one()
        if len(moving) == total:
            raise InvalidInput("不能把全部举报都拆出去，至少留下一条")
        first = moving[0].text
        new = new_claim(first, now)
        session.add(new)
        await session.flush()
        await session.execute(
            update(RumorReport)
            .where(RumorReport.id.in_(chosen))
            .values(claim_id=new.id)
            .execution_options(synchronize_session=False)
        )
        await recount(session, claim, now)
        await recount(session, new, now)
        terms = await asyncio.to_thread(search.document_terms, [r.text for r in moving])
        await search.add_terms(session, new.id, terms)
        record(
            session, actor.name, "split", claim_target(claim_id), new_claim=new.id, reports=chosen
        )
        record(session, actor.name, "split_from", claim_target(new.id), source=claim_id)
        return ClaimView.of(new, now)


# Helpers shared with bot.rumors.debunk -------------------------------------------------


async def claim_for_update(session: AsyncSession, claim_id: int) -> RumorClaim:
    """The claim, row-locked until the transaction ends (PostgreSQL; SQLite locks the file)."""
    claim: RumorClaim | None = (
        await session.execute(select(RumorClaim).where(RumorClaim.id == claim_id).with_for_update())
    ).scalar_one_or_none()
    if claim is None:
        raise NotFound(f"没有编号为 {claim_id} 的线索")
    return claim


def refuse_merged(claim: RumorClaim) -> None:
    """Raise ``InvalidTransition`` for a claim merged into another (it is handled there)."""
    if claim.merged_into is not None:
        raise InvalidTransition(f"这条线索已并入 #{claim.merged_into}，请到那条线索处理")


def check_transition(current: str, new: str) -> None:
    """Raise ``InvalidTransition`` unless ``TRANSITIONS`` allows ``current`` to ``new``."""
    if new not in TRANSITIONS.get(current, ()):
        raise InvalidTransition(
            f"不能从“{STATUSES.get(current, current)}”改为“{STATUSES.get(new, new)}”"
        )


async def recount(session: AsyncSession, claim: RumorClaim, now: datetime) -> None:
    """Counts, channels, first/last seen and stored priority from the claim's reports."""
    ids = await family_ids(session, claim.id)
    counts = (
        await session.execute(
            select(
                func.count(RumorReport.id),
                func.min(RumorReport.created_at),
                func.max(RumorReport.created_at),
            ).where(RumorReport.claim_id.in_(ids))
        )
    ).one()
    channels = (
        (
            await session.execute(
                select(RumorReport.channel)
                .where(RumorReport.claim_id.in_(ids))
                .group_by(RumorReport.channel)
                .order_by(func.min(RumorReport.created_at))
            )
        )
        .scalars()
        .all()
    )
    # Reporters as the queue counts them (bot.rumors.reporters), not every sender id.
    claim.reports, claim.reporters = counts[0], await reporters.recount(session, ids)
    claim.channels = list(channels)
    if counts[0]:
        claim.first_seen, claim.last_seen = aware(counts[1]), aware(counts[2])
    # Stored as the queue stores it: the priority at the moment of the last report.
    last = aware(claim.last_seen)
    harm = claim.harm if claim.harm in HARM_WEIGHT else "other"
    claim.priority = priority(claim.reporters, len(claim.channels), harm, last, last)
    claim.updated_at = now


async def mark_due(session: AsyncSession, claim_ids: Sequence[int]) -> int:
    """Verdicts waiting for these claims' reporters become due for the delivery worker."""
    reports = select(RumorReport.id).where(RumorReport.claim_id.in_(claim_ids))
    result = await session.execute(
        update(ReportDelivery)
        .where(ReportDelivery.status == "waiting", ReportDelivery.report_id.in_(reports))
        .values(status="due")
        .execution_options(synchronize_session=False)
    )
    return int(rowcount(result) or 0)
