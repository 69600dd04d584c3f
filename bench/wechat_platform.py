"""The WeChat/WeCom platform as the benches and the tests meet it: callbacks posted
the way the platforms post them (signed, and AES-encrypted in safe mode), and the
platforms' message API simulated on loopback.

The encryption is written here independently of ``bot.wechat`` and
``bot.channels.wechat`` (which are checked against WeChat's published vectors), so
a symmetric bug in the code under test cannot hide behind itself: nothing here
imports the code under test.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import itertools
import os
import random
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bench.ports import free_port

# The plain-mode account the load benches configure their stack with.
WECHAT_TOKEN = "kepubenchtoken"
WECHAT_ACCOUNT = "gh_kepu_bench"


# --- the platforms' API ----------------------------------------------------------------


@dataclass
class Simulator:
    """Serves the token and message endpoints of WeChat and WeCom; records every call."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    valid_tokens: set[str] = field(default_factory=set)
    # errcodes (or HTTP statuses as negative numbers below -100) answered to the next sends
    scripted: list[int] = field(default_factory=list)
    send_attempts: int = 0
    # openids whose 48-hour window is closed: customer-service messages get 45015
    closed: set[str] = field(default_factory=set)
    # media id -> (content type, bytes) served by /cgi-bin/media/get
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    # files uploaded to /cgi-bin/media/upload: {type, filename, content_type, content, media_id}
    uploads: list[dict[str, Any]] = field(default_factory=list)
    # errcodes answered to the next uploads
    upload_errors: list[int] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self.token)
        app.router.add_get("/cgi-bin/gettoken", self.token)
        app.router.add_post("/cgi-bin/message/custom/send", self.send)
        app.router.add_post("/cgi-bin/message/send", self.send)
        app.router.add_post("/cgi-bin/message/template/send", self.send)
        app.router.add_get("/cgi-bin/media/get", self.get_media)
        app.router.add_post("/cgi-bin/media/upload", self.upload_media)
        return app

    async def upload_media(self, request: web.Request) -> web.Response:
        """Temporary media as the platforms take it: multipart, the file in field "media"."""
        if request.query.get("access_token") not in self.valid_tokens:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        if self.upload_errors:
            return web.json_response({"errcode": self.upload_errors.pop(0), "errmsg": "scripted"})
        kind = request.query.get("type", "")
        if kind not in ("image", "voice", "video", "thumb", "file"):
            return web.json_response({"errcode": 40004, "errmsg": "invalid media type"})
        reader = await request.multipart()
        part = await reader.next()
        if part is None or getattr(part, "name", None) != "media" or not part.filename:
            return web.json_response({"errcode": 41005, "errmsg": "media data missing"})
        content = await part.read()  # type: ignore[union-attr]
        if len(content) <= 5 or (kind == "voice" and len(content) > 2 * 1024 * 1024):
            return web.json_response({"errcode": 40005, "errmsg": "invalid file size"})
        media_id = f"uploaded-{len(self.uploads) + 1}"
        self.uploads.append(
            {
                "type": kind,
                "filename": part.filename,
                "content_type": part.headers.get("Content-Type", ""),
                "content": content,
                "media_id": media_id,
            }
        )
        self.media[media_id] = (part.headers.get("Content-Type", ""), content)
        return web.json_response({"type": kind, "media_id": media_id, "created_at": 1700000000})

    async def get_media(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") not in self.valid_tokens:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        found = self.media.get(request.query.get("media_id", ""))
        if found is None:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        return web.Response(body=found[1], content_type=found[0])

    async def token(self, request: web.Request) -> web.Response:
        self.token_requests.append(dict(request.query))
        token = f"token-{len(self.token_requests)}"
        self.valid_tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def send(self, request: web.Request) -> web.Response:
        self.send_attempts += 1
        raw = await request.read()
        if self.scripted:
            code = self.scripted.pop(0)
            if code <= -500:
                return web.Response(status=-code, text="bad gateway")
            return web.json_response({"errcode": code, "errmsg": "scripted"})
        if request.query.get("access_token") not in self.valid_tokens:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        closed = request.path.endswith("/custom/send") and (
            (await request.json()).get("touser") in self.closed
        )
        if closed:
            return web.json_response({"errcode": 45015, "errmsg": "response out of time"})
        self.sent.append({"path": request.path, "raw": raw, "json": await request.json()})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def texts_to(self, user: str) -> list[str]:
        return [
            c["json"]["text"]["content"]
            for c in self.sent
            if c["json"]["touser"] == user and "text" in c["json"]
        ]

    def voices_to(self, user: str) -> list[str]:
        """Media ids of the voice messages sent to ``user``, in order."""
        return [
            c["json"]["voice"]["media_id"]
            for c in self.sent
            if c["json"]["touser"] == user and c["json"].get("msgtype") == "voice"
        ]

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.sent


class WeChatApiStandIn:
    """The simulated API served on a free loopback port, in this process's event loop.

    ``sent``: customer-service messages delivered; ``pushed``: their texts per user,
    in order.
    """

    def __init__(self, simulator: Simulator | None = None) -> None:
        self.simulator = simulator or Simulator()
        self.port = free_port()
        self._runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sent(self) -> int:
        return len(self._customer_service())

    @property
    def pushed(self) -> dict[str, list[str]]:
        pushed: dict[str, list[str]] = {}
        for body in self._customer_service():
            text = (body.get("text") or {}).get("content", "")
            pushed.setdefault(body.get("touser", ""), []).append(text)
        return pushed

    def _customer_service(self) -> list[dict[str, Any]]:
        return [
            c["json"] for c in self.simulator.sent if c["path"] == "/cgi-bin/message/custom/send"
        ]

    async def start(self) -> None:
        self._runner = web.AppRunner(self.simulator.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class SimulatorThread:
    """The simulated API on its own event loop in a thread (for synchronous callers)."""

    def __init__(self) -> None:
        self._server = WeChatApiStandIn()
        self.simulator = self._server.simulator
        self.port = self._server.port
        self.base = self._server.base
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._server.start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._server.close())

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(10)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


# --- the platforms' callbacks ------------------------------------------------------------


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def encrypt(aes_key: str, receive_id: str, message: bytes) -> str:
    key = base64.b64decode(aes_key + "=")
    plain = os.urandom(16) + struct.pack(">I", len(message)) + message + receive_id.encode()
    pad = 32 - len(plain) % 32
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    data = encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()
    return base64.b64encode(data).decode()


def decrypt(aes_key: str, encrypted: str) -> tuple[bytes, str]:
    key = base64.b64decode(aes_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    plain = plain[: -plain[-1]]
    (length,) = struct.unpack(">I", plain[16:20])
    return plain[20 : 20 + length], plain[20 + length :].decode()


def cdata(text: str) -> str:
    """``text`` as CDATA; a "]]>" inside it is split over two sections."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(account: str, user: str, msg_type: str, **fields: str | int) -> bytes:
    """A callback message as the platform posts it; integers bare, text as CDATA.
    ``CreateTime`` defaults to now."""
    parts = [
        f"<ToUserName>{cdata(account)}</ToUserName>",
        f"<FromUserName>{cdata(user)}</FromUserName>",
        f"<CreateTime>{fields.pop('CreateTime', int(time.time()))}</CreateTime>",
        f"<MsgType>{cdata(msg_type)}</MsgType>",
    ]
    for tag, value in fields.items():
        parts.append(
            f"<{tag}>{value}</{tag}>"
            if isinstance(value, int)
            else f"<{tag}>{cdata(value)}</{tag}>"
        )
    return ("<xml>" + "".join(parts) + "</xml>").encode()


@dataclass
class Account:
    """One account's settings as the platform knows them."""

    token: str
    receive_id: str  # AppID or CorpID
    aes_key: str | None  # None: plain mode
    wecom: bool = False


@dataclass
class Reply:
    status: int
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class PlatformClient:
    """Posts callbacks the way WeChat (or WeCom) does: signed, and encrypted in safe mode."""

    def __init__(self, url: str, account: Account, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.account = account
        self.session = session

    def query(
        self,
        encrypted: str | None,
        timestamp: int | None = None,
        nonce: str | None = None,
        forge: bool = False,
    ) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or str(uuid.uuid4().int % 10**10)
        token = "not-the-token" if forge else self.account.token
        query = {"timestamp": ts, "nonce": nonce}
        if not self.account.wecom:
            query["signature"] = signature(token, ts, nonce)
            query["openid"] = "o-test"
        if encrypted is not None:
            query["msg_signature"] = signature(token, ts, nonce, encrypted)
            if not self.account.wecom:
                query["encrypt_type"] = "aes"
        return query

    def seal(self, plain: bytes) -> tuple[bytes, str | None]:
        if self.account.aes_key is None:
            return plain, None
        encrypted = encrypt(self.account.aes_key, self.account.receive_id, plain)
        to = "gh_test" if not self.account.wecom else self.account.receive_id
        envelope = (
            f"<xml><ToUserName><![CDATA[{to}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
        return envelope.encode(), encrypted

    async def post(self, plain: bytes, **query_options: Any) -> Reply:
        body, encrypted = self.seal(plain)
        return await self.post_raw(body, self.query(encrypted, **query_options))

    async def post_raw(self, body: bytes, query: dict[str, str]) -> Reply:
        started = time.monotonic()
        # A file-like body: aiohttp warns about sending a large bytes object in one go.
        async with self.session.post(self.url, params=query, data=io.BytesIO(body)) as response:
            data = await response.read()
        return Reply(response.status, data, time.monotonic() - started)

    def open_reply(self, reply: Reply) -> dict[str, str]:
        """The passive reply's fields, decrypted (and its signature checked) if encrypted."""
        root = ElementTree.fromstring(reply.body)
        fields = {child.tag: child.text or "" for child in root}
        if "Encrypt" not in fields:
            return fields
        assert self.account.aes_key
        expected = signature(
            self.account.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"]
        )
        assert fields["MsgSignature"] == expected
        plain, receive_id = decrypt(self.account.aes_key, fields["Encrypt"])
        assert receive_id == self.account.receive_id
        return {child.tag: child.text or "" for child in ElementTree.fromstring(plain)}


# --- plain mode, for the load benches ---------------------------------------------------


def wechat_query(token: str, timestamp: str, nonce: str, openid: str) -> dict[str, str]:
    """The query string of a plain-mode callback."""
    return {
        "signature": signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": openid,
    }


class WeChatSigner:
    """Plain-mode text messages, signed; a fresh nonce and MsgId for every request."""

    def __init__(self, token: str = WECHAT_TOKEN, account: str = WECHAT_ACCOUNT) -> None:
        self.token = token
        self.account = account
        self._ids = itertools.count(random.SystemRandom().randrange(10**15, 9 * 10**15))

    def request(self, user: str, content: str) -> tuple[dict[str, str], bytes]:
        now = int(time.time())
        nonce = str(uuid.uuid4().int % 10**10)
        query = wechat_query(self.token, str(now), nonce, user)
        body = message_xml(
            self.account, user, "text", CreateTime=now, Content=content, MsgId=next(self._ids)
        )
        return query, body
