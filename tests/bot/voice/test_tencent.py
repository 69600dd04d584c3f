"""The Tencent Cloud engine: TC3-HMAC-SHA256 signing, checked against the official
SDK's result and against a simulator that recomputes every signature."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest

from bench.ports import free_port
from bot.voice import tencent
from bot.voice.audio import decode_voice
from bot.voice.errors import RecognitionFailed
from bot.voice.tencent import TencentEngine
from tests.bot.voice.tencent_sim import SECRET_ID, SECRET_KEY


def test_signature_matches_the_official_python_sdk() -> None:
    """Expected value computed with tencentcloud-sdk-python-common 3.1.195
    (``Sign.sign_tc3`` over the canonical request its ``_get_tc3_signature`` builds:
    POST, "/", no query, headers content-type;host) for these inputs."""
    payload = json.dumps(
        {
            "EngSerViceType": "16k_zh",
            "SourceType": 1,
            "VoiceFormat": "pcm",
            "Data": "AAAAAA==",
            "DataLen": 4,
        }
    ).encode()
    headers = {"Content-Type": "application/json", "Host": "asr.tencentcloudapi.com"}
    auth = tencent.authorization(
        "AKIDEXAMPLE",
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        1551113065,
        headers,
        payload,
        signed_headers=("content-type", "host"),
    )
    assert auth == (
        "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2019-02-25/asr/tc3_request, "
        "SignedHeaders=content-type;host, "
        "Signature=0dd4a8d3b6960c5f43d9dcb34481f717960da7ba210aacf6a93b0d01cd88e2e9"
    )


def test_the_credential_date_is_the_utc_date() -> None:
    # 2019-02-25 23:30 UTC is already the 26th in Beijing: Tencent uses UTC.
    assert tencent.utc_date(1551137400) == "2019-02-25"


def engine(url: str, key: str = SECRET_KEY, secret_id: str = SECRET_ID, **extra) -> TencentEngine:
    return TencentEngine(secret_id, key, url=url, timeout=5.0, **extra)


async def test_recognises_real_speech_through_the_simulator(spoken, tencent) -> None:
    sim, url = tencent
    pcm = await decode_voice(spoken.amr)
    asr = engine(url)
    try:
        assert await asr.recognize(pcm.data) == sim.transcript
    finally:
        await asr.close()
    (call,) = sim.accepted
    assert call["pcm"] == pcm.data
    assert call["params"]["EngSerViceType"] == "16k_zh"
    assert call["headers"]["X-TC-Action"] == "SentenceRecognition"
    assert "X-TC-Region" not in call["headers"]
    assert "SignedHeaders=content-type;host;x-tc-action" in call["headers"]["Authorization"]


async def test_a_wrong_key_or_unknown_id_is_refused(tencent) -> None:
    sim, url = tencent
    pcm = b"\x10\x27" * 16000
    for asr, code in (
        (engine(url, key="not-the-key"), "AuthFailure.SignatureFailure"),
        (engine(url, secret_id="AKIDunknown"), "AuthFailure.SecretIdNotFound"),
    ):
        try:
            with pytest.raises(RecognitionFailed, match=code):
                await asr.recognize(pcm)
        finally:
            await asr.close()
    assert sim.accepted == []
    assert sim.refused == ["AuthFailure.SignatureFailure", "AuthFailure.SecretIdNotFound"]


async def test_a_changed_body_header_or_old_timestamp_is_refused(tencent, http_session) -> None:
    sim, url = tencent
    asr = engine(url)
    pcm = b"\x10\x27" * 1600
    headers, body = asr.request(pcm, int(time.time()))
    tampered = body.replace(b'"16k_zh"', b'"16k_en"')
    async with http_session.post(url, data=tampered, headers=headers) as r:
        assert (await r.json())["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"
    other_action = {**headers, "X-TC-Action": "SentenceRecognitionX"}
    async with http_session.post(url, data=body, headers=other_action) as r:
        assert (await r.json())["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"
    headers, body = asr.request(pcm, int(time.time()) - 3600)
    async with http_session.post(url, data=body, headers=headers) as r:
        assert (await r.json())["Response"]["Error"]["Code"] == "AuthFailure.SignatureExpire"
    headers, body = asr.request(pcm, int(time.time()))  # untouched: accepted
    async with http_session.post(url, data=body, headers=headers) as r:
        assert (await r.json())["Response"]["Result"] == sim.transcript


async def test_region_and_dialect_engine_are_sent(tencent) -> None:
    sim, url = tencent
    asr = engine(url, region="ap-guangzhou", engine_type="16k_zh_dialect")
    try:
        await asr.recognize(b"\x10\x27" * 1600)
    finally:
        await asr.close()
    (call,) = sim.accepted
    assert call["headers"]["X-TC-Region"] == "ap-guangzhou"
    assert call["params"]["EngSerViceType"] == "16k_zh_dialect"


async def test_silence_and_unreachable_service(tencent) -> None:
    sim, url = tencent
    asr = engine(url)
    try:
        assert await asr.recognize(bytes(32000)) is None  # no sound: empty Result
        assert await asr.recognize(b"") is None  # nothing sent at all
    finally:
        await asr.close()
    assert len(sim.accepted) == 1
    down = engine(f"http://127.0.0.1:{free_port()}/")
    try:
        with pytest.raises(RecognitionFailed, match="ClientConnectorError"):
            await down.recognize(b"\x10\x27" * 1600)
    finally:
        await down.close()


@pytest.fixture
async def http_session():
    async with aiohttp.ClientSession() as session:
        yield session
