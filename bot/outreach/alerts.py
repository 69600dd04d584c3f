"""Alerts to subscribers: drafted, approved, scheduled, then sent by ``bot.outreach.engine``.

An alert is one screen of text for one kind of subscription (防骗提醒, 农事提醒 for
one crop, 每月流言榜), may point to a knowledge entry, and may be urgent: an urgent
alert says "【紧急】" first and does not count against the weekly cap. Its status
goes draft → approved → scheduled → sending → sent (or cancelled before sending).
``message`` is exactly what a subscriber receives (the console's preview shows it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts.audit import record
from bot.outreach.commands import CROPS, FARM, FRAUD, KIND_NAMES
from bot.storage.db import Database, rowcount
from bot.storage.models import (
    AuditEntry,
    KnowledgeRecord,
    OutreachAlert,
    OutreachDelivery,
    utcnow,
)

# One phone screen at the large font many seniors use: about 12 lines of 16-18 characters.
MAX_ALERT_CHARS = 200
URGENT_MARK = "【紧急】"
STOP_LINE = "不想收了，回复“退订”。"
# Unless the author says otherwise, an alert not delivered within this long after its
# send time is dropped rather than sent late (a reminder for last month helps nobody).
DEFAULT_LIFETIME = timedelta(days=14)


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes."""
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


class AlertError(ValueError):
    """An alert that cannot be saved or moved on as asked; the message says why."""


def heading(kind: str, crop: str = "") -> str:
    """The heading an alert opens with: 【防骗提醒】, or 【农事提醒·<crop>】 for a crop."""
    if kind == FARM and crop:
        return f"【农事提醒·{CROPS.get(crop, crop)}】"
    return f"【{KIND_NAMES.get(kind, kind)}】"


def entry_url(entry_id: str | None, public_url: str) -> str:
    """The entry's public page (``…/k/<id>``); "" without an entry or a public URL."""
    return f"{public_url.rstrip('/')}/k/{entry_id}" if entry_id and public_url else ""


def message(
    kind: str, crop: str, text: str, entry_id: str | None, urgent: bool, public_url: str = ""
) -> str:
    """What a subscriber receives."""
    lines = [(URGENT_MARK if urgent else "") + heading(kind, crop) + text.strip()]
    url = entry_url(entry_id, public_url)
    if url:
        lines.append(f"详细看：{url}")
    lines.append(STOP_LINE)
    return "\n".join(lines)


def alert_message(alert: OutreachAlert, public_url: str = "") -> str:
    """``message`` for a stored alert: exactly what its subscribers receive."""
    return message(alert.kind, alert.crop, alert.text, alert.entry_id, alert.urgent, public_url)


def check(kind: str, crop: str, text: str) -> None:
    """Raise ``AlertError`` for an unknown kind, a crop that does not fit it, or bad text."""
    if kind not in KIND_NAMES:
        raise AlertError(f"未知的提醒类型：{kind}")
    if kind == FARM and crop not in CROPS:
        raise AlertError("农事提醒要选一种作物：" + "、".join(CROPS))
    if kind != FARM and crop:
        raise AlertError("只有农事提醒按作物发")
    if not text.strip():
        raise AlertError("提醒内容不能是空的")
    if len(text.strip()) > MAX_ALERT_CHARS:
        raise AlertError(f"提醒最多 {MAX_ALERT_CHARS} 个字（一屏），现在 {len(text.strip())} 个")


def target(alert_id: int) -> str:
    """The audit log's name for an alert."""
    return f"alert:{alert_id}"


def record_step(
    session: AsyncSession, by: str | None, action: str, alert_id: int, **details: Any
) -> None:
    """An audit entry in the change's own transaction, when a console user made it."""
    if by:
        record(session, by, action, target(alert_id), **details)


async def _entry_served(db: Database, entry_id: str) -> bool:
    async with db.session() as session:
        found = await session.execute(
            select(KnowledgeRecord.id).where(
                KnowledgeRecord.id == entry_id, KnowledgeRecord.retired.is_(False)
            )
        )
        return found.first() is not None


