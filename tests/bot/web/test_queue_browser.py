"""The claim queue in headless Chromium at 1366×768 and on a 360 px phone: how many
claims fit, priority reasons, search, keyboard, bulk actions, "分给我" and CSV."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.accounts.users import add_user
from bot.rumors.reports import ReportQueue
from bot.storage.db import Database
from bot.storage.models import AuditEntry, RumorClaim
from tests.bot.web.console_support import Served, serve_console
from tests.conftest import CHROMIUM, launch_chromium, service_absent

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 740}
WELL = "老井的水不能喝了，喝了会得癌症，村里好几个人都病了"
# Claims about different things, so that none joins another.
TEXTS = (
    "吃隔夜菜会得癌症，剩菜一口都不能吃",
    "手机充电时打电话会爆炸，已经炸死人了",
    "转发这条消息就能领五百元养老金补贴",
    "喝醋能软化血管，每天一碗不用吃药",
    "明天下午镇上要停水三天，赶紧存水",
    "香蕉和牛奶一起吃会中毒，小孩子千万注意",
    "社保卡要升级，不升级就停用，点链接办理",
    "打了新冠疫苗的人不能献血一辈子",
    "微波炉加热的饭菜有辐射，吃了致癌",
    "蚊子叮了得艾滋病的人再叮你就会传染",
    "西瓜打了针才这么甜，吃了肚子疼",
    "海带泡水变色说明加了染色剂，不能买",
    "医保卡余额月底清零，赶紧去药店刷掉",
    "地震局说今晚本县有七级地震，快跑",
    "吃味精会变笨，炒菜千万别放味精",
    "小龙虾是处理尸体的，脏得很不能吃",
    "绿豆汤能治高血压，喝一个月就好了",
    "拨打这个电话可以免费领取鸡蛋和大米",
)


async def _seed(db: Database) -> dict[str, Any]:
    passwords = {
        "mod": await add_user(db, "mod", "moderator"),
        "mod2": await add_user(db, "mod2", "moderator"),
        "expert": await add_user(db, "expert", "expert"),
    }
    queue = ReportQueue(db)
    ids = []
    for i, text in enumerate((WELL, *TEXTS)):
        receipt = await queue.submit(text, sender_id=f"s{i}", channel="wechat")
        ids.append(receipt.claim_id)
    # The well water spreads: four more people, through two more channels.
    for i, channel in enumerate(("webchat", "wecom", "wechat", "wechat")):
        await queue.submit(WELL + "！", sender_id=f"w{i}", channel=channel)
    assert len(set(ids)) == len(ids), "every text should open a claim of its own"
    return {"passwords": passwords, "well": ids[0], "ids": ids}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    if CHROMIUM is None:
        service_absent("Debian's chromium is missing (scripts/install-browser.sh installs it)")
    with serve_console(tmp_path, _seed) as running:
        yield running


def _sign_in(pw: Any, served: Served, name: str, viewport: dict[str, int]) -> Any:
    browser = launch_chromium(pw)
    page = browser.new_page(viewport=viewport, accept_downloads=True)
    page.goto(served.url + "/console/login")
    page.fill("#name", name)
    page.fill("#password", served.seeded["passwords"][name])
    page.get_by_role("button", name="登录", exact=True).click()
    page.locator("table.queue").wait_for()
    return page


async def _claims(db: Database) -> dict[int, RumorClaim]:
    async with db.session() as session:
        return {c.id: c for c in (await session.execute(select(RumorClaim))).scalars()}


async def _audit(db: Database) -> list[tuple[str, str, str]]:
    async with db.session() as session:
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [(a.actor, a.action, a.target) for a in rows]


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width} px wide"


def test_desktop_shows_twelve_claims_and_explains_priority(served: Served) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        page = _sign_in(pw, served, "mod", DESKTOP)
        rows = page.locator("table.queue tbody tr")
        assert rows.count() == 19
        visible = [
            box
            for i in range(rows.count())
            if (box := rows.nth(i).bounding_box()) and box["y"] + box["height"] <= 768
        ]
        assert len(visible) >= 12, f"only {len(visible)} claims fit on the first screen"
        _no_sideways_scroll(page)
        # The well water: 5 people, 3 channels, a health rumour reported just now.
        top = rows.first
        assert top.get_attribute("data-id") == str(served.seeded["well"])
        summary = top.locator(".why summary")
        assert summary.inner_text().strip().startswith("高")
        assert "5 人举报" in (summary.get_attribute("title") or "")
        summary.click()
        reasons = top.locator(".why-text")
        reasons.wait_for()
        text = reasons.inner_text()
        assert "传播：5 人举报，来自 3 个渠道" in text and "危害：健康类" in text
        assert "新近" in text
        page.context.browser.close()


def test_search_finds_words_and_pinyin_not_only_substrings(served: Served) -> None:
    from playwright.sync_api import sync_playwright

    well = str(served.seeded["well"])
    with sync_playwright() as pw:
        page = _sign_in(pw, served, "expert", DESKTOP)
        for typed in ("井水", "jing shui", "癌症 井"):
            page.keyboard.press("/")  # the shortcut to the search box
            assert page.evaluate("document.activeElement.id") == "f-q"
            page.keyboard.type(typed)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            ids = page.locator("table.queue tbody tr").evaluate_all(
                "rows => rows.map(r => r.dataset.id)"
            )
            assert well in ids, typed
            assert len(ids) < 19, f"{typed!r} should not match every claim"
            page.fill("#f-q", "")
        page.fill("#f-q", "剩菜")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        titles = page.locator("table.queue .claim-link").all_inner_texts()
        assert titles == [TEXTS[0]]
        page.context.browser.close()


def test_keyboard_and_bulk_actions_are_checked_and_audited(served: Served) -> None:
    from playwright.sync_api import sync_playwright

    ids: list[int] = served.seeded["ids"]
    with sync_playwright() as pw:
        page = _sign_in(pw, served, "mod", DESKTOP)
        order = [
            int(i)
            for i in page.locator("table.queue tbody tr").evaluate_all(
                "rows => rows.map(r => r.dataset.id)"
            )
        ]
        # j j x, j x: the second and third claims are ticked.
        for key in ("j", "j", "x", "j", "x"):
            page.keyboard.press(key)
        assert page.locator("#selected-count").inner_text() == "2"
        page.select_option("#bulk-assignee", "mod2")
        page.get_by_role("button", name="分派", exact=True).click()
        page.locator(".notice", has_text="已分派 2 条线索").wait_for()
        claims = served.run(_claims(served.db))
        assert [claims[i].assignee for i in order[1:3]] == ["mod2", "mod2"]
        # "a" gives the highlighted claim to me.
        page.keyboard.press("j")
        page.keyboard.press("a")
        page.locator(".notice", has_text=f"#{order[0]} 已分给你").wait_for()
        # Status for two claims; one of them cannot move there and says why.
        first, second = order[3], order[4]
        page.check(f"input[name=claim][value='{first}']")
        page.check(f"input[name=claim][value='{second}']")
        page.select_option("#bulk-status", "rejected")
        page.get_by_role("button", name="改状态").click()
        page.locator(".notice", has_text="已更改 2 条线索的状态").wait_for()
        # A rejected claim goes back to 待处理 only: the other one moves, it says why not.
        page.goto(served.url + "/console/?status=all")
        page.check(f"input[name=claim][value='{first}']")
        page.check(f"input[name=claim][value='{order[5]}']")
        page.select_option("#bulk-status", "verifying")
        page.get_by_role("button", name="改状态").click()
        page.locator(".notice", has_text="已更改 1 条线索的状态").wait_for()
        problem = page.locator(".error").inner_text()
        assert f"#{first}：不能从“不予处理”改为“核实中”" in problem
        assert f"#{order[5]}" not in problem
        # Merge two ticked claims into the first ticked.
        page.goto(served.url + "/console/?status=all")
        page.check(f"input[name=claim][value='{ids[5]}']")
        page.check(f"input[name=claim][value='{ids[6]}']")
        page.fill("#bulk-target", str(ids[5]))
        page.get_by_role("button", name="合并").click()
        page.locator(".notice", has_text=f"并入 #{ids[5]}").wait_for()
        page.context.browser.close()
    claims = served.run(_claims(served.db))
    assert claims[order[0]].assignee == "mod"
    assert claims[first].status == claims[second].status == "rejected"
    assert claims[order[5]].status == "verifying"
    assert claims[ids[6]].merged_into == ids[5]
    audit = served.run(_audit(served.db))
    assert ("mod", "assign", f"claim:{order[1]}") in audit
    assert ("mod", "assign", f"claim:{order[0]}") in audit
    assert ("mod", "status", f"claim:{first}") in audit
    assert ("mod", "merge", f"claim:{ids[5]}") in audit


def test_an_expert_sees_no_triage_controls(served: Served) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        page = _sign_in(pw, served, "expert", DESKTOP)
        assert page.locator("#bulk").count() == 0
        assert page.locator("button.mine").count() == 0
        page.keyboard.press("j")
        page.keyboard.press("a")  # nothing to press: no change, no error
        page.context.browser.close()
    assert all(c.assignee is None for c in served.run(_claims(served.db)).values())


def test_phone_shows_cards_without_sideways_scroll(served: Served) -> None:
    from playwright.sync_api import sync_playwright

    well = served.seeded["well"]
    with sync_playwright() as pw:
        page = _sign_in(pw, served, "mod", PHONE)
        _no_sideways_scroll(page)
        assert page.locator("table.queue thead").bounding_box()["height"] <= 1
        card = page.locator(f"table.queue tbody tr[data-id='{well}']")
        box = card.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
        title = card.locator(".claim-link")
        assert title.inner_text() == WELL
        title_box = title.bounding_box()
        assert title_box["height"] >= 48
        # Tap the priority: the reasons open inside the screen.
        card.locator(".why summary").click()
        reasons = card.locator(".why-text")
        reasons.wait_for()
        reasons_box = reasons.bounding_box()
        assert reasons_box["x"] >= 0 and reasons_box["x"] + reasons_box["width"] <= 360
        _no_sideways_scroll(page)
        mine = card.get_by_role("button", name="分给我")
        assert mine.bounding_box()["height"] >= 48
        mine.click()
        page.locator(".notice", has_text=f"#{well} 已分给你").wait_for()
        _no_sideways_scroll(page)
        page.context.browser.close()
    assert served.run(_claims(served.db))[well].assignee == "mod"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_csv_export_is_the_filtered_queue(served: Served, viewport: dict[str, int]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        page = _sign_in(pw, served, "expert", viewport)
        page.select_option("#f-harm", "fraud")
        page.get_by_role("button", name="筛选").click()
        page.wait_for_url("**harm=fraud*")
        shown = page.locator("table.queue tbody tr").count()
        with page.expect_download() as download:
            page.click("#queue-csv")
        body = Path(download.value.path()).read_bytes()
        page.context.browser.close()
    assert body.startswith("\ufeff".encode())
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("编号,说法,优先级")
    assert len(lines) == shown + 1 and shown >= 2
    assert all(",诈骗," in line for line in lines[1:])
