"""Finding 5, the queue: invented senders do not make a crowd (SQLite and PostgreSQL).

The attack run's flood: a fabricated claim with harm words, sent by 40 "reporters"
in a few seconds, each a web chat request without a cookie (so a new sender), from
two addresses, through the REST channel exactly as the web chat relays it. Three
WeChat users (openids, signed by the platform) report a real claim. The moderators'
queue must put the real claim first, and count the flood as one reporter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sqlalchemy import func, select, update

from bot.accounts.access import Actor
from bot.accounts.users import add_user
from bot.channels.rest import KepuRestInput
from bot.rumors import console, reporters, triage
from bot.rumors.reports import ReportQueue
from bot.settings import RELAY_CLIENT_HEADER, RELAY_SECRET_HEADER, Settings, relay_secret
from bot.storage.db import Database
from bot.storage.models import ChannelReceipt, RumorClaim, RumorReport
from tests.bot.channels.assistant import rasa_server
from tests.bot.storage_backends import database_url  # noqa: F401  (fixture)

FABRICATED = "紧急通知：镇上发的疫苗有毒，打了会中毒得癌症，赶紧转发给家里老人"
GENUINE = "听说村口井水被污染了，喝了会生病，大家别喝"
GENUINE_AGAIN = "村口的井水被污染了，喝了要生病，千万别喝"
OTHER = "听说下个月起养老金要停发，赶紧去领补贴"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:  # noqa: F811
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.close()


@dataclass
class ReportingAssistant:
    """Stands in for Rasa and the report form: every message is filed as a report."""

    queue: ReportQueue
    received: list[UserMessage] = field(default_factory=list)

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        receipt = await self.queue.submit(
            message.text, sender_id=message.sender_id, channel=message.input_channel or "rest"
        )
        await message.output_channel.send_response(
            message.sender_id, {"text": f"已收到，编号 {receipt.public_id}"}
        )


async def genuine_wechat_reports(queue: ReportQueue, users: int = 3) -> int:
    claim_id = 0
    for i in range(users):
        text = GENUINE if i % 2 == 0 else GENUINE_AGAIN
        claim_id = (await queue.submit(text, sender_id=f"oGenuine{i}", channel="wechat")).claim_id
    return claim_id


async def test_a_cookieless_flood_does_not_reach_the_top_of_the_queue(
    db: Database, tmp_path: Path
) -> None:
    queue = ReportQueue(db)
    genuine = await genuine_wechat_reports(queue)
    settings = Settings(var_dir=tmp_path / "var", database_url=db.url, chat_rate_per_client=600)
    channel = KepuRestInput(max_chars=1000, settings=settings)
    assistant = ReportingAssistant(queue)
    relay = relay_secret(settings)
    async with rasa_server(channel, assistant) as url, aiohttp.ClientSession() as http:

        async def cookieless(i: int) -> int:
            body = {
                "sender": f"web-{secrets.token_hex(16)}",  # what the web chat makes per request
                "message": f"{FABRICATED}！" if i % 2 else FABRICATED,
                "input_channel": "webchat",
            }
            headers = {RELAY_SECRET_HEADER: relay, RELAY_CLIENT_HEADER: f"203.0.113.{i % 2}"}
            async with http.post(url, json=body, headers=headers) as resp:
                return resp.status

        started = asyncio.get_running_loop().time()
        statuses = [await cookieless(i) for i in range(40)]
        assert asyncio.get_running_loop().time() - started < 30
    assert statuses == [200] * 40 and len(assistant.received) == 40

    page = await console.list_claims(db)
    by_id = {c.id: c for c in page.items}
    fabricated = next(c for c in page.items if c.id != genuine)
    assert fabricated.reports == 40 and fabricated.harm == "health"
    assert fabricated.reporters == 1  # forty invented senders, one reporter
    assert by_id[genuine].reporters == 3 and by_id[genuine].harm == "health"
    assert page.items[0].id == genuine
    assert by_id[genuine].priority > fabricated.priority


async def test_fresh_senders_on_other_addresses_still_count_once_a_window(db: Database) -> None:
    queue = ReportQueue(db)
    sightings = reporters.Sightings(lambda: db)
    claim_id = 0
    for i in range(12):  # twelve addresses, twelve invented senders
        sender = f"web-fresh{i}"
        await sightings.saw(sender, f"198.51.100.{i}")
        claim_id = (await queue.submit(FABRICATED, sender_id=sender, channel="webchat")).claim_id
    claim = (await console.claim_detail(db, claim_id)).claim
    assert (claim.reports, claim.reporters) == (12, 1)
    # A verified WeChat user counts fully next to them.
    await queue.submit(FABRICATED, sender_id="oWeChatUser", channel="wechat")
    assert (await console.claim_detail(db, claim_id)).claim.reporters == 2


async def test_senders_with_a_history_count_but_one_address_counts_once(db: Database) -> None:
    queue = ReportQueue(db)
    now = dt.datetime.now(dt.timezone.utc).timestamp()
    yesterday = reporters.Sightings(lambda: db, clock=lambda: now - 86_400)
    today = reporters.Sightings(lambda: db)
    senders = [f"web-regular{i}" for i in range(6)]
    for sender in senders:  # each talked to the assistant yesterday, from home
        await yesterday.saw(sender, None)
    addresses = ["203.0.113.50"] * 3 + ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    claim_id = 0
    for sender, address in zip(senders, addresses, strict=True):
        await today.saw(sender, address)
        claim_id = (await queue.submit(OTHER, sender_id=sender, channel="webchat")).claim_id
    claim = (await console.claim_detail(db, claim_id)).claim
    assert (claim.reports, claim.reporters) == (6, 4)  # the three from one address count once


async def test_an_earlier_report_the_moderators_took_on_is_a_history(db: Database) -> None:
    queue = ReportQueue(db)
    taken = await queue.submit(GENUINE, sender_id="web-helpful", channel="webchat")
    ignored = await queue.submit(OTHER, sender_id="web-unknown", channel="webchat")
    async with db.session() as session:
        two_days_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
        await session.execute(update(RumorReport).values(created_at=two_days_ago))
        await session.execute(
            update(RumorClaim).where(RumorClaim.id == taken.claim_id).values(status="verifying")
        )
    first = await queue.submit(FABRICATED, sender_id="web-somebody", channel="webchat")
    await queue.submit(FABRICATED, sender_id="web-unknown", channel="webchat")  # pending only
    await queue.submit(FABRICATED, sender_id="web-helpful", channel="webchat")
    claim = (await console.claim_detail(db, first.claim_id)).claim
    assert ignored.claim_id != first.claim_id
    # web-somebody: the window's fresh reporter; web-unknown: fresh again, not counted;
    # web-helpful: reported a claim taken on, two days ago.
    assert (claim.reports, claim.reporters) == (3, 2)


async def test_a_merge_recounts_without_inflating_the_flood(db: Database) -> None:
    queue = ReportQueue(db)
    genuine = await genuine_wechat_reports(queue)
    flood = 0
    for i in range(15):
        flood = (await queue.submit(FABRICATED, sender_id=f"web-x{i}", channel="webchat")).claim_id
    await add_user(db, "mod", "moderator")
    merged = await triage.merge(db, Actor(1, "mod", "moderator"), flood, genuine)
    assert merged.reports == 18
    assert merged.reporters == 3 + 1  # three WeChat users, the flood once


async def test_the_traces_are_digests_that_expire(db: Database) -> None:
    long_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=40)
    async with db.session() as session:
        session.add(ChannelReceipt(key="0" * 64, expires_at=long_ago))
    sightings = reporters.Sightings(lambda: db)
    await sightings.saw("web-someone", "203.0.113.9")
    await sightings.saw("web-another", "203.0.113.9")
    async with db.session() as session:
        rows = (await session.execute(select(ChannelReceipt.key))).scalars().all()
        now = dt.datetime.now(dt.timezone.utc)
        expired = (
            await session.execute(select(func.count()).where(ChannelReceipt.expires_at < now))
        ).scalar_one()
    assert "0" * 64 not in rows and expired == 0  # expired keys are deleted
    assert len(rows) == 3  # two sender-days, one pair
    assert all(len(key) == 64 and "203.0.113.9" not in key for key in rows)
