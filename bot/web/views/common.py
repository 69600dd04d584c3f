"""Request helpers shared by the JSON API views."""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from bot.text.inbound import clean_inbound
from bot.web import keys

MAX_JSON_DEPTH = 32  # our documents are two levels deep; nothing needs more


class BadJson(ValueError):
    """A request body that is not a JSON document we read."""


async def json_body(request: web.Request) -> Any:
    """The parsed JSON body, else ``BadJson``: bad syntax or encoding, an unknown
    charset, a number of thousands of digits, or nesting deeper than ``MAX_JSON_DEPTH``
    (which would otherwise exhaust the recursion limit, here or later)."""
    try:
        body = await request.json()
    # JSONDecodeError and UnicodeDecodeError are ValueErrors, like a too long int.
    except (ValueError, LookupError, RecursionError):
        raise BadJson from None
    if _depth(body) > MAX_JSON_DEPTH:
        raise BadJson
    return body


def _depth(document: Any) -> int:
    """How deeply lists and objects nest (iteratively: no recursion to exhaust)."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, list | dict):
            deepest = max(deepest, level)
            if deepest > MAX_JSON_DEPTH:
                break
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


async def read_text(request: web.Request) -> str | web.Response:
    """The cleaned ``text`` field of a JSON body, or the polite error response."""
    settings = request.app[keys.SETTINGS]
    try:
        body = await json_body(request)
    except BadJson:
        return web.json_response({"error": "请求格式不对：需要 JSON"}, status=400)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        return web.json_response({"error": "需要 text 字段（字符串）"}, status=400)
    inbound = clean_inbound(body["text"], settings.max_message_chars)
    if inbound.empty:
        return web.json_response({"error": "text 不能为空"}, status=400)
    if inbound.too_long:
        return web.json_response(
            {"error": f"text 太长（最多 {settings.max_message_chars} 个字）"}, status=413
        )
    return inbound.text


def rate_limited(request: web.Request) -> web.Response | None:
    """A 429 response when this client has used up its share, else None."""
    wait = request.app[keys.RATE_LIMITER].allow(request.remote or "unknown")
    if not wait:
        return None
    return web.json_response(
        {"error": "请求太频繁了，请稍等一会儿再试。"},
        status=429,
        headers={"Retry-After": str(math.ceil(wait))},
    )
