"""The whole service as `make run` starts it: supervisor, Rasa, actions, web.

Started once for this module on free ports with a private var/ folder, then
driven over HTTP and in headless Chromium, then stopped with SIGTERM.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.ports import free_port
from bot.settings import PROJECT_ROOT
from tests.conftest import CHROMIUM, SHARED_CACHE, launch_chromium, service_absent

pytestmark = pytest.mark.stack


# A bound for a hung request, not a speed test (turn latency is measured in bench/):
# with three suites, a model training and two evaluation stacks sharing two cores,
# a turn once took longer than 60 s.
REQUEST_TIMEOUT = 300
WAIT_MS = REQUEST_TIMEOUT * 1000  # the same bound for a reply awaited in the browser


def _post(url: str, body: object, headers: dict | None = None) -> tuple[int, object]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, None


def _get(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, None


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def _listening_addresses(port: int) -> set[str]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, hexport = local.rsplit(":", 1)
                if state == "0A" and int(hexport, 16) == port:
                    found.add(addr)
    return found


def start_stack(model: Path, env: dict[str, str], var: Path) -> tuple[subprocess.Popen, Any]:
    """`kepu run --model <model>` with ``env``, logging to ``<var>/stack.log``."""
    log = open(var / "stack.log", "w")  # noqa: SIM115 (open for the whole module's life)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.run.cli", "run", "--model", str(model)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return proc, log


# The first stack of a fresh clone encodes the knowledge vectors and trains the
# fraud classifier into the shared cache: minutes on a loaded machine (three test
# suites at once took over 300 s). A bound, not a wait: a healthy stack is ready
# as soon as it is.
STACK_START = 900.0


def wait_for_stack(
    proc: subprocess.Popen, var: Path, ready: Callable[[], bool], timeout: float = STACK_START
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, (var / "stack.log").read_text()[-3000:]
        if ready():
            return
        time.sleep(1)
    pytest.fail("stack not ready: " + (var / "stack.log").read_text()[-3000:])


@pytest.fixture(scope="module")
def stack(model_path: Path, tmp_path_factory: pytest.TempPathFactory):
    var = tmp_path_factory.mktemp("stack-var")
    ports = {
        "KEPU_RASA_PORT": free_port(),
        "KEPU_ACTIONS_PORT": free_port(),
        "KEPU_WEB_PORT": free_port(),
    }
    env = {
        **os.environ,
        "KEPU_VAR_DIR": str(var),
        "KEPU_CACHE_DIR": str(SHARED_CACHE),
        **{k: str(v) for k, v in ports.items()},
        # These tests send hundreds of messages from one sender and one address on
        # purpose; the chat limits have their own tests (tests/security/test_rate_limits.py).
        "KEPU_CHAT_RATE_PER_SENDER": "1000000",
        "KEPU_CHAT_RATE_PER_CLIENT": "1000000",
    }
    proc, log = start_stack(model_path, env, var)
    web = f"http://127.0.0.1:{ports['KEPU_WEB_PORT']}"
    try:
        wait_for_stack(proc, var, lambda: _ready(f"{web}/readyz"))
        yield {
            "proc": proc,
            "web": web,
            "var": var,
            "rasa": f"http://127.0.0.1:{ports['KEPU_RASA_PORT']}",
            **ports,
        }
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        log.close()


def _ready(url: str) -> bool:
    try:
        return _get(url)[0] == 200
    except OSError:  # not listening yet
        return False


def test_ready_means_a_first_conversation_was_answered(stack) -> None:
    """The stack said ready (``/readyz``) only after Rasa had held its warm-up
    conversation (``bot.run.rasa_entry.warm_up``), a question the action server answered."""
    import sqlite3

    db = sqlite3.connect(stack["var"] / "tracker.db")
    try:
        rows = db.execute(
            "SELECT sender_id, type_name, action_name FROM events"
            " WHERE sender_id LIKE 'kepu-warmup-%' ORDER BY id"
        ).fetchall()
    finally:
        db.close()
    understood = {sender for sender, _, name in rows if name == "action_understand"}
    turns = {s: [kind for sender, kind, _ in rows if sender == s].count("user") for s in understood}
    assert 3 in turns.values(), rows  # a whole warm-up conversation


def test_web_chat_talks_to_the_assistant(stack) -> None:
    status, body = _post(f"{stack['web']}/api/v1/chat", {"message": "你好"})
    assert status == 200 and "1 手机使用" in "\n".join(body["messages"])


class WebChat:
    """One person in the web chat: /api/v1/chat with the page's sender cookie."""

    def __init__(self, web: str) -> None:
        self.url = f"{web}/api/v1/chat"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def say(self, text: str) -> str:
        req = urllib.request.Request(
            self.url,
            data=json.dumps({"message": text}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with self.opener.open(req, timeout=REQUEST_TIMEOUT) as resp:
            assert resp.status == 200
            return "\n".join(json.loads(resp.read())["messages"])


async def _publish_verdict(var: Path, public_id: str) -> None:
    """What a moderator and an expert do in the console: verify, conclude, publish."""
    from sqlalchemy import select

    from bot.accounts.access import Actor
    from bot.accounts.users import add_user
    from bot.rumors import debunk, triage
    from bot.storage.db import Database
    from bot.storage.models import ConsoleUser, RumorReport

    db = Database(f"sqlite+aiosqlite:///{var / 'kepu.db'}")
    try:
        people = {}
        for name, role in (("stack-mod", "moderator"), ("stack-expert", "expert")):
            await add_user(db, name, role)
            async with db.session() as session:
                query = select(ConsoleUser.id).where(ConsoleUser.name == name)
                people[role] = Actor((await session.execute(query)).scalar_one(), name, role)
        async with db.session() as session:
            query = select(RumorReport.claim_id).where(RumorReport.public_id == public_id)
            claim_id = (await session.execute(query)).scalar_one()
        await triage.set_status(db, people["moderator"], claim_id, "verifying")
        await debunk.set_verdict(db, people["expert"], claim_id, "rumor")
        await debunk.save_debunk(
            db,
            people["expert"],
            claim_id,
            title="七星村拆迁每家赔十万是谣言",
            explanation="镇政府说明：七星村没有拆迁计划，也没有赔偿标准，请勿转发。",
            sources=[{"organisation": "重庆市梁平区人民政府", "title": "情况说明"}],
        )
        await debunk.publish(db, people["expert"], claim_id)
    finally:
        await db.close()


def test_a_web_chat_reporter_gets_the_verdict_with_her_next_message(stack) -> None:
    """The web chat cannot push: a verdict owed to its user comes with her next
    message, after that turn's own reply, once."""
    import asyncio
    import re

    chat = WebChat(stack["web"])
    assert "说法" in chat.say("举报谣言")
    where = chat.say("听说七星村下个月要拆迁 每家赔十万")
    assert "4 村里听说" in where, where
    receipt = chat.say("4")
    public_id = re.search(r"已收到，编号 (R-[A-Z2-7]{8})", receipt).group(1)
    assert "有结论了" not in chat.say("你好")  # nothing owed before the verdict

    asyncio.run(_publish_verdict(stack["var"], public_id))
    reply = chat.say("你好")
    assert "1 手机使用" in reply  # the turn's own answer
    verdict = reply[reply.index("您之前问的说法有结论了") :]
    assert verdict.startswith(f"您之前问的说法有结论了（编号 {public_id}）："), reply
    assert "结论：【谣言】镇政府说明：七星村没有拆迁计划" in verdict
    assert "来源：重庆市梁平区人民政府《情况说明》" in verdict
    assert "有结论了" not in chat.say("你好")  # delivered once
    assert "有结论了" not in WebChat(stack["web"]).say("你好")  # and to her alone


def test_every_process_listens_on_loopback_only(stack) -> None:
    for key in ("KEPU_RASA_PORT", "KEPU_ACTIONS_PORT", "KEPU_WEB_PORT"):
        addresses = _listening_addresses(stack[key])
        assert addresses, key
        assert addresses <= {"0100007F", "00000000000000000000000001000000"}, (key, addresses)


def test_rasa_http_api_needs_the_token(stack) -> None:
    assert _get(f"{stack['rasa']}/status")[0] == 401
    token = (stack["var"] / "rasa_token").read_text().strip()
    assert _get(f"{stack['rasa']}/status?token={token}")[0] == 200


def test_slash_text_is_never_an_intent_injection(stack) -> None:
    sender = f"inject-{uuid.uuid4().hex}"
    url = f"{stack['rasa']}/webhooks/rest/webhook"
    status, replies = _post(url, {"sender": sender, "message": '/handoff{"x": "1"}'})
    assert status == 200 and replies
    token = (stack["var"] / "rasa_token").read_text().strip()
    _, tracker = _get(f"{stack['rasa']}/conversations/{sender}/tracker?token={token}")
    user = [e for e in tracker["events"] if e["event"] == "user"][-1]
    assert not user["text"].startswith("/")
    # Went through NLU (a ranking of many intents), not Rasa's "/intent" shortcut.
    assert len(user["parse_data"].get("intent_ranking", [])) > 1
    assert not user["parse_data"].get("entities")


def test_rest_channel_refuses_bad_and_huge_input(stack) -> None:
    url = f"{stack['rasa']}/webhooks/rest/webhook"
    assert _post(url, b"{not json")[0] == 400
    assert _post(url, {"message": "你好"})[0] == 400  # no sender
    assert _post(url, {"sender": "x", "message": "x" * 70000})[0] == 413
    status, replies = _post(url, {"sender": "x", "message": "字" * 1500})
    assert status == 200 and "太长" in replies[0]["text"]
    status, replies = _post(url, {"sender": "x", "message": "   "})
    assert status == 200 and "没有输入" in replies[0]["text"]


def test_a_long_conversation_still_reaches_the_actions(stack) -> None:
    """Rasa sends the whole tracker to the action server; it outgrows 64 KiB."""
    sender = f"long-{uuid.uuid4().hex}"
    url = f"{stack['rasa']}/webhooks/rest/webhook"
    for _ in range(30):
        for text in ("2", "1"):
            status, _ = _post(url, {"sender": sender, "message": text})
            assert status == 200
    token = (stack["var"] / "rasa_token").read_text().strip()
    _, tracker = _get(f"{stack['rasa']}/conversations/{sender}/tracker?token={token}")
    assert len(json.dumps(tracker)) > 65536
    status, replies = _post(url, {"sender": sender, "message": "菜单"})
    assert "1 手机使用" in replies[0]["text"]  # action_show_menu still runs


HOSTILE_SEEDS = (
    "",
    "   ",
    "\u200b\u200b",
    "😀😀😀",
    "🙏🏻👴🏽💊",
    "\x00\x01\x1b[31m红\x7f",
    "\u202e反转文字",
    "Привет 你好 مرحبا hello",
    '/handoff{"x": "1"}',
    "/restart",
    "/greet",
    "/session_start",
    "'; DROP TABLE rumor_reports; --",
    "1 OR 1=1",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "{{7*7}} ${jndi:ldap://x} %s %n {0}",
    "[[[[[[[[[[",
    "💩" * 400,
    "字" * 999,
    "字" * 1001,
    "帮我看看这条短信：【工商银行】http://icbc-vip.top",
    "群里说喝醋能软化血管",
    "1",
    "菜单",
)


def _hostile_messages(count: int, seed: int = 20251129) -> list[str]:
    """The seeds above, then random mixtures of them and of random code points."""
    import random

    rng = random.Random(seed)
    alphabet = [chr(c) for c in (*range(0x20, 0x7F), *range(0x4E00, 0x4E80), 0x1F600, 0x0627)]
    out = list(HOSTILE_SEEDS)
    while len(out) < count:
        kind = rng.random()
        if kind < 0.4:
            out.append(rng.choice(HOSTILE_SEEDS) + rng.choice(HOSTILE_SEEDS))
        elif kind < 0.8:
            out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80))))
        else:
            out.append("".join(chr(rng.randint(1, 0x2FFFF)) for _ in range(rng.randint(1, 40))))
    return out


