"""The web chat's endpoint and page: replies shaped for the page, a resend handled
once, honest failures, and the static files (hashed names, gzip, ETag, favicon)."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientTimeout, web
from aiohttp.test_utils import TestClient, TestServer

from bench.ports import free_port
from bot.fraud.checker import default_checker
from bot.knowledge.reply import answer_messages
from bot.knowledge.schema import Entry
from bot.knowledge.service import KnowledgeService
from bot.menu.pages import BUSY_REPLY, menu_text, topic_page
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.views.assets import IMMUTABLE
from bot.web.views.chat import RecentTurns
from bot.web.views.chat_replies import ALWAYS_LINKED, card_reply, short_source, text_reply

ENTRY_YML = """\
id: test-aed
topic: health
title: AED怎么用？
questions:
  - AED怎么用
  - 除颤器咋个用
  - 车站那个红盒子是啥子
answer: >-
  有人心跳骤停时，先立即拨打120，同时尽快取来AED。AED会用语音一步步提示，普通人照着做就能用。
steps:
  - 打开AED电源，听语音提示
  - 按图示把电极片贴在病人胸口
  - 提示电击时，确认没人碰病人，按电击键
audience: [all]
source:
  organisation: 美国心脏协会（AHA）
  title: 2020年美国心脏协会心肺复苏及心血管急救指南
  url: https://cpr.heart.org/
reviewed_on: 2026-11-29
tags: [AED]
"""


class FakeRasa:
    """Answers like Rasa's REST channel, with whatever ``answer`` says; counts turns."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answer: Callable[[dict[str, Any]], Any] = lambda body: [
            {"recipient_id": body["sender"], "text": f"收到：{body['message']}"}
        ]
        self.delay = 0.0
        self.status = 200

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return web.json_response({"error": "boom"}, status=self.status)
        return web.json_response(self.answer(body))


@pytest.fixture
async def rasa(aiohttp_server) -> tuple[FakeRasa, TestServer]:
    fake = FakeRasa()
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", fake.webhook)
    return fake, await aiohttp_server(app)


@pytest.fixture
def knowledge(tmp_path: Path) -> KnowledgeService:
    kb = tmp_path / "kb" / "health"
    kb.mkdir(parents=True)
    (kb / "test-aed.yml").write_text(ENTRY_YML, encoding="utf-8")
    return KnowledgeService(tmp_path / "kb")


@pytest.fixture
async def chat(aiohttp_client, rasa, tmp_path: Path, knowledge) -> TestClient:
    fake, server = rasa
    settings = Settings(var_dir=tmp_path, rasa_url=str(server.make_url("")).rstrip("/"))
    app = create_app(settings, knowledge=knowledge, fraud=default_checker())
    return await aiohttp_client(app)


async def post(client: TestClient, message: str, client_id: str | None = None, **kw: Any):
    body: dict[str, Any] = {"message": message}
    if client_id:
        body["client_id"] = client_id
    return await client.post("/api/v1/chat", json=body, **kw)


# ---- what the page gets ---------------------------------------------------


def opts(reply: dict) -> list[tuple]:
    return [(o["number"], o["label"], o["send"], o["later"]) for o in reply["options"]]


def test_the_main_menu_becomes_buttons_that_mean_the_same_later() -> None:
    reply = text_reply({"text": menu_text()})
    assert reply["text"] == "请回复数字选择："
    assert reply["after"] == "也可以直接说出您的问题。"
    assert opts(reply)[1] == (2, "健康", "2", "健康")
    assert len(reply["options"]) == 7