async def draft(
    db: Database,
    *,
    author: str,
    kind: str,
    text: str,
    crop: str = "",
    entry_id: str | None = None,
    urgent: bool = False,
    by: str | None = None,
) -> int:
    """Save a draft; returns its id. The entry it points to must be served. ``by``: the
    console user, for the audit log."""
    await _check_all(db, kind, crop, text, entry_id, urgent)
    async with db.session() as session:
        alert = OutreachAlert(
            kind=kind,
            crop=crop,
            text=text.strip(),
            entry_id=entry_id or None,
            urgent=urgent,
            status="draft",
            author=author,
        )
        session.add(alert)
        await session.flush()
        record_step(session, by, "alert_draft", int(alert.id), kind=kind, crop=crop)
        return int(alert.id)


async def _check_all(
    db: Database, kind: str, crop: str, text: str, entry_id: str | None, urgent: bool
) -> None:
    check(kind, crop, text)
    if urgent and kind != FRAUD:
        raise AlertError("只有防骗提醒可以标紧急")
    if entry_id and not await _entry_served(db, entry_id):
        raise AlertError(f"知识条目 {entry_id} 不存在或已下线")


@dataclass(frozen=True)
class Content:
    """What an alert says and to whom: the part of a draft its author may change."""

    kind: str
    crop: str
    text: str
    entry_id: str | None
    urgent: bool


async def revise(db: Database, alert_id: int, content: Content, by: str | None = None) -> None:
    """Change a draft (only a draft: what was approved is what goes out)."""
    c = content
    await _check_all(db, c.kind, c.crop, c.text, c.entry_id, c.urgent)
    values = {
        "kind": c.kind,
        "crop": c.crop,
        "text": c.text.strip(),
        "entry_id": c.entry_id or None,
    }
    await _move(db, alert_id, ("draft",), ("alert_edit", by, {}), urgent=c.urgent, **values)


# An audit entry of a step: (action, the console user or None, details).
Audit = tuple[str, str | None, dict[str, Any]]

STATUS_NAMES = {
    "draft": "草稿",
    "approved": "已审核",
    "scheduled": "已排期",
    "sending": "发送中",
    "sent": "已发出",
    "cancelled": "已取消",
}


async def _move(
    db: Database,
    alert_id: int,
    from_status: tuple[str, ...],
    audit: Audit | None = None,
    **values: Any,
) -> None:
    async with db.session() as session:
        moved = await session.execute(
            update(OutreachAlert)
            .where(OutreachAlert.id == alert_id, OutreachAlert.status.in_(from_status))
            .values(updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        if rowcount(moved) != 1:
            names = "或".join(STATUS_NAMES.get(s, s) for s in from_status)
            raise AlertError(f"提醒 {alert_id} 不是{names}状态，不能这样改")
        if audit is not None:
            action, by, details = audit
            record_step(session, by, action, alert_id, **details)


async def writers(db: Database, alert_id: int) -> set[str]:
    """Who wrote the alert's text: its author and every console user who edited it."""
    async with db.session() as session:
        author = await session.scalar(
            select(OutreachAlert.author).where(OutreachAlert.id == alert_id)
        )
        edited = await session.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.target == target(alert_id), AuditEntry.action == "alert_edit"
            )
        )
        return {*edited, *([author] if author else [])}


async def approve(db: Database, alert_id: int, approver: str, by: str | None = None) -> None:
    """Move a draft to approved; the four-eyes rule is the caller's (``console.approve``)."""
    audit: Audit = ("alert_approve", by, {})
    await _move(db, alert_id, ("draft",), audit, status="approved", approver=approver)


