"""The simulated platform as the load benches serve it: the stand-in of the message
API counts and keeps the customer-service texts, in this loop or in a thread."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import aiohttp

from bench.wechat_platform import SimulatorThread, WeChatApiStandIn


async def _push(session: aiohttp.ClientSession, base: str, body: dict) -> dict:
    async with session.get(f"{base}/cgi-bin/token", params={"appid": "wx"}) as resp:
        token = (await resp.json())["access_token"]
    url = f"{base}/cgi-bin/message/custom/send"
    async with session.post(url, params={"access_token": token}, json=body) as resp:
        return await resp.json()


def test_the_stand_in_counts_and_keeps_customer_service_texts_per_user() -> None:
    async def run() -> WeChatApiStandIn:
        standin = WeChatApiStandIn()
        await standin.start()
        try:
            async with aiohttp.ClientSession() as session:
                for user, text in (("o1", "答一"), ("o2", "答二"), ("o1", "答三")):
                    body = {"touser": user, "msgtype": "text", "text": {"content": text}}
                    assert await _push(session, standin.base, body) == {
                        "errcode": 0,
                        "errmsg": "ok",
                    }
        finally:
            await standin.close()
        return standin

    standin = asyncio.run(run())
    assert standin.sent == 3
    assert standin.pushed == {"o1": ["答一", "答三"], "o2": ["答二"]}
    assert standin.simulator.texts_to("o1") == ["答一", "答三"]


def test_the_simulator_thread_serves_synchronous_callers() -> None:
    api = SimulatorThread()
    api.start()
    try:
        with urllib.request.urlopen(f"{api.base}/cgi-bin/token?appid=wx", timeout=10) as resp:
            token = json.loads(resp.read())["access_token"]
        assert api.simulator.valid_tokens == {token}
    finally:
        api.stop()