def test_a_topic_page_offers_its_questions_and_keeps_the_hotline_text() -> None:
    text, _ = topic_page("health")
    reply = text_reply({"text": text})
    assert opts(reply)[0] == (1, "中风有什么表现", "1", "中风有什么表现")
    assert "120" in reply["after"] and "1 中风" not in reply["after"] + reply["text"]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "您是想问『血压多少算高？』吗？回复 1 是，2 不是。",
            [(1, "是", "1", None), (2, "不是", "2", None)],
        ),
        (
            "您是想问：\n1. 血压多少算高？\n2. 高血压要注意啥？\n"
            "请回复数字。都不是的话，回复“不是”。",
            [
                (1, "血压多少算高？", "1", "血压多少算高？"),
                (2, "高血压要注意啥？", "2", "高血压要注意啥？"),
                (None, "不是", "不是", None),
            ],
        ),
        # an honest "not sure" with the related entries: their titles, not menu items
        (
            "这个问题我没有把握答准。已经记下来，请专家补充。\n这一条也许有用，回复数字查看：\n"
            "1. 微信零钱在哪里看，怎么提现到银行卡\n都不是的话，可以换个说法再问，或者回复“菜单”。",
            [(1, "微信零钱在哪里看，怎么提现到银行卡", "1", "微信零钱在哪里看，怎么提现到银行卡")],
        ),
        (
            "想知道消息里的说法是真是假，回复 1，我帮您交给辟谣平台核实。",
            [(1, "交给辟谣平台核实", "1", None)],
        ),
        ("还想让我们核实别的说法，回复 6。", [(6, "举报谣言", "6", "举报谣言")]),
        ("您可以换个说法再问，或者回复 7 找人帮忙。", [(7, "找人帮忙", "7", "找人帮忙")]),
        (
            "您是在哪里看到或听到的？回复数字：\n1 微信群\n2 朋友圈",
            [(1, "微信群", "1", None), (2, "朋友圈", "2", None)],
        ),
        (
            "觉得有帮助请回复“有用”，没帮助请回复“没用”。",
            [(None, "有用", "有用", None), (None, "没用", "没用", None)],
        ),
        # Steps of an answer are not options, and a quoted scam's "回复1" is not ours.
        ("判断一条传言，可以这样做：\n1. 看是谁发布的\n2. 搜一搜", []),
        ("检查结果：高风险\n原因：\n1. 消息里说“回复1领取大奖”", []),
        ("请把可疑的短信发给我。回复“菜单”可以退出。", []),
    ],
)
def test_options_are_read_from_the_message(text: str, expected: list[tuple]) -> None:
    assert opts(text_reply({"text": text})) == expected


def test_the_channels_own_buttons_are_used_as_they_are() -> None:
    reply = text_reply(
        {
            "text": "要继续吗？",
            "buttons": [
                {"title": "继续", "payload": "继续"},
                {"title": "算了", "payload": "/deny"},
            ],
        }
    )
    assert opts(reply) == [(None, "继续", "继续", None), (None, "算了", "算了", None)]
    assert reply["text"] == "要继续吗？"


def test_an_entry_becomes_a_card_with_a_lead_steps_and_a_one_line_source() -> None:
    entry = Entry.parse_obj(
        {
            "id": "x-entry",
            "topic": "health",
            "title": "测试条目",
            "questions": ["啥子", "问题二", "问题三"],
            "answer": "这是谣言。喝醋软化不了血管，也不能代替吃药。醋当调料吃没问题。",
            "steps": ["少盐", "多动"],
            "audience": ["all"],
            "source": {"organisation": "国家卫生健康委员会", "title": "健康科普（2024年版）"},
            "reviewed_on": dt.date(2026, 11, 29),
        }
    )
    card = card_reply(entry, answer_messages(entry))["card"]
    # A too short first sentence takes the next one with it.
    assert card["lead"] == "这是谣言。喝醋软化不了血管，也不能代替吃药。"
    assert card["more"] == "醋当调料吃没问题。"
    assert card["steps"] == ["少盐", "多动"]
    assert card["source"] == short_source(entry) == "来源：国家卫生健康委员会，2024"
    assert card["cite"] == ["国家卫生健康委员会《健康科普（2024年版）》", "审核：2026年11月"]


def test_the_hotlines_of_the_brief_are_always_linked() -> None:
    for number in ("120", "110", "119", "96110", "12316", "12345", "12348", "12356"):
        assert number in ALWAYS_LINKED


# ---- the endpoint ---------------------------------------------------------


