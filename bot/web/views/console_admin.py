"""Admin pages: the audit log, user management and API tokens."""

from __future__ import annotations

import math

from aiohttp import web

from bot.accounts import users
from bot.accounts.access import require
from bot.accounts.audit import audit_log
from bot.accounts.errors import ConsoleError
from bot.accounts.users import SessionInfo
from bot.web import keys
from bot.web.auth import SESSION, start_cookie
from bot.web.middlewares import status_of
from bot.web.views.console_common import actor_of, render, see_other, to_int

AUDIT_PER_PAGE = 50


async def audit_page(request: web.Request) -> web.Response:
    """``GET /console/audit`` (admins): the audit log by pages, of one target if asked."""
    actor = actor_of(request)
    page = to_int(request.query.get("page", "1"), "页码", minimum=1)
    target = (request.query.get("target") or "").strip()[:64] or None
    entries, total = await audit_log(
        request.app[keys.DATABASE],
        actor,
        target=target,
        limit=AUDIT_PER_PAGE,
        offset=(page - 1) * AUDIT_PER_PAGE,
    )
    pages = max(1, math.ceil(total / AUDIT_PER_PAGE))
    return render(
        request,
        "console/audit.html",
        {
            "entries": entries,
            "page": page,
            "pages": pages,
            "target": target or "",
            "total": total,
        },
    )


async def users_page(request: web.Request) -> web.Response:
    """``GET /console/users`` (admins): every account, with forms to add and change them."""
    return await _users_page(request)


async def _users_page(
    request: web.Request,
    *,
    password_for: tuple[str, str] | None = None,
    error: ConsoleError | None = None,
) -> web.Response:
    actor = actor_of(request)
    listed = await users.list_users(request.app[keys.DATABASE], actor)
    return render(
        request,
        "console/users.html",
        {
            "users": listed,
            "password_for": password_for,
            "error": error.message if error else None,
            "done": request.query.get("done") == "1",
        },
        status=status_of(error) if error else 200,
    )


async def user_add(request: web.Request) -> web.Response:
    """``POST /console/users`` (admins): a new account; its one-time password shown once."""
    form = await request.post()
    name, role = str(form.get("name", "")).strip(), str(form.get("role", ""))
    db = request.app[keys.DATABASE]
    try:
        password = await users.add_user_as(db, actor_of(request), name, role)
    except ConsoleError as exc:
        return await _users_page(request, error=exc)
    # Shown once, in the response to this POST, never stored in the clear.
    return await _users_page(request, password_for=(name, password))


async def user_change(request: web.Request) -> web.Response:
    """Role, active flag or a new one-time password for one user."""
    require(actor_of(request), "manage_users")
    form = await request.post()
    db, actor = request.app[keys.DATABASE], actor_of(request)
    name, change = str(form.get("name", "")), request.match_info["change"]
    try:
        if change == "role":
            await users.set_role(db, actor, name, str(form.get("role", "")))
        elif change == "active":
            await users.set_active(db, actor, name, form.get("active") == "1")
        elif change == "password":
            password = await users.reset_password(db, actor, name)
            if name == actor.name:  # one's own sessions ended too: this browser gets a new one
                session_id, csrf = await users.start_session(db, actor, renewal=True)
                request[SESSION] = SessionInfo(actor, csrf)
                response = await _users_page(request, password_for=(name, password))
                start_cookie(response, request, session_id)
                return response
            return await _users_page(request, password_for=(name, password))
        else:
            raise web.HTTPNotFound()
    except ConsoleError as exc:
        return await _users_page(request, error=exc)
    return see_other("/console/users?done=1")


async def tokens_page(request: web.Request) -> web.Response:
    """Every API token: whose, its name, when made, used, expiring; live ones revocable."""
    listed = await users.list_tokens(request.app[keys.DATABASE], actor_of(request))
    return render(
        request,
        "console/tokens.html",
        {"tokens": listed, "done": request.query.get("done") == "1"},
    )


async def token_revoke(request: web.Request) -> web.Response:
    """``POST /console/tokens/revoke`` (admins): revoke the API token ``id``."""
    require(actor_of(request), "manage_users")
    form = await request.post()
    token_id = to_int(form.get("id", ""), "令牌编号", minimum=1)
    await users.revoke_token(request.app[keys.DATABASE], actor_of(request), token_id)
    return see_other("/console/tokens?done=1")
