"""Telling people about service orders through WeCom (企业微信), without nagging.

Three kinds of message, each claimed with a conditional UPDATE before it is
sent, so two sweeps (or two web processes) never send one twice:

- **派单**: a volunteer with a WeCom account in their record hears of an order
  assigned to them once, when it is assigned (again only if it is assigned
  anew, after a decline or a recall);
- **提醒**: an order still not accepted ``REMIND_AFTER_HOURS`` after it was
  assigned reminds that volunteer once; never more than one reminder a day
  (``reminded_at``). At ``ACCEPT_TIMEOUT_HOURS`` the order goes back to the
  dispatcher, flagged (``service.expire_overdue``); nobody is reminded again;
- **紧急**: an urgent order (someone in an emergency asked for a person; the
  resident was already told to call 120/110) alerts ``KEPU_WECOM_ALERT_USERS``
  at once.

Messages carry the order's number, service, town and the time the resident
gave, never the resident's phone: that is shown only to the volunteer who
accepts, in the console. Without WeCom nothing is claimed: everything stays
visible in the console's queue, where it always is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from bot.orders import catalogue
from bot.orders.service import ACCEPT_TIMEOUT_HOURS
from bot.orders.states import TERMINAL
from bot.storage.db import Database, rowcount
from bot.storage.models import ServiceOrder, Volunteer, aware, utcnow

log = logging.getLogger(__name__)

REMIND_AFTER_HOURS = 8.0
REMIND_EVERY = timedelta(days=1)
_BATCH = 200


@dataclass(frozen=True)
class Alert:
    kind: str  # assigned | reminder | urgent
    order: str  # D-…
    to: str  # WeCom userids, separated by |
    text: str


def order_link(public_url: str, public_id: str) -> str:
    """The order's console address, or where to find it when no public URL is set."""
    if public_url:
        return f"{public_url.rstrip('/')}/console/orders/{public_id}"
    return "控制台的“服务订单”页面"


def _what(order: ServiceOrder) -> str:
    where = catalogue.district() + order.town + (order.village or "")
    when = f"，方便时间：{order.convenient_time}" if order.convenient_time else ""
    return f"{catalogue.service_label(order.service)}，{where}{when}"


def assigned_text(order: ServiceOrder, public_url: str) -> str:
    return (
        f"【志愿服务·新派单】{order.public_id}：{_what(order)}。\n"
        f"请在 {ACCEPT_TIMEOUT_HOURS} 小时内接单，去不了请点“不能去”并写明原因，"
        f"好派给别人：{order_link(public_url, order.public_id)}"
    )


def reminder_text(order: ServiceOrder, public_url: str, now: datetime) -> str:
    """The one reminder to a volunteer who has not accepted yet, with the hours left."""
    assigned = aware(order.state_at)
    left = max(1, round(ACCEPT_TIMEOUT_HOURS - (now - assigned).total_seconds() / 3600))
    return (
        f"【志愿服务·提醒】{order.public_id}（{_what(order)}）还在等您接单，"
        f"约 {left} 小时后会退回调度员。只提醒这一次：{order_link(public_url, order.public_id)}"
    )


def urgent_text(order: ServiceOrder, public_url: str) -> str:
    return (
        f"【紧急求助单】{order.public_id}：{_what(order)}。"
        "居民在紧急情况下找人，已被告知先打 120/110。"
        f"请马上处理：{order_link(public_url, order.public_id)}"
    )


async def _claim(db: Database, order_id: int, column: str, condition: Any, now: datetime) -> bool:
    """Set ``column`` to ``now`` on the order if ``condition`` still holds (one winner)."""
    async with db.session() as session:
        result = await session.execute(
            update(ServiceOrder)
            .where(ServiceOrder.id == order_id, condition)
            .values({column: now})
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1


async def claim_due(
    db: Database,
    *,
    alert_users: str = "",
    public_url: str = "",
    now: datetime | None = None,
) -> list[Alert]:
    """Every alert now due, each claimed for sending exactly once."""
    now = now or utcnow()
    alerts: list[Alert] = []
    async with db.session() as session:
        assigned = (
            await session.execute(
                select(ServiceOrder, Volunteer.wecom_user)
                .join(Volunteer, Volunteer.id == ServiceOrder.volunteer_id)
                .where(
                    ServiceOrder.state == "assigned",
                    Volunteer.wecom_user.is_not(None),
                    or_(_not_told(), _reminder_due(now)),
                )
                .order_by(ServiceOrder.state_at)
                .limit(_BATCH)
            )
        ).all()
        urgent = []
        if alert_users:
            urgent = (
                (
                    await session.execute(
                        select(ServiceOrder)
                        .where(
                            ServiceOrder.urgent.is_(True),
                            ServiceOrder.alerted_at.is_(None),
                            ServiceOrder.state.not_in(list(TERMINAL)),
                        )
                        .order_by(ServiceOrder.created_at)
                        .limit(_BATCH)
                    )
                )
                .scalars()
                .all()
            )
    for order in urgent:
        if await _claim(db, order.id, "alerted_at", ServiceOrder.alerted_at.is_(None), now):
            text = urgent_text(order, public_url)
            alerts.append(Alert("urgent", order.public_id, alert_users, text))
    for order, wecom_user in assigned:
        alert = await _volunteer_alert(db, order, wecom_user, public_url, now)
        if alert is not None:
            alerts.append(alert)
    return alerts


def _not_told() -> Any:
    """SQL: the volunteer has not been told of this assignment (a new one resets it)."""
    return or_(ServiceOrder.notified_at.is_(None), ServiceOrder.notified_at < ServiceOrder.state_at)


def _reminder_due(now: datetime) -> Any:
    """SQL: assigned ``REMIND_AFTER_HOURS`` ago and not reminded in the last day."""
    return (ServiceOrder.state_at <= now - timedelta(hours=REMIND_AFTER_HOURS)) & or_(
        ServiceOrder.reminded_at.is_(None), ServiceOrder.reminded_at <= now - REMIND_EVERY
    )


async def _volunteer_alert(
    db: Database, order: ServiceOrder, wecom_user: str, public_url: str, now: datetime
) -> Alert | None:
    """The assignment, once per assignment; or else the one reminder (the order was
    selected because one of the two is due; the claim checks it again)."""
    # Claimed only while the order is still in this very assignment.
    still = (ServiceOrder.state == "assigned") & (ServiceOrder.state_at == order.state_at)
    if order.notified_at is None or aware(order.notified_at) < aware(order.state_at):
        if await _claim(db, order.id, "notified_at", _not_told() & still, now):
            return Alert("assigned", order.public_id, wecom_user, assigned_text(order, public_url))
        return None
    if await _claim(db, order.id, "reminded_at", _reminder_due(now) & still, now):
        text = reminder_text(order, public_url, now)
        return Alert("reminder", order.public_id, wecom_user, text)
    return None
