"""Routes of the statistics (``bot.insights``), and the hourly task that sums
finished days and deletes analytics events past their retention."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.insights.rollup import purge, roll_finished
from bot.insights.segments import keep_finished_months
from bot.insights.stats import LIVE_SECONDS, keep_today_summed
from bot.web import keys
from bot.web.background import background
from bot.web.views import console_gaps, console_stats

log = logging.getLogger(__name__)
MAINTAIN_SECONDS = 3600.0


def setup_stats_routes(app: web.Application) -> None:
    """The console's gaps, drafts and statistics pages, their API, and the summing tasks."""
    add_post = app.router.add_post
    app.router.add_get("/console/gaps", console_gaps.gaps_page, name="console_gaps")
    app.router.add_get("/console/drafts/new", console_gaps.new_draft, name="console_draft_new")
    add_post("/console/drafts", console_gaps.create_draft)
    app.router.add_get(r"/console/drafts/{id:\d+}", console_gaps.draft_page, name="console_draft")
    add_post(r"/console/drafts/{id:\d+}/{action:[a-z]+}", console_gaps.draft_act)
    app.router.add_get("/console/stats", console_stats.stats_page, name="console_stats")
    app.router.add_get("/console/stats/chart.svg", console_stats.stats_chart, name="chart")
    app.router.add_get("/console/stats.csv", console_stats.stats_csv, name="console_stats_csv")
    app.router.add_get("/console/stats/segments", console_stats.segments_page, name="segments")
    app.router.add_get("/console/stats/monthly", console_stats.monthly_report, name="monthly")
    app.router.add_get("/api/v1/stats/summary", console_stats.summary_api, name="api_stats")
    app.router.add_get("/api/v1/gaps", console_stats.gaps_api, name="api_gaps")
    app.cleanup_ctx.append(background(keep_summed))
    app.cleanup_ctx.append(background(keep_today))


async def keep_summed(app: web.Application, every: float = MAINTAIN_SECONDS) -> None:
    """At start and then every hour: finished days summed, finished months'
    segments kept, events past the retention deleted."""
    retention = app[keys.SETTINGS].analytics_retention_days
    db = app[keys.DATABASE]
    while True:
        try:
            await roll_finished(db)
            await keep_finished_months(db)  # before their events can go
            await purge(db, retention)
        except SQLAlchemyError:
            log.exception("analytics: could not sum the finished days; trying again later")
        await asyncio.sleep(every)


async def keep_today(app: web.Application, every: float = LIVE_SECONDS) -> None:
    """Every minute: today's figures summed from its events, off any request."""
    while True:
        try:
            await keep_today_summed(app[keys.DATABASE])
        except SQLAlchemyError:
            log.exception("analytics: could not sum today so far; trying again in a minute")
        await asyncio.sleep(every)
