"""Clients of the platforms' message APIs: WeChat customer-service messages and
WeCom app messages.

An access token is fetched once and cached until shortly before it expires;
a call refused with 40001/40014/42001 (token invalid or expired, e.g. another
process fetched a newer one) refreshes it once and is repeated. Network
failures and "system busy" (-1) are retried with exponential backoff.
WeChat's "outside the 48-hour window" and "too many messages" answers raise
``OutsideWindow`` so the caller can keep the message for later.
"""

from __future__ import annotations

import abc
import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

TOKEN_INVALID = frozenset({40001, 40014, 42001})
# 45015: the user last wrote more than 48 hours ago; 45047: too many messages
# since the user's last one.
WINDOW_CLOSED = frozenset({45015, 45047})
SYSTEM_BUSY = -1
NETWORK_FAILURE = -2  # our code for "no answer from the platform"
TOKEN_MARGIN_SECONDS = 300.0
# Voice messages sent through the API (temporary media, kept 3 days by the platform):
# WeChat takes AMR or MP3, WeCom AMR only; both at most 2 MB and 60 s of sound.
VOICE_MAX_BYTES = 2 * 1024 * 1024
VOICE_MAX_SECONDS = 60.0


class ApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class OutsideWindow(ApiError):
    """The platform will not deliver to this user now; try after their next message."""


class MediaTooLarge(ApiError):
    """A media file over the caller's size cap: not downloaded further."""


@dataclass(frozen=True)
class Upload:
    """A file for ``/cgi-bin/media/upload``."""

    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    first_delay: float = 0.5  # doubled after each failed attempt
    timeout: float = 10.0  # per HTTP request


def _errcode(data: dict[str, Any]) -> int:
    code = data.get("errcode") or 0
    return code if isinstance(code, int) else NETWORK_FAILURE


def _error(code: int, message: str) -> ApiError:
    return OutsideWindow(code, message) if code in WINDOW_CLOSED else ApiError(code, message)


