"""Messages waiting for their recipient's next message.

WeChat lets an account write to a user only within 48 hours of the user's
last message (and only so many times). What cannot be pushed now waits here,
and goes out with the reply to the user's next message. Rows older than
``KEEP_DAYS`` are dropped: a month-old answer helps nobody.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select

from bot.storage.db import Database, rowcount
from bot.storage.models import ChannelOutbox

KEEP_DAYS = 30


class Outbox:
    def __init__(self, db: Database, channel: str) -> None:
        self.db = db
        self.channel = channel

    async def put(self, recipient: str, texts: list[str]) -> None:
        async with self.db.session() as session:
            session.add_all(
                ChannelOutbox(channel=self.channel, recipient=recipient, text=text)
                for text in texts
            )

    async def take(self, recipient: str) -> list[str]:
        """What waits for ``recipient``, oldest first; each row is handed out once."""
        cutoff = datetime.now(timezone.utc) - timedelta(days=KEEP_DAYS)
        async with self.db.session() as session:
            await session.execute(delete(ChannelOutbox).where(ChannelOutbox.created_at < cutoff))
            rows = (
                await session.execute(
                    select(ChannelOutbox.id, ChannelOutbox.text)
                    .where(
                        ChannelOutbox.channel == self.channel,
                        ChannelOutbox.recipient == recipient,
                    )
                    .order_by(ChannelOutbox.id)
                )
            ).all()
            texts = []
            for row_id, text in rows:
                # Only the turn whose DELETE removes the row hands it out.
                taken = await session.execute(
                    delete(ChannelOutbox).where(ChannelOutbox.id == row_id)
                )
                if rowcount(taken) == 1:
                    texts.append(text)
        return texts
