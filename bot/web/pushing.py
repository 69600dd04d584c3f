"""Verdicts pushed the moment they are published, where the channel can write first;
service-order alerts to volunteers and admins through WeCom (``bot.orders.alerts``).

Publishing makes every reporter's verdict due. WeChat (within its 48-hour
window) and WeCom can take a message we start; this task pushes those as soon
as the console kicks it, and sweeps every minute for any left due. What the
platform refuses waits in that channel's outbox and goes out with the reply to
the user's next message; the web chat cannot be written to first, so its
verdicts always wait for the next message (``bot.rumors.delivery.take_due``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError

from bot.orders.alerts import claim_due
from bot.rumors.delivery import claim_due_for_channels
from bot.settings import Settings
from bot.storage.db import Database
from bot.wechat.api import PlatformApi, RetryPolicy, WeChatApi, WeComApi
from bot.wechat.outbox import Outbox
from bot.wechat.push import WECHAT_WINDOW_SECONDS, Pusher

log = logging.getLogger(__name__)
SWEEP_SECONDS = 60.0
# Urgent orders are placed by the action server: the web service finds them here.
ORDER_SWEEP_SECONDS = 20.0


async def _sweep(
    wake: asyncio.Event, seconds: float, once: Callable[[], Awaitable[int]], what: str
) -> None:
    """Run ``once`` when ``wake`` is set, and every ``seconds`` in any case."""
    while True:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(wake.wait(), seconds)
        wake.clear()
        try:
            await once()
        except SQLAlchemyError:
            log.exception("could not read %s; trying again at the next sweep", what)


def platform_pushers(settings: Settings, db: Database) -> dict[str, Pusher]:
    """A pusher for each messaging platform that is configured."""
    pushers: dict[str, Pusher] = {}
    api: PlatformApi
    if settings.wechat_token:
        api = WeChatApi(
            settings.wechat_api_base,
            settings.wechat_appid,
            settings.wechat_appsecret,
            RetryPolicy(),
        )
        pushers["wechat"] = Pusher(api, Outbox(db, "wechat"), WECHAT_WINDOW_SECONDS)
    if settings.wecom_token:
        agent_id = int(settings.wecom_agent_id)
        api = WeComApi(
            settings.wecom_api_base, settings.wecom_corp_id, settings.wecom_secret, agent_id
        )
        pushers["wecom"] = Pusher(api, Outbox(db, "wecom"), None)
    return pushers


class VerdictPushes:
    """Pushes due verdicts to reporters on WeChat and WeCom: when kicked, and every minute."""

    def __init__(self, db: Database, pushers: dict[str, Pusher]) -> None:
        self.db = db
        self.pushers = pushers
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """Something was published: push now rather than at the next sweep."""
        self._wake.set()

    async def push_once(self) -> int:
        """Push every due verdict; returns how many went out now."""
        sent = 0
        for channel, recipient, message in await claim_due_for_channels(self.db, self.pushers):
            sent += await self.pushers[channel].push(recipient, [message]) > 0
        return sent

    async def run(self) -> None:
        """Push when kicked and every ``SWEEP_SECONDS`` until cancelled."""
        await _sweep(self._wake, SWEEP_SECONDS, self.push_once, "the verdicts due")

    async def close(self) -> None:
        """Close every platform API's HTTP session (``OrderAlerts`` shares them)."""
        for pusher in self.pushers.values():
            await pusher.api.close()


class OrderAlerts:
    """Sends the service-order alerts that are due through WeCom: at once when the
    console or the API kicks it (an order assigned), and every ``ORDER_SWEEP_SECONDS``
    for urgent orders from the chat and for reminders."""

    def __init__(self, db: Database, settings: Settings, pushers: dict[str, Pusher]) -> None:
        self.db = db
        self.settings = settings
        self.pusher = pushers.get("wecom")
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """An order was assigned: send its alerts now rather than at the next sweep."""
        self._wake.set()

    async def push_once(self) -> int:
        """Send every alert now due; returns how many went out now."""
        if self.pusher is None:
            return 0
        due = await claim_due(
            self.db,
            alert_users=self.settings.wecom_alert_users,
            public_url=self.settings.public_url,
        )
        sent = 0
        for alert in due:
            delivered = await self.pusher.push(alert.to, [alert.text]) > 0
            sent += delivered
            outcome = "sent" if delivered else "kept for later"
            log.info("order %s: %s alert %s", alert.order, alert.kind, outcome)
        return sent

    async def run(self) -> None:
        """Send when kicked and every ``ORDER_SWEEP_SECONDS`` until cancelled."""
        await _sweep(self._wake, ORDER_SWEEP_SECONDS, self.push_once, "the order alerts due")