async def test_an_answer_arrives_as_a_card_and_as_plain_texts(chat, rasa, knowledge) -> None:
    fake, _ = rasa
    entry = await knowledge.get("test-aed")
    texts = answer_messages(entry)
    fake.answer = lambda body: [
        {"text": texts[0], "custom": {"decision": "answer", "entry_id": "test-aed"}},
        *({"text": t} for t in texts[1:]),
        {"text": "还想问别的，直接说就行。"},
    ]
    data = await (await post(chat, "AED咋个用", "abcdefgh01")).json()
    assert data["messages"] == [*texts, "还想问别的，直接说就行。"]
    card, rest = data["replies"]
    assert card["card"]["lead"] == "有人心跳骤停时，先立即拨打120，同时尽快取来AED。"
    assert len(card["card"]["steps"]) == 3
    assert card["card"]["source"] == "来源：美国心脏协会（AHA），2020"
    assert card["card"]["url"] == "https://cpr.heart.org/"
    assert [o["send"] for o in card["options"]] == ["有用", "没用"]
    assert rest["text"] == "还想问别的，直接说就行。"


async def test_texts_that_differ_from_the_entry_stay_plain(chat, rasa) -> None:
    fake, _ = rasa
    fake.answer = lambda body: [
        {"text": "别的说法", "custom": {"decision": "answer", "entry_id": "test-aed"}}
    ]
    data = await (await post(chat, "AED")).json()
    assert data["replies"][0]["text"] == "别的说法" and "card" not in data["replies"][0]


async def test_a_resend_with_the_same_id_is_handled_once(chat, rasa) -> None:
    fake, _ = rasa
    first = await (await post(chat, "你好", "msg-0001")).json()
    again = await (await post(chat, "你好", "msg-0001")).json()
    assert first == again and first["client_id"] == "msg-0001"
    assert len(fake.received) == 1
    assert fake.received[0]["message_id"] == "msg-0001"
    await post(chat, "你好", "msg-0002")
    assert len(fake.received) == 2


async def test_a_resend_while_the_first_is_still_answered_waits_for_it(chat, rasa) -> None:
    fake, _ = rasa
    fake.delay = 0.3
    await chat.get("/")  # the page gives the sender id before the first message
    one, two = await asyncio.gather(
        post(chat, "慢慢来", "slow-0001"), post(chat, "慢慢来", "slow-0001")
    )
    assert (await one.json()) == (await two.json())
    assert len(fake.received) == 1


async def test_a_page_that_gives_up_waiting_does_not_cancel_the_turn(chat, rasa) -> None:
    fake, _ = rasa
    fake.delay = 0.5
    await chat.get("/")
    with pytest.raises(asyncio.TimeoutError):
        await post(chat, "等一下", "gave-up-01", timeout=ClientTimeout(total=0.1))
    data = await (await post(chat, "等一下", "gave-up-01")).json()
    assert data["messages"] == ["收到：等一下"]
    assert len(fake.received) == 1


async def test_ids_belong_to_their_sender(chat, rasa, aiohttp_client) -> None:
    fake, _ = rasa
    await post(chat, "你好", "shared-id-1")
    other = await aiohttp_client(chat.server)  # a second browser: its own cookie
    await post(other, "你好", "shared-id-1")
    assert len(fake.received) == 2
    assert fake.received[0]["sender"] != fake.received[1]["sender"]


async def test_rasa_unreachable_is_an_honest_503_and_a_resend_tries_again(chat, rasa) -> None:
    fake, _ = rasa
    fake.status = 500
    resp = await post(chat, "你好", "retry-0001")
    data = await resp.json()
    assert resp.status == 503 and data["retry"] and data["keep"]
    assert "没有处理" in data["error"] and "120" in data["error"]
    assert "系统正忙" in data["messages"][0]
    fake.status = 200
    data = await (await post(chat, "你好", "retry-0001")).json()
    assert data["messages"] == ["收到：你好"] and len(fake.received) == 2


async def test_a_turn_the_assistant_undid_keeps_her_words(chat, rasa) -> None:
    fake, _ = rasa
    fake.answer = lambda body: [{"text": BUSY_REPLY}]
    data = await (await post(chat, "你好", "undone-001")).json()
    assert data["keep"] and data["retry"]
    await post(chat, "你好", "undone-001")
    assert len(fake.received) == 2  # not remembered: sending it again tries again


async def test_too_long_keeps_her_words_without_asking_rasa(chat, rasa) -> None:
    fake, _ = rasa
    data = await (await post(chat, "字" * 1001, "toolong-01")).json()
    assert data["keep"] and "太长" in data["messages"][0] and fake.received == []


