"""Fixtures of the channel tests: the simulated platform API, a migrated database,
and channels built from credentials the way ``rasa run`` builds them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bench.wechat_platform import Account, Simulator
from bot.channels.wechat.channel import WeChatInput, WeComInput
from bot.storage.db import Database
from bot.wechat.api import RetryPolicy

# The account of WeChat's published WXBizMsgCrypt sample (token, AppID, EncodingAESKey).
WECHAT = Account(
    token="QDG6eK",
    receive_id="wx5823bf96d3bd56c7",
    aes_key="jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
)
WECHAT_PLAIN = Account(token="plain-token", receive_id="wx5823bf96d3bd56c7", aes_key=None)
WECOM = Account(
    token="QDG6eK",
    receive_id="ww1436e0e65a779aee",
    aes_key="jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    wecom=True,
)
WECOM_AGENT_ID = 1000002
# seconds; short, so the suite stays fast, with room for a loaded CI machine (0.6 s
# was too little for a first passive reply with a whole stack running beside the suite)
BUDGET = 1.5
FAST_RETRY = RetryPolicy(attempts=3, first_delay=0.05, timeout=2.0)


@pytest.fixture
async def simulator(aiohttp_server) -> AsyncIterator[tuple[Simulator, str]]:
    sim = Simulator()
    server = await aiohttp_server(sim.app())
    yield sim, str(server.make_url("")).rstrip("/")


@pytest.fixture
async def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kepu.db'}"
    await migrate(url)
    monkeypatch.setenv("KEPU_DATABASE_URL", url)
    return url


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def migrate(url: str) -> None:
    db = Database(url)
    try:
        await db.migrate()
    finally:
        await db.close()


def wechat_channel(api_base: str, mode: str = "safe", **extra: object) -> WeChatInput:
    account = WECHAT if mode != "plain" else WECHAT_PLAIN
    credentials = {
        "token": account.token,
        "appid": account.receive_id,
        "appsecret": "the-app-secret",
        "mode": mode,
        "api_base": api_base,
        "reply_budget": BUDGET,
        **extra,
    }
    if account.aes_key:
        credentials["encoding_aes_key"] = account.aes_key
    channel = WeChatInput.from_credentials(credentials)
    channel.api.retry = FAST_RETRY
    return channel


def wecom_channel(api_base: str) -> WeComInput:
    channel = WeComInput.from_credentials(
        {
            "corp_id": WECOM.receive_id,
            "agent_id": WECOM_AGENT_ID,
            "secret": "the-corp-secret",
            "token": WECOM.token,
            "encoding_aes_key": WECOM.aes_key,
            "api_base": api_base,
            "reply_budget": BUDGET,
        }
    )
    channel.api.retry = FAST_RETRY
    return channel
