"""Finding 5, the limits: the web chat, the REST channel and the WeChat webhook each
refuse a sender or a client address that sends too fast, with a short polite answer
(HTTP: 429, ``Retry-After`` and JSON; WeChat: the passive reply, never an error), and
read the client address behind ``KEPU_TRUSTED_PROXIES`` only.

The reporter count a cookie-less flood cannot inflate is in test_reporter_flood.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bench.wechat_platform import PlatformClient, message_xml
from bot.channels.rest import KepuRestInput
from bot.net.ratelimit import TOO_FAST_REPLY
from bot.settings import (
    RELAY_CLIENT_HEADER,
    RELAY_SECRET_HEADER,
    Settings,
    SettingsError,
    relay_secret,
)
from tests.bot.channels.assistant import FakeAssistant, rasa_server
from tests.bot.channels.conftest import (  # noqa: F401  (fixtures)
    WECHAT_PLAIN,
    http,
    simulator,
    sqlite_url,
    wechat_channel,
)


def assert_too_fast(status: int, headers: Any, body: dict[str, Any]) -> None:
    assert status == 429
    assert int(headers["Retry-After"]) >= 1
    assert body["error"] == TOO_FAST_REPLY


# --------------------------------------------------------------------------- web chat


@pytest.fixture
async def recording_rasa(aiohttp_server) -> tuple[str, list[dict[str, Any]]]:
    """A stand-in Rasa REST channel that records each relayed request (body, headers)."""
    seen: list[dict[str, Any]] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append({"body": body, "headers": dict(request.headers)})
        return web.json_response([{"recipient_id": body["sender"], "text": "收到"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/"), seen


async def chat(client, text: str, headers: dict[str, str] | None = None, **extra: str):
    resp = await client.post("/api/v1/chat", json={"message": text, **extra}, headers=headers)
    return resp, await resp.json()


async def test_one_sender_gets_429_and_a_polite_json_answer(make_client, recording_rasa) -> None:
    url, seen = recording_rasa
    client = await make_client(rasa_url=url, chat_rate_per_sender=4, chat_rate_per_client=600)
    first, _ = await chat(client, "你好")  # sets the cookie: one sender from now on
    assert first.status == 200
    statuses = [(await chat(client, f"第{i}句"))[0].status for i in range(6)]
    assert statuses[0] == 200 and 429 in statuses
    resp, body = await chat(client, "还是我")
    assert_too_fast(resp.status, resp.headers, body)
    assert resp.headers["Content-Type"].startswith("application/json")
    assert len(seen) == 1 + statuses.count(200)  # nothing refused reached Rasa
    # The same address with another cookie is another sender.
    client.session.cookie_jar.clear()
    assert (await chat(client, "我是另一位"))[0].status == 200


async def test_a_cookieless_flood_is_held_by_the_client_address(make_client, fake_rasa) -> None:
    client = await make_client(rasa_url=fake_rasa, chat_rate_per_sender=600, chat_rate_per_client=6)
    statuses = []
    for i in range(10):
        client.session.cookie_jar.clear()  # every request a "new sender"
        statuses.append((await chat(client, f"举报{i}"))[0].status)
    assert statuses[:2] == [200, 200] and statuses[-1] == 429
    assert statuses.count(200) <= 3  # the burst: a third of the minute's six


async def test_behind_a_trusted_proxy_each_real_client_has_its_own_limit(
    make_client, fake_rasa
) -> None:
    client = await make_client(
        rasa_url=fake_rasa,
        chat_rate_per_sender=600,
        chat_rate_per_client=3,
        trusted_proxies="127.0.0.1",
    )
    flood = {"X-Forwarded-For": "203.0.113.7"}
    statuses = []
    for i in range(4):
        client.session.cookie_jar.clear()
        statuses.append((await chat(client, f"第{i}句", flood))[0].status)
    assert statuses[-1] == 429
    for i in range(3):  # other people behind the same proxy are not held back
        client.session.cookie_jar.clear()
        headers = {"X-Forwarded-For": f"198.51.100.{i}"}
        assert (await chat(client, "你好", headers))[0].status == 200
    # A forged left-hand address does not make the flood someone else.
    client.session.cookie_jar.clear()
    forged = {"X-Forwarded-For": "192.0.2.99, 203.0.113.7"}
    assert (await chat(client, "换个名字", forged))[0].status == 429


async def test_without_trusted_proxies_a_forwarded_header_changes_nothing(
    make_client, fake_rasa
) -> None:
    client = await make_client(rasa_url=fake_rasa, chat_rate_per_sender=600, chat_rate_per_client=3)
    statuses = []
    for i in range(4):
        client.session.cookie_jar.clear()
        headers = {"X-Forwarded-For": f"198.51.100.{i}"}  # every request claims another client
        statuses.append((await chat(client, f"第{i}句", headers))[0].status)
    assert statuses[-1] == 429


async def test_a_resend_of_an_answered_message_is_not_counted(make_client, recording_rasa) -> None:
    url, seen = recording_rasa
    client = await make_client(rasa_url=url, chat_rate_per_sender=2, chat_rate_per_client=600)
    await chat(client, "你好")
    resp, body = await chat(client, "停水了吗", client_id="msg-00000001")
    assert resp.status == 200
    for _ in range(5):  # the page resending after a timeout: answered from memory
        again, same = await chat(client, "停水了吗", client_id="msg-00000001")
        assert again.status == 200 and same["messages"] == body["messages"]
    assert len(seen) == 2


async def test_the_relay_proves_itself_and_names_the_client(
    make_client, recording_rasa, tmp_path: Path
) -> None:
    url, seen = recording_rasa
    client = await make_client(rasa_url=url, trusted_proxies="127.0.0.1")
    await chat(client, "你好", {"X-Forwarded-For": "198.51.100.23"})
    headers = seen[0]["headers"]
    var_dir = tmp_path / "app-1"  # make_client's first app
    assert headers[RELAY_SECRET_HEADER] == relay_secret(Settings(var_dir=var_dir))
    assert len(headers[RELAY_SECRET_HEADER]) >= 32
    assert headers[RELAY_CLIENT_HEADER] == "198.51.100.23"
    assert (var_dir / "relay_secret").stat().st_mode & 0o777 == 0o600


# ------------------------------------------------------------------------ REST channel


@pytest.fixture
async def rest(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Any]:  # noqa: F811
    """``start(**settings)``: the REST channel wired as ``rasa run`` wires it, with a
    stand-in assistant; yields (webhook URL, assistant, settings)."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def start(**overrides: Any):
        settings = Settings(var_dir=tmp_path / "var", database_url=sqlite_url, **overrides)
        channel = KepuRestInput(max_chars=1000, settings=settings)
        assistant = FakeAssistant()
        async with rasa_server(channel, assistant) as url:
            yield url, assistant, settings

    return start


