"""Queues that make "您的求助已经记下，工作人员会看到" true: requests for a person
(``handoff_requests``) and questions the bot could not answer
(``unanswered_questions``), each unhandled until a staff member marks it.

Emergencies (120 or 110 named first) stay at the top until handled. Texts were
redacted when they were stored; notes are redacted too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import Case

from bot.accounts.access import Actor
from bot.accounts.audit import record
from bot.accounts.errors import InvalidInput, NotFound, clip
from bot.handoff.hotlines import ALL_NUMBERS, is_urgent
from bot.orders.access import require_order
from bot.storage.db import Database
from bot.storage.models import HandledMark, HandoffRequest, UnansweredQuestion, aware, utcnow
from bot.text.redact import redact

KINDS: dict[str, str] = {"help": "求助", "question": "没答上的问题"}
URGENT_HOTLINES = ("120", "119", "110")
MAX_PAGE = 500


@dataclass(frozen=True)
class QueueItem:
    kind: str
    id: int
    channel: str
    text: str
    hotlines: tuple[str, ...]
    created_at: datetime
    handled_by: str | None
    handled_at: datetime | None
    note: str

    @property
    def urgent(self) -> bool:
        """Whether the request named an emergency number (not all of them, as “找人帮忙” does)."""
        # "找人帮忙" is given every number, 120 first: no emergency for that.
        return is_urgent(",".join(self.hotlines))

    @property
    def handled(self) -> bool:
        return self.handled_at is not None


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    total: int
    unhandled: int


def _table(kind: str) -> Any:
    if kind == "help":
        return HandoffRequest
    if kind == "question":
        return UnansweredQuestion
    raise InvalidInput(f"没有这个队列：{clip(kind)}")


async def queue(
    db: Database,
    actor: Actor,
    kind: str,
    *,
    handled: bool | None = False,
    limit: int = 50,
    offset: int = 0,
) -> QueuePage:
    """Unhandled (``handled=False``), handled, or all (``None``) items: urgent help first,
    then the oldest unhandled; handled ones newest first."""
    require_order(actor, "dispatch")
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"每页 1 到 {MAX_PAGE} 条")
    table = _table(kind)
    joined = and_(HandledMark.kind == kind, HandledMark.item_id == table.id)
    where: list[Any] = []
    if handled is True:
        where.append(HandledMark.id.is_not(None))
    elif handled is False:
        where.append(HandledMark.id.is_(None))
    order: list[Any] = [HandledMark.id.is_not(None)]  # unhandled first in "all"
    if kind == "help":
        urgent: Case[Integer] = case(
            (table.hotlines == ALL_NUMBERS, 0),
            (table.hotlines.like("120%"), 1),
            (table.hotlines.like("110%"), 1),
            else_=0,
        )
        order.append(urgent.desc())
    order += [table.created_at.desc() if handled else table.created_at, table.id]
    columns = [table.id, table.channel, table.text, table.created_at]
    hotlines = table.hotlines if kind == "help" else None
    async with db.session() as session:
        base = select(func.count(table.id)).outerjoin(HandledMark, joined)
        total = (await session.execute(base.where(*where))).scalar_one()
        unhandled = (await session.execute(base.where(HandledMark.id.is_(None)))).scalar_one()
        rows = (
            await session.execute(
                select(*columns, hotlines if hotlines is not None else table.id, HandledMark)
                .outerjoin(HandledMark, joined)
                .where(*where)
                .order_by(*order)
                .limit(limit)
                .offset(offset)
            )
        ).all()
    items = [
        QueueItem(
            kind,
            row_id,
            channel,
            text,
            tuple(h for h in str(extra).split(",") if h) if kind == "help" else (),
            aware(created),
            mark.by if mark else None,
            aware(mark.at) if mark else None,
            mark.note if mark else "",
        )
        for row_id, channel, text, created, extra, mark in rows
    ]
    return QueuePage(items, total, unhandled)


async def mark_handled(db: Database, actor: Actor, kind: str, item_id: int, note: str = "") -> None:
    """Mark an item handled (once; a second mark changes nothing)."""
    require_order(actor, "dispatch")
    table = _table(kind)
    try:
        async with db.session() as session:
            if await session.get(table, item_id) is None:
                raise NotFound(f"没有这条{KINDS[kind]}：{item_id}")
            note = redact(note.strip())[:200]
            session.add(
                HandledMark(kind=kind, item_id=item_id, by=actor.name, note=note, at=utcnow())
            )
            record(session, actor.name, "handled", f"{kind}:{item_id}", note=note)
    except IntegrityError:
        return  # someone else marked it first
