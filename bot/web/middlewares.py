"""Errors become polite JSON or pages; every response gets safe headers.

Domain errors of the console service are translated to HTTP here, at the edge:
JSON under ``/api/``, a page elsewhere. The security headers are set as each
response is prepared (``app.on_response_prepare``), so that the router's own
404/405, static files and error pages carry them too, and the ``Server`` header
names no software or version.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

import aiohttp_jinja2
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.accounts.errors import (
    ConsoleError,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    clip,
)

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


SECURITY_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
MAX_MESSAGE_CHARS = 120
SERVER = "kepu"  # no software names or versions for anyone to look up
# Router and aiohttp refusals, in the users' language.
HTTP_MESSAGES = {
    400: "请求格式不对。",
    403: "没有权限访问这里。",
    404: "没有这个地址。",
    405: "不支持这种请求方式。",
    413: "内容太长了，请分几次发。",
}


async def security_headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the same headers on every response, errors included."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)  # a view may set a stricter one
    response.headers["Server"] = SERVER


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """HTTP errors and crashes as JSON under /api/, as a page under /console; crashes logged."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = HTTP_MESSAGES.get(exc.status, exc.reason)
        if exc.status == 404 and exc.text and not exc.text.startswith("404:"):
            message = exc.text  # a view's own, e.g. "没有这张图片"
        if request.path.startswith("/api/"):
            response = _error(request, exc.status, message)
            if "Allow" in exc.headers:
                response.headers["Allow"] = exc.headers["Allow"]
            return response
        if request.path.startswith("/console"):
            return html_error(request, exc.status, message, headers=exc.headers)
        raise
    except HttpProcessingError:  # a body aiohttp could not parse (multipart headers)
        if request.path.startswith("/console"):
            return html_error(request, 400, HTTP_MESSAGES[400])
        return _error(request, 400, HTTP_MESSAGES[400])
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if request.path.startswith("/console"):
            return html_error(request, 500, "系统出了点问题，请稍后再试。")
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
    """The HTTP status of a console service error; 400 for a kind not in ``HTTP_STATUS``."""
    return next((s for kind, s in HTTP_STATUS.items() if isinstance(exc, kind)), 400)


@web.middleware
async def domain_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Console service errors as JSON under /api/, else as a page; the message clipped."""
    try:
        return await handler(request)
    except ConsoleError as exc:
        message = clip(exc.message, MAX_MESSAGE_CHARS)  # it may quote what was sent
        if request.path.startswith("/api/"):
            return web.json_response({"error": message}, status=status_of(exc))
        return html_error(request, status_of(exc), message)


def html_error(
    request: web.Request,
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A console page that says what went wrong (the message is escaped like any text)."""
    response = aiohttp_jinja2.render_template(
        "console/error.html", request, {"status": status, "message": message}, status=status
    )
    for name in ("Allow", "Retry-After", "WWW-Authenticate"):
        if headers and name in headers:
            response.headers[name] = headers[name]
    response.headers["Cache-Control"] = "no-store"
    return response
