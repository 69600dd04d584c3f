"""提醒 in headless Chromium, on a desktop and on a 360 px phone: an expert composes and
previews an alert, another admin approves and schedules it, the web service readies
it, and the figures and the month's 流言榜 read on both screens."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.accounts.access import Actor
from bot.accounts.users import add_user
from bot.outreach import alerts
from bot.storage.db import Database
from tests.bot.outreach.support import subscribers
from tests.bot.outreach.test_digest import publish_claims, this_month
from tests.bot.web.console_support import Served, serve_console
from tests.conftest import CHROMIUM, launch_chromium, service_absent

pytestmark = pytest.mark.browser
ALERT_PAGE = re.compile(r".*/console/alerts/\d+$")
TEXT = "最近有人冒充快递客服说要理赔，叫您开屏幕共享，千万别开。<b>别点</b>"


async def _seed(db: Database) -> dict[str, Any]:
    people, passwords = {}, {}
    for i, (name, role) in enumerate(
        (("mod", "moderator"), ("expert", "expert"), ("admin", "admin")), start=1
    ):
        passwords[name] = await add_user(db, name, role)
        people[role] = Actor(i, name, role)
    await subscribers(db, "webchat", ["w-1", "w-2", "w-3"])
    await publish_claims(db, people)
    return {"passwords": passwords}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serve_console(tmp_path, _seed) as running:
        yield running


def sign_in(page: Any, served: Served, name: str) -> None:
    page.goto(served.url + "/console/login")
    page.fill("#name", name)
    page.fill("#password", served.seeded["passwords"][name])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/console/**")


def fits(page: Any, width: int) -> None:
    """Large print, nothing wider than the screen, every button a finger wide."""
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    small = page.evaluate(
        "[...document.querySelectorAll('main button, main a.button, main input, main select')]"
        ".filter(e => e.type !== 'hidden' && e.type !== 'checkbox')"
        ".filter(e => e.getBoundingClientRect().height < 44).map(e => e.outerHTML)"
    )
    assert small == []


@pytest.mark.parametrize("width, height", [(1366, 768), (360, 740)])
def test_compose_approve_and_follow_an_alert(served: Served, width: int, height: int) -> None:
    if CHROMIUM is None:
        service_absent("Debian's chromium is missing (scripts/install-browser.sh installs it)")
    from playwright.sync_api import sync_playwright

    shots = Path("var") / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": width, "height": height})
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else 0)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

        sign_in(page, served, "expert")
        page.get_by_role("link", name="提醒", exact=True).click()
        page.locator("h1", has_text="提醒").wait_for()
        page.get_by_role("link", name="起草提醒").click()
        page.locator("#a-text").fill(TEXT)
        fits(page, width)
        page.get_by_role("button", name="预览").click()
        page.locator("#preview-h", has_text="还没保存").wait_for()
        # What each channel delivers, markup shown as text.
        custom = page.locator("#preview-custom").inner_text()
        assert custom.startswith("【防骗提醒】最近有人冒充") and "<b>别点</b>" in custom
        assert page.locator("#preview-custom b").count() == 0
        assert "退订" in page.locator("#preview-webchat").inner_text()
        assert "没有配置模板消息" in page.locator("#preview-template").inner_text()
        assert page.locator("#preview-wecom").inner_text() == custom
        fits(page, width)
        page.screenshot(path=str(shots / f"alert-preview-{width}.png"), full_page=True)
        page.get_by_role("button", name="保存草稿").click()
        page.wait_for_url(ALERT_PAGE)
        alert_url = page.url
        page.locator("#alert-status", has_text="草稿").wait_for()
        assert page.get_by_role("button", name="审核通过").count() == 0
        page.get_by_role("button", name="退出登录").click()

        sign_in(page, served, "admin")
        page.goto(alert_url)
        page.get_by_role("button", name="审核通过").click()
        page.locator("#alert-status", has_text="已审核").wait_for()
        fits(page, width)
        page.get_by_role("button", name="排期发送").click()  # empty: now
        # Scheduled, and the woken broadcaster may already be at it.
        page.locator("#alert-status", has_text=re.compile("已排期|发送中|已发出")).wait_for()
        alert_id = int(alert_url.rsplit("/", 1)[1])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # the web service's broadcaster, woken
            if served.run(alerts.figures(served.db, alert_id)).planned == 3:
                break
            time.sleep(0.1)
        page.reload()
        page.locator("#figures-h").wait_for()
        assert "3 人" in page.locator(".figures").inner_text()
        fits(page, width)
        page.screenshot(path=str(shots / f"alert-{width}.png"), full_page=True)
        page.get_by_role("link", name="所有提醒的送达情况").click()
        page.locator("#alert-figures").wait_for()
        assert page.locator("#alert-figures tbody tr").count() == 1
        fits(page, width)

        page.goto(served.url + f"/console/alerts/digest?month={this_month():%Y-%m}")
        page.locator("#digest-items").wait_for()
        assert page.locator("#digest-items tbody tr").count() == 3
        assert page.locator("#digest-text").inner_text().startswith(f"{this_month().month}月")
        fits(page, width)
        page.get_by_role("button", name="起草这个月的流言榜").click()
        page.wait_for_url(ALERT_PAGE)
        assert "每月流言榜" in page.locator(".facts").inner_text()
        assert "1. 喝醋能软化血管：谣言。" in page.locator("#preview-custom").inner_text()
        fits(page, width)
        page.screenshot(path=str(shots / f"digest-{width}.png"), full_page=True)
        assert blocked == [] and dialogs == []
        browser.close()
