"""The large-print web chat: the page, and the endpoint that relays to Rasa.

The browser never talks to Rasa directly: Rasa stays on 127.0.0.1, and this
endpoint caps input, keeps a pseudonymous sender id in an HttpOnly cookie and
returns the reply texts (``messages``) and how the page shows them
(``replies``, see ``bot.web.views.chat_replies``).

Each message from the page carries a ``client_id``. A message sent again with
the same id (after a timeout the page cannot know whether the first one
arrived) is answered from a small in-memory table of recent turns instead of
being processed twice; a resend that arrives while the first is still being
answered waits for that answer. The table keeps, per sender, only the last few
ids and their replies for a few minutes, in memory only: nothing of it is
written anywhere. The conversation shown after a reload is kept by the page
itself (``sessionStorage``), not here.

Each sender (cookie) and each client address may send
``KEPU_CHAT_RATE_PER_SENDER`` and ``KEPU_CHAT_RATE_PER_CLIENT`` messages a
minute; more get 429 with ``Retry-After`` and "您发得太快了，请稍等一分钟再发。"
(the page keeps the words and offers 重发). Requests without the cookie count
for their address only: each would otherwise be a new sender.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import aiohttp_jinja2
from aiohttp import web

from bot.menu.pages import BUSY_REPLY, MAIN_MENU, menu_text
from bot.net.ratelimit import TOO_FAST_REPLY, retry_after
from bot.settings import RELAY_CLIENT_HEADER, RELAY_SECRET_HEADER, Settings, relay_secret
from bot.text.inbound import EMPTY_REPLY, clean_inbound, too_long_reply
from bot.web import keys
from bot.web.auth import secure_cookies
from bot.web.listening import correction, page_settings
from bot.web.speaking import speech_enabled
from bot.web.views.assets import ASSETS
from bot.web.views.chat_replies import hotline_table, shape, text_reply
from bot.web.views.common import BadJson, json_body

log = logging.getLogger(__name__)

COOKIE = "kepu_sid"
COOKIE_MAX_AGE = 180 * 24 * 3600
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# The page gives up waiting after this long and offers to send again.
PAGE_TIMEOUT_MS = 15_000
GREETING = "您好！我是科普助手，可以帮您解答手机使用、健康、防骗、种植养殖的问题。"
# Said when Rasa cannot be reached: the message was not handled, so the page
# keeps it in the box and offers to send it again.
NOT_HANDLED = (
    "助手这会儿没有回应，这句话还没有处理。请过一会儿再发一次。"
    "着急的话：急病打 120，被骗打 110，咨询诈骗打 96110。"
)


@dataclass
class Outcome:
    """One handled message: what the page gets, and whether a resend may reuse it."""

    body: dict[str, Any]
    status: int = 200
    handled: bool = True


@dataclass
class _Seen:
    task: asyncio.Task[Outcome]
    at: float = field(default_factory=time.monotonic)


class RecentTurns:
    """The last few message ids of each sender and their answers (memory only).

    Bounded three ways: ``per_sender`` ids per sender, ``total`` ids in all
    (the oldest go first) and ``ttl`` seconds; a page resends within seconds.
    """

    def __init__(self, per_sender: int = 16, total: int = 4096, ttl: float = 600.0) -> None:
        self.per_sender = per_sender
        self.total = total
        self.ttl = ttl
        self._seen: OrderedDict[tuple[str, str], _Seen] = OrderedDict()
        self._by_sender: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self._seen)

    def get(self, sender: str, client_id: str) -> asyncio.Task[Outcome] | None:
        self._expire()
        seen = self._seen.get((sender, client_id))
        return seen.task if seen else None

    def put(self, sender: str, client_id: str, task: asyncio.Task[Outcome]) -> None:
        """Remember the task answering this id; the oldest ids go past the bounds."""
        self._expire()
        ids = self._by_sender.setdefault(sender, [])
        while len(ids) >= self.per_sender:
            self._drop(sender, ids[0])
        while len(self._seen) >= self.total:
            self._drop(*next(iter(self._seen)))
        self._seen[(sender, client_id)] = _Seen(task)
        self._by_sender.setdefault(sender, []).append(client_id)

    def forget(self, sender: str, client_id: str, task: asyncio.Task[Outcome]) -> None:
        """Drop an answer that must not be reused (the message was not handled)."""
        seen = self._seen.get((sender, client_id))
        if seen is not None and seen.task is task:
            self._drop(sender, client_id)

    def _expire(self) -> None:
        cutoff = time.monotonic() - self.ttl
        while self._seen:
            key, seen = next(iter(self._seen.items()))
            if seen.at >= cutoff or not seen.task.done():
                break
            self._drop(*key)

    def _drop(self, sender: str, client_id: str) -> None:
        self._seen.pop((sender, client_id), None)
        ids = self._by_sender.get(sender)
        if ids is not None:
            if client_id in ids:
                ids.remove(client_id)
            if not ids:
                del self._by_sender[sender]


RECENT_TURNS = web.AppKey("chat_recent_turns", RecentTurns)


class Relay:
    """The relay secret (``bot.settings.relay_secret``), read when first needed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._secret: str | None = None

    @property
    def secret(self) -> str:
        if self._secret is None:
            self._secret = relay_secret(self.settings)
        return self._secret


