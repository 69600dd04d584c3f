"""JSON API of service orders and the help queue (``Authorization: Bearer <token>``).

Dispatchers (moderators, admins) read every order and review, assign, recall
and cancel; a volunteer's token reads only the orders dispatched to them and
accepts, declines, starts, completes (with the resident's 核验码) or reports
that an order cannot be done. Phone numbers are redacted except for the
volunteer serving the order.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.accounts.errors import InvalidInput
from bot.orders import help_queue, service
from bot.orders.service import OrderView
from bot.web import keys
from bot.web.auth import api_actor, bearer_required
from bot.web.views.claims_api import _body
from bot.web.views.console_common import page_limit, to_int

DEFAULT_LIMIT = 100
# POST /api/v1/orders/{id}/{action}
API_ACTIONS = (
    "approve",
    "assign",
    "recall",
    "accept",
    "take",
    "decline",
    "start",
    "complete",
    "fail",
    "cancel",
)


def order_json(order: OrderView) -> dict[str, Any]:
    """An order as the API gives it; ``phone`` masked unless the caller is its volunteer."""
    volunteer = order.volunteer
    return {
        "id": order.id,
        "state": order.state,
        "state_label": order.state_label,
        "service": order.service,
        "service_label": order.service_label,
        "town": order.town,
        "village": order.village,
        "convenient_time": order.convenient_time,
        "note": order.note,
        "urgent": order.urgent,
        "flagged": order.flagged,
        "reason": order.reason,
        "phone": order.phone,
        "created_at": order.created_at.isoformat(),
        "state_at": order.state_at.isoformat(),
        "entered": order.entered,
        "volunteer": (
            {"code": volunteer.code, "name": volunteer.name} if volunteer is not None else None
        ),
    }


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidInput(f"{name} 要是字符串")
    return str(value)


@bearer_required
async def list_orders(request: web.Request) -> web.Response:
    """``state`` (comma-separated), ``limit`` (at most 500), ``offset``; queue order."""
    query = request.query
    states = tuple(s for s in query.get("state", "").split(",") if s)
    page = await service.list_orders(
        request.app[keys.DATABASE],
        api_actor(request),
        states=states,
        limit=page_limit(request, service.MAX_PAGE, DEFAULT_LIMIT),
        offset=to_int(query.get("offset", "0"), "offset"),
    )
    return web.json_response(
        {
            "orders": [order_json(o) for o in page.items],
            "total": page.total,
            "limit": page.limit,
            "offset": page.offset,
        }
    )


@bearer_required
async def get_order(request: web.Request) -> web.Response:
    """One order and its history; a volunteer's token only theirs."""
    detail = await service.order_detail(
        request.app[keys.DATABASE], api_actor(request), request.match_info["id"]
    )
    return web.json_response(
        {
            "order": order_json(detail.order),
            "events": [
                {
                    "action": e.action,
                    "action_label": e.action_label,
                    "actor": e.actor,
                    "from_state": e.from_state,
                    "to_state": e.to_state,
                    "reason": e.reason,
                    "at": e.at.isoformat(),
                }
                for e in detail.events
            ],
            "rating": (
                {"score": detail.rating.score, "comment": detail.rating.comment}
                if detail.rating
                else None
            ),
        }
    )


@bearer_required
async def act(request: web.Request) -> web.Response:
    """Body: ``volunteer`` (assign: 志愿者编号), ``reason`` (decline, fail, cancel),
    ``verify_code`` (complete)."""
    action = request.match_info["action"]
    if action not in API_ACTIONS:
        raise web.HTTPNotFound()
    body = await _body(request)
    order = await service.act(
        request.app[keys.DATABASE],
        api_actor(request),
        request.match_info["id"],
        action,
        volunteer_code=_text(body, "volunteer"),
        reason=_text(body, "reason"),
        verify_code=_text(body, "verify_code"),
        take_open=request.app[keys.SETTINGS].orders_take_open,
    )
    request.app[keys.ORDER_ALERTS].kick()  # an assigned volunteer hears of it now
    return web.json_response({"order": order_json(order)})


@bearer_required
async def list_help_requests(request: web.Request) -> web.Response:
    """``handled`` = ``false`` (default), ``true`` or ``all``; urgent (120/110) first."""
    handled = {"false": False, "0": False, "true": True, "1": True, "all": None}.get(
        request.query.get("handled", "false").lower(), "bad"
    )
    if isinstance(handled, str):  # "bad": none of the words
        raise InvalidInput("handled 只能是 true、false 或 all")
    page = await help_queue.queue(
        request.app[keys.DATABASE],
        api_actor(request),
        "help",
        handled=handled,
        limit=page_limit(request, service.MAX_PAGE, DEFAULT_LIMIT),
        offset=to_int(request.query.get("offset", "0"), "offset"),
    )
    return web.json_response(
        {
            "help_requests": [
                {
                    "id": item.id,
                    "channel": item.channel,
                    "text": item.text,
                    "hotlines": list(item.hotlines),
                    "urgent": item.urgent,
                    "created_at": item.created_at.isoformat(),
                    "handled": item.handled,
                    "handled_by": item.handled_by,
                    "handled_at": item.handled_at.isoformat() if item.handled_at else None,
                }
                for item in page.items
            ],
            "total": page.total,
            "unhandled": page.unhandled,
        }
    )
