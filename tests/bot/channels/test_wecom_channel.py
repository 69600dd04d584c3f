"""The ``wecom`` channel: WeCom's callback signature (over the ciphertext) and AES
scheme, passive replies, and app messages through the simulated API."""

from __future__ import annotations

import time
import uuid

import pytest

from bench.wechat_platform import Account, PlatformClient, encrypt, message_xml, signature
from bot.voice.listener import heard_reply
from bot.wechat import replies
from tests.bot.channels.assistant import FakeAssistant, rasa_server
from tests.bot.channels.conftest import BUDGET, WECOM, WECOM_AGENT_ID, wecom_channel

CORP = WECOM.receive_id
USER = "ZhangSan"


def app_message(msg_type: str, msg_id: int, agent_id: int = WECOM_AGENT_ID, **fields) -> bytes:
    return message_xml(CORP, USER, msg_type, MsgId=msg_id, AgentID=agent_id, **fields)


@pytest.fixture
async def wecom(simulator, sqlite_url, http):
    sim, base = simulator
    assistant = FakeAssistant()
    channel = wecom_channel(base)
    async with rasa_server(channel, assistant) as url:
        yield PlatformClient(url, WECOM, http), assistant, sim, channel


async def test_url_verification_decrypts_the_echo(wecom) -> None:
    client, *_ = wecom
    echo = encrypt(WECOM.aes_key, CORP, b"1616140317555161061")
    ts, nonce = str(int(time.time())), "263014780"
    params = {
        "msg_signature": signature(WECOM.token, ts, nonce, echo),
        "timestamp": ts,
        "nonce": nonce,
        "echostr": echo,
    }
    async with client.session.get(client.url, params=params) as r:
        assert (r.status, await r.text()) == (200, "1616140317555161061")
    params["msg_signature"] = signature("guess", ts, nonce, echo)
    async with client.session.get(client.url, params=params) as r:
        assert r.status == 403


async def test_text_gets_an_encrypted_passive_reply(wecom) -> None:
    client, assistant, sim, _ = wecom
    reply = await client.post(app_message("text", 1, Content="骚扰电话怎么拦截"))
    fields = client.open_reply(reply)  # checks MsgSignature and the CorpID inside
    assert fields["Content"] == "答：骚扰电话怎么拦截"
    assert fields["ToUserName"] == USER and fields["FromUserName"] == CORP
    (message,) = assistant.received
    assert message.input_channel == "wecom" and message.sender_id == USER
    assert sim.sent == []


async def test_a_slow_answer_goes_out_as_an_app_message(wecom) -> None:
    client, assistant, sim, _ = wecom
    assistant.delay = BUDGET + 1.0
    reply = await client.post(app_message("text", 2, Content="高血压平时要注意什么"))
    # An empty reply, not the answer: it did not wait (its speed is bench/load.py's to measure).
    assert (reply.status, reply.body) == (200, b"")
    (call,) = await sim.wait_for(1)
    assert call["path"] == "/cgi-bin/message/send"
    assert call["json"]["agentid"] == WECOM_AGENT_ID and call["json"]["touser"] == USER
    assert call["json"]["text"]["content"] == "答：高血压平时要注意什么"
    assert sim.token_requests == [{"corpid": CORP, "corpsecret": "the-corp-secret"}]


async def test_voice_without_a_transcript_asks_again(wecom) -> None:
    client, assistant, *_ = wecom
    reply = await client.post(app_message("voice", 3, MediaId="m", Format="amr"))
    assert client.open_reply(reply)["Content"] == replies.voice_help("wecom", "none")
    reply = await client.post(app_message("voice", 4, MediaId="m", Recognition="柚子树咋个修"))
    heard = heard_reply("柚子树咋个修")
    assert client.open_reply(reply)["Content"] == f"{heard}\n\n答：柚子树咋个修"
    assert [m.text for m in assistant.received] == ["柚子树咋个修"]


async def test_forged_stale_foreign_and_retried_callbacks(wecom, http) -> None:
    client, assistant, *_ = wecom
    body = app_message("text", 5, Content="伪造")
    assert (await client.post(body, forge=True)).status == 403
    assert (await client.post(body, timestamp=int(time.time()) - 900)).status == 403
    other_corp = Account(WECOM.token, "ww-other-corp", WECOM.aes_key, wecom=True)
    assert (await PlatformClient(client.url, other_corp, http).post(body)).status == 403
    other_app = app_message("text", 6, agent_id=999, Content="别的应用")
    assert (await client.post(other_app)).status == 403
    first = await client.post(app_message("text", 7, Content="真的"))
    retry = await client.post(app_message("text", 7, Content="真的"))
    assert (first.status, retry.status, retry.body) == (200, 200, b"")
    assert [m.text for m in assistant.received] == ["真的"]


async def test_plaintext_posts_are_refused(wecom) -> None:
    client, assistant, *_ = wecom
    ts, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    query = {
        "msg_signature": signature(WECOM.token, ts, nonce, ""),
        "timestamp": ts,
        "nonce": nonce,
    }
    reply = await client.post_raw(app_message("text", 8, Content="明文"), query)
    assert reply.status == 400 and assistant.received == []
