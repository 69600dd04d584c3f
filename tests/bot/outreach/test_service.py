"""The broadcaster as the web service runs it: routes from the settings, a loop that
works through what is due and stops cleanly."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import stat
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.outreach.calendar import load_calendar
from bot.outreach.engine import WeChatRoute
from bot.outreach.owed import take_held
from bot.outreach.service import broadcaster_for, draft_seasonal, run, stop
from bot.settings import PROJECT_ROOT, Settings, SettingsError
from bot.storage.models import OutreachAlert, utcnow
from bot.web.pushing import platform_pushers
from tests.bot.channels.test_verdict_push import wechat_settings
from tests.bot.outreach.support import MORNING, scheduled_alert, subscribers


def settings(tmp_path, **values) -> Settings:
    return dataclasses.replace(wechat_settings(tmp_path, "https://api.weixin.qq.com"), **values)


def test_routes_and_template_come_from_the_settings(tmp_path, migrated_db) -> None:
    configured = settings(
        tmp_path,
        wechat_alert_template_id="TPL-1",
        wechat_alert_template_fields="thing1=title;thing2=text",
    )
    worker = broadcaster_for(configured, migrated_db, platform_pushers(configured, migrated_db))
    route = worker.routes["wechat"]
    assert isinstance(route, WeChatRoute) and route.template is not None
    assert route.template.fields == {"thing1": "title", "thing2": "text"}
    assert set(worker.routes) == {"wechat"}  # no WeCom configured: nothing routed there
    bare = settings(tmp_path)
    plain = broadcaster_for(bare, migrated_db, platform_pushers(bare, migrated_db))
    assert plain.routes["wechat"].template is None
    with pytest.raises(SettingsError):
        settings(tmp_path, wechat_alert_template_id="TPL-1")
    broken = settings(
        tmp_path, wechat_alert_template_id="TPL-1", wechat_alert_template_fields="thing1"
    )
    with pytest.raises(SettingsError):
        broadcaster_for(broken, migrated_db, platform_pushers(broken, migrated_db))


async def test_the_loop_sends_what_is_due_and_stops(tmp_path, migrated_db, monkeypatch) -> None:
    """It sends with its journal in <var>/outreach-journal/ (0600, the folder 0700),
    which a clean stop removes."""
    db = migrated_db
    # 柚子 防冻 and 冬季清园 are due on 6 December.
    monkeypatch.setattr("bot.outreach.service.utcnow", lambda: MORNING - timedelta(days=1))
    await subscribers(db, "webchat", ["w-1", "w-2"])
    await scheduled_alert(db, utcnow())
    worker = broadcaster_for(Settings(var_dir=tmp_path), db, {})
    worker.run = functools.partial(worker.run, every=0.05)  # type: ignore[method-assign]
    task = asyncio.create_task(run(worker, PROJECT_ROOT / "knowledge", calendar_after=0))
    try:
        for _ in range(200):
            held = await take_held(db, ("webchat",), "w-1")
            if held:
                break
            await asyncio.sleep(0.05)
        assert held and "【防骗提醒】" in held[0]
        journals = tmp_path / "outreach-journal"
        assert stat.S_IMODE(journals.stat().st_mode) == 0o700
        (journal,) = journals.glob("*.journal")
        assert stat.S_IMODE(journal.stat().st_mode) == 0o600
        # The folder's place id (in the worker's batch tokens), private too.
        assert sorted(p.name for p in journals.iterdir()) == sorted([journal.name, "place"])
        assert stat.S_IMODE((journals / "place").stat().st_mode) == 0o600
        for _ in range(400):  # the seasonal calendar is looked at too
            if await calendar_keys(db):
                break
            await asyncio.sleep(0.05)
    finally:
        await stop(worker, task)
    assert task.done() and not task.cancelled()
    assert await calendar_keys(db)
    assert [p.name for p in journals.iterdir()] == ["place"]  # kept: the host's id


async def calendar_keys(db) -> list[str]:
    async with db.session() as session:
        keys = (await session.execute(select(OutreachAlert.calendar_key))).scalars().all()
    return [key for key in keys if key]


async def test_a_broken_calendar_drafts_nothing(tmp_path, migrated_db, monkeypatch) -> None:
    bad = tmp_path / "calendar.yml"
    bad.write_text("reminders:\n  - id: x\n", encoding="utf-8")
    monkeypatch.setattr("bot.outreach.calendar.CALENDAR", bad)
    monkeypatch.setattr(load_calendar, "__defaults__", (bad,))
    assert await draft_seasonal(migrated_db, PROJECT_ROOT / "knowledge") == []


def test_quiet_hours_come_from_the_settings(tmp_path, migrated_db) -> None:
    late = MORNING.replace(hour=14)  # 22:00 in Liangping
    default = broadcaster_for(settings(tmp_path), migrated_db, {})
    assert default.policy.quiet(late) and not default.policy.quiet(MORNING)
    later = broadcaster_for(settings(tmp_path, outreach_quiet_hours="23-7"), migrated_db, {})
    assert not later.policy.quiet(late)
    never = broadcaster_for(settings(tmp_path, outreach_quiet_hours="none"), migrated_db, {})
    assert not never.policy.quiet(late) and not never.policy.quiet(MORNING)
    for wrong in ("8-8", "21:00-8:00", "25-3", ""):
        with pytest.raises(SettingsError, match="QUIET_HOURS"):
            settings(tmp_path, outreach_quiet_hours=wrong)


def test_the_broadcasters_share_of_the_cpu_comes_from_the_settings(tmp_path, migrated_db) -> None:
    assert broadcaster_for(settings(tmp_path), migrated_db, {}).policy.cpu_share == 0.05
    flat_out = broadcaster_for(settings(tmp_path, outreach_cpu_share=1.0), migrated_db, {})
    assert flat_out.policy.rest_after(0.5) == 0.0
    for wrong in (0.0, 1.5, -1.0):
        with pytest.raises(SettingsError, match="CPU_SHARE"):
            settings(tmp_path, outreach_cpu_share=wrong)
