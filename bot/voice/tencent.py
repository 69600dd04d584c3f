"""Tencent Cloud ASR 一句话识别 (SentenceRecognition, API 3.0), signed with
TC3-HMAC-SHA256 as Tencent Cloud documents it ("签名方法 v3").

The request is built and signed here (aiohttp, no SDK): the canonical request
covers the method, path, query, the signed headers (names and values
lower-cased and trimmed), and the SHA-256 of the JSON body; the signing key is
derived from the secret key, the UTC date and the service name.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.voice.errors import RecognitionFailed

log = logging.getLogger(__name__)

ALGORITHM = "TC3-HMAC-SHA256"
SERVICE = "asr"
ACTION = "SentenceRecognition"
VERSION = "2019-06-14"
DEFAULT_URL = "https://asr.tencentcloudapi.com"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = ("content-type", "host", "x-tc-action")
# 一句话识别 takes at most 3 MB of (base64) audio: 60 s of 16 kHz PCM is 2.6 MB.
MAX_PCM_BYTES = 60 * 16000 * 2


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` as lowercase hex, as the TC3 signature wants it."""
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def utc_date(timestamp: int) -> str:
    """The UTC date of a Unix timestamp, "YYYY-MM-DD": the TC3 credential scope's date."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")


def canonical_request(
    method: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload: bytes,
    path: str = "/",
    query: str = "",
) -> str:
    """Step 1: the request in canonical form (``headers`` names in any case)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    canonical_headers = "".join(
        f"{name}:{lowered[name].strip().lower()}\n" for name in signed_headers
    )
    return "\n".join(
        [method, path, query, canonical_headers, ";".join(signed_headers), sha256_hex(payload)]
    )


def string_to_sign(timestamp: int, service: str, canonical: str) -> str:
    """Step 2: algorithm, timestamp, credential scope and the canonical request's hash."""
    scope = f"{utc_date(timestamp)}/{service}/tc3_request"
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{sha256_hex(canonical.encode('utf-8'))}"


def signature(secret_key: str, timestamp: int, service: str, to_sign: str) -> str:
    """Step 3: HMAC-SHA256 chain TC3+key → date → service → "tc3_request" → string to sign."""
    key = _hmac(("TC3" + secret_key).encode("utf-8"), utc_date(timestamp))
    key = _hmac(key, service)
    key = _hmac(key, "tc3_request")
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(
    secret_id: str,
    secret_key: str,
    timestamp: int,
    headers: Mapping[str, str],
    payload: bytes,
    service: str = SERVICE,
    signed_headers: Sequence[str] = SIGNED_HEADERS,
) -> str:
    """Step 4: the ``Authorization`` header of a POST to ``/``."""
    canonical = canonical_request("POST", headers, signed_headers, payload)
    to_sign = string_to_sign(timestamp, service, canonical)
    signed = signature(secret_key, timestamp, service, to_sign)
    scope = f"{utc_date(timestamp)}/{service}/tc3_request"
    return (
        f"{ALGORITHM} Credential={secret_id}/{scope}, "
        f"SignedHeaders={';'.join(signed_headers)}, Signature={signed}"
    )


class TencentEngine:
    """一句话识别 of 16 kHz PCM; ``engine_type`` e.g. 16k_zh or 16k_zh_dialect (方言)."""

    name = "tencent"

    def __init__(
        self,
        secret_id: str,
        secret_key: str,
        *,
        region: str = "",
        url: str = DEFAULT_URL,
        engine_type: str = "16k_zh",
        timeout: float = 10.0,
    ) -> None:
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.region = region
        self.url = url.rstrip("/") + "/"
        self.host = urlsplit(self.url).netloc
        self.engine_type = engine_type
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def request(self, pcm16k: bytes, timestamp: int) -> tuple[dict[str, str], bytes]:
        """Headers (signed) and body of one SentenceRecognition call."""
        params = {
            "EngSerViceType": self.engine_type,
            "SourceType": 1,
            "VoiceFormat": "pcm",
            "Data": base64.b64encode(pcm16k).decode("ascii"),
            "DataLen": len(pcm16k),
        }
        payload = json.dumps(params, separators=(",", ":")).encode("utf-8")
        headers = {
            "Content-Type": CONTENT_TYPE,
            "Host": self.host,
            "X-TC-Action": ACTION,
            "X-TC-Version": VERSION,
            "X-TC-Timestamp": str(timestamp),
        }
        if self.region:
            headers["X-TC-Region"] = self.region
        headers["Authorization"] = authorization(
            self.secret_id, self.secret_key, timestamp, headers, payload
        )
        return headers, payload

    async def recognize(self, pcm16k: bytes) -> str | None:
        """The transcript; None if nothing was recognised. Raises ``RecognitionFailed``."""
        if not pcm16k:
            return None
        headers, payload = self.request(pcm16k[:MAX_PCM_BYTES], int(time.time()))
        try:
            async with self._client().post(self.url, data=payload, headers=headers) as response:
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise RecognitionFailed(f"tencent: {type(exc).__name__}") from exc
        answer: Any = data.get("Response") if isinstance(data, dict) else None
        if not isinstance(answer, dict):
            raise RecognitionFailed("tencent: answer without Response")
        error = answer.get("Error")
        if isinstance(error, dict):
            code = str(error.get("Code", ""))[:80]
            raise RecognitionFailed(f"tencent: {code}: {str(error.get('Message', ''))[:200]}")
        text = str(answer.get("Result") or "").strip()
        return text or None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def close(self) -> None:
        """Close the HTTP session (a new one opens for the next message)."""
        if self._session is not None:
            await self._session.close()
            self._session = None