async def schedule(
    db: Database,
    alert_id: int,
    send_at: datetime | None = None,
    expires_at: datetime | None = None,
    by: str | None = None,
) -> None:
    """Send an approved alert at ``send_at`` (now if None; quiet hours still apply).
    It is dropped if not delivered by ``expires_at``: by default the end of a seasonal
    reminder's window, else ``DEFAULT_LIFETIME`` after ``send_at``."""
    send_at = send_at or utcnow()
    if expires_at is None:
        async with db.session() as session:
            alert = await session.get(OutreachAlert, alert_id)
            kept = alert.expires_at if alert is not None else None
        if kept is not None and _aware(kept) > send_at:
            expires_at = _aware(kept)
    expires_at = expires_at or send_at + DEFAULT_LIFETIME
    await _move(
        db,
        alert_id,
        ("approved",),
        ("alert_schedule", by, {"send_at": send_at.isoformat()}),
        status="scheduled",
        send_at=send_at,
        expires_at=expires_at,
    )


async def cancel(db: Database, alert_id: int, by: str | None = None) -> None:
    """Stop an alert: a draft or scheduled one never goes out; one being sent stops
    where it is (those who have it keep it)."""
    await _move(
        db,
        alert_id,
        ("draft", "approved", "scheduled", "sending"),
        ("alert_cancel", by, {}),
        status="cancelled",
    )
    async with db.session() as session:
        await session.execute(
            update(OutreachDelivery)
            .where(
                OutreachDelivery.alert_id == alert_id,
                OutreachDelivery.status.in_(("pending", "claimed", "held")),
            )
            .values(status="cancelled", lease_until=None)
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class Figures:
    """How an alert went: people planned, by outcome and route, and who read it."""

    planned: int
    by_status: dict[str, int]
    by_route: dict[str, int]  # reached, by how: custom | template | app | next_message
    reached: int  # sent through the platform, or handed over with a reply
    read: int  # of those reached, people who wrote to us after it reached them

    @property
    def in_doubt(self) -> int:
        """Sends a stopped worker may or may not have finished."""
        return self.by_status.get("unknown", 0)

    @property
    def waiting(self) -> int:
        """Not reached yet: still to send, or kept for the person's next message."""
        return sum(self.by_status.get(s, 0) for s in ("pending", "claimed", "sending", "held"))


NO_FIGURES = Figures(0, {}, {}, 0, 0)


async def figures(db: Database, alert_id: int) -> Figures:
    """One alert's ``Figures``; all zero before it has deliveries."""
    return (await figures_of(db, [alert_id])).get(alert_id, NO_FIGURES)


async def figures_of(db: Database, alert_ids: list[int]) -> dict[int, Figures]:
    """``Figures`` of several alerts in one query (alerts without deliveries left out)."""
    if not alert_ids:
        return {}
    async with db.session() as session:
        rows = (
            await session.execute(
                select(
                    OutreachDelivery.alert_id,
                    OutreachDelivery.status,
                    OutreachDelivery.route,
                    func.count(),
                    func.count(OutreachDelivery.read_at),
                )
                .where(OutreachDelivery.alert_id.in_(alert_ids))
                .group_by(
                    OutreachDelivery.alert_id, OutreachDelivery.status, OutreachDelivery.route
                )
            )
        ).all()
    grouped: dict[int, list[tuple[str, str | None, int, int]]] = {}
    for alert_id, status, route, count, read_count in rows:
        grouped.setdefault(alert_id, []).append((status, route, count, read_count))
    return {alert_id: _figures(found) for alert_id, found in grouped.items()}


def _figures(rows: list[tuple[str, str | None, int, int]]) -> Figures:
    by_status: dict[str, int] = {}
    by_route: dict[str, int] = {}
    reached = read = 0
    for status, route, count, read_count in rows:
        by_status[status] = by_status.get(status, 0) + count
        if status in ("sent", "delivered"):
            reached += count
            read += read_count
            by_route[route or ""] = by_route.get(route or "", 0) + count
    return Figures(sum(by_status.values()), by_status, by_route, reached, read)
