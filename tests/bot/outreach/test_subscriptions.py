"""Subscriptions on both databases: opt-in only, one row per person and kind, "退订"
ends everything at once; the replies say what was done and how to stop."""

from __future__ import annotations

from sqlalchemy import select

from bot.outreach.chat import CROP_OPTION, answer, crop_from_option
from bot.outreach.commands import DIGEST, FARM, FRAUD, Command
from bot.outreach.subscriptions import Subscription, subscribe, subscriptions, unsubscribe
from bot.storage.models import OutreachRecipient
from tests.bot.storage_backends import schema_differences

OUTREACH_TABLES = {
    "outreach_recipients",
    "outreach_subscriptions",
    "outreach_alerts",
    "outreach_deliveries",
}


async def test_the_migration_matches_the_models(migrated_db) -> None:
    assert await schema_differences(migrated_db, OUTREACH_TABLES) == []


async def test_subscribe_list_and_unsubscribe_one(migrated_db) -> None:
    db = migrated_db
    assert await subscribe(db, "wechat", "o-1", FRAUD)
    assert not await subscribe(db, "wechat", "o-1", FRAUD)  # twice is once
    assert await subscribe(db, "wechat", "o-1", FARM, "水稻")
    assert await subscribe(db, "wechat", "o-1", FARM, "柑橘")
    assert await subscriptions(db, "wechat", "o-1") == [
        Subscription(FRAUD),
        Subscription(FARM, "水稻"),
        Subscription(FARM, "柑橘"),
    ]
    assert await subscriptions(db, "wecom", "o-1") == []  # another channel's user
    assert await unsubscribe(db, "wechat", "o-1", FARM, "水稻") == [Subscription(FARM, "水稻")]
    assert await unsubscribe(db, "wechat", "o-1", DIGEST) == []
    assert await subscriptions(db, "wechat", "o-1") == [
        Subscription(FRAUD),
        Subscription(FARM, "柑橘"),
    ]


async def test_replies_say_what_was_done_and_how_to_stop(migrated_db) -> None:
    db = migrated_db
    ask = await answer(db, "wechat", "o-9", Command("subscribe", FARM))
    assert "回复数字" in ask.text and "1 水稻" in ask.text and "2 柚子/柑橘" in ask.text
    assert ask.options[0] == CROP_OPTION + "水稻"
    assert crop_from_option(ask.options[1]) == "柑橘"
    assert await subscriptions(db, "wechat", "o-9") == []  # nothing until a crop is chosen

    done = await answer(db, "wechat", "o-9", Command("subscribe", FARM, "柑橘"))
    assert "已为您订阅农事提醒（柚子/柑橘）" in done.text
    assert "退订" in done.text and "每周最多一条" in done.text
    twice = await answer(db, "wechat", "o-9", Command("subscribe", FARM, "柑橘"))
    assert "已经订阅" in twice.text

    web = await answer(db, "webchat", "w-1", Command("subscribe", FRAUD))
    assert "下次来这里说话时" in web.text and "退订" in web.text

    listed = await answer(db, "wechat", "o-9", Command("list"))
    assert "农事提醒（柚子/柑橘）" in listed.text and "退订" in listed.text
    nothing = await answer(db, "wechat", "o-new", Command("list"))
    assert "还没有订阅" in nothing.text and "不会主动给您发消息" in nothing.text

    one = await answer(db, "wechat", "o-9", Command("unsubscribe", FARM, "柑橘"))
    assert "已为您退订" in one.text and "柚子/柑橘" in one.text


async def test_one_message_ends_every_subscription_and_forgets_the_user(migrated_db) -> None:
    db = migrated_db
    await subscribe(db, "wechat", "o-1", FRAUD)
    await subscribe(db, "wechat", "o-1", DIGEST)
    reply = await answer(db, "wechat", "o-1", Command("unsubscribe"))
    assert "已为您退订" in reply.text and "防骗提醒" in reply.text and "每月流言榜" in reply.text
    assert await subscriptions(db, "wechat", "o-1") == []
    async with db.session() as session:
        kept = (await session.execute(select(OutreachRecipient.recipient))).scalars().all()
    assert "o-1" not in kept
    again = await answer(db, "wechat", "o-1", Command("unsubscribe"))
    assert "没有订阅任何提醒" in again.text
