"""Sending through the message API, or keeping the message for later.

Answers that miss the passive reply go out through the platform's message
API. When the platform will not deliver now (WeChat: outside the 48 hours
after the user's last message, or too many messages) or keeps failing, the
rest waits in the outbox and goes out with the reply to the user's next
message: nothing is dropped because a push was impossible.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import SQLAlchemyError

from bot.wechat.api import ApiError, OutsideWindow, PlatformApi
from bot.wechat.messages import pack_texts
from bot.wechat.outbox import Outbox

log = logging.getLogger(__name__)

WECHAT_WINDOW_SECONDS = 48 * 3600.0
_MAX_TRACKED = 50_000


class Pusher:
    """Pushes texts to one platform's users.

    Args:
        api: the platform's message API.
        outbox: where undeliverable texts wait.
        window_seconds: how long after a user's message the platform accepts
            pushes (None: no limit, as for WeCom app messages).
    """

    def __init__(self, api: PlatformApi, outbox: Outbox, window_seconds: float | None) -> None:
        self.api = api
        self.outbox = outbox
        self.window_seconds = window_seconds
        self._last_inbound: dict[str, float] = {}

    def saw(self, recipient: str) -> None:
        """Record that ``recipient`` just wrote: the window is open again."""
        now = time.monotonic()
        if len(self._last_inbound) >= _MAX_TRACKED and self.window_seconds is not None:
            oldest = now - self.window_seconds
            self._last_inbound = {u: t for u, t in self._last_inbound.items() if t > oldest}
        self._last_inbound[recipient] = now

    def window_open(self, recipient: str) -> bool:
        """False only when we know the user's last message is older than the window.

        A user this process has not seen (another process did, or we restarted)
        is tried: the platform then answers with its own verdict (45015).
        """
        if self.window_seconds is None:
            return True
        seen = self._last_inbound.get(recipient)
        return seen is None or time.monotonic() - seen < self.window_seconds

    async def push(self, recipient: str, texts: list[str]) -> int:
        """Send ``texts`` in order; returns how many chat messages went out now."""
        chunks = pack_texts(texts)
        for sent, chunk in enumerate(chunks):
            if not self.window_open(recipient):
                await self._keep(recipient, chunks[sent:], "outside the 48-hour window")
                return sent
            try:
                await self.api.send_text(recipient, chunk)
            except OutsideWindow as exc:
                await self._keep(recipient, chunks[sent:], f"platform refused ({exc.code})")
                return sent
            except ApiError as exc:
                log.warning("message API failed (%s %s)", exc.code, exc.message)
                await self._keep(recipient, chunks[sent:], "message API failed")
                return sent
        return len(chunks)

    async def take_waiting(self, recipient: str) -> list[str]:
        """Texts kept for ``recipient``; none (and they stay kept) if the database is away."""
        try:
            return await self.outbox.take(recipient)
        except (SQLAlchemyError, OSError):
            log.exception("could not read the outbox")
            return []

    async def _keep(self, recipient: str, chunks: list[str], why: str) -> None:
        try:
            await self.outbox.put(recipient, chunks)
        except (SQLAlchemyError, OSError):
            log.exception("could not keep %d undelivered messages (%s)", len(chunks), why)
            return
        log.info("kept %d messages for the user's next message (%s)", len(chunks), why)
