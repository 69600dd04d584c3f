"""The ``wechat`` channel end to end: a Sanic server wired as ``rasa run`` wires it,
a client posting callbacks as WeChat does, and the simulated customer-service API.

The assistant is a fake that answers through the output channel (fast, or slow
to miss the reply budget), so no trained model is needed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import pytest
from sqlalchemy import update

from bench.wechat_platform import PlatformClient, Reply, Simulator, message_xml, signature
from bot.channels.wechat.channel import WeChatInput
from bot.menu.pages import BUSY_REPLY
from bot.rumors.reports import ReportQueue
from bot.storage.db import Database
from bot.storage.models import ReportDelivery, RumorClaim
from bot.voice.listener import heard_reply
from bot.wechat import replies
from tests.bot.channels.assistant import FakeAssistant, rasa_server
from tests.bot.channels.conftest import BUDGET, WECHAT, WECHAT_PLAIN, migrate, wechat_channel
from tests.bot.storage_backends import database_url  # noqa: F401  (fixture)
from tests.bot.wechat.test_messages import BILLION_LAUGHS, XXE

USER = "oUser-1234567890abcdefghijklm"


@dataclass
class Harness:
    client: PlatformClient
    channel: WeChatInput
    assistant: FakeAssistant
    sim: Simulator

    async def say(self, text: str, msg_id: int = 1, **query: object) -> Reply:
        xml = message_xml("gh_test", USER, "text", Content=text, MsgId=msg_id)
        return await self.client.post(xml, **query)

    def passive(self, reply: Reply) -> str:
        assert reply.status == 200, reply.text
        fields = self.client.open_reply(reply)
        assert fields["ToUserName"] == USER and fields["FromUserName"] == "gh_test"
        assert fields["MsgType"] == "text"
        return fields["Content"]


@pytest.fixture
async def harness_factory(simulator, sqlite_url, http):
    sim, base = simulator

    @asynccontextmanager
    async def start(
        mode: str = "safe", assistant: FakeAssistant | None = None, budget: float = BUDGET
    ) -> AsyncIterator[Harness]:
        channel = wechat_channel(base, mode, reply_budget=budget)
        assistant = assistant or FakeAssistant()
        account = WECHAT if mode != "plain" else WECHAT_PLAIN
        async with rasa_server(channel, assistant) as url:
            yield Harness(PlatformClient(url, account, http), channel, assistant, sim)

    return start


async def test_url_verification_echoes_only_for_a_valid_signature(harness_factory) -> None:
    async with harness_factory() as h:
        url = h.client.url
        ts, nonce = str(int(time.time())), "4242"
        good = {"signature": signature(WECHAT.token, ts, nonce), "timestamp": ts, "nonce": nonce}
        async with h.client.session.get(url, params={**good, "echostr": "98765"}) as r:
            assert (r.status, await r.text()) == (200, "98765")
        forged = {**good, "signature": signature("guess", ts, nonce), "echostr": "98765"}
        async with h.client.session.get(url, params=forged) as r:
            assert r.status == 403
        old = str(int(time.time()) - 3600)
        stale = {"signature": signature(WECHAT.token, old, nonce), "timestamp": old, "nonce": nonce}
        async with h.client.session.get(url, params={**stale, "echostr": "1"}) as r:
            assert r.status == 403
        async with h.client.session.get(url, params={**good, "echostr": "<script>"}) as r:
            assert r.status == 400


async def test_a_fast_answer_is_the_encrypted_passive_reply(harness_factory) -> None:
    async with harness_factory("safe") as h:
        reply = await h.say("手机字太小怎么调大", msg_id=1001)
        # The answer itself is the reply: it came within the budget (a late one is "success").
        assert h.passive(reply) == "答：手机字太小怎么调大"
        (message,) = h.assistant.received
        assert message.sender_id == USER and message.input_channel == "wechat"
        assert message.message_id == "1001"
        assert h.sim.sent == []  # nothing needed the customer-service API


async def test_plain_and_compatible_modes(harness_factory) -> None:
    async with harness_factory("plain") as h:
        reply = await h.say("你好", msg_id=1)
        assert b"<Encrypt>" not in reply.body and h.passive(reply) == "答：你好"
    async with harness_factory("compatible") as h:
        encrypted = await h.say("你好", msg_id=2)
        assert b"<Encrypt>" in encrypted.body and h.passive(encrypted) == "答：你好"
        plain_xml = message_xml("gh_test", USER, "text", Content="明文", MsgId=3)
        plain = await h.client.post_raw(plain_xml, h.client.query(None))
        assert b"<Encrypt>" not in plain.body and h.passive(plain) == "答：明文"


async def test_safe_mode_refuses_plaintext(harness_factory) -> None:
    async with harness_factory("safe") as h:
        body = message_xml("gh_test", USER, "text", Content="明文", MsgId=9)
        reply = await h.client.post_raw(body, h.client.query(None))
        assert reply.status == 403 and h.assistant.received == []


async def test_a_slow_answer_gets_success_then_arrives_through_the_api(harness_factory) -> None:
    async with harness_factory(assistant=FakeAssistant(delay=BUDGET + 1.0)) as h:
        reply = await h.say("二化螟怎么防治", msg_id=2001)
        # "success" at once (an answer in hand would have been the passive reply);
        # how fast, on an idle machine, is bench/load.py's to say.
        assert (reply.status, reply.text) == (200, "success")
        assert h.sim.sent == []  # not yet
        sent = await h.sim.wait_for(1, timeout=5)
        assert h.sim.texts_to(USER) == ["答：二化螟怎么防治"]
        assert sent[0]["path"] == "/cgi-bin/message/custom/send"


@pytest.mark.slow
async def test_a_10_second_action_still_answers_within_the_budget(harness_factory) -> None:
    async with harness_factory(assistant=FakeAssistant(delay=10.0)) as h:
        reply = await h.say("非洲猪瘟怎么防", msg_id=2002)
        assert (reply.status, reply.text) == (200, "success")
        # Well inside WeChat's 5 s, and not waiting for the action: a bound a loaded
        # machine meets too (the budget itself is measured in bench/load.py).
        assert reply.seconds < 5.0
        assert h.sim.sent == []
        await h.sim.wait_for(1, timeout=15)
        assert h.sim.texts_to(USER) == ["答：非洲猪瘟怎么防"]


async def test_a_long_answer_sends_the_first_part_passively_and_the_rest_by_api(
    harness_factory,
) -> None:
    steps = [f"第{i}步：打开设置，找到显示与亮度，把字体大小往右拖一点。" for i in range(60)]
    assistant = FakeAssistant(answer=lambda text: [{"text": s} for s in steps])
    async with harness_factory("plain", assistant) as h:
        reply = await h.say("怎么调字体", msg_id=3001)
        assert len(reply.body) <= 2048
        first = h.passive(reply)
        await h.sim.wait_for(1)
        await h.channel.drain()
        rest = h.sim.texts_to(USER)
        assert rest and all(len(t.encode()) <= 2048 for t in rest)
        assert "\n\n".join([first, *rest]) == "\n\n".join(steps)


async def test_sequential_retries_of_one_message_are_processed_once(harness_factory) -> None:
    async with harness_factory() as h:
        replies_ = [await h.say("被骗了怎么办", msg_id=4001) for _ in range(4)]
        assert [r.status for r in replies_] == [200] * 4
        assert len(h.assistant.received) == 1
        assert h.passive(replies_[0]) == "答：被骗了怎么办"
        assert {r.text for r in replies_[1:]} == {"success"}


async def test_a_retry_after_the_answering_process_died_is_answered(harness_factory) -> None:
    """A process took the message and died before answering (its lease is all that is
    left): WeChat's retry waits for the lease to run out and answers the message."""
    async with harness_factory() as h:
        xml = message_xml("gh_test", USER, "text", Content="验证码能告诉别人吗", MsgId=5101)
        key = f"wechat\0msg\0gh_test\0{5101}"
        assert await h.channel.receipts.first_time(key, BUDGET / 2)  # the dead one
        started = time.monotonic()
        reply = await h.client.post(xml)
        assert reply.status == 200
        assert time.monotonic() - started >= BUDGET / 2  # it waited for the lease to run out
        for _ in range(50):  # answered passively, or pushed if the wait used the budget
            if h.assistant.received:
                break
            await asyncio.sleep(0.05)
        assert [m.text for m in h.assistant.received] == ["验证码能告诉别人吗"]
        again = await h.client.post(xml)  # and a later retry is not processed again
        assert again.text == "success" and len(h.assistant.received) == 1


