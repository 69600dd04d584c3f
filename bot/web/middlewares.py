"""Errors become polite JSON or pages; every response gets safe headers.

Domain errors of the console service are translated to HTTP here, at the edge:
JSON under ``/api/``, a page elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import aiohttp_jinja2
from aiohttp import web

from bot.rumors.errors import ConsoleError, Forbidden, InvalidInput, InvalidTransition, NotFound

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return _error(request, 413, "内容太长了，请分几次发。")
    except web.HTTPException as exc:
        if exc.status >= 400 and request.path.startswith("/api/"):
            return _error(request, exc.status, exc.reason)
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(request, 500, "系统出了点问题，请稍后再试。")


def _error(request: web.Request, status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


HTTP_STATUS: dict[type[ConsoleError], int] = {
    NotFound: 404,
    Forbidden: 403,
    InvalidTransition: 409,
    InvalidInput: 400,
}


def status_of(exc: ConsoleError) -> int:
    return next((s for kind, s in HTTP_STATUS.items() if isinstance(exc, kind)), 400)


@web.middleware
async def domain_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ConsoleError as exc:
        if request.path.startswith("/api/"):
            return web.json_response({"error": exc.message}, status=status_of(exc))
        return html_error(request, status_of(exc), exc.message)


def html_error(request: web.Request, status: int, message: str) -> web.Response:
    """A console page that says what went wrong (the message is escaped like any text)."""
    response = aiohttp_jinja2.render_template(
        "console/error.html", request, {"status": status, "message": message}, status=status
    )
    response.headers["Cache-Control"] = "no-store"
    return response
