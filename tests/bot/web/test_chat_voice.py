"""The web chat's voice upload (``/api/v1/chat/voice``): real speech made in the
run (espeak-ng, Opus in WebM and Ogg), recognised by the Tencent engine against
the simulator that checks every TC3 signature; the caps, wrong content, no
engine configured, the chat's limits, and "不对" after a transcript."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.fraud.checker import default_checker
from bot.knowledge.service import KnowledgeService
from bot.menu.pages import menu_text
from bot.run import nginx
from bot.settings import Settings
from bot.voice.listener import heard_reply
from bot.web.app import create_app
from bot.web.listening import CORRECTION, MAX_BYTES, MAX_SECONDS
from tests.bot.voice.tencent_sim import SECRET_ID, SECRET_KEY, TencentAsrSimulator
from tests.bot.web.voice_clips import SENTENCE, opus, spoken_samples

VOICE = "/api/v1/chat/voice"


class FakeRasa:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        if self.status != 200:
            return web.json_response({"error": "boom"}, status=self.status)
        return web.json_response([{"recipient_id": body["sender"], "text": "收到"}])


@pytest.fixture
async def rasa(aiohttp_server) -> tuple[FakeRasa, str]:
    fake = FakeRasa()
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", fake.webhook)
    server = await aiohttp_server(app)
    return fake, str(server.make_url("")).rstrip("/")


@pytest.fixture
async def sim(aiohttp_server) -> tuple[TencentAsrSimulator, str]:
    simulator = TencentAsrSimulator(transcript=SENTENCE)
    server = await aiohttp_server(simulator.app())
    return simulator, str(server.make_url("/"))


async def make_client(aiohttp_client, tmp_path: Path, rasa_url: str, **extra: Any) -> TestClient:
    (tmp_path / "kb").mkdir(parents=True, exist_ok=True)
    settings = Settings(var_dir=tmp_path, rasa_url=rasa_url, **extra)
    app = create_app(settings, knowledge=KnowledgeService(tmp_path / "kb"), fraud=default_checker())
    return await aiohttp_client(app)


def tencent_settings(url: str, key: str = SECRET_KEY) -> dict[str, Any]:
    return {
        "asr": "tencent",
        "tencent_secret_id": SECRET_ID,
        "tencent_secret_key": key,
        "tencent_asr_url": url,
    }


@pytest.fixture
async def voice(aiohttp_client, tmp_path: Path, rasa, sim) -> TestClient:
    return await make_client(aiohttp_client, tmp_path, rasa[1], **tencent_settings(sim[1]))


@pytest.fixture(scope="module")
def webm() -> bytes:
    return opus(spoken_samples(), "webm")


async def upload(client: TestClient, clip: bytes, kind: str = "audio/webm", **query: str):
    headers = {"Content-Type": f"{kind};codecs=opus" if kind.startswith("audio/") else kind}
    return await client.post(VOICE, data=clip, headers=headers, params=query)


async def test_speech_is_heard_and_answered_like_typed_text(voice, rasa, sim, webm) -> None:
    fake, _ = rasa
    simulator, _ = sim
    resp = await upload(voice, webm, client_id="voice-000001")
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["heard"] == SENTENCE
    assert body["messages"] == [heard_reply(SENTENCE), "收到"]
    assert body["client_id"] == "voice-000001"
    # "不对" is offered as a button under the quote
    assert [o["label"] for o in body["replies"][0]["options"]] == ["不对"]
    assert [m["message"] for m in fake.received] == [SENTENCE]
    assert fake.received[0]["message_id"] == "voice-000001"
    assert fake.received[0]["input_channel"] == "webchat"
    assert len(simulator.accepted) == 1 and simulator.refused == []
    assert resp.headers["Cache-Control"] == "no-store"
    assert "kepu_sid" in resp.cookies  # a first message gets its sender, as typed text does


async def test_opus_in_ogg_is_heard_too(voice, rasa) -> None:
    resp = await upload(voice, opus(spoken_samples(), "ogg"), "audio/ogg")
    assert resp.status == 200 and (await resp.json())["heard"] == SENTENCE


async def test_the_page_offers_the_button_only_with_an_engine(
    voice, aiohttp_client, tmp_path: Path, rasa
) -> None:
    page = await (await voice.get("/")).text()
    assert 'id="talk"' in page and "chat-voice." in page
    assert f'data-voice-max-ms="{MAX_SECONDS * 1000}"' in page
    plain = await make_client(aiohttp_client, tmp_path / "plain", rasa[1])
    page = await (await plain.get("/")).text()
    assert 'id="talk"' not in page and "chat-voice." not in page
    assert "data-voice" not in page


@pytest.mark.parametrize("asr", ["wechat", "none"])
async def test_no_engine_gets_a_kind_reply_never_a_dead_end(
    aiohttp_client, tmp_path: Path, rasa, webm, asr: str
) -> None:
    fake, url = rasa
    client = await make_client(aiohttp_client, tmp_path, url, asr=asr)
    resp = await upload(client, webm)
    assert resp.status == 200
    body = await resp.json()
    assert body["problem"] == "none"
    text = body["messages"][0]
    assert "打字" in text and "话筒" in text and text.endswith(menu_text())  # what to do, the menu
    assert "手机使用" in [o["label"] for o in body["replies"][0]["options"]]  # as buttons
    assert fake.received == []


async def test_too_big_is_refused_before_it_is_read(voice, sim) -> None:
    resp = await upload(voice, b"\x1a\x45\xdf\xa3" + bytes(MAX_BYTES))
    assert resp.status == 413 and "最多说" in (await resp.json())["error"]

    async def chunks():  # no Content-Length: the cap holds while reading
        yield b"\x1a\x45\xdf\xa3"
        for _ in range(MAX_BYTES // 65536 + 2):
            yield bytes(65536)

    resp = await voice.post(VOICE, data=chunks(), headers={"Content-Type": "audio/webm"})
    assert resp.status == 413
    assert sim[0].accepted == []


async def test_too_long_is_refused(voice, sim) -> None:
    seconds = MAX_SECONDS + 10
    t = np.arange(seconds * 8000) / 8000
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    clip = opus(tone, "webm")
    assert len(clip) < MAX_BYTES  # refused for its length, not its size
    resp = await upload(voice, clip)
    assert resp.status == 413 and sim[0].accepted == []


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("text/plain", b"\x1a\x45\xdf\xa3 hello"),
        ("application/json", b'{"message": "hi"}'),
        ("multipart/form-data; boundary=x", b"--x--"),  # what a cross-site form can send
        ("audio/mpeg", b"ID3\x03\x00"),
        ("audio/webm", b"#!AMR\n" + bytes(100)),  # not what it says it is
        ("audio/ogg", b"\x1a\x45\xdf\xa3" + bytes(100)),
        ("audio/webm", b"<html>not audio</html>"),
    ],
)
async def test_what_is_not_a_recording_is_refused(voice, rasa, sim, kind: str, data: bytes) -> None:
    resp = await voice.post(VOICE, data=data, headers={"Content-Type": kind})
    assert resp.status == 415
    assert "error" in await resp.json()
    assert rasa[0].received == [] and sim[0].accepted == []


async def test_a_broken_recording_gets_a_kind_reply(voice, webm) -> None:
    resp = await upload(voice, webm[:40] + bytes(500))
    assert resp.status == 200
    body = await resp.json()
    assert body["problem"] == "unreadable" and "打字" in body["messages"][0]


async def test_silence_is_not_sent_to_the_engine(voice, sim) -> None:
    resp = await upload(voice, opus(np.zeros(3 * 8000, dtype=np.int16), "webm"))
    body = await resp.json()
    assert resp.status == 200 and body["problem"] == "silent"
    assert "没听清" in body["messages"][0] and sim[0].accepted == []


async def test_an_engine_that_refuses_gets_a_kind_reply(
    aiohttp_client, tmp_path: Path, rasa, sim, webm
) -> None:
    settings = tencent_settings(sim[1], key="wrong-key")
    client = await make_client(aiohttp_client, tmp_path, rasa[1], **settings)
    body = await (await upload(client, webm)).json()
    assert body["problem"] == "failed" and "打字" in body["messages"][0]
    assert sim[0].refused == ["AuthFailure.SignatureFailure"] and rasa[0].received == []


async def test_voice_and_text_share_the_chat_limits(
    aiohttp_client, tmp_path: Path, rasa, sim, webm
) -> None:
    settings = {**tencent_settings(sim[1]), "chat_rate_per_sender": 4}
    client = await make_client(aiohttp_client, tmp_path, rasa[1], **settings)
    await client.get("/")  # the sender cookie; 4 a minute: a burst of 2
    assert (await client.post("/api/v1/chat", json={"message": "你好"})).status == 200
    assert (await upload(client, webm)).status == 200
    resp = await upload(client, webm)
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    assert (await resp.json())["error"].startswith("您发得太快了")
    assert len(sim[0].accepted) == 1  # refused before it was read or recognised


async def test_a_rasa_failure_keeps_the_transcript_to_send_again(voice, rasa, webm) -> None:
    rasa[0].status = 500
    resp = await upload(voice, webm, client_id="voice-000002")
    body = await resp.json()
    assert resp.status == 503 and body["retry"] and body["keep"]
    assert body["heard"] == SENTENCE  # the page offers 重发 of these words
    rasa[0].status = 200  # 重发 sends the words with the same id: handled now
    resp = await voice.post("/api/v1/chat", json={"message": SENTENCE, "client_id": "voice-000002"})
    assert resp.status == 200 and (await resp.json())["messages"] == ["收到"]


async def test_bu_dui_right_after_a_transcript_asks_to_say_it_again(voice, rasa, webm) -> None:
    fake, _ = rasa
    await voice.get("/")
    await upload(voice, webm)
    resp = await voice.post("/api/v1/chat", json={"message": "不对"})
    assert (await resp.json())["messages"] == [CORRECTION]
    assert [m["message"] for m in fake.received] == [SENTENCE]
    # only right after it: the next "不对" is the assistant's to answer
    await voice.post("/api/v1/chat", json={"message": "不对"})
    assert [m["message"] for m in fake.received] == [SENTENCE, "不对"]


async def test_bu_shi_after_a_transcript_still_answers_the_assistant(voice, rasa, webm) -> None:
    await voice.get("/")
    await upload(voice, webm)
    await voice.post("/api/v1/chat", json={"message": "不是"})  # "都不是的话，回复“不是”"
    assert [m["message"] for m in rasa[0].received] == [SENTENCE, "不是"]


async def test_the_clip_is_written_nowhere(voice, tmp_path: Path, webm) -> None:
    await asyncio.gather(*(upload(voice, webm) for _ in range(3)))
    marker = webm[-64:]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert marker not in path.read_bytes(), path


def test_the_local_nginx_lets_clips_through_and_nothing_else_that_large() -> None:
    assert nginx.VOICE_MAX_BYTES == MAX_BYTES and nginx.VOICE_PATH == VOICE
    site = nginx.web_site("127.0.0.1:1", ["127.0.0.1:2"])
    conf = nginx.render([site], Path("/tmp/x"), 65536, None)
    block = conf.split(f"location = {VOICE} {{", 1)[1].split("}", 1)[0]
    assert f"client_max_body_size {MAX_BYTES};" in block and "proxy_pass" in block
    assert "client_max_body_size 65536;" in conf  # every other path keeps the small cap
