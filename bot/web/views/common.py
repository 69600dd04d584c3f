"""Request helpers shared by the JSON API views."""

from __future__ import annotations

import json
import math

from aiohttp import web

from bot.text.inbound import clean_inbound
from bot.web import keys


async def read_text(request: web.Request) -> str | web.Response:
    """The cleaned ``text`` field of a JSON body, or the polite error response."""
    settings = request.app[keys.SETTINGS]
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
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
