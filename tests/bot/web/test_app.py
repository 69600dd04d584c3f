"""The web service from its factory, against a stand-in Rasa on loopback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bench.ports import free_port
from bot.fraud.checker import default_checker
from bot.fraud.stats import check_counts
from bot.knowledge.dense import DenseEncoder
from bot.knowledge.service import KnowledgeService
from bot.settings import PROJECT_ROOT, Settings
from bot.web import keys
from bot.web.app import HERE, create_app
from tests.conftest import SHARED_CACHE


@pytest.fixture
async def fake_rasa(aiohttp_server):
    """Records what it receives and answers like Rasa's REST channel."""
    received: list[dict] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body)
        return web.json_response(
            [
                {"recipient_id": body["sender"], "text": f"收到：{body['message']}"},
                {"recipient_id": body["sender"], "image": "x.png"},
            ]
        )

    async def root(request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: 3.6.21")

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/", root)
    server: TestServer = await aiohttp_server(app)
    server.received = received  # type: ignore[attr-defined]
    return server


@pytest.fixture
def no_knowledge(tmp_path: Path) -> KnowledgeService:
    """Chat and health tests do not need the knowledge base."""
    (tmp_path / "empty-kb").mkdir()
    return KnowledgeService(tmp_path / "empty-kb")


@pytest.fixture(scope="session")
def real_knowledge(event_loop) -> KnowledgeService:
    service = KnowledgeService(
        PROJECT_ROOT / "knowledge", DenseEncoder(SHARED_CACHE / "kb_vectors.npz")
    )
    event_loop.run_until_complete(service.refresh(force=True))
    return service


@pytest.fixture
async def client(aiohttp_client, fake_rasa, tmp_path: Path, no_knowledge):
    settings = Settings(var_dir=tmp_path, rasa_url=str(fake_rasa.make_url("")).rstrip("/"))
    return await aiohttp_client(
        create_app(settings, knowledge=no_knowledge, fraud=default_checker())
    )


async def test_healthz(client) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200 and (await resp.json())["status"] == "ok"


async def test_readyz_checks_database_and_rasa(client) -> None:
    resp = await client.get("/readyz")
    assert resp.status == 200
    assert await resp.json() == {"ready": True, "database": "ok", "rasa": "ok"}


async def test_readyz_fails_when_rasa_is_down(aiohttp_client, tmp_path: Path, no_knowledge) -> None:
    settings = Settings(var_dir=tmp_path, rasa_url=f"http://127.0.0.1:{free_port()}")
    client = await aiohttp_client(
        create_app(settings, knowledge=no_knowledge, fraud=default_checker())
    )
    resp = await client.get("/readyz")
    body = await resp.json()
    assert resp.status == 503 and body["database"] == "ok" and body["rasa"] != "ok"


async def test_chat_relays_text_and_keeps_a_private_sender(client, fake_rasa) -> None:
    resp = await client.post("/api/v1/chat", json={"message": "你好"})
    assert resp.status == 200
    assert (await resp.json())["messages"] == ["收到：你好"]
    cookie = resp.cookies["kepu_sid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    await client.post("/api/v1/chat", json={"message": "1"})
    senders = {m["sender"] for m in fake_rasa.received}
    assert len(senders) == 1 and senders.pop().startswith("web-")
    assert all(m["input_channel"] == "webchat" for m in fake_rasa.received)


async def test_slash_messages_are_relayed_as_text(client, fake_rasa) -> None:
    await client.post("/api/v1/chat", json={"message": "/restart"})
    assert fake_rasa.received[-1]["message"] == "／restart"


async def test_empty_and_too_long_get_polite_answers_without_rasa(client, fake_rasa) -> None:
    for message in ("", "   ", None):
        data = await (await client.post("/api/v1/chat", json={"message": message})).json()
        assert "没有输入" in data["messages"][0]
    data = await (await client.post("/api/v1/chat", json={"message": "字" * 1001})).json()
    assert "太长" in data["messages"][0]
    assert fake_rasa.received == []


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ("message=hi", "application/x-www-form-urlencoded"),
    ],
)
async def test_malformed_requests_get_4xx(client, body: str, content_type: str) -> None:
    resp = await client.post("/api/v1/chat", data=body, headers={"Content-Type": content_type})
    assert 400 <= resp.status < 500
    assert "error" in await resp.json()


