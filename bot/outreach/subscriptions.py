"""Who asked for which reminders (opt-in only), kept by channel and the channel's user
id, the id the outbox and the rumour report-back keep too. Nothing else about the
person is stored: no phone number, no name.

Subscribing twice is harmless (one row per person, kind and crop). "退订" deletes
every subscription and cancels every alert not yet sent to the person, so nothing
reaches them after they said stop, and their user id is erased from the row (which
the alerts' figures still count).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outreach.commands import FARM
from bot.storage.db import Database
from bot.storage.models import (
    OutreachAlert,
    OutreachDelivery,
    OutreachRecipient,
    OutreachSubscription,
    utcnow,
)

# Deliveries not yet sent: stopped by an unsubscription.
NOT_SENT = ("pending", "claimed", "held")


@dataclass(frozen=True)
class Subscription:
    """One kind a person subscribes to; ``crop`` only for 农事, else ""."""

    kind: str
    crop: str = ""


async def _recipient_id(session: AsyncSession, channel: str, recipient: str) -> int | None:
    return (
        await session.execute(
            select(OutreachRecipient.id).where(
                OutreachRecipient.channel == channel, OutreachRecipient.recipient == recipient
            )
        )
    ).scalar_one_or_none()


async def _ensure_recipient(db: Database, channel: str, recipient: str) -> int:
    """The person's row, created if new (two concurrent first subscriptions make one)."""
    for _ in range(2):
        async with db.session() as session:
            found = await _recipient_id(session, channel, recipient)
            if found is not None:
                return found
        try:
            async with db.session() as session:
                row = OutreachRecipient(
                    channel=channel, recipient=recipient, last_inbound_at=utcnow()
                )
                session.add(row)
                await session.flush()
                return int(row.id)
        except IntegrityError:
            continue  # another turn created it: read it back
    raise RuntimeError("could not store the subscriber")


async def subscribe(db: Database, channel: str, recipient: str, kind: str, crop: str = "") -> bool:
    """Subscribe; False if the person already had this subscription."""
    crop = crop if kind == FARM else ""
    recipient_id = await _ensure_recipient(db, channel[:32], recipient[:128])
    try:
        async with db.session() as session:
            session.add(OutreachSubscription(recipient_id=recipient_id, kind=kind, crop=crop))
    except IntegrityError:
        return False
    return True


async def subscriptions(db: Database, channel: str, recipient: str) -> list[Subscription]:
    """The person's subscriptions on this channel, oldest first."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(OutreachSubscription.kind, OutreachSubscription.crop)
                .join(OutreachRecipient, OutreachRecipient.id == OutreachSubscription.recipient_id)
                .where(
                    OutreachRecipient.channel == channel[:32],
                    OutreachRecipient.recipient == recipient[:128],
                )
                .order_by(OutreachSubscription.id)
            )
        ).all()
    return [Subscription(kind, crop) for kind, crop in rows]


async def unsubscribe(
    db: Database,
    channel: str,
    recipient: str,
    kind: str | None = None,
    crop: str | None = None,
) -> list[Subscription]:
    """End the person's subscriptions (all of them when ``kind`` is None; every crop of
    a kind when ``crop`` is None); returns the ones ended. Alerts not yet sent to them
    are cancelled when nothing is left, or when they were of the kind ended."""
    async with db.session() as session:
        recipient_id = await _recipient_id(session, channel[:32], recipient[:128])
        if recipient_id is None:
            return []
        where = [OutreachSubscription.recipient_id == recipient_id]
        if kind is not None:
            where.append(OutreachSubscription.kind == kind)
        if crop:
            where.append(OutreachSubscription.crop == crop)
        ended = [
            Subscription(k, c)
            for k, c in (
                await session.execute(
                    select(OutreachSubscription.kind, OutreachSubscription.crop).where(*where)
                )
            ).all()
        ]
        if not ended:
            return []
        await session.execute(delete(OutreachSubscription).where(*where))
        left = (
            await session.execute(
                select(func.count())
                .select_from(OutreachSubscription)
                .where(OutreachSubscription.recipient_id == recipient_id)
            )
        ).scalar_one()
        # Alerts already planned for them: none goes out after "退订". (An alert of
        # another kind they keep stays planned.)
        stopped = select(OutreachAlert.id)
        if left:
            stopped = stopped.where(
                or_(
                    *(
                        and_(OutreachAlert.kind == s.kind, OutreachAlert.crop == s.crop)
                        for s in ended
                    )
                )
            )
        await session.execute(
            update(OutreachDelivery)
            .where(
                OutreachDelivery.recipient_id == recipient_id,
                OutreachDelivery.status.in_(NOT_SENT),
                OutreachDelivery.alert_id.in_(stopped),
            )
            .values(status="cancelled", lease_until=None)
            .execution_options(synchronize_session=False)
        )
        if not left:  # forget who they are; the alerts' figures keep their rows
            await session.execute(
                update(OutreachRecipient)
                .where(OutreachRecipient.id == recipient_id)
                .values(recipient=f"-{recipient_id}", last_inbound_at=None)
                .execution_options(synchronize_session=False)
            )
    return ended
