"""App factory: ``create_app(settings)`` builds the whole web service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web, web_response

from bot.fraud.checker import FraudChecker
from bot.knowledge.dense import DenseEncoder
from bot.knowledge.service import KnowledgeService
from bot.net.proxies import real_client
from bot.net.ratelimit import ChatLimits, RateLimiter
from bot.outreach.service import broadcaster_for
from bot.outreach.service import run as run_outreach
from bot.outreach.service import stop as stop_outreach
from bot.rumors.retention import sweep
from bot.settings import Settings
from bot.storage.db import Database
from bot.web import keys
from bot.web.auth import console_auth
from bot.web.background import background
from bot.web.login_throttle import LoginThrottle
from bot.web.middlewares import SERVER, domain_errors, error_middleware, security_headers
from bot.web.order_routes import setup_order_routes
from bot.web.outreach_routes import setup_outreach_routes
from bot.web.pushing import OrderAlerts, VerdictPushes, platform_pushers
from bot.web.routes import setup_routes
from bot.web.stats_routes import setup_stats_routes
from bot.web.views.console_common import local_time

HERE = Path(__file__).parent


async def _database(app: web.Application) -> AsyncIterator[None]:
    # Closed below: SQLite's connections can be kept between requests.
    db = Database(app[keys.SETTINGS].database_url, keep_connections=True)
    try:
        await db.migrate()
        app[keys.DATABASE] = db
        yield
    finally:
        await db.close()


async def _retention(app: web.Application) -> None:
    await sweep(app[keys.DATABASE], app[keys.SETTINGS].report_retention_days)


async def _knowledge(app: web.Application) -> AsyncIterator[None]:
    if keys.KNOWLEDGE not in app:  # tests may hand in their own
        settings = app[keys.SETTINGS]
        encoder = DenseEncoder(settings.vector_cache)
        service = KnowledgeService(settings.knowledge_dir, encoder, app[keys.DATABASE])
        await service.refresh(force=True)
        app[keys.KNOWLEDGE] = service
    yield


async def _verdict_pushes(app: web.Application) -> AsyncIterator[None]:
    db, settings = app[keys.DATABASE], app[keys.SETTINGS]
    pushes = VerdictPushes(db, platform_pushers(settings, db))
    alerts = OrderAlerts(db, settings, pushes.pushers)
    app[keys.VERDICT_PUSHES] = pushes
    app[keys.ORDER_ALERTS] = alerts
    tasks = [asyncio.create_task(pushes.run())] if pushes.pushers else []
    if alerts.pusher is not None:
        tasks.append(asyncio.create_task(alerts.run()))
    outreach = broadcaster_for(settings, db, pushes.pushers)  # subscribed alerts (issue 22)
    app[keys.OUTREACH] = outreach
    outreach_task = asyncio.create_task(run_outreach(outreach, settings.knowledge_dir))
    yield
    await stop_outreach(outreach, outreach_task)
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await pushes.close()


async def _fraud(app: web.Application) -> AsyncIterator[None]:
    if keys.FRAUD not in app:
        settings = app[keys.SETTINGS]
        app[keys.FRAUD] = await asyncio.to_thread(FraudChecker, cache_dir=settings.cache_dir)
    yield


async def _rasa_http(app: web.Application) -> AsyncIterator[None]:
    # Rasa answers a turn in well under a second; 30 s covers a cold model.
    timeout = aiohttp.ClientTimeout(total=30, connect=3)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        app[keys.RASA_HTTP] = session
        yield


def create_app(
    settings: Settings,
    *,
    knowledge: KnowledgeService | None = None,
    fraud: FraudChecker | None = None,
) -> web.Application:
    """The whole web service. ``knowledge`` and ``fraud`` replace the default services."""
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        # real_client first: every limiter and log line below sees the real address.
        middlewares=[
            real_client(settings.proxy_networks),
            error_middleware,
            domain_errors,
            console_auth,
        ],
    )
    # aiohttp 3.9 types its signals for aiosignal < 1.4, whose Signal took no ParamSpec.
    app.on_response_prepare.append(security_headers)  # type: ignore[arg-type]
    # aiohttp's own 400s for malformed requests never reach the app's signals: they
    # would still name aiohttp and Python with their versions.
    web_response.SERVER_SOFTWARE = SERVER
    app[keys.SETTINGS] = settings
    app[keys.RATE_LIMITER] = RateLimiter(settings.api_rate_per_minute)
    app[keys.CHAT_LIMITS] = ChatLimits(settings.chat_rate_per_sender, settings.chat_rate_per_client)
    # Password guessing: per address and per account (bot/web/login_throttle.py).
    app[keys.LOGIN_THROTTLE] = LoginThrottle()
    if knowledge is not None:
        app[keys.KNOWLEDGE] = knowledge
    if fraud is not None:
        app[keys.FRAUD] = fraud
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        filters={"when": local_time},
    )
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_verdict_pushes)
    app.cleanup_ctx.append(background(_retention))
    app.cleanup_ctx.append(_knowledge)
    app.cleanup_ctx.append(_fraud)
    app.cleanup_ctx.append(_rasa_http)
    setup_routes(app, HERE / "static")
    setup_order_routes(app)  # service orders and help queues (bot/web/order_routes.py)
    setup_stats_routes(app)  # the 统计 page and /api/v1/stats (bot/web/stats_routes.py)
    setup_outreach_routes(app)  # 提醒: compose, approve, preview, figures (issue 22)
    return app
