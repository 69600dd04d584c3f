"""The message API clients and the pusher, against the simulated platform."""

from __future__ import annotations

import json

import pytest

from bot.storage.db import Database
from bot.wechat.api import ApiError, OutsideWindow, WeChatApi, WeComApi
from bot.wechat.outbox import Outbox
from bot.wechat.push import Pusher
from tests.bot.channels.conftest import FAST_RETRY


@pytest.fixture
async def wechat_api(simulator):
    sim, base = simulator
    api = WeChatApi(base, "wx-app", "app-secret", FAST_RETRY)
    yield sim, api
    await api.close()


async def test_the_token_is_fetched_once_and_reused(wechat_api) -> None:
    sim, api = wechat_api
    for text in ("一", "二", "三"):
        await api.send_text("o1", text)
    assert len(sim.token_requests) == 1
    assert sim.token_requests[0] == {
        "grant_type": "client_credential",
        "appid": "wx-app",
        "secret": "app-secret",
    }
    assert sim.texts_to("o1") == ["一", "二", "三"]
    # Chinese goes out as UTF-8, not as \\u escapes the platform would show literally.
    assert "一".encode() in sim.sent[0]["raw"]


@pytest.mark.parametrize("code", [40001, 42001, 40014])
async def test_a_refused_token_is_refreshed_once(wechat_api, code: int) -> None:
    sim, api = wechat_api
    await api.send_text("o1", "先拿令牌")
    sim.valid_tokens.clear()  # e.g. another process fetched a newer token
    sim.scripted = [code]
    await api.send_text("o1", "再发一条")
    assert len(sim.token_requests) == 2
    assert sim.texts_to("o1") == ["先拿令牌", "再发一条"]


async def test_busy_and_gateway_errors_are_retried_with_backoff(wechat_api) -> None:
    sim, api = wechat_api
    sim.scripted = [-1, -502]  # "system busy", then an HTTP 502
    await api.send_text("o1", "第三次成功")
    assert sim.send_attempts == 3 and sim.texts_to("o1") == ["第三次成功"]


async def test_retries_give_up_with_an_error(wechat_api) -> None:
    sim, api = wechat_api
    sim.scripted = [-1, -1, -1]
    with pytest.raises(ApiError) as raised:
        await api.send_text("o1", "发不出去")
    assert raised.value.code == -1 and sim.send_attempts == 3


@pytest.mark.parametrize("code", [45015, 45047])
async def test_outside_the_48_hour_window_is_its_own_error(wechat_api, code: int) -> None:
    sim, api = wechat_api
    sim.scripted = [code]
    with pytest.raises(OutsideWindow):
        await api.send_text("o1", "太晚了")
    assert sim.send_attempts == 1  # not retried


async def test_wecom_sends_app_messages_with_the_agent_id(simulator) -> None:
    sim, base = simulator
    api = WeComApi(base, "ww-corp", "corp-secret", 1000002, FAST_RETRY)
    try:
        await api.send_text("ZhangSan", "你好")
    finally:
        await api.close()
    assert sim.token_requests == [{"corpid": "ww-corp", "corpsecret": "corp-secret"}]
    call = sim.sent[0]
    assert call["path"] == "/cgi-bin/message/send"
    assert call["json"] == {
        "touser": "ZhangSan",
        "msgtype": "text",
        "agentid": 1000002,
        "text": {"content": "你好"},
    }
    assert json.loads(call["raw"])["text"]["content"] == "你好"


async def test_what_cannot_be_pushed_waits_for_the_next_message(wechat_api, sqlite_url) -> None:
    sim, api = wechat_api
    db = Database(sqlite_url)
    pusher = Pusher(api, Outbox(db, "wechat"), window_seconds=48 * 3600)
    try:
        pusher.saw("o1")
        sim.scripted = [45015]
        assert await pusher.push("o1", ["结论一", "结论二" * 1200]) == 0
        assert sim.sent == []
        waiting = await pusher.take_waiting("o1")
        assert waiting[0] == "结论一" and "".join(waiting[1:]) == "结论二" * 1200
        assert await pusher.take_waiting("o1") == []
    finally:
        await db.close()


async def test_a_closed_window_is_not_even_tried(wechat_api, sqlite_url) -> None:
    sim, api = wechat_api
    db = Database(sqlite_url)
    pusher = Pusher(api, Outbox(db, "wechat"), window_seconds=0.0)
    try:
        pusher.saw("o1")  # and the window (0 s) closed at once
        assert await pusher.push("o1", ["迟到的结论"]) == 0
        assert sim.send_attempts == 0
        assert await pusher.take_waiting("o1") == ["迟到的结论"]
    finally:
        await db.close()
