"""The monthly 流言榜: drafted from the month's published debunks, sent after approval
to those subscribed to 每月流言榜.

Early each month the web service drafts last month's digest (once: the alert's
``calendar_key`` is ``digest:YYYY-MM``): the claims whose verdict was published in
the moderator console that month (the audit log's "publish" entries, China time),
most people first (people who reported the claim or a claim merged into it), as a
short numbered list: the claim in a few words, the verdict, one line why. It fits
one screen (``MAX_ALERT_CHARS``); what does not fit is left for the expert, who
sees every debunk of the month and how many people reported it beside the draft,
may edit it, and an admin approves it like any alert. Every alert ends with how to
stop (退订).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from bot.outreach.alerts import MAX_ALERT_CHARS, record_step
from bot.outreach.commands import DIGEST
from bot.rumors.console import VERDICTS
from bot.storage.db import Database
from bot.storage.models import CHINA_TIME, AuditEntry, OutreachAlert, RumorClaim, RumorReport

log = logging.getLogger(__name__)

DIGEST_AUTHOR = "digest"
DRAFT_DAYS = 10  # last month's digest is drafted in the first days of a month only
CLAIM_CHARS = 16  # the claim "in a few words"
WHY_CHARS = 32  # one line
# A published conclusion that is no debunk (非科学问题) is not on the list.
LISTED_VERDICTS = tuple(v for v in VERDICTS if v != "not_science")
_QUESTION_END = re.compile(r"(是真的吗|真的吗|吗|呢|么)?[?？。！!]*$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Item:
    """One line of the digest: a claim published that month, and how many people reported it."""

    claim_id: int
    claim: str  # in a few words
    verdict: str  # 谣言, 属实 ...
    why: str  # one line
    people: int  # who reported it (or a claim merged into it)


def month_of(value: str) -> date:
    """``2026-11`` as the month's first day; ValueError if it is no month."""
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise ValueError("月份要写成 2026-11 这样")
    return date(int(match.group(1)), int(match.group(2)), 1)


def next_month(first: date) -> date:
    """The first day of the month after ``first`` (a month's first day)."""
    return (first + timedelta(days=32)).replace(day=1)


def previous_month(today: date) -> date:
    """The first day of the month before ``today``'s."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def key_of(first: date) -> str:
    """The month's digest alert's ``calendar_key``, so it is drafted once: ``digest:YYYY-MM``."""
    return f"digest:{first:%Y-%m}"


def _bounds(first: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time(), CHINA_TIME)
    return start, datetime.combine(next_month(first), time(), CHINA_TIME)


def short_claim(title: str) -> str:
    """ "5G基站辐射会致癌吗" → "5G基站辐射会致癌"; at most ``CLAIM_CHARS``."""
    text = _QUESTION_END.sub("", " ".join(title.split())) or title.strip()
    return text if len(text) <= CLAIM_CHARS else text[: CLAIM_CHARS - 1] + "…"


def one_line(explanation: str) -> str:
    """The first sentence, at most ``WHY_CHARS`` (cut after a comma when it can be)."""
    text = " ".join(explanation.split())
    for mark in "。！？!?；;":
        if mark in text:
            text = text.split(mark, 1)[0]
    if len(text) <= WHY_CHARS:
        return text + "。" if text else ""
    cut = max(text.rfind(c, 0, WHY_CHARS) for c in "，,、")
    return text[:cut] + "。" if cut >= WHY_CHARS // 2 else text[: WHY_CHARS - 1] + "…"


async def month_items(db: Database, first: date) -> list[Item]:
    """The month's published debunks, most people first."""
    start, end = _bounds(first)
    async with db.session() as session:
        published = (
            select(AuditEntry.target)
            .where(AuditEntry.action == "publish", AuditEntry.at >= start, AuditEntry.at < end)
            .distinct()
        )
        targets = [t for t in (await session.execute(published)).scalars()]
        ids = [int(t.split(":", 1)[1]) for t in targets if t.startswith("claim:")]
        if not ids:
            return []
        claims = (
            await session.execute(
                select(RumorClaim).where(
                    RumorClaim.id.in_(ids),
                    RumorClaim.status == "concluded",
                    RumorClaim.merged_into.is_(None),
                    RumorClaim.verdict.in_(LISTED_VERDICTS),
                )
            )
        ).scalars()
        items = []
        for claim in claims:
            people = await session.scalar(
                select(func.count(func.distinct(RumorReport.sender_hash)))
                .join(RumorClaim, RumorClaim.id == RumorReport.claim_id)
                .where(or_(RumorClaim.id == claim.id, RumorClaim.merged_into == claim.id))
            )
            items.append(
                Item(
                    claim.id,
                    short_claim(claim.debunk_title or claim.title),
                    VERDICTS[claim.verdict],
                    one_line(claim.explanation or ""),
                    int(people or 0),
                )
            )
    return sorted(items, key=lambda i: (-i.people, i.claim_id))


def compose(first: date, items: list[Item]) -> str:
    """The digest's text: a heading and as many numbered items as fit one screen."""
    lines = [f"{first.month}月大家问得多的说法，核实结果是："]
    for item in items:
        line = f"{len(lines)}. {item.claim}：{item.verdict}。{item.why}"
        if len("\n".join([*lines, line])) > MAX_ALERT_CHARS:
            break
        lines.append(line)
    return "\n".join(lines) if len(lines) > 1 else ""


async def draft_digest(db: Database, first: date, by: str | None = None) -> int | None:
    """Draft the digest of the month starting ``first`` unless it was drafted already
    or nothing was published; returns the new alert's id. ``by``: the console user
    who asked for it now (the audit log), else the service did."""
    key = key_of(first)
    async with db.session() as session:
        found = await session.execute(
            select(OutreachAlert.id).where(OutreachAlert.calendar_key == key)
        )
        if found.first() is not None:
            return None
    text = compose(first, await month_items(db, first))
    if not text:
        return None
    try:
        async with db.session() as session:
            alert = OutreachAlert(
                kind=DIGEST,
                crop="",
                text=text,
                entry_id=None,
                urgent=False,
                status="draft",
                author=DIGEST_AUTHOR,
                calendar_key=key,
                # News of last month: not sent after the end of this one.
                expires_at=_bounds(next_month(first))[1],
            )
            session.add(alert)
            await session.flush()
            record_step(session, by, "alert_draft", int(alert.id), kind=DIGEST, crop="")
            return int(alert.id)
    except IntegrityError:
        return None  # drafted meanwhile by another process


async def draft_due(db: Database, now: datetime) -> int | None:
    """Last month's digest, in the first ``DRAFT_DAYS`` days of a month."""
    today = now.astimezone(CHINA_TIME).date()
    if today.day > DRAFT_DAYS:
        return None
    drafted = await draft_digest(db, previous_month(today))
    if drafted:
        log.info("monthly digest drafted for approval: alert %s", drafted)
    return drafted


async def drafted_for(db: Database, first: date) -> int | None:
    """The alert drafted for this month's digest, if any."""
    async with db.session() as session:
        found = await session.scalar(
            select(OutreachAlert.id).where(OutreachAlert.calendar_key == key_of(first))
        )
    return int(found) if found is not None else None
