"""``GET /api/v1/chat/speech/<entry id>``: an answer card read aloud, through the real
worker process with the tone engine; off by default, only entries, the chat's
limits, the cache, and failures that leave the chat as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.fraud.checker import default_checker
from bot.knowledge.reply import answer_messages
from bot.knowledge.service import KnowledgeService
from bot.settings import Settings
from bot.voice.speech import spoken_text
from bot.web import keys
from bot.web.app import create_app
from bot.web.speaking import MOUTH
from bot.web.views.speech import FAILED, NOT_READABLE
from tests.bot.voice.speaking import tone_speaker
from tests.bot.web.chat_support import write_kb

SPEECH = "/api/v1/chat/speech/"


async def rasa_webhook(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response([{"recipient_id": body["sender"], "text": "收到"}])


async def make_client(
    aiohttp_client, tmp_path: Path, speak: bool = True, **extra: Any
) -> TestClient:
    rasa = web.Application()
    rasa.router.add_post("/webhooks/rest/webhook", rasa_webhook)
    rasa_client = await aiohttp_client(rasa)
    kb = tmp_path / "kb"
    if not kb.exists():
        write_kb(kb)
    settings = Settings(
        var_dir=tmp_path, rasa_url=str(rasa_client.make_url("")).rstrip("/"), **extra
    )
    app = create_app(settings, knowledge=KnowledgeService(kb), fraud=default_checker())
    if speak:
        app[MOUTH].speaker = tone_speaker(tmp_path / "cache")
        app[MOUTH].injected = True
    return await aiohttp_client(app)


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path) -> TestClient:
    return await make_client(aiohttp_client, tmp_path)


async def test_an_answer_is_read_aloud_and_kept(client: TestClient) -> None:
    resp = await client.get(SPEECH + "health-aed")
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "audio/mpeg"
    first = await resp.read()
    assert first[:3] == b"ID3" or first[0] == 0xFF
    entry = await client.app[keys.KNOWLEDGE].get("health-aed")
    assert entry is not None
    text = spoken_text(answer_messages(entry))
    assert text.startswith("有人心跳骤停时") and "第五步" in text
    assert float(resp.headers["X-Speech-Seconds"]) == pytest.approx(len(text) * 0.12, abs=0.01)
    assert resp.headers["Cache-Control"] == "private, max-age=86400"
    etag = resp.headers["ETag"]
    again = await client.get(SPEECH + "health-aed")
    assert await again.read() == first
    speaker = client.app[MOUTH].speaker
    assert speaker is not None and speaker.synthesized == 1  # the second came from the cache
    # her browser asks whether what it has is still good
    same = await client.get(SPEECH + "health-aed", headers={"If-None-Match": etag})
    assert same.status == 304
    # a debunk is read too, its verdict first
    assert (await client.get(SPEECH + "rumor-vinegar")).status == 200


async def test_only_entries_are_read(client: TestClient) -> None:
    for path in ("no-such-entry", "health-aed-x"):
        resp = await client.get(SPEECH + path)
        assert resp.status == 404 and (await resp.json())["error"] == NOT_READABLE
    assert (await client.get(SPEECH + "../etc")).status == 404
    assert (await client.post(SPEECH + "health-aed")).status == 405


async def test_off_by_default_no_button_no_audio(aiohttp_client, tmp_path: Path) -> None:
    plain = await make_client(aiohttp_client, tmp_path, speak=False)
    assert plain.app[MOUTH].speaker is None  # KEPU_TTS unset: nothing built
    page = await (await plain.get("/")).text()
    assert "data-speech" not in page and "chat-speech." not in page
    resp = await plain.get(SPEECH + "health-aed")
    assert resp.status == 404 and (await resp.json())["error"] == NOT_READABLE


async def test_the_page_offers_the_button_when_on(client: TestClient) -> None:
    resp = await client.get("/")
    page = await resp.text()
    assert 'data-speech="1"' in page and "chat-speech." in page
    assert "media-src 'self' blob:" in resp.headers["Content-Security-Policy"]


async def test_the_chat_limits_apply(aiohttp_client, tmp_path: Path) -> None:
    client = await make_client(
        aiohttp_client, tmp_path, chat_rate_per_sender=2, chat_rate_per_client=100
    )
    await client.get("/")  # the page gives her the sender cookie
    statuses = [(await client.get(SPEECH + "health-aed")).status for _ in range(4)]
    assert statuses[0] == 200 and statuses[-1] == 429
    resp = await client.get(SPEECH + "health-aed")
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    assert "太快" in (await resp.json())["error"]
    # counted apart from the chat: she can still send a message
    chat = await client.post("/api/v1/chat", json={"message": "你好", "client_id": "abcdefgh1"})
    assert chat.status == 200


async def test_a_broken_engine_says_so_and_the_chat_goes_on(client: TestClient) -> None:
    speaker = client.app[MOUTH].speaker
    assert speaker is not None
    speaker.engine = "missing-engine"
    resp = await client.get(SPEECH + "health-aed")
    assert resp.status == 503 and (await resp.json())["error"] == FAILED
    assert resp.headers["Cache-Control"] == "no-store"
    chat = await client.post("/api/v1/chat", json={"message": "你好", "client_id": "abcdefgh2"})
    assert chat.status == 200 and (await chat.json())["messages"] == ["收到"]
