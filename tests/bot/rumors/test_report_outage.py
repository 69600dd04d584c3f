"""The database goes down in the middle of a rumour report: never a receipt
without a stored report, and the same report sent again later is stored once."""

from __future__ import annotations

import re

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

import actions.services
from actions.report_rumor import NOT_SAVED, ActionReportRumor
from actions.services import Services
from bot.fraud.checker import default_checker
from bot.knowledge.service import KnowledgeService
from bot.rumors.reports import ReportQueue
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import RumorReport
from bot.understanding.decide import Understanding
from tests.bot.outage import TcpProxy

CLAIM = "听说七星村下个月要拆迁 每家赔十万"


def finished_form(message_id: str, claim_message_id: str) -> Tracker:
    """The tracker as it is when the report form has all it needs: the claim came in
    one message, "4" (where it was seen) in ``message_id``."""
    latest = {"text": "4", "message_id": message_id, "intent": {"name": "choose_option"}}
    return Tracker(
        sender_id="senior-1",
        slots={"rumor_claim": CLAIM, "rumor_where": "village", "rumor_match": None},
        latest_message=latest,
        events=[
            {"event": "user", "text": "举报谣言", "message_id": "wx-start"},
            {"event": "user", "text": CLAIM, "message_id": claim_message_id},
            {"event": "slot", "name": "rumor_claim", "value": CLAIM},
            {"event": "slot", "name": "requested_slot", "value": "rumor_where"},
            {"event": "user", "input_channel": "wechat", **latest},
        ],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="report_rumor_form",
    )


async def run_action(message_id: str, claim_message_id: str = "wx-claim-1") -> str:
    dispatcher = CollectingDispatcher()
    await ActionReportRumor().run(dispatcher, finished_form(message_id, claim_message_id), {})
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


@pytest.fixture
async def outage(postgres_url: str, tmp_path, monkeypatch):
    database_url = postgres_url
    await Database(database_url).migrate()
    host_port, name = database_url.split("@", 1)[1].split("/", 1)
    host, port = host_port.split(":")
    proxy = TcpProxy(host, int(port))
    await proxy.up()
    db = Database(database_url.replace(host_port, f"127.0.0.1:{proxy.port}"))
    knowledge = KnowledgeService(tmp_path / "empty-kb", None, db)
    checker = default_checker()
    services = Services(
        Settings(), db, knowledge, checker, ReportQueue(db), Understanding(knowledge, checker)
    )
    monkeypatch.setattr(actions.services, "_services", services)
    yield proxy, Database(database_url)
    await proxy.down()
    await db.close()


async def stored(direct: Database) -> int:
    async with direct.session() as session:
        return (await session.execute(select(func.count(RumorReport.id)))).scalar_one()


async def test_no_receipt_while_the_database_is_down_then_stored_once(outage) -> None:
    proxy, direct = outage
    await proxy.down()
    reply = await run_action("wx-1001")
    assert reply == NOT_SAVED and "R-" not in reply
    assert await stored(direct) == 0

    await proxy.up()  # back: WeChat's retry, then the user sending "4" again
    first = await run_action("wx-1001")
    again = await run_action("wx-1002")
    assert re.search(r"已收到，编号 R-[A-Z2-7]{8}", first), first
    assert first.split("\n")[0] == again.split("\n")[0]  # the same receipt number
    assert await stored(direct) == 1
    await direct.close()


async def test_the_database_dropping_connections_mid_conversation(outage) -> None:
    proxy, direct = outage
    assert "已收到" in await run_action("wx-2001", "wx-claim-1")  # the pool holds a connection
    await proxy.down()  # the server goes away under the pooled connection
    assert await run_action("wx-2002", "wx-claim-2") == NOT_SAVED
    await proxy.up()
    assert "已收到" in await run_action("wx-2003", "wx-claim-2")
    assert await stored(direct) == 2
    await direct.close()