RELAY = web.AppKey("chat_relay", Relay)


def _sender_of(request: web.Request) -> tuple[str, bool]:
    """The sender id from the cookie, or a new one (and True)."""
    sender = request.cookies.get(COOKIE, "")
    if 16 <= len(sender) <= 64 and sender.isalnum():
        return sender, False
    return secrets.token_hex(16), True


def _keep_sender(response: web.StreamResponse, request: web.Request, sender: str) -> None:
    response.set_cookie(
        COOKIE,
        sender,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        path="/",
        secure=secure_cookies(request),
    )


async def page(request: web.Request) -> web.StreamResponse:
    """``GET /``, for anyone: the chat page; a first visit gets its sender cookie here."""
    assets = request.app[ASSETS]
    context = {
        "menu": MAIN_MENU,
        "max_chars": request.app[keys.SETTINGS].max_message_chars,
        "welcome": [text_reply({"text": GREETING}), text_reply({"text": menu_text()})],
        "hotlines": json.dumps(hotline_table(), ensure_ascii=False, separators=(",", ":")),
        "timeout_ms": PAGE_TIMEOUT_MS,
        "voice": page_settings(request.app),  # the hold-to-talk button, if an engine listens
        "speech": speech_enabled(request.app),  # 🔊 读给我听 under answers, if KEPU_TTS is on
        "asset": assets.url,
    }
    response = aiohttp_jinja2.render_template("chat.html", request, context)
    # The page names its scripts and styles by content hash: always ask for the newest.
    response.headers["Cache-Control"] = "no-cache"
    sender, new_sender = _sender_of(request)
    if new_sender:  # before the first message, so that a resend finds the first
        _keep_sender(response, request, sender)
    return response


