"""The broadcaster as the web service runs it, beside the verdict pushes: the platforms'
API clients it shares with them, the template from the settings, a graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from bot.channels.wechat.push import Pusher
from bot.outreach.engine import AppRoute, Broadcaster, Route, Template, WeChatRoute
from bot.settings import Settings, SettingsError
from bot.storage.db import Database

STOP_SECONDS = 15.0  # a batch in hand finishes its current send, then stops


def broadcaster_for(settings: Settings, db: Database, pushers: Mapping[str, Pusher]) -> Broadcaster:
    """Routes for the configured platforms; the web chat (and any platform not
    configured) waits for the person's next message."""
    routes: dict[str, Route] = {}
    if "wechat" in pushers:
        try:
            template = Template.parse(
                settings.wechat_alert_template_id,
                settings.wechat_alert_template_fields,
                settings.public_url,
            )
        except ValueError as exc:
            raise SettingsError(f"KEPU_WECHAT_ALERT_TEMPLATE_FIELDS: {exc}") from exc
        routes["wechat"] = WeChatRoute(pushers["wechat"].api, template)
    if "wecom" in pushers:
        routes["wecom"] = AppRoute(pushers["wecom"].api)
    return Broadcaster(db, routes, public_url=settings.public_url)


async def stop(broadcaster: Broadcaster, task: asyncio.Task[None]) -> None:
    """Let the batch in hand end after its current send (what it claimed and did not
    try goes back for the next start), then cancel."""
    broadcaster.stop()
    with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(asyncio.shield(task), STOP_SECONDS)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
