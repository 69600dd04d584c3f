"""The console's dispatch queue, order pages, volunteers, and the help queues.

Dispatchers (moderators, admins) see every order, ranked urgent first, then
those back from a timeout, then the oldest; each order page suggests
volunteers by skill, town, availability and current load. Volunteers signed in
with their own account see the orders dispatched to them and accept, decline,
start and complete them (with the resident's 上门核验码). Every form posts and
redirects back (post/redirect/get); a refusal shows the page with the reason.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

from aiohttp import web

from bot.accounts.errors import ConsoleError, Forbidden, InvalidInput
from bot.orders import catalogue, help_queue, service
from bot.orders.access import can
from bot.orders.states import ACTIONS, OPEN_STATES, STATES, Snapshot, allowed
from bot.web import keys
from bot.web.auth import read_form
from bot.web.middlewares import status_of
from bot.web.views.console_common import actor_of, render, see_other, to_int

PER_PAGE = 30
LOW_RATINGS_SHOWN = 10
QUEUE_VIEWS = {"open": "未结束的", "all": "全部"}
NOTICES = {
    **{action: f"已{label}。" for action, label in ACTIONS.items()},
    "accept": "已接单。居民下次发消息时会收到您的姓名、编号和上门核验码。",
    "take": "抢单成功，这一单归您了。居民下次发消息时会收到您的姓名、编号和上门核验码。",
    "complete": "服务已完成，服务时长已记入。",
    "volunteer": "志愿者已登记。",
    "verify": "身份核验已记录。",
    "handled": "已标记为处理过。",
}


async def orders_queue(request: web.Request) -> web.Response:
    """``GET /console/orders``: every order for dispatchers; a volunteer's own and 抢单."""
    actor = actor_of(request)
    query = request.query
    view = query.get("state", "open")
    states = {"open": OPEN_STATES, "all": ()}.get(view, (view,))
    page = to_int(query.get("page", "1"), "页码", minimum=1)
    db = request.app[keys.DATABASE]
    result = await service.list_orders(
        db, actor, states=tuple(states), limit=PER_PAGE, offset=(page - 1) * PER_PAGE
    )
    pages = max(1, math.ceil(result.total / PER_PAGE))
    dispatcher = can(actor, "dispatch")
    return render(
        request,
        "console/orders.html",
        {
            "orders": result.items,
            "total": result.total,
            "page": page,
            "pages": pages,
            "prev_url": f"?{urlencode({'state': view, 'page': page - 1})}" if page > 1 else None,
            "next_url": f"?{urlencode({'state': view, 'page': page + 1})}"
            if page < pages
            else None,
            "view": view,
            "views": QUEUE_VIEWS,
            "ORDER_STATES": STATES,
            "dispatcher": dispatcher,
            "counts": await service.counts_by_state(db) if dispatcher else {},
            "help_unhandled": (
                (await help_queue.queue(db, actor, "help", limit=1)).unhandled if dispatcher else 0
            ),
            # 抢单: open orders a volunteer qualifies for, when the admin allows it.
            "takeable": (
                await service.takeable(db, actor)
                if not dispatcher and request.app[keys.SETTINGS].orders_take_open
                else []
            ),
            # 评单 below 3 go to the dispatchers and admins: the newest, on the first page.
            "low_ratings": (
                await service.low_ratings(db, actor, limit=LOW_RATINGS_SHOWN)
                if dispatcher and page == 1
                else []
            ),
        },
    )


async def order_page(request: web.Request) -> web.Response:
    """``GET /console/orders/{id}``: one order and its actions; a volunteer's own only."""
    return await _order_page(request, request.match_info["id"])


async def _order_page(
    request: web.Request, public: str, *, error: ConsoleError | None = None
) -> web.Response:
    db = request.app[keys.DATABASE]
    actor = actor_of(request)
    detail = await service.order_detail(db, actor, public)
    order = detail.order
    dispatcher = can(actor, "dispatch")
    volunteers = {v.id: v for v in await service.list_volunteers(db)} if dispatcher else {}
    suggestions = (
        await service.suggest(db, actor, public, limit=8)
        if dispatcher and order.state == "open"
        else []
    )
    mine = order.volunteer is not None and order.volunteer.console_user == actor.name
    possible = set(allowed(Snapshot(state=order.state)))
    return render(
        request,
        "console/order.html",
        {
            "order": order,
            "events": detail.events,
            "rating": detail.rating,
            "volunteers": volunteers,
            "suggestions": suggestions,
            "dispatcher": dispatcher,
            "mine": mine,
            "possible": possible,
            "notice": NOTICES.get(request.query.get("done", "")),
            "error": error.message if error else None,
        },
        status=status_of(error) if error else 200,
    )


