"""The large-print web chat: the page, and the endpoint that relays to Rasa.

The browser never talks to Rasa directly: Rasa stays on 127.0.0.1, and this
endpoint caps input, keeps a pseudonymous sender id in an HttpOnly cookie and
returns only the reply texts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets

import aiohttp
import aiohttp_jinja2
from aiohttp import web

from bot.menu import MAIN_MENU
from bot.text.inbound import BUSY_REPLY, EMPTY_REPLY, clean_inbound, too_long_reply
from bot.web import keys

log = logging.getLogger(__name__)

COOKIE = "kepu_sid"
COOKIE_MAX_AGE = 180 * 24 * 3600


@aiohttp_jinja2.template("chat.html")
async def page(request: web.Request) -> dict:
    return {"menu": MAIN_MENU, "max_chars": request.app[keys.SETTINGS].max_message_chars}


async def send(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    if request.content_type != "application/json":
        return web.json_response({"error": "请用 JSON 发送"}, status=415)
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return web.json_response({"error": "请求格式不对"}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": "请求格式不对"}, status=400)
    inbound = clean_inbound(body.get("message"), settings.max_message_chars)
    sender = request.cookies.get(COOKIE, "")
    new_sender = not (16 <= len(sender) <= 64 and sender.isalnum())
    if new_sender:
        sender = secrets.token_hex(16)
    if inbound.empty:
        replies = [EMPTY_REPLY]
    elif inbound.too_long:
        replies = [too_long_reply(settings.max_message_chars)]
    else:
        replies = await _ask_rasa(request, sender, inbound.text)
    response = web.json_response({"messages": replies})
    if new_sender:
        response.set_cookie(
            COOKIE, sender, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax", path="/"
        )
    return response


async def _ask_rasa(request: web.Request, sender: str, text: str) -> list[str]:
    settings = request.app[keys.SETTINGS]
    url = settings.rasa_url.rstrip("/") + "/webhooks/rest/webhook"
    payload = {"sender": f"web-{sender}", "message": text, "input_channel": "webchat"}
    try:
        async with request.app[keys.RASA_HTTP].post(url, json=payload) as resp:
            if resp.status != 200:
                log.warning("rasa answered HTTP %s", resp.status)
                return [BUSY_REPLY]
            messages = await resp.json()
    except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError):
        log.exception("rasa unreachable")
        return [BUSY_REPLY]
    texts = [m["text"] for m in messages if isinstance(m, dict) and m.get("text")]
    return texts or [BUSY_REPLY]
