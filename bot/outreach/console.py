"""Alerts in the console: experts draft them, an admin approves (never their own draft)
and schedules them; every step is in the audit log, in the change's transaction.

The rules of an alert itself (one screen, a served entry, urgent only for 防骗) are
``bot.outreach.alerts``; here are who may do what, the form as typed (redacted: a
personal number never reaches the table), and the listing the pages show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.accounts.access import Actor, require
from bot.accounts.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from bot.outreach import alerts
from bot.outreach.calendar import CALENDAR_AUTHOR
from bot.outreach.commands import CROPS, FARM, KIND_NAMES
from bot.storage.db import Database
from bot.storage.models import CHINA_TIME, OutreachAlert, aware, utcnow
from bot.text.redact import redact

# Drafts written by the service itself, not by a person (anyone but them approves).
SYSTEM_AUTHORS = {CALENDAR_AUTHOR: "农事日历", "digest": "每月流言榜"}
LISTED = 200  # alerts on the listing page, newest first
# A send time this far in the past is a typo, not "now".
PAST_SLACK = timedelta(minutes=10)


@dataclass(frozen=True)
class AlertForm(alerts.Content):
    """The composer's fields as typed, the text redacted."""

    @classmethod
    def parse(cls, form: Mapping[str, Any]) -> AlertForm:
        """The posted form, trimmed and redacted; raises ``InvalidInput`` without a known kind."""
        kind = str(form.get("kind", "")).strip()
        if kind not in KIND_NAMES:
            raise InvalidInput("请选择提醒类型")
        crop = str(form.get("crop", "")).strip() if kind == FARM else ""
        text = redact(str(form.get("text", "")).replace("\r\n", "\n").strip())
        entry_id = str(form.get("entry_id", "")).strip()[:80] or None
        return cls(kind, crop, text, entry_id, str(form.get("urgent", "")) == "1")

    def fields(self) -> dict[str, Any]:
        """The fields as keyword arguments for ``alerts.draft``."""
        return asdict(self)


@dataclass(frozen=True)
class AlertView:
    """An alert as the console's pages show it, its times UTC-aware."""

    id: int
    kind: str
    crop: str
    text: str
    entry_id: str | None
    urgent: bool
    status: str
    author: str
    approver: str | None
    send_at: datetime | None
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    calendar_key: str | None

    @classmethod
    def of(cls, row: OutreachAlert) -> AlertView:
        """From a stored row, SQLite's naive UTC times made aware."""
        return cls(
            row.id,
            row.kind,
            row.crop,
            row.text,
            row.entry_id,
            bool(row.urgent),
            row.status,
            row.author,
            row.approver,
            aware(row.send_at) if row.send_at else None,
            aware(row.expires_at) if row.expires_at else None,
            aware(row.created_at),
            aware(row.updated_at),
            row.calendar_key,
        )

    @property
    def kind_label(self) -> str:
        """The kind in Chinese, with the crop for 农事 ("农事提醒·水稻")."""
        label = KIND_NAMES.get(self.kind, self.kind)
        return f"{label}·{CROPS.get(self.crop, self.crop)}" if self.crop else label

    @property
    def status_label(self) -> str:
        """The status in Chinese ("草稿", "已审核" …)."""
        return alerts.STATUS_NAMES.get(self.status, self.status)

    @property
    def author_label(self) -> str:
        """The author, or what drafted it for a service draft ("农事日历", "每月流言榜")."""
        return SYSTEM_AUTHORS.get(self.author, self.author)

    def message(self, public_url: str = "") -> str:
        """Exactly what a subscriber receives."""
        return alerts.message(
            self.kind, self.crop, self.text, self.entry_id, self.urgent, public_url
        )


def _refused(exc: alerts.AlertError) -> InvalidInput | InvalidTransition:
    text = str(exc)
    return InvalidTransition(text) if "状态" in text else InvalidInput(text)


async def get(db: Database, alert_id: int) -> AlertView:
    async with db.session() as session:
        row = await session.get(OutreachAlert, alert_id)
    if row is None:
        raise NotFound("没有这条提醒")
    return AlertView.of(row)


async def listing(db: Database, statuses: tuple[str, ...] = ()) -> list[AlertView]:
    """The newest ``LISTED`` alerts, newest first; only those in ``statuses`` if given."""
    query = select(OutreachAlert).order_by(OutreachAlert.id.desc()).limit(LISTED)
    if statuses:
        query = query.where(OutreachAlert.status.in_(statuses))
    async with db.session() as session:
        return [AlertView.of(r) for r in (await session.execute(query)).scalars()]


async def compose(db: Database, actor: Actor, form: AlertForm) -> int:
    """Save a draft by an expert or admin; returns its id."""
    require(actor, "draft_alert")
    try:
        return await alerts.draft(db, author=actor.name, by=actor.name, **form.fields())
    except alerts.AlertError as exc:
        raise _refused(exc) from exc


async def revise(db: Database, actor: Actor, alert_id: int, form: AlertForm) -> None:
    """Change a draft, whoever wrote it (experts and admins); the editor may then not approve it."""
    require(actor, "draft_alert")
    await get(db, alert_id)
    try:
        await alerts.revise(db, alert_id, form, by=actor.name)
    except alerts.AlertError as exc:
        raise _refused(exc) from exc


async def approve(db: Database, actor: Actor, alert_id: int) -> None:
    """Four eyes: the admin who approves wrote none of it (drafted or edited)."""
    require(actor, "approve_alert")
    await get(db, alert_id)
    if actor.name in await alerts.writers(db, alert_id):
        raise Forbidden("自己起草或改过的提醒要由另一位管理员审核")
    try:
        await alerts.approve(db, alert_id, actor.name, by=actor.name)
    except alerts.AlertError as exc:
        raise _refused(exc) from exc


def send_time(value: str, now: datetime | None = None) -> datetime:
    """The form's "2026-12-07T10:00" (Beijing time) as a UTC time; empty: now."""
    now = now or utcnow()
    value = value.strip()
    if not value:
        return now
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("发送时间要写成 2026-12-07 10:00 这样") from None
    at = (local if local.tzinfo else local.replace(tzinfo=CHINA_TIME)).astimezone(now.tzinfo)
    if at < now - PAST_SLACK:
        raise InvalidInput("发送时间已经过了；要马上发，请留空")
    return max(at, now)


async def schedule(db: Database, actor: Actor, alert_id: int, when: str) -> datetime:
    """Schedule an approved alert (admins only) at the form's Beijing time; returns it in UTC."""
    require(actor, "approve_alert")
    await get(db, alert_id)
    send_at = send_time(when)
    try:
        await alerts.schedule(db, alert_id, send_at=send_at, by=actor.name)
    except alerts.AlertError as exc:
        raise _refused(exc) from exc
    return send_at


async def cancel(db: Database, actor: Actor, alert_id: int) -> None:
    """An admin stops any alert not yet sent; an expert may drop their own draft."""
    alert = await get(db, alert_id)
    if not (actor.can("approve_alert") or (alert.status == "draft" and alert.author == actor.name)):
        raise Forbidden(f"{actor.role_label}没有这项权限")
    try:
        await alerts.cancel(db, alert_id, by=actor.name)
    except alerts.AlertError as exc:
        raise _refused(exc) from exc