async def post(session: aiohttp.ClientSession, url: str, sender: str, text: str, **headers: str):
    async with session.post(url, json={"sender": sender, "message": text}, headers=headers) as r:
        return r.status, r.headers, await r.json()


async def test_the_rest_channel_limits_senders_and_addresses(rest, http) -> None:  # noqa: F811
    async with rest(chat_rate_per_sender=4, chat_rate_per_client=9) as (url, assistant, _):
        statuses = [(await post(http, url, "alice", f"第{i}句"))[0] for i in range(4)]
        assert statuses[:2] == [200, 200] and statuses[-1] == 429
        status, headers, body = await post(http, url, "alice", "还是我")
        assert_too_fast(status, headers, body)
        assert isinstance(body["retry_after"], int) and body["retry_after"] >= 1
        # Other senders from the same address share its limit: invented ids do not help.
        refused = 0
        for i in range(10):
            refused += (await post(http, url, f"invented-{i}", "你好"))[0] == 429
        assert refused >= 5
        handled = len(assistant.received)
        assert handled <= 2 + 3  # alice's burst, then the address's burst of three


async def test_the_rest_channel_reads_the_client_behind_trusted_proxies_only(
    rest,
    http,  # noqa: F811
) -> None:
    async with rest(chat_rate_per_sender=600, chat_rate_per_client=3) as (url, _, _s):
        statuses = []
        for i in range(3):
            forged = {"X-Forwarded-For": f"198.51.100.{i}"}  # 127.0.0.1 is no trusted proxy here
            statuses.append((await post(http, url, f"s{i}", "你好", **forged))[0])
        assert statuses[-1] == 429
    async with rest(
        chat_rate_per_sender=600, chat_rate_per_client=3, trusted_proxies="127.0.0.1"
    ) as (url, _, _s):
        for i in range(3):
            real = {"X-Forwarded-For": f"198.51.100.{i}"}
            assert (await post(http, url, f"s{i}", "你好", **real))[0] == 200