async def test_oversized_body_is_refused(client) -> None:
    resp = await client.post(
        "/api/v1/chat",
        data=b"{" + b"x" * 70000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert resp.status == 413


async def test_rasa_down_gives_a_polite_busy_reply(
    aiohttp_client, tmp_path: Path, no_knowledge
) -> None:
    settings = Settings(var_dir=tmp_path, rasa_url=f"http://127.0.0.1:{free_port()}")
    client = await aiohttp_client(
        create_app(settings, knowledge=no_knowledge, fraud=default_checker())
    )
    data = await (await client.post("/api/v1/chat", json={"message": "你好"})).json()
    assert "系统正忙" in data["messages"][0] and "120" in data["messages"][0]


async def test_page_is_large_print_and_escapes_nothing_unsafe(client) -> None:
    resp = await client.get("/")
    html = await resp.text()
    assert resp.status == 200 and 'lang="zh-CN"' in html
    for i, label in enumerate(
        ["手机使用", "健康", "防骗", "种植养殖", "查可疑短信", "举报谣言", "找人帮忙"], 1
    ):
        assert f"{i} {label}" in html
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "<script>" not in html  # no inline script: CSP forbids it
    js = (HERE / "static" / "chat.js").read_text(encoding="utf-8")
    assert "innerHTML" not in js and "textContent" in js


def test_css_meets_the_large_print_rules() -> None:
    css = (HERE / "static" / "chat.css").read_text(encoding="utf-8")
    root = int(re.search(r"html \{ font-size: (\d+)px", css).group(1))
    assert root >= 20
    for rem in re.findall(r"font-size: ([\d.]+)rem", css):
        assert float(rem) * root >= 20
    assert css.count("min-height: 48px") >= 3


@pytest.fixture
async def ask_client(aiohttp_client, tmp_path: Path, real_knowledge):
    settings = Settings(var_dir=tmp_path, rasa_url=f"http://127.0.0.1:{free_port()}")
    return await aiohttp_client(
        create_app(settings, knowledge=real_knowledge, fraud=default_checker())
    )


async def test_ask_answers_with_entry_and_source(ask_client) -> None:
    resp = await ask_client.post("/api/v1/ask", json={"text": "微信上的红包咋个收"})
    body = await resp.json()
    assert resp.status == 200
    assert set(body) >= {"answer", "entry_id", "score", "alternatives"}
    assert body["entry_id"] == "phone-wechat-hongbao"
    assert "来源：" in body["answer"] and 0 < body["score"] <= 1
    assert all(a["entry_id"] != body["entry_id"] for a in body["alternatives"])


async def test_ask_gives_the_whole_entry(ask_client) -> None:
    body = await (await ask_client.post("/api/v1/ask", json={"text": "AED除颤仪怎么用"})).json()
    assert body["entry_id"] == "health-aed-use"
    # the whole answer, not only the lead sentence a chat answer starts with
    assert "公共场所常配有AED" in body["answer"] and "5. 电击后马上继续胸外按压" in body["answer"]


async def test_an_entry_has_its_own_page(ask_client) -> None:
    resp = await ask_client.get("/k/health-aed-use")
    html = await resp.text()
    assert resp.status == 200 and "<script" not in html
    assert "<h2>AED（自动体外除颤器）怎么用？</h2>" in html
    assert "公共场所常配有AED" in html and "<li>打开电源，听语音提示</li>" in html
    assert "审核：2026年11月" in html
    missing = await ask_client.get("/k/no-such-entry")
    assert missing.status == 404 and "没有找到这一条" in await missing.text()
    assert (await ask_client.get("/k/..%2Fsecret")).status == 404


async def test_ask_without_a_match_says_so(ask_client) -> None:
    body = await (await ask_client.post("/api/v1/ask", json={"text": "火星上有没有外星人"})).json()
    assert body["answer"] is None and body["entry_id"] is None


@pytest.mark.parametrize(
    "payload, status",
    [
        ({"text": ""}, 400),
        ({"text": 5}, 400),
        ({}, 400),
        ({"text": "字" * 1001}, 413),
    ],
)
async def test_ask_refuses_bad_input(ask_client, payload: dict, status: int) -> None:
    resp = await ask_client.post("/api/v1/ask", json=payload)
    assert resp.status == status and "error" in await resp.json()


SCAM = "【工商银行】您的账户存在异常，将于今日冻结，请立即登录 http://icbc-vip.top 认证。"


async def test_fraud_check_follows_the_contract_and_keeps_only_counts(client) -> None:
    resp = await client.post("/api/v1/fraud/check", json={"text": SCAM})
    body = await resp.json()
    assert resp.status == 200
    assert set(body) >= {"risk", "risk_label", "fraud_types", "signals", "advice"}
    assert body["risk"] == "high" and body["risk_label"] == "高风险"
    assert "lookalike_domain" in {s["id"] for s in body["signals"]}
    assert "96110" in body["advice"]
    db = client.app[keys.DATABASE]
    assert [(risk, n) for _, risk, _, n in await check_counts(db)] == [("high", 1)]
    dump = (client.app[keys.SETTINGS].var_dir / "kepu.db").read_bytes()
    assert b"icbc-vip" not in dump and "冻结".encode() not in dump


async def test_fraud_check_of_a_genuine_code_is_low(client) -> None:
    text = "【中国移动】您的验证码是482913，5分钟内有效，请勿泄露给他人。"
    body = await (await client.post("/api/v1/fraud/check", json={"text": text})).json()
    assert body["risk"] == "low" and body["fraud_types"] == []


@pytest.mark.parametrize(
    "payload, status",
    [({"text": ""}, 400), ({"text": ["x"]}, 400), ({"text": "字" * 1001}, 413)],
)
async def test_fraud_check_refuses_bad_input(client, payload: dict, status: int) -> None:
    resp = await client.post("/api/v1/fraud/check", json=payload)
    assert resp.status == status and "error" in await resp.json()


async def test_fraud_check_is_rate_limited_per_client(
    aiohttp_client, tmp_path: Path, no_knowledge
) -> None:
    settings = Settings(var_dir=tmp_path, api_rate_per_minute=3)
    client = await aiohttp_client(
        create_app(settings, knowledge=no_knowledge, fraud=default_checker())
    )
    codes = [
        (await client.post("/api/v1/fraud/check", json={"text": SCAM})).status for _ in range(3)
    ]
    assert codes == [200, 429, 429]  # a burst of one (a third of 3 a minute)
    resp = await client.post("/api/v1/fraud/check", json={"text": SCAM})
    assert int(resp.headers["Retry-After"]) >= 1
    assert "稍等" in (await resp.json())["error"]
