"""Routes of service orders and the help queues, and the sweep that sends orders
not accepted in time back to the dispatcher (``bot.orders``)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.orders.service import expire_overdue
from bot.web import keys
from bot.web.background import background
from bot.web.views import console_orders, orders_api

log = logging.getLogger(__name__)
ORDER_ID = r"{id:D-[A-Z2-7]{8}}"
SWEEP_SECONDS = 600.0


def setup_order_routes(app: web.Application) -> None:
    """Orders, volunteers and help queues (console and /api/v1), and the overdue sweep."""
    add_get, add_post = app.router.add_get, app.router.add_post
    add_get("/console/orders", console_orders.orders_queue, name="console_orders")
    add_get(f"/console/orders/{ORDER_ID}", console_orders.order_page, name="console_order")
    add_post(f"/console/orders/{ORDER_ID}/{{action:[a-z]+}}", console_orders.order_act)
    add_get("/console/volunteers", console_orders.volunteers_page, name="console_volunteers")
    add_post("/console/volunteers", console_orders.volunteer_add)
    add_post("/console/volunteers/verify", console_orders.volunteer_verify)
    add_get("/console/help", console_orders.help_page, name="console_help")
    add_post(r"/console/help/{kind:[a-z]+}/{item:\d+}/handled", console_orders.help_handled)
    add_get("/api/v1/orders", orders_api.list_orders, name="api_orders")
    add_get(f"/api/v1/orders/{ORDER_ID}", orders_api.get_order, name="api_order")
    add_post(f"/api/v1/orders/{ORDER_ID}/{{action:[a-z]+}}", orders_api.act)
    add_get("/api/v1/help-requests", orders_api.list_help_requests, name="api_help_requests")
    app.cleanup_ctx.append(background(sweep_overdue))


async def sweep_overdue(app: web.Application) -> None:
    """Every ten minutes: orders dispatched 24 h ago and not accepted go back, flagged."""
    while True:
        try:
            expired = await expire_overdue(app[keys.DATABASE])
            if expired:
                log.info("%d orders went back to the dispatcher unaccepted", len(expired))
        except SQLAlchemyError:
            log.exception("could not sweep overdue orders; trying again later")
        await asyncio.sleep(SWEEP_SECONDS)
