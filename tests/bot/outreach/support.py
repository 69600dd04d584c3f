"""What the outreach tests share: subscribers, an alert sent now, a settable clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.outreach import alerts
from bot.outreach.commands import FRAUD
from bot.outreach.subscriptions import subscribe
from bot.storage.db import Database
from bot.storage.models import OutreachRecipient

CHINA = timezone(timedelta(hours=8))
# 10:00 in Liangping: outside quiet hours.
MORNING = datetime(2026, 12, 7, 10, 0, tzinfo=CHINA).astimezone(timezone.utc)


class Clock:
    def __init__(self, now: datetime = MORNING) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def subscribers(
    db: Database, channel: str, users: list[str], kind: str = FRAUD, crop: str = "", **seen
) -> None:
    """Subscribe ``users``; ``seen`` (a datetime) sets when they last wrote."""
    for user in users:
        await subscribe(db, channel, user, kind, crop)
    if "last_inbound_at" in seen:
        from sqlalchemy import update

        async with db.session() as session:
            await session.execute(
                update(OutreachRecipient)
                .where(OutreachRecipient.recipient.in_(users))
                .values(last_inbound_at=seen["last_inbound_at"])
            )


async def scheduled_alert(
    db: Database,
    send_at: datetime,
    text: str = "最近有人冒充快递客服说要理赔，叫您开屏幕共享，千万别开。",
    **options,
) -> int:
    kind = options.pop("kind", FRAUD)
    alert_id = await alerts.draft(db, author="expert", kind=kind, text=text, **options)
    await alerts.approve(db, alert_id, "admin")
    await alerts.schedule(db, alert_id, send_at=send_at)
    return alert_id


class Writes:
    """Counts the write transactions committed on ``db``'s engine: a commit after at
    least one INSERT, UPDATE or DELETE (a read-only session's commit is not counted)."""

    def __init__(self, db: Database) -> None:
        from sqlalchemy import event

        self.count = 0
        self.engine = db.engine.sync_engine
        self._listeners = (
            ("before_cursor_execute", self._statement),
            ("commit", self._commit),
            ("rollback", self._rollback),
        )
        for name, listener in self._listeners:
            event.listen(self.engine, name, listener)

    def close(self) -> None:
        from sqlalchemy import event

        for name, listener in self._listeners:
            event.remove(self.engine, name, listener)

    def _statement(self, conn, _cursor, statement: str, *_args) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            conn.info["wrote"] = True

    def _commit(self, conn) -> None:
        if conn.info.pop("wrote", False):
            self.count += 1

    def _rollback(self, conn) -> None:
        conn.info.pop("wrote", None)
