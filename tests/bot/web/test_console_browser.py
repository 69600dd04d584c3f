"""The console in headless Chromium: sign in, open the queue and a claim, conclude it.

The app from the factory serves on a free loopback port from a thread of its
own (its own event loop), so that Playwright's sync API can drive the browser
from the test's thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.accounts.users import add_user
from bot.rumors.reports import ReportQueue
from bot.storage.db import Database
from bot.storage.models import ReportDelivery
from tests.bot.web.console_support import XSS_IMG, XSS_SCRIPT, Served, serve_console
from tests.conftest import CHROMIUM, launch_chromium, service_absent

pytestmark = pytest.mark.browser


async def _seed(db: Database) -> dict[str, Any]:
    password = await add_user(db, "admin", "admin")
    queue = ReportQueue(db)
    receipt = await queue.submit(
        "群里说喝醋能软化血管，大家每天喝一碗", sender_id="u1", channel="wechat"
    )
    for sender, text in (("u2", XSS_SCRIPT), ("u3", XSS_IMG)):
        again = await queue.submit(text, sender_id=sender, channel="web")
        assert again.claim_id == receipt.claim_id, "markup reports should join the claim"
    return {"password": password, "claim_id": receipt.claim_id}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serve_console(tmp_path, _seed) as running:
        yield running


async def _delivery_statuses(db: Database) -> list[str]:
    async with db.session() as session:
        return list((await session.execute(select(ReportDelivery.status))).scalars())


def test_an_admin_concludes_a_claim_in_the_browser(served: Served, tmp_path: Path) -> None:
    if CHROMIUM is None:
        service_absent("Debian's chromium is missing (scripts/install-browser.sh installs it)")
    from playwright.sync_api import sync_playwright

    claim_id = served.seeded["claim_id"]
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

        page.goto(served.url + "/console/")
        assert page.url.startswith(served.url + "/console/login")
        page.fill("#name", "admin")
        page.fill("#password", served.seeded["password"])
        page.get_by_role("button", name="登录", exact=True).click()

        page.locator("table.queue").wait_for()
        size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 20
        page.click(f"a[href='/console/claims/{claim_id}']")
        page.locator("h1", has_text=f"线索 #{claim_id}").wait_for()
        # The reports that carry markup show it as text, and nothing runs.
        page.locator(".report .user-text", has_text="<script>").first.wait_for()
        assert page.locator(".report img").count() == 0

        page.select_option("#status", "verifying")
        page.get_by_role("button", name="更改状态").click()
        page.locator("#claim-status", has_text="核实中").wait_for()
        page.select_option("#verdict", "rumor")
        page.fill("#title", "喝醋能软化血管吗")
        page.fill(
            "#explanation",
            "醋进入胃里就被消化了，不会进入血管，也溶不掉血管里的斑块。血管硬化请遵医嘱治疗。",
        )
        page.fill("#source_organisation_1", "国家卫生健康委员会")
        page.fill("#source_title_1", "健康科普：醋不能软化血管")
        page.get_by_role("button", name="保存草稿").click()
        page.locator(".notice", has_text="草稿已保存").wait_for()
        box = page.get_by_role("button", name="发布", exact=True).bounding_box()
        assert box is not None and box["height"] >= 48
        page.get_by_role("button", name="发布", exact=True).click()

        page.locator("#claim-status", has_text="已结论").wait_for()
        page.locator("#claim-entry", has_text=f"rumor-claim-{claim_id}").wait_for()
        page.screenshot(path=str(tmp_path / "console.png"), full_page=True)
        browser.close()
    assert dialogs == []
    # Every reporter of the claim is now owed the verdict.
    assert served.run(_delivery_statuses(served.db)) == ["due", "due", "due"]
