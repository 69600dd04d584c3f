"""Published verdicts are pushed to WeChat reporters at once; refusals wait in the outbox."""

from __future__ import annotations

from sqlalchemy import update

from bot.rumors.reports import ReportQueue
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import ReportDelivery, RumorClaim
from bot.web.pushing import VerdictPushes, platform_pushers
from bot.wechat.outbox import Outbox


async def publish_all(db: Database) -> None:
    """What the console's publish does to the claims and their deliveries."""
    async with db.session() as session:
        await session.execute(
            update(RumorClaim).values(
                status="concluded", verdict="rumor", explanation="醋不能软化血管。"
            )
        )
        await session.execute(update(ReportDelivery).values(status="due"))


def wechat_settings(tmp_path, api_base: str) -> Settings:
    return Settings(
        var_dir=tmp_path,
        wechat_token="t0ken",
        wechat_appid="wx0000000000000001",
        wechat_appsecret="secret",
        wechat_mode="plain",
        wechat_api_base=api_base,
    )


async def test_a_published_verdict_reaches_wechat_reporters_now(
    tmp_path, simulator, sqlite_url
) -> None:
    sim, base = simulator
    db = Database(sqlite_url)
    queue = ReportQueue(db)
    await queue.submit("群里说喝醋能软化血管", sender_id="openid-1", channel="wechat")
    await queue.submit("喝醋能软化血管吗", sender_id="web-abc", channel="webchat")
    await publish_all(db)
    pushes = VerdictPushes(db, platform_pushers(wechat_settings(tmp_path, base), db))
    try:
        assert await pushes.push_once() == 1
        assert "【谣言】" in sim.texts_to("openid-1")[0]
        assert sim.texts_to("web-abc") == []  # the web chat hears it at its next message
        assert await pushes.push_once() == 0  # nothing is pushed twice
    finally:
        await pushes.close()
        await db.close()


async def test_a_refused_push_waits_for_the_next_message(tmp_path, simulator, sqlite_url) -> None:
    sim, base = simulator
    sim.scripted = [45015]  # outside the 48-hour window
    db = Database(sqlite_url)
    await ReportQueue(db).submit("听说明天要停水", sender_id="openid-2", channel="wechat")
    await publish_all(db)
    pushes = VerdictPushes(db, platform_pushers(wechat_settings(tmp_path, base), db))
    try:
        assert await pushes.push_once() == 0
        waiting = await Outbox(db, "wechat").take("openid-2")
        assert len(waiting) == 1 and "【谣言】" in waiting[0]
    finally:
        await pushes.close()
        await db.close()
