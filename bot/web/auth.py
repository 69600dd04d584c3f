"""Who is asking: console sessions (cookie + CSRF token) and API bearer tokens.

The console cookie holds a random session id (the database keeps its SHA-256);
it is HttpOnly, SameSite=Strict, limited to ``/console`` and Secure whenever
``KEPU_PUBLIC_URL`` is https or the request came over https (directly, or as a
trusted proxy says: ``bot.net.proxies``). Every POST to the console must carry
the session's CSRF token in a hidden ``csrf`` field; the login form, before any
session exists, carries a token that must equal a short-lived cookie's.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy

from bot.accounts.access import Actor
from bot.accounts.users import (
    SESSION_HOURS,
    SessionInfo,
    actor_for_token,
    session_for,
    session_with,
)
from bot.orders.access import can
from bot.orders.service import urgent_waiting_count
from bot.web import keys
from bot.web.middlewares import Handler, html_error

COOKIE = "kepu_console"
LOGIN_CSRF_COOKIE = "kepu_login_csrf"
SESSION = "console_session"  # request key of the SessionInfo
# Request key: urgent service orders nobody has yet, shown on every console page
# of a dispatcher or admin (an emergency order alerts them at once).
URGENT_WAITING = "urgent_orders_waiting"
ACTOR = "api_actor"  # request key of the API caller
PUBLIC_PATHS = frozenset({"/console/login"})
# A volunteer's account serves their own service orders; rumour reports, help
# requests and users are for staff (bot/orders/access.py decides within orders).
VOLUNTEER_PATHS = ("/console/orders", "/console/password", "/console/logout", "/api/v1/orders")
MAX_NEXT_CHARS = 2000


def same(given: object, expected: str) -> bool:
    """Constant-time comparison of a submitted token with the expected one."""
    return (
        isinstance(given, str)
        and bool(expected)
        and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
    )


def set_cookie(
    response: web.StreamResponse,
    request: web.Request,
    name: str,
    value: str,
    max_age: int,
    path: str,
) -> None:
    """Set an HttpOnly, SameSite=Strict cookie, Secure when ``secure_cookies`` says so."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="Strict",
        secure=secure_cookies(request),
    )


def secure_cookies(request: web.Request) -> bool:
    """Whether cookies are Secure: the request came over https, or KEPU_PUBLIC_URL is https."""
    return request.secure or request.app[keys.SETTINGS].secure_cookies


def start_cookie(response: web.StreamResponse, request: web.Request, session_id: str) -> None:
    """Set the console session cookie: for ``/console`` only, ``SESSION_HOURS`` long."""
    set_cookie(response, request, COOKIE, session_id, SESSION_HOURS * 3600, "/console")


def session_of(request: web.Request) -> SessionInfo:
    """The signed-in session of a console request (set by ``console_auth``)."""
    return request[SESSION]


@web.middleware
async def console_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Console pages need a live session; console POSTs also need its CSRF token."""
    if not (request.path == "/console" or request.path.startswith("/console/")):
        return await handler(request)
    if request.path not in PUBLIC_PATHS:
        db, cookie = request.app[keys.DATABASE], request.cookies.get(COOKIE, "")
        if request.method == "GET":
            # The banner's count read with the session: one statement, not two.
            info, urgent = await session_with(db, cookie, urgent_waiting_count())
        else:
            info, urgent = await session_for(db, cookie), 0
        if info is None:
            if request.method in ("GET", "HEAD"):
                location = "/console/login?" + urlencode({"next": request.path_qs})
                return web.Response(status=303, headers={"Location": location})
            return html_error(request, 403, "登录已过期，请重新登录后再提交。")
        if request.method == "POST":
            form = await read_form(request)
            if not same(form.get("csrf"), info.csrf_token):
                return html_error(request, 403, "表单已失效，请返回并刷新页面后再提交。")
        if not volunteer_may(info.actor, request.path):
            if request.method in ("GET", "HEAD"):
                return web.Response(status=303, headers={"Location": "/console/orders"})
            return html_error(request, 403, "志愿者账号只能处理自己的服务单。")
        request[SESSION] = info
        if request.method == "GET" and can(info.actor, "dispatch"):
            request[URGENT_WAITING] = urgent
    response = await handler(request)
    response.headers["Cache-Control"] = "no-store"  # console pages hold moderation data
    return response


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """The posted form (read once, then cached by aiohttp); a body that is no form
    is the client's mistake: 400, not 500."""
    try:
        return await request.post()
    except (HttpProcessingError, ValueError, LookupError):
        raise web.HTTPBadRequest() from None


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only back into the console, never elsewhere.

    Printable ASCII only: a CR/LF (or any other control character) would end the
    ``Location`` header, and non-ASCII cannot be written in one.
    """
    if (
        target
        and len(target) <= MAX_NEXT_CHARS
        and target.startswith("/console/")
        and "//" not in target
        and "\\" not in target
        and all("!" <= ch <= "~" for ch in target)
    ):
        return target
    return "/console/"


ApiHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def bearer_required(handler: ApiHandler) -> ApiHandler:
    """Console API views: ``Authorization: Bearer <token>`` or 401 (JSON, in Chinese)."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        actor = None
        if scheme.lower() == "bearer" and token.strip():
            actor = await actor_for_token(request.app[keys.DATABASE], token.strip())
        if actor is None:
            return web.json_response(
                {"error": "需要有效的访问令牌（Authorization: Bearer <令牌>）"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="kepu"'},
            )
        if not volunteer_may(actor, request.path):
            return web.json_response({"error": "志愿者令牌只能处理自己的服务单"}, status=403)
        request[ACTOR] = actor
        return await handler(request)

    return wrapper


def volunteer_may(actor: Actor, path: str) -> bool:
    """Whether ``actor`` may open ``path``: staff anything, a volunteer only orders."""
    return actor.role != "volunteer" or any(
        path == prefix or path.startswith(prefix + "/") for prefix in VOLUNTEER_PATHS
    )


def api_actor(request: web.Request) -> Actor:
    """Who an API request's token belongs to (set by ``bearer_required``)."""
    return request[ACTOR]