async def test_concurrent_retries_on_two_processes_are_processed_once(
    simulator,
    database_url: str,  # noqa: F811
    http,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two servers (as two Rasa processes) share the database: SQLite and PostgreSQL."""
    await migrate(database_url)
    monkeypatch.setenv("KEPU_DATABASE_URL", database_url)
    sim, base = simulator
    assistant = FakeAssistant(delay=0.1)
    async with (
        rasa_server(wechat_channel(base), assistant) as url_a,
        rasa_server(wechat_channel(base), assistant) as url_b,
    ):
        clients = [PlatformClient(u, WECHAT, http) for u in (url_a, url_b)]
        xml = message_xml("gh_test", USER, "text", Content="验证码能告诉别人吗", MsgId=5001)
        replies_ = await asyncio.gather(*(clients[i % 2].post(xml) for i in range(6)))
    assert all(r.status == 200 for r in replies_)
    assert len(assistant.received) == 1


async def test_forged_stale_and_replayed_requests_are_refused_before_parsing(
    harness_factory,
) -> None:
    async with harness_factory() as h:
        forged = await h.say("伪造", msg_id=6001, forge=True)
        stale = await h.say("过期", msg_id=6002, timestamp=int(time.time()) - 600)
        future = await h.say("未来", msg_id=6003, timestamp=int(time.time()) + 600)
        assert [r.status for r in (forged, stale, future)] == [403, 403, 403]
        body, encrypted = h.client.seal(
            message_xml("gh_test", USER, "text", Content="重放", MsgId=6004)
        )
        query = h.client.query(encrypted)
        first = await h.client.post_raw(body, query)
        # The very same request again is what WeChat's retry looks like: answered
        # "success", not processed twice. The same nonce for another body is refused.
        retry = await h.client.post_raw(body, query)
        assert (first.status, retry.status, retry.text) == (200, 200, "success")
        other, encrypted = h.client.seal(
            message_xml("gh_test", USER, "text", Content="篡改", MsgId=6005)
        )
        same_nonce = h.client.query(encrypted, int(query["timestamp"]), query["nonce"])
        assert (await h.client.post_raw(other, same_nonce)).status == 403
        # A valid URL signature with a wrong msg_signature is refused too.
        body, encrypted = h.client.seal(message_xml("gh_test", USER, "text", Content="改", MsgId=7))
        query = {**h.client.query(encrypted), "msg_signature": "0" * 40}
        assert (await h.client.post_raw(body, query)).status == 403
        assert [m.text for m in h.assistant.received] == ["重放"]


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_xxe_billion_laughs_and_garbage_never_reach_the_assistant(
    harness_factory, mode: str
) -> None:
    async with harness_factory(mode) as h:
        statuses = [(await h.client.post(body)).status for body in (XXE, BILLION_LAUGHS, b"{}")]
        assert statuses == [400, 400, 400]
        assert h.assistant.received == []


async def test_a_1_mb_body_is_refused(harness_factory) -> None:
    async with harness_factory("plain") as h:
        content = "长" * (1024 * 1024 // 3)
        reply = await h.say(content, msg_id=8001)
        assert reply.status == 413 and h.assistant.received == []


async def test_voice_uses_the_transcript_and_asks_again_when_it_is_empty(harness_factory) -> None:
    async with harness_factory() as h:
        voice = message_xml(
            "gh_test",
            USER,
            "voice",
            MediaId="m1",
            Format="amr",
            Recognition="稻子生虫咋个办",
            MsgId=1,
        )
        heard = heard_reply("稻子生虫咋个办")
        assert h.passive(await h.client.post(voice)) == f"{heard}\n\n答：稻子生虫咋个办"
        silent = message_xml("gh_test", USER, "voice", MediaId="m2", Recognition="", MsgId=2)
        assert h.passive(await h.client.post(silent)) == replies.voice_help("wechat", "none")
        assert [m.text for m in h.assistant.received] == ["稻子生虫咋个办"]
        assert h.assistant.received[0].metadata == {"msg_type": "voice"}


async def test_images_and_other_types_are_acknowledged(harness_factory) -> None:
    async with harness_factory() as h:
        image = message_xml("gh_test", USER, "image", PicUrl="http://x/y.jpg", MediaId="m", MsgId=1)
        assert h.passive(await h.client.post(image)) == replies.IMAGE_RECEIVED
        place = message_xml("gh_test", USER, "location", Label="某村", MsgId=2)
        assert h.passive(await h.client.post(place)) == replies.UNSUPPORTED
        assert h.assistant.received == []


async def test_subscribe_greets_through_the_assistant_and_clicks_choose_from_the_menu(
    harness_factory,
) -> None:
    async with harness_factory() as h:
        now = int(time.time())
        follow = message_xml("gh_test", USER, "event", Event="subscribe", CreateTime=now)
        assert h.passive(await h.client.post(follow)) == "答：你好"
        click = message_xml(
            "gh_test", USER, "event", Event="CLICK", EventKey="menu_health", CreateTime=now + 1
        )
        assert h.passive(await h.client.post(click)) == "答：健康"
        leave = message_xml("gh_test", USER, "event", Event="unsubscribe", CreateTime=now + 2)
        assert (await h.client.post(leave)).text == "success"
        again = await h.client.post(click)  # a retried event: same sender and CreateTime
        assert again.text == "success"
        assert [m.text for m in h.assistant.received] == ["你好", "健康"]


async def test_buttons_are_numbered_and_a_leading_slash_is_only_text(harness_factory) -> None:
    def answer(text: str) -> list[dict]:
        buttons = [{"title": "有用", "payload": "/feedback"}, {"title": "没用", "payload": "/x"}]
        return [{"text": "这条有用吗？", "buttons": buttons}]

    async with harness_factory(assistant=FakeAssistant(answer=answer)) as h:
        reply = await h.say("/greet", msg_id=1)
        assert h.passive(reply) == "这条有用吗？\n请回复数字选择：\n1 有用\n2 没用"
        assert h.assistant.received[0].text == "／greet"


async def test_a_failing_turn_still_gets_a_polite_reply(harness_factory) -> None:
    class Broken(FakeAssistant):
        async def handle_message(self, message) -> None:
            raise RuntimeError("action server down")

    # The production budget: the subject is what a failed turn says, not how fast
    # (with the suite's short one, a loaded machine may push the reply instead).
    async with harness_factory(assistant=Broken(), budget=4.5) as h:
        assert h.passive(await h.say("你好", msg_id=1)) == BUSY_REPLY


async def test_verdicts_owed_to_the_user_follow_the_answer(harness_factory, sqlite_url) -> None:
    db = Database(sqlite_url)
    try:
        receipt = await ReportQueue(db).submit(
            "群里说喝醋能软化血管", sender_id=USER, channel="wechat"
        )
        async with db.session() as session:
            claim = await session.get(RumorClaim, receipt.claim_id)
            claim.status, claim.verdict = "concluded", "rumor"
            claim.explanation = "醋不能软化血管。"
            await session.execute(update(ReportDelivery).values(status="due"))
    finally:
        await db.close()
    async with harness_factory() as h:
        first = h.passive(await h.say("你好", msg_id=1))
        assert first.startswith("答：你好\n\n") and receipt.public_id in first
        assert "【谣言】" in first
        assert receipt.public_id not in h.passive(await h.say("再问", msg_id=2))


async def test_a_verdict_for_a_slow_turn_is_pushed_with_the_answer(
    harness_factory, sqlite_url
) -> None:
    db = Database(sqlite_url)
    try:
        receipt = await ReportQueue(db).submit("听说明天要停水", sender_id=USER, channel="wechat")
        async with db.session() as session:
            claim = await session.get(RumorClaim, receipt.claim_id)
            claim.status, claim.verdict = "concluded", "rumor"
            await session.execute(update(ReportDelivery).values(status="due"))
    finally:
        await db.close()
    async with harness_factory(assistant=FakeAssistant(delay=BUDGET + 1.0)) as h:
        assert (await h.say("你好", msg_id=1)).text == "success"
        await h.sim.wait_for(1)
        await h.channel.drain()
        (pushed,) = h.sim.texts_to(USER)
        assert pushed.startswith("答：你好") and receipt.public_id in pushed


async def test_no_request_shape_causes_a_server_error(harness_factory) -> None:
    async with harness_factory() as h:
        session: aiohttp.ClientSession = h.client.session
        probes = [
            ("POST", {}, b""),
            ("POST", {"timestamp": "x", "nonce": "1", "signature": "y"}, b"<xml/>"),
            ("POST", {"timestamp": str(int(time.time())), "nonce": "<>", "signature": ""}, b""),
            ("GET", {}, b""),
            ("PUT", {}, b""),
        ]
        for method, params, body in probes:
            async with session.request(method, h.client.url, params=params, data=body) as r:
                assert r.status < 500, (method, params, r.status)
        async with session.get(h.client.url.rsplit("/", 1)[0] + "/") as r:
            assert r.status == 200 and (await r.json()) == {"status": "ok"}
