"""Signing in and out of the console, and changing one's own password."""

from __future__ import annotations

import logging
import math
import secrets

from aiohttp import web

from bot.accounts.errors import ConsoleError
from bot.accounts.users import (
    MIN_PASSWORD_CHARS,
    SessionInfo,
    authenticate,
    change_password,
    end_session,
    session_for,
    start_session,
)
from bot.web import keys
from bot.web.auth import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION,
    read_form,
    safe_next,
    same,
    set_cookie,
    start_cookie,
)
from bot.web.middlewares import html_error
from bot.web.views.console_common import actor_of, render, see_other

log = logging.getLogger(__name__)

MAX_FIELD_CHARS = 256  # no one's name or password is longer; hashing must stay cheap
LOGIN_FORM_SECONDS = 3600


async def login_page(request: web.Request) -> web.StreamResponse:
    """``GET /console/login``: the form and a fresh login CSRF cookie; signed in: to ``next``."""
    db = request.app[keys.DATABASE]
    if await session_for(db, request.cookies.get(COOKIE, "")) is not None:
        return see_other(safe_next(request.query.get("next")))
    return _login_form(request, request.query.get("next", ""))


def _login_form(
    request: web.Request, next_url: str, error: str = "", status: int = 200, name: str = ""
) -> web.Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "console/login.html",
        {"login_csrf": token, "next": safe_next(next_url), "error": error, "name": name},
        status=status,
    )
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token, LOGIN_FORM_SECONDS, "/console/login")
    return response


async def login(request: web.Request) -> web.StreamResponse:
    """``POST /console/login``: the login CSRF, then the throttle, then the password."""
    form = await read_form(request)
    # Before anything is counted: a forged or stale form costs no one an attempt.
    if not same(form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        return html_error(request, 403, "登录表单已失效，请刷新登录页后再试。")
    name = str(form.get("name", "")).strip()[:MAX_FIELD_CHARS]
    password = str(form.get("password", ""))[:MAX_FIELD_CHARS]
    next_url = str(form.get("next", ""))
    client = request.remote or "unknown"  # the real client (bot.net.proxies)
    throttle = request.app[keys.LOGIN_THROTTLE]
    wait = throttle.wait(client, name)
    if wait:
        log.warning("console sign-in for %r from %s held back %.0f s", name, client, wait)
        response = _login_form(request, next_url, _wait_text(wait), status=429, name=name)
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    db = request.app[keys.DATABASE]
    actor = await authenticate(db, name, password) if name and password else None
    if actor is None:
        throttle.failed(client, name)
        log.warning("console sign-in refused for %r from %s", name, client)
        return _login_form(request, next_url, "用户名或密码不对。", status=401, name=name)
    throttle.succeeded(client, name)
    session_id, _ = await start_session(db, actor)
    response = see_other(safe_next(next_url))
    start_cookie(response, request, session_id)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/console/login")
    return response


def _wait_text(seconds: float) -> str:
    if seconds < 60:
        return f"尝试次数太多，请过 {math.ceil(seconds)} 秒再登录。"
    return f"尝试次数太多，请过 {math.ceil(seconds / 60)} 分钟再登录。"


async def logout(request: web.Request) -> web.StreamResponse:
    """``POST /console/logout``: end this browser's session and go to the sign-in page."""
    await end_session(request.app[keys.DATABASE], request.cookies.get(COOKIE, ""))
    response = see_other("/console/login")
    response.del_cookie(COOKIE, path="/console")
    return response


async def password_page(request: web.Request) -> web.StreamResponse:
    """``GET /console/password``, for every account (volunteers too): one's own password."""
    return _password_form(request)


async def password_change(request: web.Request) -> web.StreamResponse:
    """``POST /console/password``: all the user's sessions end; this browser gets a new one."""
    form = await request.post()
    new = str(form.get("new", ""))
    if len(new) > MAX_FIELD_CHARS:  # refused, not cut: a cut password would not be the one typed
        return _password_form(request, error=f"新密码最多 {MAX_FIELD_CHARS} 个字符。")
    if new != str(form.get("repeat", "")):
        return _password_form(request, error="两次输入的新密码不一样。")
    try:
        changed = await change_password(
            request.app[keys.DATABASE],
            actor_of(request),
            str(form.get("current", ""))[:MAX_FIELD_CHARS],
            new,
        )
    except ConsoleError as exc:
        return _password_form(request, error=exc.message)
    if not changed:
        return _password_form(request, error="当前密码不对。")
    # Every session of the user has ended; this browser gets a new one.
    actor = actor_of(request)
    session_id, csrf = await start_session(request.app[keys.DATABASE], actor, renewal=True)
    request[SESSION] = SessionInfo(actor, csrf)
    response = _password_form(request, done=True)
    start_cookie(response, request, session_id)
    return response


def _password_form(request: web.Request, error: str = "", done: bool = False) -> web.Response:
    context = {"min_chars": MIN_PASSWORD_CHARS, "error": error, "done": done}
    return render(request, "console/password.html", context, status=400 if error else 200)
