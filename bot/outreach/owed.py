"""Alerts handed over with the reply to a subscriber's next message.

The channels call ``owed_alerts`` on every message (next to the rumour verdicts and
order notices they already hand over): it notes that the person wrote (WeChat's
48-hour window is open again, for every process), counts alerts that reached them
earlier as read, and claims the alerts held for them (outside the window without a
template, or the web chat), each with a conditional UPDATE so two concurrent turns
never both say it. Never raises: a database away leaves everything owed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from bot.outreach.alerts import alert_message
from bot.storage.db import Database, rowcount
from bot.storage.models import OutreachAlert, OutreachDelivery, OutreachRecipient, utcnow

log = logging.getLogger(__name__)
WEB_CHANNELS = ("rest", "webchat")


async def take_held(db: Database, channels: Collection[str], recipient: str) -> list[str]:
    """Note the person wrote, mark what reached them read, and claim their held alerts' texts."""
    now = utcnow()
    public_url = os.environ.get("KEPU_PUBLIC_URL", "")
    async with db.session() as session:
        ids = list(
            (
                await session.execute(
                    select(OutreachRecipient.id).where(
                        OutreachRecipient.channel.in_(list(channels)),
                        OutreachRecipient.recipient == recipient[:128],
                    )
                )
            ).scalars()
        )
        if not ids:
            return []
        await session.execute(
            update(OutreachRecipient)
            .where(OutreachRecipient.id.in_(ids))
            .values(last_inbound_at=now)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(OutreachDelivery)
            .where(
                OutreachDelivery.recipient_id.in_(ids),
                OutreachDelivery.status == "sent",
                OutreachDelivery.read_at.is_(None),
            )
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        rows = (
            await session.execute(
                select(OutreachDelivery.id, OutreachAlert)
                .join(OutreachAlert, OutreachAlert.id == OutreachDelivery.alert_id)
                .where(OutreachDelivery.recipient_id.in_(ids), OutreachDelivery.status == "held")
                .order_by(OutreachDelivery.id)
            )
        ).all()
        texts = []
        for delivery_id, alert in rows:
            claimed = await session.execute(
                update(OutreachDelivery)
                .where(OutreachDelivery.id == delivery_id, OutreachDelivery.status == "held")
                .values(status="delivered", sent_at=now, read_at=now)
                .execution_options(synchronize_session=False)
            )
            if rowcount(claimed) == 1:
                texts.append(alert_message(alert, public_url))
    return texts


async def owed_alerts(db: Database, channels: Collection[str], recipient: str) -> list[str]:
    """``take_held``, and nothing (the alerts stay held) if the database is away."""
    try:
        return await take_held(db, channels, recipient)
    except (SQLAlchemyError, OSError):
        log.exception("could not read the alerts owed to a subscriber")
        return []
