"""A service order's whole path in headless Chromium (issue 20): the dispatcher on a
desktop reviews and dispatches it, the volunteer on a 360×740 phone accepts,
starts and completes it with the resident's 上门核验码, and the resident's low
rating reaches the dispatcher's queue page. The order itself is placed as the
chat form places it (``place_order``); the chat side has its conversation tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.orders.service import place_order, rate
from bot.storage.db import Database
from bot.storage.models import ServiceOrder
from tests.bot.orders.support import register_wang
from tests.bot.web.console_support import Served
from tests.bot.web.test_console_browser import served  # noqa: F401  (fixture)
from tests.conftest import CHROMIUM, launch_chromium, service_absent

pytestmark = pytest.mark.browser
PHONE = "13812345678"


async def _order(db: Database) -> str:
    receipt = await place_order(
        db,
        sender_id="resident",
        channel="wechat",
        service="phone_help",
        town="礼让镇",
        village="川西村",
        convenient_time="明天下午",
        phone=PHONE,
        key="browser-1",
    )
    return receipt.public_id


async def _code(db: Database, public_id: str) -> str:
    async with db.session() as session:
        query = select(ServiceOrder.verify_code).where(ServiceOrder.public_id == public_id)
        return (await session.execute(query)).scalar_one()


def _sign_in(page: Any, url: str, name: str, password: str) -> None:
    page.goto(url + "/console/orders")
    page.fill("#name", name)
    page.fill("#password", password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.locator("h1").wait_for()


def test_an_order_from_dispatch_to_rating(served: Served, tmp_path: Path) -> None:  # noqa: F811
    if CHROMIUM is None:
        service_absent("Debian's chromium is missing (scripts/install-browser.sh installs it)")
    from playwright.sync_api import sync_playwright

    wang_password = served.run(register_wang(served.db))
    pid = served.run(_order(served.db))
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        desk = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
        _sign_in(desk, served.url, "admin", served.seeded["password"])
        desk.click(f"a[href='/console/orders/{pid}']")
        desk.get_by_role("button", name="审核通过，进入待派单").click()
        desk.get_by_role("button", name="派给 王小红").click()  # the suggested volunteer
        desk.locator(".notice", has_text="已派单").wait_for()
        assert PHONE not in desk.content()  # only the volunteer who accepts sees it

        phone = browser.new_context(
            viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
        ).new_page()
        _sign_in(phone, served.url, "wang", wang_password)
        phone.click(f"a[href='/console/orders/{pid}']")
        accept = phone.get_by_role("button", name="接单", exact=True)
        box = accept.bounding_box()
        assert box is not None and box["height"] >= 48
        accept.click()
        phone.locator(".notice", has_text="已接单").wait_for()
        assert PHONE in phone.content()  # now she can call the resident
        code = served.run(_code(served.db, pid))  # the resident was told it in chat
        phone.get_by_role("button", name="开始服务").click()
        phone.fill("#verify-code", f"{(int(code) + 1) % 10000:04d}")
        phone.get_by_role("button", name="完成服务").click()
        phone.locator(".error", has_text="核验码不对").wait_for()  # hours are not padded
        phone.fill("#verify-code", code)
        phone.get_by_role("button", name="完成服务").click()
        phone.locator(".notice", has_text="服务已完成").wait_for()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, width
        phone.screenshot(path=str(tmp_path / "order-volunteer.png"), full_page=True)

        served.run(rate(served.db, "resident", pid, 2, "来得太晚了"))
        desk.goto(served.url + "/console/orders")
        low = desk.locator("h2", has_text="低分评价")
        low.wait_for()
        assert pid in desk.content() and "来得太晚了" in desk.content()
        desk.goto(f"{served.url}/console/orders/{pid}")
        trail = desk.locator("section", has_text="处理记录").inner_text()
        for step in ("审核通过", "派单", "接单", "开始服务", "完成服务"):
            assert step in trail, trail
        browser.close()
