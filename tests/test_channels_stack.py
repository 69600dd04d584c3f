"""Conversations through every channel of the running service, with the real
trained assistant and action server behind them: REST, WeChat in safe mode
(signed, AES-encrypted) and WeCom. Each asks a question, has a pasted scam
checked and reports a rumour; the stored report is read back.

The platforms' message API is the simulator of ``bench.wechat_platform``,
served from a thread of this process; callbacks are signed and encrypted by
that module's independent implementation.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.ports import free_port
from bench.wechat_platform import PlatformClient, Simulator, SimulatorThread, message_xml
from tests.bot.channels.conftest import WECHAT, WECOM, WECOM_AGENT_ID
from tests.conftest import SHARED_CACHE
from tests.test_stack import _post, _ready, start_stack, wait_for_stack

pytestmark = pytest.mark.stack

QUESTION = "微信上的红包咋个收"
SCAM = (
    "【公安局】您的银行账户涉嫌洗钱，已被冻结。请立即将资金转入安全账户配合调查，"
    "否则将依法逮捕，联系电话 17012345678"
)
CLAIM = "听说村里的井水喝了会得癌症，是张大爷打13812345678告诉我的"


@pytest.fixture(scope="module")
def channels(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    var = tmp_path_factory.mktemp("channels-var")
    api = SimulatorThread()
    api.start()
    ports = {k: free_port() for k in ("KEPU_RASA_PORT", "KEPU_ACTIONS_PORT", "KEPU_WEB_PORT")}
    env = {
        **os.environ,
        "KEPU_VAR_DIR": str(var),
        "KEPU_CACHE_DIR": str(SHARED_CACHE),
        **{k: str(v) for k, v in ports.items()},
        "KEPU_WECHAT_TOKEN": WECHAT.token,
        "KEPU_WECHAT_APPID": WECHAT.receive_id,
        "KEPU_WECHAT_APPSECRET": "the-app-secret",
        "KEPU_WECHAT_AES_KEY": WECHAT.aes_key or "",
        "KEPU_WECHAT_MODE": "safe",
        "KEPU_WECHAT_API_BASE": api.base,
        "KEPU_WECOM_CORP_ID": WECOM.receive_id,
        "KEPU_WECOM_AGENT_ID": str(WECOM_AGENT_ID),
        "KEPU_WECOM_SECRET": "the-corp-secret",
        "KEPU_WECOM_TOKEN": WECOM.token,
        "KEPU_WECOM_AES_KEY": WECOM.aes_key or "",
        "KEPU_WECOM_API_BASE": api.base,
    }
    proc, log = start_stack(model_path, env, var)
    rasa = f"http://127.0.0.1:{ports['KEPU_RASA_PORT']}"
    try:
        wait_for_stack(
            proc, var, lambda: _ready(f"http://127.0.0.1:{ports['KEPU_WEB_PORT']}/readyz")
        )
        yield {"rasa": rasa, "var": var, "api": api.simulator}
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
        log.close()
        api.stop()


def _say_platform(channels: dict, account: Any, user: str, text: str, msg_id: int) -> str:
    """One message as the platform sends it; the passive reply plus what was pushed."""
    name = "wecom" if account.wecom else "wechat"
    to = account.receive_id if account.wecom else "gh_test"
    fields: dict[str, Any] = {"Content": text, "MsgId": msg_id}
    if account.wecom:
        fields["AgentID"] = WECOM_AGENT_ID
    api: Simulator = channels["api"]
    pushed_before = len(api.texts_to(user))

    async def post() -> dict[str, str]:
        async with aiohttp.ClientSession() as session:
            client = PlatformClient(f"{channels['rasa']}/webhooks/{name}/webhook", account, session)
            reply = await client.post(message_xml(to, user, "text", **fields))
            assert reply.status == 200, reply.text
            return client.open_reply(reply) if reply.body not in (b"", b"success") else {}

    passive = asyncio.run(post()).get("Content", "")
    # Replies that missed the passive window go out through the message API.
    deadline = time.monotonic() + 20
    while not passive and len(api.texts_to(user)) == pushed_before:
        assert time.monotonic() < deadline, f"no reply to {text!r} on {name}"
        time.sleep(0.1)
    time.sleep(0.3)
    return "\n".join([passive, *api.texts_to(user)[pushed_before:]])


def _say_rest(channels: dict, user: str, text: str, msg_id: int) -> str:
    status, replies = _post(
        f"{channels['rasa']}/webhooks/rest/webhook", {"sender": user, "message": text}
    )
    assert status == 200
    return "\n".join(m.get("text") or "" for m in replies)


def _stored_reports(var: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(var / "kepu.db") as db:
        return [
            (text, channel)
            for text, channel in db.execute("SELECT text, channel FROM rumor_reports")
        ]


def _analytics_events(var: Path, user: str, expected: int) -> list[tuple]:
    """The user's analytics events once ``expected`` have been written (2 s batches)."""
    from bot.storage.db import sender_hash

    deadline = time.monotonic() + 20
    while True:
        with sqlite3.connect(var / "kepu.db") as db:
            rows = db.execute(
                "SELECT channel, move, decision, entry_id, fraud_risk, report_id"
                " FROM analytics_events WHERE user_hash = ? ORDER BY at, id",
                (sender_hash(user),),
            ).fetchall()
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)


@pytest.mark.parametrize("channel", ["rest", "wechat", "wecom"])
def test_a_whole_conversation_through_the_channel(channels, channel: str) -> None:
    user = f"{channel}-{uuid.uuid4().hex[:10]}"
    ids = iter(range(int(time.time() * 1000), 10**15))

    def say(text: str) -> str:
        if channel == "rest":
            return _say_rest(channels, user, text, next(ids))
        account = WECOM if channel == "wecom" else WECHAT
        return _say_platform(channels, account, user, text, next(ids))

    answer = say(QUESTION)
    assert "红包" in answer and "1." in answer, answer  # the entry's numbered steps
    # One screen: the lead, the steps, a one-line source; the rest on request.
    assert "回复“多讲一点”" in answer and "24小时不领" not in answer, answer
    more = say("多讲一点")
    assert "24小时不领" in more and "审核：" in more, more

    verdict = say(SCAM)
    assert "高风险" in verdict and "96110" in verdict, verdict

    assert "说法" in say("举报谣言")
    assert "在哪里" in say(CLAIM)
    filed = say("微信群")
    assert "R-" in filed, filed

    reports = [r for r in _stored_reports(channels["var"]) if "井水" in r[0]]
    mine = [r for r in reports if r[1].startswith(channel if channel != "rest" else "rest")]
    assert len(mine) == 1, reports
    text, _ = mine[0]
    assert "13812345678" not in text and "[手机号]" in text

    # Every turn became one analytics event (written in batches, in the
    # background): no text, the sender hashed, what each turn was.
    events = _analytics_events(channels["var"], user, expected=6)
    assert [e[0] for e in events] == [channel] * 6, events
    moves = [(e[1], e[2]) for e in events]
    assert moves[0][1] == "answer" and moves[2] == ("free_text", "fraud_verdict"), moves
    assert tuple({e[4] for e in events if e[4]}) == ("high",), events
    assert any(e[5] and e[5].startswith("R-") for e in events), events