async def test_a_malformed_client_id_is_ignored(chat, rasa) -> None:
    fake, _ = rasa
    for _ in range(2):
        resp = await post(chat, "你好", "<bad id>")
        assert resp.status == 200 and "client_id" not in await resp.json()
    assert len(fake.received) == 2 and "message_id" not in fake.received[0]


def test_the_memory_of_recent_turns_is_bounded() -> None:
    async def run() -> None:
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        task = asyncio.ensure_future(done)
        await task
        recent = RecentTurns(per_sender=3, total=5, ttl=60)
        for i in range(4):
            recent.put("alice", f"a{i}", task)  # type: ignore[arg-type]
        assert recent.get("alice", "a0") is None and recent.get("alice", "a3") is task
        for i in range(4):
            recent.put(f"s{i}", "x", task)  # type: ignore[arg-type]
        assert len(recent) == 5
        assert recent.get("alice", "a1") is None  # the oldest went first
        old = RecentTurns(ttl=0.0)
        old.put("bob", "b1", task)  # type: ignore[arg-type]
        await asyncio.sleep(0.01)
        assert old.get("bob", "b1") is None

    asyncio.run(run())


# ---- the page and its files -----------------------------------------------


async def test_the_page_gives_a_sender_before_the_first_message(chat, rasa) -> None:
    fake, _ = rasa
    resp = await chat.get("/")
    html = await resp.text()
    assert resp.cookies["kepu_sid"]["httponly"]
    assert resp.headers["Cache-Control"] == "no-cache"
    assert "<script>" not in html and "<style" not in html
    assert not re.search(r"\s(on[a-z]+|style)=", html)  # no inline handlers or styles either
    assert "'unsafe-inline'" not in resp.headers["Content-Security-Policy"]
    assert re.search(r'<script src="/static/chat\.[0-9a-f]{10}\.js" defer>', html)
    assert 'href="tel:120" aria-label="拨打 120 急救电话"' in html
    assert 'data-send="2"' in html and 'data-later="健康"' in html
    await post(chat, "你好")
    senders = {m["sender"] for m in fake.received}
    assert senders == {f"web-{resp.cookies['kepu_sid'].value}"}


async def test_static_files_are_compressed_and_cached(chat) -> None:
    html = await (await chat.get("/")).text()
    js_url = re.search(r'src="(/static/chat\.[0-9a-f]+\.js)"', html).group(1)
    css_url = re.search(r'href="(/static/chat\.[0-9a-f]+\.css)"', html).group(1)
    for url in (js_url, css_url):
        resp = await chat.get(url, headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
        assert resp.status == 200
        assert resp.headers["Content-Encoding"] == "gzip"
        assert resp.headers["Cache-Control"] == IMMUTABLE
        assert resp.headers["Vary"] == "Accept-Encoding"
        body = gzip.decompress(await resp.read())
        plain = await chat.get(url.replace(url.split("/")[-1].split(".")[1] + ".", ""))
        assert plain.headers["Cache-Control"] == "no-cache"
        assert await plain.read() == body
        again = await chat.get(url, headers={"If-None-Match": plain.headers["ETag"]})
        assert again.status == 304
    resp = await chat.get("/static/chat.js", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in resp.headers
    assert resp.headers["Content-Type"].startswith("text/javascript")
    assert (await chat.get("/static/nothing.js")).status == 404
    assert (await chat.get("/static/../app.py")).status == 404


async def test_there_is_a_favicon(chat) -> None:
    html = await (await chat.get("/")).text()
    assert re.search(r'<link rel="icon" href="/static/favicon\.[0-9a-f]+\.svg"', html)
    resp = await chat.get("/favicon.ico")
    assert resp.status == 200 and resp.headers["Content-Type"] == "image/x-icon"
    assert (await resp.read())[:4] == b"\x00\x00\x01\x00"


async def test_rasa_down_entirely(aiohttp_client, tmp_path: Path, knowledge) -> None:
    settings = Settings(var_dir=tmp_path, rasa_url=f"http://127.0.0.1:{free_port()}")
    client = await aiohttp_client(
        create_app(settings, knowledge=knowledge, fraud=default_checker())
    )
    resp = await post(client, "你好", "down-00001")
    assert resp.status == 503 and (await resp.json())["retry"]