async def send(request: web.Request) -> web.Response:
    """``POST /api/v1/chat`` (JSON, anyone, rate-limited): one message relayed to Rasa."""
    settings = request.app[keys.SETTINGS]
    if request.content_type != "application/json":
        return web.json_response({"error": "请用 JSON 发送"}, status=415)
    try:
        body = await json_body(request)
    except BadJson:
        return web.json_response({"error": "请求格式不对"}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": "请求格式不对"}, status=400)
    inbound = clean_inbound(body.get("message"), settings.max_message_chars)
    client_id = body.get("client_id")
    if not (isinstance(client_id, str) and CLIENT_ID.match(client_id)):
        client_id = None
    sender, new_sender = _sender_of(request)
    if (refused := _too_fast(request, sender, new_sender, client_id)) is not None:
        return refused
    if inbound.empty:
        outcome = Outcome(_body([EMPTY_REPLY]))
    elif inbound.too_long:
        # Not handled: the page keeps her text so that she can split it.
        outcome = Outcome(_body([too_long_reply(settings.max_message_chars)], keep=True))
    elif (fixed := correction(request.app, sender, inbound.text)) is not None:
        outcome = Outcome(_body([fixed]))  # "不对" right after "您说的是：…"
    else:
        outcome = await _turn_once(request, sender, client_id, inbound.text)
    if client_id:
        outcome.body["client_id"] = client_id
    response = web.json_response(outcome.body, status=outcome.status)
    response.headers["Cache-Control"] = "no-store"
    if new_sender:
        _keep_sender(response, request, sender)
    return response


def _too_fast(
    request: web.Request, sender: str, new_sender: bool, client_id: str | None
) -> web.Response | None:
    """429 when this sender or this client address sends too fast, else None.

    A resend of a message already answered (its ``client_id`` is known) is not
    counted: it is answered from memory. A request without the cookie counts
    for the address only.
    """
    if client_id and request.app[RECENT_TURNS].get(sender, client_id) is not None:
        return None
    limits = request.app[keys.CHAT_LIMITS]
    wait = limits.allow(None if new_sender else sender, request.remote or "unknown")
    if not wait:
        return None
    body: dict[str, Any] = {"error": TOO_FAST_REPLY, "keep": True, "retry": True}
    if client_id:
        body["client_id"] = client_id
    headers = {"Retry-After": retry_after(wait), "Cache-Control": "no-store"}
    return web.json_response(body, status=429, headers=headers)


async def _turn_once(
    request: web.Request, sender: str, client_id: str | None, text: str
) -> Outcome:
    """The answer to this message, asking Rasa only the first time its id is seen."""
    recent = request.app[RECENT_TURNS]
    task = recent.get(sender, client_id) if client_id else None
    if task is None:
        # A task of its own: a page that gives up waiting does not cancel the turn,
        # and its resend gets the same answer.
        client = request.remote or "unknown"
        task = asyncio.create_task(_turn(request.app, sender, client_id, text, client))
        if client_id:
            recent.put(sender, client_id, task)
    outcome = await asyncio.shield(task)
    if client_id and not outcome.handled:
        recent.forget(sender, client_id, task)  # sending it again should try again
    return outcome


def _body(texts: list[str], *, keep: bool = False, retry: bool = False) -> dict[str, Any]:
    replies = [r for r in (text_reply({"text": t}) for t in texts) if r is not None]
    body: dict[str, Any] = {"messages": texts, "replies": replies}
    if keep:
        body["keep"] = True
    if retry:
        body["retry"] = True
    return body


async def _turn(
    app: web.Application, sender: str, client_id: str | None, text: str, client: str
) -> Outcome:
    messages = await _ask_rasa(app, sender, client_id, text, client)
    if messages is None:
        body = _body([BUSY_REPLY], keep=True, retry=True)
        body["error"] = NOT_HANDLED
        return Outcome(body, status=503, handled=False)
    texts = [m["text"] for m in messages if isinstance(m.get("text"), str) and m["text"]]
    if not texts:
        body = _body([BUSY_REPLY], keep=True, retry=True)
        body["error"] = NOT_HANDLED
        return Outcome(body, status=503, handled=False)
    try:
        replies = await shape(messages, app.get(keys.KNOWLEDGE), app[keys.SETTINGS].public_url)
    except Exception:  # the texts still answer her; only their shape is lost
        log.exception("could not shape the replies for the page")
        replies = [r for r in (text_reply({"text": t}) for t in texts) if r is not None]
    body = {"messages": texts, "replies": replies}
    if BUSY_REPLY in texts:
        # The assistant failed mid-turn and undid it: her message was not handled.
        body.update(keep=True, retry=True)
        return Outcome(body, handled=False)
    return Outcome(body)


async def _ask_rasa(
    app: web.Application, sender: str, client_id: str | None, text: str, client: str
) -> list[dict[str, Any]] | None:
    """Rasa's messages for this turn, or None if Rasa could not be asked."""
    settings = app[keys.SETTINGS]
    url = settings.rasa_url.rstrip("/") + "/webhooks/rest/webhook"
    payload: dict[str, Any] = {
        "sender": f"web-{sender}",
        "message": text,
        "input_channel": "webchat",
    }
    if client_id:
        payload["message_id"] = client_id  # a rumour report is stored once per message
    # The REST channel leaves the limits to us (counted above) and learns the client.
    relay = {RELAY_SECRET_HEADER: app[RELAY].secret, RELAY_CLIENT_HEADER: client}
    try:
        async with app[keys.RASA_HTTP].post(url, json=payload, headers=relay) as resp:
            if resp.status != 200:
                log.warning("rasa answered HTTP %s", resp.status)
                return None
            messages = await resp.json()
    except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError):
        log.exception("rasa unreachable")
        return None
    if not isinstance(messages, list):
        return None
    return [m for m in messages if isinstance(m, dict)]
