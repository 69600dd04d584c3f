"""A stand-in for Tencent Cloud's ASR endpoint that checks requests as the real one does.

Every request's TC3-HMAC-SHA256 signature is recomputed here from the request
as received — written from Tencent Cloud's "签名方法 v3" description, not with
``bot.voice.tencent`` — so a wrong key, a changed body or header, a stale
timestamp or a wrong credential scope is refused with the error codes of
API 3.0. Recognition itself is scripted: audio with sound gets ``transcript``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
from aiohttp import web

SECRET_ID = "AKIDkepuTestSecretId0000000000000000"
SECRET_KEY = "kepuTestSecretKey00000000000000"
MAX_SKEW_SECONDS = 300


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def expected_signature(
    secret_key: str, request_headers: dict[str, str], signed: list[str], body: bytes
) -> str:
    """The signature Tencent Cloud computes for this POST / (no query string)."""
    headers = {name.lower(): value for name, value in request_headers.items()}
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed),
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    timestamp = int(headers["x-tc-timestamp"])
    date = datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            f"{date}/asr/tc3_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), "asr"), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class TencentAsrSimulator:
    """Answers SentenceRecognition; records what it accepted and what it refused."""

    keys: dict[str, str] = field(default_factory=lambda: {SECRET_ID: SECRET_KEY})
    transcript: str = "稻子生虫了怎么办"
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/", self.handle)
        return app

    def _error(self, code: str, message: str) -> web.Response:
        self.refused.append(code)
        error = {"Error": {"Code": code, "Message": message}, "RequestId": str(uuid.uuid4())}
        return web.json_response({"Response": error})

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        refusal = self.check_signature(headers, body)
        if refusal:
            return self._error(*refusal)
        if headers.get("X-TC-Action") != "SentenceRecognition":
            return self._error("InvalidAction", "unknown action")
        if headers.get("X-TC-Version") != "2019-06-14":
            return self._error("NoSuchVersion", "unknown version")
        try:
            params = json.loads(body)
            pcm = base64.b64decode(params["Data"], validate=True)
        except (ValueError, KeyError, TypeError):
            return self._error("InvalidParameter", "Data is not base64 JSON")
        if params.get("SourceType") != 1 or params.get("DataLen") != len(pcm):
            return self._error("InvalidParameterValue", "SourceType/DataLen")
        if params.get("VoiceFormat") != "pcm" or not str(params.get("EngSerViceType")).startswith(
            "16k_"
        ):
            return self._error("InvalidParameterValue", "VoiceFormat/EngSerViceType")
        if len(body) > 3 * 1024 * 1024:
            return self._error("FailedOperation.ErrorDownFile", "audio over 3 MB")
        self.accepted.append({"params": params, "pcm": pcm, "headers": headers})
        samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
        sound = samples.size > 0 and float(np.abs(samples.astype(np.int32)).max()) > 500
        result = {
            "Result": self.transcript if sound else "",
            "AudioDuration": len(pcm) * 1000 // 32000,
            "WordSize": 0,
            "WordList": None,
            "RequestId": str(uuid.uuid4()),
        }
        return web.json_response({"Response": result})

    def check_signature(self, headers: dict[str, str], body: bytes) -> tuple[str, str] | None:
        auth = headers.get("Authorization", "")
        algorithm, _, rest = auth.partition(" ")
        parts = dict(item.strip().split("=", 1) for item in rest.split(",") if "=" in item)
        if algorithm != "TC3-HMAC-SHA256" or set(parts) != {
            "Credential",
            "SignedHeaders",
            "Signature",
        }:
            return "AuthFailure.InvalidAuthorization", "Authorization is malformed"
        secret_id, date, service, terminator = (parts["Credential"].split("/") + [""] * 4)[:4]
        try:
            timestamp = int(headers.get("X-TC-Timestamp", ""))
        except ValueError:
            return "AuthFailure.InvalidAuthorization", "X-TC-Timestamp missing"
        if abs(time.time() - timestamp) > MAX_SKEW_SECONDS:
            return "AuthFailure.SignatureExpire", "timestamp outside 5 minutes"
        day = datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")
        if (date, service, terminator) != (day, "asr", "tc3_request"):
            return "AuthFailure.InvalidAuthorization", "credential scope"
        signed = parts["SignedHeaders"].split(";")
        if not {"content-type", "host"} <= set(signed) or signed != sorted(signed):
            return "AuthFailure.InvalidAuthorization", "SignedHeaders"
        key = self.keys.get(secret_id)
        if key is None:
            return "AuthFailure.SecretIdNotFound", "unknown SecretId"
        wanted = expected_signature(key, headers, signed, body)
        if not hmac.compare_digest(wanted, parts["Signature"]):
            return "AuthFailure.SignatureFailure", "signature does not match"
        return None