async def test_a_relayed_web_chat_message_is_counted_by_the_web_service_only(
    rest,
    http,  # noqa: F811
) -> None:
    async with rest(chat_rate_per_sender=2, chat_rate_per_client=3) as (url, assistant, settings):
        relay = {
            RELAY_SECRET_HEADER: relay_secret(settings),
            RELAY_CLIENT_HEADER: "198.51.100.7",
        }
        for i in range(6):
            assert (await post(http, url, "web-abc", f"第{i}句", **relay))[0] == 200
        assert len(assistant.received) == 6
        forged = {**relay, RELAY_SECRET_HEADER: "guessed-" + "x" * 40}
        statuses = [(await post(http, url, "web-abc", "再来", **forged))[0] for _ in range(3)]
        assert statuses[-1] == 429  # a wrong secret is an ordinary REST request


# ---------------------------------------------------------------------------- WeChat


async def test_wechat_users_over_the_limit_get_a_polite_passive_reply(
    simulator,  # noqa: F811
    sqlite_url,  # noqa: F811
    http,  # noqa: F811
    monkeypatch,
) -> None:
    monkeypatch.setenv("KEPU_CHAT_RATE_PER_SENDER", "4")  # bursts of two
    sim, base = simulator
    channel = wechat_channel(base, "plain")
    assistant = FakeAssistant()
    async with rasa_server(channel, assistant) as url:
        client = PlatformClient(url, WECHAT_PLAIN, http)

        async def say(user: str, text: str, msg_id: int):
            xml = message_xml("gh_test", user, "text", Content=text, MsgId=msg_id)
            reply = await client.post(xml)
            assert reply.status == 200, reply.text  # never an error page
            return client.open_reply(reply)["Content"]

        answers = [await say("oFlooder", f"第{i}句", 100 + i) for i in range(4)]
        assert answers[:2] == ["答：第0句", "答：第1句"]
        assert answers[-1] == TOO_FAST_REPLY == "您发得太快了，请稍等一分钟再发。"
        assert [m.text for m in assistant.received] == ["第0句", "第1句"]
        # WeChat retrying the refused message is not processed either.
        retry = await client.post(
            message_xml("gh_test", "oFlooder", "text", Content="第3句", MsgId=103)
        )
        assert retry.status == 200 and len(assistant.received) == 2
        # Another user, through the same WeChat server, is answered.
        assert await say("oSomeoneElse", "你好", 200) == "答：你好"
    assert sim.sent == []


async def test_the_wechat_server_address_has_its_own_generous_limit(
    simulator,  # noqa: F811
    sqlite_url,  # noqa: F811
    http,  # noqa: F811
    monkeypatch,
) -> None:
    monkeypatch.setenv("KEPU_WEBHOOK_RATE_PER_CLIENT", "6")  # bursts of two
    sim, base = simulator
    channel = wechat_channel(base, "plain")
    async with rasa_server(channel, FakeAssistant()) as url:
        client = PlatformClient(url, WECHAT_PLAIN, http)
        contents = []
        for i in range(4):  # four users, one message each, from one address
            xml = message_xml("gh_test", f"oUser{i}", "text", Content="你好", MsgId=300 + i)
            reply = await client.post(xml)
            assert reply.status == 200
            contents.append(client.open_reply(reply)["Content"])
        assert contents[:2] == ["答：你好", "答：你好"] and contents[-1] == TOO_FAST_REPLY


def test_the_limits_are_settings() -> None:
    settings = Settings.from_env(
        {
            "KEPU_CHAT_RATE_PER_SENDER": "7",
            "KEPU_CHAT_RATE_PER_CLIENT": "70",
            "KEPU_WEBHOOK_RATE_PER_CLIENT": "700",
        }
    )
    assert (
        settings.chat_rate_per_sender,
        settings.chat_rate_per_client,
        settings.webhook_rate_per_client,
    ) == (7, 70, 700)
    for name in ("KEPU_CHAT_RATE_PER_SENDER", "KEPU_WEBHOOK_RATE_PER_CLIENT"):
        with pytest.raises(SettingsError):
            Settings.from_env({name: "0"})