class PlatformApi(abc.ABC):
    """Token handling, retries and the JSON calls shared by both platforms."""

    token_path: str

    def __init__(self, base: str, retry: RetryPolicy | None = None) -> None:
        self.base = base.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._token = ""
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    @abc.abstractmethod
    def token_params(self) -> dict[str, str]:
        """Query parameters of the token request."""

    @abc.abstractmethod
    def message(
        self, recipient: str, kind: str, body: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Path and JSON body that send a message of ``kind`` ("text", "voice") to ``recipient``."""

    def text_message(self, recipient: str, text: str) -> tuple[str, dict[str, Any]]:
        return self.message(recipient, "text", {"content": text})

    def voice_message(self, recipient: str, media_id: str) -> tuple[str, dict[str, Any]]:
        return self.message(recipient, "voice", {"media_id": media_id})

    # The audio format the platform takes for a voice message.
    voice_format = "mp3"

    async def send_voice(self, recipient: str, media_id: str) -> None:
        path, payload = self.voice_message(recipient, media_id)
        data = await self.call(path, payload)
        if data.get("invaliduser"):
            raise ApiError(0, "recipient is not a member of the app's visible range")

    async def upload_media(
        self, kind: str, filename: str, content: bytes, content_type: str
    ) -> str:
        """Upload a temporary media file (``/cgi-bin/media/upload``, multipart field
        ``media``); its ``media_id``. Refreshes a refused token once; network failures
        and "system busy" are retried like the JSON calls."""
        token = await self.access_token()
        for attempt in (1, 2):
            params = {"access_token": token, "type": kind}
            upload = Upload(filename, content, content_type)
            try:
                data = await self._request("POST", "/cgi-bin/media/upload", params, None, upload)
            except ApiError as exc:
                if exc.code in TOKEN_INVALID and attempt == 1:
                    token = await self.access_token(stale=token)
                    continue
                raise
            media_id = data.get("media_id")
            if not isinstance(media_id, str) or not media_id:
                raise ApiError(NETWORK_FAILURE, "upload answer without media_id")
            return media_id
        raise ApiError(NETWORK_FAILURE, "media not uploaded")

    async def send_text(self, recipient: str, text: str) -> None:
        """Send one text message; ``ApiError`` when refused or the recipient is skipped."""
        path, payload = self.text_message(recipient, text)
        data = await self.call(path, payload)
        if data.get("invaliduser"):  # WeCom answers 0 but names recipients it skipped
            raise ApiError(0, "recipient is not a member of the app's visible range")

    async def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``payload`` with the access token; refresh the token once if it was refused."""
        token = await self.access_token()
        try:
            return await self._request("POST", path, {"access_token": token}, payload)
        except ApiError as exc:
            if exc.code not in TOKEN_INVALID:
                raise
            log.info("access token refused (%s); fetching a new one", exc.code)
        token = await self.access_token(stale=token)
        return await self._request("POST", path, {"access_token": token}, payload)

    async def media(self, media_id: str, max_bytes: int) -> tuple[bytes, str]:
        """A temporary media file (a picture or voice message) and its content type.

        Both platforms serve it at ``/cgi-bin/media/get``; an error comes back
        as JSON instead of the file (40007 for an expired one: temporary media
        is kept 3 days). Files over ``max_bytes`` raise ``MediaTooLarge``.
        """
        token = await self.access_token()
        for attempt in (1, 2):
            params = {"access_token": token, "media_id": media_id}
            content, kind = await self._download("/cgi-bin/media/get", params, max_bytes)
            if not kind.startswith(("application/json", "text/")):
                return content, kind
            try:
                data = json.loads(content)
            except ValueError:
                raise ApiError(NETWORK_FAILURE, "media answer is neither a file nor JSON") from None
            code = _errcode(data) if isinstance(data, dict) else NETWORK_FAILURE
            if code in TOKEN_INVALID and attempt == 1:
                token = await self.access_token(stale=token)
                continue
            raise _error(code, str(data.get("errmsg", ""))[:200] if isinstance(data, dict) else "")
        raise ApiError(NETWORK_FAILURE, "media not fetched")

    async def _download(
        self, path: str, params: dict[str, str], max_bytes: int
    ) -> tuple[bytes, str]:
        session = self._client()
        try:
            async with session.get(self.base + path, params=params) as response:
                response.raise_for_status()
                kind = response.headers.get("Content-Type", "").lower()
                # read() returns what has arrived so far: collect up to one byte over the cap.
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.content.iter_chunked(64 * 1024):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > max_bytes:
                        break
                content = b"".join(chunks)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise ApiError(NETWORK_FAILURE, f"{path}: {type(exc).__name__}") from exc
        if len(content) > max_bytes:
            raise MediaTooLarge(NETWORK_FAILURE, f"{path}: file larger than {max_bytes} bytes")
        return content, kind

    async def access_token(self, stale: str = "") -> str:
        """The cached token, fetched when missing, expiring, or equal to ``stale``."""
        async with self._token_lock:
            fresh = time.monotonic() < self._token_expires
            if self._token and fresh and self._token != stale:
                return self._token
            data = await self._request("GET", self.token_path, self.token_params(), None)
            token = data.get("access_token")
            if not isinstance(token, str) or not token:
                raise ApiError(NETWORK_FAILURE, "token response without access_token")
            lifetime = float(data.get("expires_in") or 7200)
            self._token = token
            self._token_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, 30.0)
            return token

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.retry.timeout)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        payload: dict[str, Any] | None,
        upload: Upload | None = None,
    ) -> dict[str, Any]:
        delay = self.retry.first_delay
        failure = ApiError(NETWORK_FAILURE, "no attempt made")
        for attempt in range(1, self.retry.attempts + 1):
            try:
                data = await self._once(method, path, params, payload, upload)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                failure = ApiError(NETWORK_FAILURE, f"{path}: {type(exc).__name__}")
            else:
                code = _errcode(data)
                if code == 0:
                    return data
                failure = _error(code, str(data.get("errmsg", ""))[:200])
                if code != SYSTEM_BUSY:
                    raise failure
            if attempt < self.retry.attempts:
                log.warning("%s failed (%s), retrying in %.1fs", path, failure.code, delay)
                await asyncio.sleep(delay)
                delay *= 2
        raise failure

    async def _once(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        payload: dict[str, Any] | None,
        upload: Upload | None = None,
    ) -> dict[str, Any]:
        session = self._client()
        # ensure_ascii=False: the platforms show "\u4f60" escapes literally.
        body: bytes | aiohttp.FormData | None = (
            None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        )
        headers = {"Content-Type": "application/json; charset=utf-8"} if body else None
        if upload is not None:  # multipart, field "media"; a fresh body for each attempt
            body = aiohttp.FormData()
            body.add_field(
                "media", upload.content, filename=upload.filename, content_type=upload.content_type
            )
        async with session.request(
            method, self.base + path, params=params, data=body, headers=headers
        ) as response:
            response.raise_for_status()
            data = await response.json(content_type=None)
        if not isinstance(data, dict):
            raise ValueError("answer is not a JSON object")
        return data


class WeChatApi(PlatformApi):
    """Official Account: ``/cgi-bin/token`` and customer-service messages."""

    token_path = "/cgi-bin/token"

    def __init__(self, base: str, appid: str, secret: str, retry: RetryPolicy | None = None):
        super().__init__(base, retry)
        self.appid = appid
        self.secret = secret

    def token_params(self) -> dict[str, str]:
        return {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}

    def message(
        self, recipient: str, kind: str, body: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return "/cgi-bin/message/custom/send", {"touser": recipient, "msgtype": kind, kind: body}


class WeComApi(PlatformApi):
    """WeCom self-built app: ``/cgi-bin/gettoken`` and app messages."""

    token_path = "/cgi-bin/gettoken"

    def __init__(
        self, base: str, corp_id: str, secret: str, agent_id: int, retry: RetryPolicy | None = None
    ):
        super().__init__(base, retry)
        self.corp_id = corp_id
        self.secret = secret
        self.agent_id = agent_id

    def token_params(self) -> dict[str, str]:
        return {"corpid": self.corp_id, "corpsecret": self.secret}

    voice_format = "amr"  # WeCom's voice messages are AMR only

    def message(
        self, recipient: str, kind: str, body: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        payload = {"touser": recipient, "msgtype": kind, "agentid": self.agent_id, kind: body}
        return "/cgi-bin/message/send", payload