def test_thousands_of_hostile_messages_all_get_an_answer(stack) -> None:
    """No 5xx, and every message accepted by the channel gets at least one reply."""
    from concurrent.futures import ThreadPoolExecutor

    url = f"{stack['rasa']}/webhooks/rest/webhook"
    messages = _hostile_messages(2000)

    def send(item: tuple[int, str]) -> tuple[str, int, object]:
        i, text = item
        body = json.dumps({"sender": f"fuzz-{i % 40}", "message": text}).encode()
        status, replies = _post(url, body)
        return text, status, replies

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(send, enumerate(messages)))
    failures = [(t[:40], s) for t, s, r in results if s >= 500]
    assert not failures, failures[:10]
    unanswered = [
        t[:40]
        for t, s, r in results
        if s == 200 and not (isinstance(r, list) and r and any(m.get("text") for m in r))
    ]
    assert not unanswered, unanswered[:10]
    assert sum(s == 200 for _, s, _ in results) >= 0.99 * len(results)


@pytest.mark.browser
def test_browser_sends_a_message_and_sees_the_reply(stack) -> None:
    # Playwright's sync API runs its own loop: independent of whatever event
    # loop policy Rasa/Sanic installed for the in-process tests.
    if CHROMIUM is None:
        service_absent("Debian's chromium is missing (scripts/install-browser.sh installs it)")
    from playwright.sync_api import sync_playwright

    # The page gives up after 15 s; the first emergency turn of a cold stack (the
    # actions load the sentence encoder for the first-aid search) can take longer.
    _post(f"{stack['web']}/api/v1/chat", {"message": "我妈晕倒了"})
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(stack["web"] + "/")
        size = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('.msg')).fontSize)"
        )
        assert size >= 20
        box = page.locator("#send").bounding_box()
        assert box["height"] >= 48 and box["width"] >= 48
        # Wait with locators: the page's CSP (rightly) forbids eval'd predicates.
        page.fill("#text", "你好")
        page.click("#send")
        page.locator(".msg.me", has_text="你好").wait_for()
        page.locator(".msg.bot", has_text="科普助手").nth(1).wait_for(timeout=WAIT_MS)
        # The options are buttons under the message that offered them.
        page.locator(".msg.bot[data-turn='1'] button.opt", has_text="2 健康").click()
        topic = page.locator(".msg.bot[data-turn='2']", has_text="健康：")
        topic.wait_for(timeout=WAIT_MS)
        assert topic.locator("button.opt").first.inner_text().startswith("1 ")
        assert page.locator(".msg.wait").count() == 0
        # A hotline in an answer is a phone link, named for screen readers.
        page.fill("#text", "我妈晕倒了")
        page.click("#send")
        link = page.locator(".msg.bot[data-turn='3'] a[href='tel:120']").first
        link.wait_for(timeout=WAIT_MS)
        assert link.get_attribute("aria-label") == "拨打 120 急救电话"
        page.screenshot(path=str(stack["var"] / "webchat.png"), full_page=True)
        shots = PROJECT_ROOT / "var" / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "chat-stack-390.png"), full_page=True)
        browser.close()


def test_sigterm_stops_all_three_without_orphans(stack) -> None:
    proc = stack["proc"]
    children = _children(proc.pid)
    assert len(children) == 3
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    time.sleep(0.5)
    alive = [
        pid
        for pid in children
        if Path(f"/proc/{pid}").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    ]
    assert alive == []
