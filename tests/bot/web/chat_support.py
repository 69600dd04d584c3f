"""A stand-in for the assistant behind the web chat, and the app serving both
from a thread of their own, for the chat's browser tests.

The stand-in says what the real assistant says in the same situations (the
texts come from ``bot.menu.pages``, ``bot.knowledge.reply`` and the actions'
wording), keeps what it offered per sender, and records every message it is
given, so that a test can count how often a message was handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.ports import free_port
from bot.fraud.checker import default_checker
from bot.knowledge.loader import load_entries
from bot.knowledge.reply import answer_messages
from bot.knowledge.service import KnowledgeService
from bot.menu.pages import menu_text, topic_page
from bot.settings import Settings
from bot.understanding.replies import RELATED_MENU_LINE, UNANSWERED_RECORDED, UNSURE
from bot.voice.speaker import Speaker
from bot.web.app import create_app
from bot.web.speaking import MOUTH, Mouth

GREETING = "您好！我是科普助手，可以帮您解答手机使用、健康、防骗、种植养殖的问题。"
THANKS = "谢谢您！还有问题随时问我。"

AED = """\
id: health-aed
topic: health
title: AED怎么用？
questions: [AED怎么用, 除颤器咋个用, 车站那个红盒子是啥子]
answer: >-
  有人心跳骤停时，先立即拨打120，同时尽快取来AED。AED会用语音一步步提示，普通人照着做就能用。车站、机场、商场等公共场所常配有AED，一般放在有明显标志的箱子里。
steps:
  - 打开AED电源，听语音提示
  - 按图示把两片电极片贴在病人裸露的胸口
  - AED分析心律时，所有人不要碰病人
  - 提示电击时，确认没人碰病人，按电击键
  - 电击后马上继续胸外按压，按提示做
audience: [all]
source:
  organisation: 美国心脏协会（AHA）
  title: 《2020年美国心脏协会心肺复苏及心血管急救指南》
  url: https://cpr.heart.org/
reviewed_on: 2026-11-29
tags: [AED]
"""
VINEGAR = """\
id: rumor-vinegar
topic: rumor
title: 喝醋能软化血管吗
questions: [喝醋能软化血管吗, 醋泡花生通血管, 听说喝醋血管就软了哦]
claim: 喝醋能软化血管
verdict: 谣言
answer: >-
  这是谣言。喝醋软化不了血管，也不能代替降压、降脂的药。醋当调料吃没问题，空腹大量喝反而伤胃。
explanation: >-
  醋喝下去后，会在消化道里被消化、吸收、代谢，不会把血液变酸，更不会到血管里去溶解斑块。控制血压、血脂，要靠少盐少油、多运动、戒烟限酒，需要吃药的按医嘱吃。
audience: [all]
source:
  organisation: 中国互联网联合辟谣平台
  title: 科学辟谣「喝醋软化血管」相关科普
  url: https://www.piyao.org.cn/
