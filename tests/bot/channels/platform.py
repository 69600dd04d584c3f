"""Test doubles of the outside world: a simulated WeChat/WeCom API server, a client
that signs and encrypts callbacks the way the platforms do, and a fake assistant.

The client's encryption is written here independently of ``bot.channels.wechat``
(which is checked against WeChat's published vectors), so a symmetric bug in
the code under test cannot hide behind itself.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import struct
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from rasa.core.channels.channel import InputChannel, UserMessage, register
from sanic import Sanic

from tests.conftest import free_port

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


def message_xml(account: str, user: str, msg_type: str, **fields: str | int) -> bytes:
    parts = [
        f"<ToUserName><![CDATA[{account}]]></ToUserName>",
        f"<FromUserName><![CDATA[{user}]]></FromUserName>",
        f"<CreateTime>{fields.pop('CreateTime', int(time.time()))}</CreateTime>",
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>",
    ]
    for tag, value in fields.items():
        parts.append(
            f"<{tag}>{value}</{tag}>"
            if isinstance(value, int)
            else f"<{tag}><![CDATA[{value}]]></{tag}>"
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


# --- the assistant and the Rasa server around the channel ----------------------------------


@dataclass
class FakeAssistant:
    """Stands in for Rasa's agent: answers through the output channel, fast or slow."""

    delay: float = 0.0
    answer: Callable[[str], list[dict[str, Any]]] = lambda text: [{"text": f"答：{text}"}]
    received: list[UserMessage] = field(default_factory=list)

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        await asyncio.sleep(self.delay)
        for response in self.answer(message.text):
            await message.output_channel.send_response(message.sender_id, dict(response))


@asynccontextmanager
async def rasa_server(channel: InputChannel, assistant: FakeAssistant) -> AsyncIterator[str]:
    """A Sanic server wiring ``channel`` exactly as ``rasa run`` does; yields the webhook URL."""
    # Sanic rewrites its own methods for the first app of a process; test mode lets
    # each test start a fresh app.
    Sanic.test_mode = True
    app = Sanic(f"kepu_test_{uuid.uuid4().hex[:12]}")
    app.ctx.agent = assistant  # what Rasa's registered handler calls
    register([channel], app, route="/webhooks/")
    port = free_port()  # Sanic reads port 0 as "the default, 8000"
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.start_serving()
    try:
        yield f"http://127.0.0.1:{port}/webhooks/{channel.name()}/webhook"
    finally:
        server.close()
        await server.wait_closed()
        await channel.close()  # type: ignore[attr-defined]
