"""What a resident is owed about their orders, handed over with the reply to their
next message (like rumour verdicts, ``bot.rumors.delivery``): who is coming and
the 上门核验码 once a volunteer accepts, the reason when an order is cancelled,
and one rating question after the service.

Each notice is claimed with a conditional UPDATE before it is said, so two
concurrent turns never both say it.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from bot.orders import catalogue
from bot.storage.db import Database, rowcount
from bot.storage.models import ServiceOrder, Volunteer, utcnow

log = logging.getLogger(__name__)

# resident_notice value -> what it becomes once said
NEXT = {"accepted": None, "cancelled": None, "rate": "asked"}
RATING_QUESTION = (
    "请给这次服务打个分：回复 1 到 5（5 最好），"
    "后面可以接着说说哪里好、哪里不够，比如“5 很耐心”。"
)


def accepted_message(public_id: str, service: str, volunteer: Volunteer, code: str) -> str:
    return (
        f"您的预约 {public_id}（{catalogue.service_label(service)}）有志愿者接单了：\n"
        f"志愿者：{volunteer.name}，志愿者编号 {volunteer.code}\n"
        f"上门核验码：{code}\n"
        "志愿者上门时，请让他说出这 4 位核验码，对上了再开门；对不上不要开门，"
        "打 110 或告诉村里。服务做完，志愿者也要向您核对这个码。"
    )


def cancelled_message(public_id: str, reason: str | None) -> str:
    why = f"：{reason}" if reason else "。"
    return f"您的预约 {public_id} 已取消{why}\n还需要帮忙，可以回复 7 重新预约。"


def rate_message(public_id: str) -> str:
    return f"您的预约 {public_id} 已经服务完成。{RATING_QUESTION}"


async def take_notices(db: Database, recipient: str) -> list[str]:
    """Notices now due to ``recipient``, each claimed for saying exactly once."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(ServiceOrder, Volunteer)
                .outerjoin(Volunteer, Volunteer.id == ServiceOrder.volunteer_id)
                .where(
                    ServiceOrder.recipient == recipient,
                    ServiceOrder.resident_notice.in_(list(NEXT)),
                )
                .order_by(ServiceOrder.id)
            )
        ).all()
        out: list[str] = []
        for order, volunteer in rows:
            notice = order.resident_notice
            claimed = await session.execute(
                update(ServiceOrder)
                .where(ServiceOrder.id == order.id, ServiceOrder.resident_notice == notice)
                .values(
                    resident_notice=NEXT[notice],
                    # Nothing more to tell after a cancellation: forget who they are.
                    recipient=None if notice == "cancelled" else ServiceOrder.recipient,
                    updated_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
            if rowcount(claimed) != 1:
                continue
            if notice == "accepted" and volunteer is not None and order.verify_code:
                out.append(
                    accepted_message(order.public_id, order.service, volunteer, order.verify_code)
                )
            elif notice == "cancelled":
                out.append(cancelled_message(order.public_id, order.reason))
            elif notice == "rate":
                out.append(rate_message(order.public_id))
    return out


async def owed_notices(db: Database, recipient: str) -> list[str]:
    """What the channels append to the reply to ``recipient``'s message, next to the
    rumour verdicts (``take_due``): ``take_notices``, and nothing (the notices stay
    owed) if the database is away. Never raises."""
    try:
        return await take_notices(db, recipient)
    except (SQLAlchemyError, OSError):
        log.exception("could not read the order notices owed to a sender")
        return []
