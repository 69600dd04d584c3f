"""The 统计 page in headless Chromium, on a desktop and on a 360 px phone:
charts drawn in colour under the page's strict CSP, nothing wider than the
screen, tables one tap away."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.insights import rollup
from bot.insights.events import Turn
from bot.insights.writer import write_turns
from bot.web.views import console_stats
from tests.bot.web.console_support import Served
from tests.bot.web.test_console_browser import served  # noqa: F401  (fixture)
from tests.conftest import CHROMIUM, launch_chromium, service_absent

pytestmark = pytest.mark.browser


def turns() -> list[Turn]:
    now = rollup.local_now()
    out = []
    for day in range(10):
        for i in range(8):
            out.append(
                Turn(
                    at=now - timedelta(days=day, hours=i),
                    channel="wechat" if i % 2 else "webchat",
                    user_hash=f"u{day}-{i}",
                    move="free_text",
                    decision=("answer", "choices", "none")[i % 3],
                    topic=("health", "farming", "fraud", "smartphone")[i % 4],
                    entry_id=f"entry-{i % 4}",
                    new_session=True,
                )
            )
    return out


@pytest.mark.parametrize("width, height", [(1366, 768), (360, 740)])
def test_the_statistics_page_reads_on_a_desktop_and_a_phone(
    served: Served,  # noqa: F811
    width: int,
    height: int,
) -> None:
    if CHROMIUM is None:
        service_absent("Debian's chromium is missing (scripts/install-browser.sh installs it)")
    from playwright.sync_api import sync_playwright

    served.run(write_turns(served.db, turns()))
    served.run(rollup.roll_finished(served.db))  # the web service's hourly task
    console_stats.forget()  # the app summed today at its start, before these turns
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": width, "height": height})
        blocked: list[str] = []
        page.on(
            "console",
            lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.goto(served.url + "/console/stats")
        page.fill("#name", "admin")
        page.fill("#password", served.seeded["password"])
        page.get_by_role("button", name="登录", exact=True).click()
        page.wait_for_url("**/console/**")
        page.goto(served.url + "/console/stats")
        page.locator("h1", has_text="统计").wait_for()
        charts = page.locator("figure.chart img")
        assert charts.count() >= 6
        page.wait_for_load_state("load")
        # Every chart arrived and was drawn (an SVG the browser could not read
        # would have no size).
        sizes = page.evaluate(
            "[...document.querySelectorAll('figure.chart img')].map(i => i.naturalWidth)"
        )
        assert all(width > 0 for width in sizes), sizes
        # Bars are coloured (presentation attributes, no style the CSP would block).
        src = page.locator("#t-topic img").first.get_attribute("src")
        svg = page.request.get(served.url + src).text()
        assert 'fill="#0072b2"' in svg.lower() and "style=" not in svg
        assert blocked == []
        # Nothing is wider than the screen; charts fit it.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        box = page.locator("#t-topic figure").first.bounding_box()
        assert box is not None and box["width"] <= width
        # The table behind a chart opens with one tap, its small cells as "<5".
        page.locator("#t-topic summary").click()
        page.locator("#t-topic table.stats").wait_for()
        assert page.locator("#t-topic table.stats tbody tr").count() == 4
        # The period form works: one day, the web chat only.
        today = rollup.local_now().date().isoformat()
        page.fill("#s-from", today)
        page.fill("#s-to", today)
        page.select_option("#s-channel", "webchat")
        page.get_by_role("button", name="查看").click()
        page.wait_for_url("**channel=webchat**")
        assert "网页" in page.locator("p.hint").first.inner_text()
        page.screenshot(path=str(served_shot(width)), full_page=True)
        browser.close()


def served_shot(width: int):
    from pathlib import Path

    out = Path("var") / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out / f"stats-{width}.png"