async def order_act(request: web.Request) -> web.Response:
    """``POST /console/orders/{id}/{action}``."""
    action = request.match_info["action"]
    if action not in ACTIONS or action in ("create", "expire"):
        raise web.HTTPNotFound()
    public = request.match_info["id"]
    form = await read_form(request)
    try:
        await service.act(
            request.app[keys.DATABASE],
            actor_of(request),
            public,
            action,
            volunteer_code=str(form.get("volunteer", "")) or None,
            reason=str(form.get("reason", "")) or None,
            verify_code=str(form.get("verify_code", "")) or None,
            take_open=request.app[keys.SETTINGS].orders_take_open,
        )
    except ConsoleError as exc:
        return await _order_page(request, public, error=exc)
    request.app[keys.ORDER_ALERTS].kick()  # an assigned volunteer hears of it now
    return see_other(f"/console/orders/{public}?done={action}")


async def volunteers_page(request: web.Request, error: ConsoleError | None = None) -> web.Response:
    """``GET /console/volunteers`` (moderators, admins); only admins add and verify."""
    actor = actor_of(request)
    if not can(actor, "dispatch"):
        raise Forbidden(f"{actor.role_label}没有这项权限")
    db = request.app[keys.DATABASE]
    return render(
        request,
        "console/volunteers.html",
        {
            "volunteers": await service.list_volunteers(db),
            "loads": await service.volunteer_loads(db),
            "services": catalogue.services(),
            "places": catalogue.places(),
            "documents": service.ID_DOCUMENTS,
            "manager": can(actor, "manage_volunteers"),
            "notice": NOTICES.get(request.query.get("done", "")),
            "error": error.message if error else None,
        },
        status=status_of(error) if error else 200,
    )


async def volunteer_add(request: web.Request) -> web.Response:
    """``POST /console/volunteers`` (admins): register a volunteer, with an ID check if noted."""
    actor = actor_of(request)
    if not can(actor, "manage_volunteers"):
        raise Forbidden(f"{actor.role_label}没有这项权限")
    form = await read_form(request)
    document = str(form.get("document", ""))
    try:
        await service.add_volunteer(
            request.app[keys.DATABASE],
            str(form.get("name", "")),
            code=str(form.get("code", "")).strip() or None,
            skills=[str(v) for v in form.getall("skills", [])],
            towns=[str(v) for v in form.getall("towns", [])],
            availability=str(form.get("availability", "")),
            console_user=str(form.get("console_user", "")) or None,
            wecom_user=str(form.get("wecom_user", "")) or None,
            checked_document=document or None,
            checked_by=actor.name if document else None,
            by=actor.name,
        )
    except ConsoleError as exc:
        return await volunteers_page(request, exc)
    return see_other("/console/volunteers?done=volunteer")


async def volunteer_verify(request: web.Request) -> web.Response:
    """``POST /console/volunteers/verify`` (admins): record a volunteer's ID check."""
    actor = actor_of(request)
    if not can(actor, "manage_volunteers"):
        raise Forbidden(f"{actor.role_label}没有这项权限")
    form = await read_form(request)
    try:
        await service.verify_volunteer(
            request.app[keys.DATABASE],
            str(form.get("code", "")),
            document=str(form.get("document", "")),
            checked_by=actor.name,
        )
    except ConsoleError as exc:
        return await volunteers_page(request, exc)
    return see_other("/console/volunteers?done=verify")


async def help_page(request: web.Request) -> web.Response:
    """``GET /console/help`` (moderators, admins): help requests or unanswered questions."""
    actor = actor_of(request)
    query = request.query
    kind = query.get("kind", "help")
    if kind not in help_queue.KINDS:
        raise InvalidInput("没有这个队列")
    shown = query.get("handled", "0")
    handled = {"0": False, "1": True, "all": None}.get(shown, False)
    page = to_int(query.get("page", "1"), "页码", minimum=1)
    db = request.app[keys.DATABASE]
    result = await help_queue.queue(
        db, actor, kind, handled=handled, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
    )
    pages = max(1, math.ceil(result.total / PER_PAGE))

    def url(p: int) -> str:
        return "?" + urlencode({"kind": kind, "handled": shown, "page": p})

    return render(
        request,
        "console/help.html",
        {
            "items": result.items,
            "total": result.total,
            "unhandled": result.unhandled,
            "kind": kind,
            "kinds": help_queue.KINDS,
            "shown": shown,
            "page": page,
            "pages": pages,
            "prev_url": url(page - 1) if page > 1 else None,
            "next_url": url(page + 1) if page < pages else None,
            "notice": NOTICES.get(query.get("done", "")),
        },
    )


async def help_handled(request: web.Request) -> web.Response:
    """``POST /console/help/{kind}/{item}/handled`` (moderators, admins), with a note."""
    kind = request.match_info["kind"]
    item_id = to_int(request.match_info["item"], "编号", minimum=1)
    form = await read_form(request)
    await help_queue.mark_handled(
        request.app[keys.DATABASE], actor_of(request), kind, item_id, str(form.get("note", ""))
    )
    return see_other("/console/help?" + urlencode({"kind": kind, "done": "handled"}))