reviewed_on: 2026-11-29
tags: [醋]
"""
LONG_ANSWER = "\n".join(
    [
        "高血压的人平时要注意这些（这是一段很长的说明，用来试一试长回答）：",
        *(f"第{i}条：按时量血压，少吃盐，多走路，心情放平和。" for i in range(1, 13)),
        # counts and ranges are no phone numbers, even 120 ("每分钟100到120次")
        "胸外按压每分钟100到120次，量血压前静坐5分钟，血压120/80毫米汞柱。",
        "有不舒服请马上拨打 120；买药遇到问题可以打 12315 投诉。最后一行在这里。",
    ]
)
VERDICT = (
    "检查结果：高风险，像是“冒充客服”类诈骗\n原因：\n1. 消息里有陌生链接\n"
    "2. 要您提供验证码\n这条消息很可能是骗局：\n1. 不点链接，不转账，不说验证码\n"
    "2. 拿不准就拨打 96110 问一问"
)
REPORT_OFFER = "想知道消息里的说法是真是假，回复 1，我帮您交给辟谣平台核实。"
HANDOFF = (
    "请马上拨打 120（急救电话）：有人晕倒、胸口痛、中风、中毒、大出血、被蛇咬等急症。\n"
    "您的求助已经记下，工作人员会看到。"
)
# The honest "not sure" with one related entry, as actions/render.py words it.
NOT_SURE = (
    f"{UNSURE}{UNANSWERED_RECORDED}\n"
    f"这一条也许有用，回复数字查看：\n1. AED怎么用？\n{RELATED_MENU_LINE}"
)
CHOICES = "您是想问：\n1. AED怎么用？\n2. 喝醋能软化血管吗\n请回复数字。都不是的话，回复“不是”。"
TOPIC_KEYS = {1: "phone", 2: "health", 3: "fraud", 4: "farming"}
TOPIC_WORDS = {"手机使用": "phone", "健康": "health", "防骗": "fraud", "种植养殖": "farming"}


@dataclass
class Conversation:
    pending: str | None = None  # "topic", "choices", "report"
    last: list[dict[str, Any]] = field(default_factory=list)


class Assistant:
    """Answers ``/webhooks/rest/webhook`` like the assistant would."""

    def __init__(self, kb: Path) -> None:
        self.entries = {e.id: e for e in load_entries(kb).entries}
        self.received: list[dict[str, Any]] = []
        self.conversations: dict[str, Conversation] = {}

    def handled(self, message_id: str) -> int:
        return sum(1 for m in self.received if m.get("message_id") == message_id)

    def texts(self) -> list[str]:
        return [m["message"] for m in self.received]

    def _entry(self, entry_id: str, decision: str = "answer") -> list[dict[str, Any]]:
        texts = answer_messages(self.entries[entry_id])
        first = {"text": texts[0], "custom": {"decision": decision, "entry_id": entry_id}}
        return [first, *({"text": t} for t in texts[1:])]

    def reply(self, conv: Conversation, text: str) -> list[dict[str, Any]]:
        pending, conv.pending = conv.pending, None
        if text == "再说一遍":
            conv.pending = pending
            return conv.last
        if text in ("你好", "菜单"):
            return [{"text": GREETING}, {"text": menu_text()}]
        if text.isdigit():
            number = int(text)
            if pending in ("topic", "choices"):
                return self._entry("health-aed" if number == 1 else "rumor-vinegar")
            if pending == "report":
                return [{"text": "已收到，编号 R-TESTTEST，核实后会告诉您结论。"}]
            if number in TOPIC_KEYS:
                conv.pending = "topic"
                return [{"text": topic_page(TOPIC_KEYS[number])[0]}]
            return [{"text": "好的。请直接说出您的问题。"}]
        if text in TOPIC_WORDS:
            conv.pending = "topic"
            return [{"text": topic_page(TOPIC_WORDS[text])[0]}]
        if text in ("有用", "没用"):
            return [{"text": THANKS}]
        if "晕倒" in text:
            return [{"text": HANDOFF, "custom": {"decision": "handoff"}}]
        if "醋" in text:
            return [
                {"text": "这个说法我们核实过：", "custom": {"decision": "debunk"}},
                *self._entry("rumor-vinegar", "debunk"),
                {"text": "还想让我们核实别的说法，回复 6。", "custom": {"decision": "debunk"}},
            ]
        if "AED" in text or "中风" in text:
            return self._entry("health-aed")
        if "长" in text:
            return [{"text": LONG_ANSWER}]
        if "红盒子" in text:
            conv.pending = "choices"
            return [{"text": NOT_SURE, "custom": {"decision": "none", "related": "health-aed"}}]
        if "短信" in text:
            conv.pending = "report"
            return [{"text": VERDICT}, {"text": REPORT_OFFER}]
        if "高血压" in text:
            conv.pending = "choices"
            return [{"text": CHOICES}]
        return [{"text": "这个我还答不上来。已经记下来，请专家补充。\n" + menu_text()}]

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        text = body["message"]
        if "出错" in text:
            return web.json_response({"error": "boom"}, status=500)
        if "慢" in text:
            await asyncio.sleep(2)
        conv = self.conversations.setdefault(body["sender"], Conversation())
        messages = self.reply(conv, text)
        conv.last = messages
        return web.json_response([{"recipient_id": body["sender"], **m} for m in messages])


@dataclass
class Served:
    url: str
    assistant: Assistant


def write_kb(root: Path) -> Path:
    (root / "health").mkdir(parents=True)
    (root / "rumor").mkdir()
    (root / "health" / "health-aed.yml").write_text(AED, encoding="utf-8")
    (root / "rumor" / "rumor-vinegar.yml").write_text(VINEGAR, encoding="utf-8")
    return root


def serve(
    tmp: Path,
    kb: Path | None = None,
    stand_in: type[Assistant] = Assistant,
    more_sites: tuple[tuple[web.Application, int], ...] = (),
    speaker: Speaker | None = None,
    **settings: Any,
) -> Iterator[Served]:
    """The web app and the stand-in assistant on loopback, from a thread (the two
    test entries by default; ``bench.answer_screen`` passes the real knowledge base).
    ``more_sites`` serve from the same thread; ``settings`` go to the app's; a
    ``speaker`` reads answers aloud (🔊 读给我听)."""
    kb = kb or write_kb(tmp / "kb")
    assistant = stand_in(kb)
    web_port, rasa_port = free_port(), free_port()
    app_settings = Settings(
        var_dir=tmp,
        web_port=web_port,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        # A 12-turn conversation tapped in seconds, many pages from one address:
        # the chat limits have their own tests (tests/security/test_rate_limits.py).
        chat_rate_per_sender=100_000,
        chat_rate_per_client=100_000,
        **settings,
    )
    app = create_app(app_settings, knowledge=KnowledgeService(kb), fraud=default_checker())
    if speaker is not None:
        app[MOUTH] = Mouth(speaker=speaker, injected=True)
    rasa_app = web.Application()
    rasa_app.router.add_post("/webhooks/rest/webhook", assistant.webhook)
    with serve_in_thread([(app, web_port), (rasa_app, rasa_port), *more_sites], "chat-app"):
        yield Served(f"http://127.0.0.1:{web_port}", assistant)


@contextlib.contextmanager
def serve_in_thread(
    sites: list[tuple[web.Application, int]],
    name: str,
    then: Callable[[], Awaitable[Any]] | None = None,
) -> Iterator[tuple[asyncio.AbstractEventLoop, Any]]:
    """Serve each app on its loopback port from a thread's own event loop (so that
    Playwright's sync API can drive a browser from the test's thread); ``then`` runs
    on that loop once they listen. Yields the loop and what ``then`` returned."""
    loop = asyncio.new_event_loop()
    runners = [web.AppRunner(app) for app, _ in sites]
    started = threading.Event()
    found: dict[str, Any] = {}

    async def start() -> None:
        for runner, (_, port) in zip(runners, sites, strict=True):
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
        found["then"] = await then() if then is not None else None

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(start())
        except Exception as exc:  # handed to the test's thread below
            found["error"] = exc
            started.set()
            return
        started.set()
        loop.run_forever()
        for runner in runners:
            loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    started.wait(timeout=60)
    try:
        if "error" in found:
            raise found["error"]
        assert "then" in found, f"{name} did not start within 60 s"
        yield loop, found["then"]
    finally:
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
