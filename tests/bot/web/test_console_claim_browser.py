"""The claim page in headless Chromium, at 1366×768 and on a 360×740 phone:
notes between moderator and expert, the one verdict form with its live preview
and autosaved draft, re-reports and reopening, history in plain Chinese, CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.accounts.users import add_user
from bot.rumors.delivery import take_due
from bot.rumors.reports import ReportQueue
from tests.bot.web import test_console_browser
from tests.bot.web.console_support import Served
from tests.conftest import CHROMIUM, launch_chromium, service_absent

pytestmark = pytest.mark.browser
served = test_console_browser.served  # the app on a port, a claim with three reports
SIZES = {"desktop": (1366, 768), "phone": (360, 740)}
EXPLANATION = "醋进入胃里就被消化了，不会进入血管，更不能把血管里的斑块溶掉。血管硬化请遵医嘱治疗。"


@pytest.fixture(params=list(SIZES))
def size(request) -> tuple[int, int]:
    return SIZES[request.param]


@pytest.fixture
def browser() -> Any:
    if CHROMIUM is None:
        service_absent("Debian's chromium is missing (scripts/install-browser.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        yield chromium
        chromium.close()


def signed_in(browser: Any, served: Served, size: tuple[int, int], name: str, password: str) -> Any:
    page = browser.new_context(viewport={"width": size[0], "height": size[1]}).new_page()
    page.goto(served.url + "/console/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(served.url + "/console/")
    page.goto(f"{served.url}/console/claims/{served.seeded['claim_id']}")
    return page


def staff(served: Served) -> dict[str, str]:
    return {
        "mod": served.run(add_user(served.db, "mod", "moderator")),
        "expert": served.run(add_user(served.db, "expert", "expert")),
    }


def under_verification(browser: Any, served: Served, size: tuple[int, int], people) -> Any:
    """The moderator's page, the claim just put under verification."""
    page = signed_in(browser, served, size, "mod", people["mod"])
    page.select_option("#status", "verifying")
    page.get_by_role("button", name="更改状态").click()
    page.locator("#claim-status", has_text="核实中").wait_for()
    return page


def no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_notes_between_moderator_and_expert(browser, served, size) -> None:
    people = staff(served)
    mod = signed_in(browser, served, size, "mod", people["mod"])
    mod.select_option("#status", "verifying")
    mod.get_by_role("button", name="更改状态").click()
    mod.fill("#note", "请专家看看，举报人电话 13812345678")
    mod.get_by_role("button", name="添加备注").click()
    mod.locator(".notice", has_text="备注已添加").wait_for()
    no_sideways_scroll(mod)

    expert = signed_in(browser, served, size, "expert", people["expert"])
    note = expert.locator(".note").first
    assert "请专家看看" in note.inner_text() and "13812345678" not in note.inner_text()
    assert "mod（审核员）" in note.inner_text()
    expert.fill("#note", "我来核实，明天给结论")
    expert.get_by_role("button", name="添加备注").click()
    expert.locator("#notes-h", has_text="内部备注（2 条）").wait_for()
    mod.reload()
    assert "我来核实" in mod.locator(".notes").inner_text()
    history = mod.locator(".history").inner_text()
    assert "写了一条内部备注" in history and "把状态从“待处理”改为“核实中”" in history
    no_sideways_scroll(expert)


