"""Sender-sticky routing in front of several Rasa processes (production profile).

``kepu run`` with ``KEPU_RASA_INSTANCES`` > 1 starts the Rasa processes on the
ports after the Rasa port and this router on the Rasa port itself, so channels,
the web service and the README's URLs do not change. Every request goes to the
instance that rendezvous hashing picks for its sender:

- REST channel: ``sender`` of the JSON body;
- WeChat: the ``openid`` query parameter WeChat adds to every message push
  (in plain mode also ``FromUserName`` of the body);
- Rasa's HTTP API: the conversation id in ``/conversations/<id>/...``.

WeCom callbacks carry the user only inside the encrypted body; they, and
requests without a sender, are spread round-robin. Routing is an optimisation
of locality, not what keeps a conversation right: every instance reads the
same PostgreSQL tracker store and takes the conversation's lock in Redis, so
two messages of one sender are handled one after the other, in order,
whichever instance gets them. If an instance does not answer the connection,
the sender's next-ranked instance takes the request.

``/`` (what the supervisor and the web service's ``/readyz`` ask) is the
router's own: ready when every instance says it is, that is when each has
held its warm-up conversation (``bot.rasa_entry.warm_up``).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import re
from urllib.parse import unquote

import aiohttp
from aiohttp import web

from bot.settings import Settings
from bot.text.inbound import BUSY_REPLY

log = logging.getLogger(__name__)
# Hop-by-hop headers are the proxy's own business (RFC 9110 §7.6.1).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
_FROM_USER = re.compile(rb"<FromUserName>\s*<!\[CDATA\[(.{1,128}?)\]\]>", re.S)
_CONVERSATION = re.compile(r"^/conversations/([^/]+)/")
INSTANCE_HEADER = "X-Kepu-Rasa-Instance"
SESSION_KEY = web.AppKey("session", aiohttp.ClientSession)
READY_TIMEOUT_SECONDS = 2.0


def sender_of(path: str, query: dict[str, str], body: bytes) -> str | None:
    """The conversation a request belongs to, if it says."""
    if path.startswith("/webhooks/rest/"):
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return None
        sender = data.get("sender") if isinstance(data, dict) else None
        return sender if isinstance(sender, str) and sender else None
    if path.startswith("/webhooks/wechat/"):
        if query.get("openid"):
            return query["openid"]
        found = _FROM_USER.search(body)
        return found.group(1).decode("utf-8", "replace") if found else None
    match = _CONVERSATION.match(path)
    return unquote(match.group(1)) if match else None


def ranked(sender: str, backends: list[str]) -> list[str]:
    """Backends in the order this sender should use them (rendezvous hashing):
    removing one instance moves only the senders it had."""

    def weight(backend: str) -> bytes:
        return hashlib.sha256(f"{backend}\0{sender}".encode()).digest()

    return sorted(backends, key=weight, reverse=True)


class Router:
    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self._turns = itertools.cycle(range(len(backends)))

    def order(self, sender: str | None) -> list[str]:
        if sender is None:
            start = next(self._turns)
            return self.backends[start:] + self.backends[:start]
        return ranked(sender, self.backends)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        sender = sender_of(request.path, dict(request.query), body)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        session = request.app[SESSION_KEY]
        for backend in self.order(sender):
            try:
                async with session.request(
                    request.method,
                    backend + request.path_qs,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                ) as upstream:
                    content = await upstream.read()
                    response = web.Response(status=upstream.status, body=content)
                    for name, value in upstream.headers.items():
                        if name.lower() not in HOP_BY_HOP:
                            response.headers.add(name, value)
                    response.headers[INSTANCE_HEADER] = str(self.backends.index(backend) + 1)
                    return response
            except aiohttp.ClientConnectionError:
                log.warning("Rasa instance %s is not answering; trying the next", backend)
        return self.unavailable(request)

    async def ready(self, request: web.Request) -> web.Response:
        """200 when every instance answers its ``/`` with 200, else 503 naming the others."""
        session = request.app[SESSION_KEY]

        async def status(backend: str) -> int | None:
            try:
                timeout = aiohttp.ClientTimeout(total=READY_TIMEOUT_SECONDS)
                async with session.get(backend + "/", timeout=timeout) as resp:
                    return resp.status
            except (aiohttp.ClientError, asyncio.TimeoutError):
                return None

        statuses = await asyncio.gather(*(status(b) for b in self.backends))
        waiting = [str(i) for i, code in enumerate(statuses, start=1) if code != 200]
        if waiting:
            return web.Response(status=503, text="waiting for instance " + ", ".join(waiting))
        return web.Response(text="ok")

    @staticmethod
    def unavailable(request: web.Request) -> web.Response:
        if request.path.startswith("/webhooks/rest/"):
            return web.json_response([{"text": BUSY_REPLY}])
        return web.json_response({"error": "no Rasa instance is answering"}, status=503)


def create_router(backends: list[str], max_body_bytes: int) -> web.Application:
    router = Router(backends)
    app = web.Application(client_max_size=max_body_bytes)

    async def client(app: web.Application):
        # Rasa may take a minute on a cold model; the channels keep their own deadlines.
        timeout = aiohttp.ClientTimeout(total=120, connect=2)
        async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session:
            app[SESSION_KEY] = session
            yield

    app.cleanup_ctx.append(client)
    app.router.add_get("/", router.ready)
    app.router.add_route("*", "/{tail:.*}", router.handle)
    return app


def instance_ports(settings: Settings) -> list[int]:
    """Ports of the Rasa processes behind the router."""
    return [settings.rasa_port + 1 + i for i in range(settings.rasa_instances)]


def main() -> None:
    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level)
    backends = [f"http://{settings.host}:{port}" for port in instance_ports(settings)]
    web.run_app(
        create_router(backends, settings.max_body_bytes),
        host=settings.host,
        port=settings.rasa_port,
        print=None,
        access_log=None,
    )


if __name__ == "__main__":
    main()
