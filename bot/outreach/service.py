"""The broadcaster as the web service runs it, beside the verdict pushes: the platforms'
API clients it shares with them, the template from the settings, a graceful stop; the
seasonal reminders and the monthly digest drafted for approval on the way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.knowledge.loader import load_entries
from bot.outreach import digest
from bot.outreach.calendar import CalendarError, draft_due, load_calendar
from bot.outreach.engine import AppRoute, Broadcaster, Policy, Route, Template, WeChatRoute
from bot.settings import Settings, SettingsError
from bot.storage.db import Database
from bot.storage.models import utcnow
from bot.wechat.push import Pusher

log = logging.getLogger(__name__)

STOP_SECONDS = 15.0  # a batch in hand finishes its current send, then stops
JOURNAL_DIR = "outreach-journal"  # <var>/outreach-journal/: the broadcasters' journals
CALENDAR_SECONDS = 6 * 3600.0  # how often the seasonal calendar is looked at


def template_for(settings: Settings) -> Template | None:
    """The WeChat template message for alerts outside the 48-hour window, if one is
    configured; ValueError if its fields do not parse."""
    return Template.parse(
        settings.wechat_alert_template_id,
        settings.wechat_alert_template_fields,
        settings.public_url,
    )


def broadcaster_for(settings: Settings, db: Database, pushers: Mapping[str, Pusher]) -> Broadcaster:
    """Routes for the configured platforms; the web chat (and any platform not
    configured) waits for the person's next message. Its journal is in
    ``<var>/outreach-journal/``, shared with the other processes of this host."""
    routes: dict[str, Route] = {}
    if "wechat" in pushers:
        try:
            template = template_for(settings)
        except ValueError as exc:
            raise SettingsError(f"KEPU_WECHAT_ALERT_TEMPLATE_FIELDS: {exc}") from exc
        routes["wechat"] = WeChatRoute(pushers["wechat"].api, template)
    if "wecom" in pushers:
        routes["wecom"] = AppRoute(pushers["wecom"].api)
    quiet = settings.quiet_hours()
    hours = quiet or (0, 0)  # the same hour twice: no quiet hours
    policy = Policy(*hours, cpu_share=settings.outreach_cpu_share)
    return Broadcaster(
        db,
        routes,
        policy=policy,
        public_url=settings.public_url,
        journal=settings.var_dir / JOURNAL_DIR,
    )


async def draft_seasonal(db: Database, knowledge_dir: Path) -> list[int]:
    """Draft the seasonal reminders now due (``bot.outreach.calendar``) for the experts.
    A calendar that does not check out against the knowledge base drafts nothing and
    says why in the log; it never stops the service."""
    loaded = await asyncio.to_thread(load_entries, knowledge_dir)
    try:
        reminders = load_calendar({e.id: e for e in loaded.entries})
    except CalendarError as exc:
        log.error("seasonal calendar not used: %s", exc)
        return []
    drafted = await draft_due(db, reminders, utcnow())
    if drafted:
        log.info("seasonal reminders drafted for approval: %s", drafted)
    return drafted


async def run(broadcaster: Broadcaster, knowledge_dir: Path, calendar_after: float = 60.0) -> None:
    """The broadcaster, and the seasonal calendar and the monthly digest looked at
    ``calendar_after`` seconds after the start (not while the service is starting) and
    every ``CALENDAR_SECONDS``."""

    async def calendar() -> None:
        await asyncio.sleep(calendar_after)
        while True:
            try:
                await draft_seasonal(broadcaster.db, knowledge_dir)
            except (SQLAlchemyError, OSError):
                log.exception("could not draft the seasonal reminders")
            try:
                await digest.draft_due(broadcaster.db, utcnow())
            except SQLAlchemyError:
                log.exception("could not draft the monthly digest")
            await asyncio.sleep(CALENDAR_SECONDS)

    seasonal = asyncio.create_task(calendar())
    try:
        await broadcaster.run()
    finally:
        seasonal.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await seasonal


async def stop(broadcaster: Broadcaster, task: asyncio.Task[None]) -> None:
    """Let the batch in hand end after its current send (what it claimed and did not
    try goes back for the next start), then cancel."""
    broadcaster.stop()
    with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(asyncio.shield(task), STOP_SECONDS)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