def test_the_verdict_form_previews_saves_and_publishes(
    browser, served, size, tmp_path: Path
) -> None:
    people = staff(served)
    under_verification(browser, served, size, people)
    page = signed_in(browser, served, size, "expert", people["expert"])
    assert page.locator("#verdict").input_value() == ""  # no verdict until one is chosen
    page.fill("#title", "喝醋能软化血管吗")
    page.fill("#explanation", EXPLANATION)
    page.fill("#source_organisation_1", "国家卫生健康委员会")
    page.fill("#source_title_1", "健康科普：醋不能软化血管")
    # The preview follows the typing; the draft is saved on the server by itself.
    page.locator("#preview-webchat", has_text="血管硬化请遵医嘱治疗").wait_for()
    page.locator("#draft-status", has_text="草稿已自动保存").wait_for(timeout=15_000)
    assert page.locator("#preview-warning").is_visible()
    page.reload()
    assert page.locator("#explanation").input_value() == EXPLANATION
    # 发布 without a verdict does not go anywhere, and nothing typed is lost.
    page.get_by_role("button", name="发布", exact=True).click()
    assert page.evaluate("document.getElementById('verdict').validity.valueMissing")
    assert page.locator("#claim-status").inner_text() == "核实中"
    assert page.locator("#explanation").input_value() == EXPLANATION

    page.select_option("#verdict", "rumor")
    page.locator("#preview-wechat .bubble", has_text="结论：【谣言】").wait_for()
    assert page.locator("#preview-warning").is_hidden()
    fields, preview = (
        page.locator("#explanation").bounding_box(),
        page.locator(".preview").bounding_box(),
    )
    if size[0] >= 1000:  # beside the form on a desktop, below it on a phone
        assert preview["x"] > fields["x"] + fields["width"] - 1
    else:
        assert preview["y"] > fields["y"] + fields["height"]
    no_sideways_scroll(page)
    sent_as = page.locator("#preview-wechat .bubble").inner_text()
    page.screenshot(path=str(tmp_path / f"claim-{size[0]}.png"), full_page=True)
    page.get_by_role("button", name="发布", exact=True).click()
    page.locator("#claim-status", has_text="已结论").wait_for()
    # What the preview showed is what the first reporter receives.
    assert served.run(take_due(served.db, "u1")) == [sent_as]


def test_a_re_reported_claim_shows_the_trend_and_reopens(browser, served, size) -> None:
    people = staff(served)
    page = under_verification(browser, served, size, people)
    expert = signed_in(browser, served, size, "expert", people["expert"])
    expert.select_option("#verdict", "rumor")
    expert.fill("#title", "喝醋能软化血管吗")
    expert.fill("#explanation", EXPLANATION)
    expert.fill("#source_organisation_1", "国家卫生健康委员会")
    expert.fill("#source_title_1", "健康科普：醋不能软化血管")
    expert.get_by_role("button", name="发布", exact=True).click()
    expert.locator("#claim-status", has_text="已结论").wait_for()
    queue = ReportQueue(served.db)
    for i in range(2):
        served.run(
            queue.submit_again(
                served.seeded["claim_id"],
                f"喝醋真能软化血管吗{i}",
                sender_id=f"r{i}",
                channel="wechat",
            )
        )
    page.reload()
    assert page.locator("#again-total").inner_text() == "2"
    assert page.locator(".trend meter").count() == 8
    no_sideways_scroll(page)
    page.fill("#reason", "又传开了")
    page.get_by_role("button", name="重新打开复核").click()
    page.locator("#claim-status", has_text="核实中").wait_for()
    assert (
        "重新打开复核（发布后又有 2 次举报），理由：又传开了"
        in page.locator(".history").inner_text()
    )


def test_reports_in_chinese_and_as_csv(browser, served, size, tmp_path: Path) -> None:
    people = staff(served)
    served.run(
        ReportQueue(served.db).submit(
            "听说喝醋能软化血管，每天喝一碗",
            sender_id="v1",
            channel="webchat",
            seen_where="village",
        )
    )
    page = signed_in(browser, served, size, "expert", people["expert"])
    metas = page.locator(".report .meta").all_inner_texts()
    assert any("微信公众号" in m for m in metas)
    assert any("网页 · 在村里听说 ·" in m for m in metas)
    assert not any("看到" in m and "听说看到" in m for m in metas)
    with page.expect_download() as info:
        page.get_by_role("link", name="下载这些举报（CSV 表格）").click()
    saved = tmp_path / "reports.csv"
    info.value.save_as(saved)
    body = saved.read_bytes()
    assert body.startswith(b"\xef\xbb\xbf") and "举报编号" in body.decode("utf-8")
    assert body.decode("utf-8").count("\r\n") == 5  # the header and four reports
    no_sideways_scroll(page)
