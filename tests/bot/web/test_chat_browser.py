"""The web chat in headless Chromium, as a senior uses it on a small phone.

360×740 (and 180×370: the same phone at 200% zoom) with reduced motion, plus
one desktop run. The app and a stand-in assistant (``chat_support``) serve on
loopback from a thread of their own; a dropped network and a hung request are
made with Playwright's route interception, the 15 s timeout with its clock.
Screenshots go to ``var/screenshots/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.settings import PROJECT_ROOT
from tests.bot.web.chat_support import Served, serve
from tests.conftest import CHROMIUM, launch_chromium, service_absent

pytestmark = pytest.mark.browser
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
PHONE = {"width": 360, "height": 740}
ZOOM_200 = {"width": 180, "height": 370}  # 360×740 at 200%: the same CSS pixels
CHAT = "**/api/v1/chat"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("chat"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        service_absent("Debian's chromium is missing (scripts/install-browser.sh installs it)")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        yield browser
        browser.close()


class Phone:
    """A page in a fresh browser context (its own cookie and storage)."""

    def __init__(self, browser: Any, served: Served, viewport: dict, **options: Any) -> None:
        self.served = served
        self.context = browser.new_context(
            viewport=viewport,
            device_scale_factor=2,
            reduced_motion=options.pop("reduced_motion", "reduce"),
            locale="zh-CN",
            **options,
        )
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.sent: list[dict] = []
        self.page.on("request", self._request)

    def _console(self, message: Any) -> None:
        expected = ("net::ERR", "Failed to load resource")  # the failures a test makes
        if message.type == "error" and not message.text.startswith(expected):
            self.problems.append(message.text)  # a CSP violation shows up here

    def _request(self, request: Any) -> None:
        if request.url.endswith("/api/v1/chat"):
            self.sent.append(json.loads(request.post_data or "{}"))

    def open(self) -> Phone:
        self.page.goto(self.served.url + "/")
        return self

    @property
    def turn(self) -> int:
        return self.page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('#log .msg.bot')]"
            ".map(li => Number(li.dataset.turn)))"
        )

    def wait_turn(self, number: int) -> None:
        self.page.locator(f"#log .msg.bot[data-turn='{number}']").first.wait_for(timeout=15000)
        self.page.locator(".msg.wait").wait_for(state="detached", timeout=15000)

    def type(self, text: str) -> None:
        before = self.turn
        self.page.fill("#text", text)
        self.page.click("#send")
        self.wait_turn(before + 1)

    def tap(self, label: str) -> None:
        before = self.turn
        self.newest.locator("button.opt", has_text=label).first.click()
        self.wait_turn(before + 1)

    def bar(self, label: str) -> None:
        before = self.turn
        self.page.locator(".bar button", has_text=label).click()
        self.wait_turn(before + 1)

    @property
    def newest(self) -> Any:
        return self.page.locator(f"#log .msg.bot[data-turn='{self.turn}']")

    def mine(self) -> Any:
        return self.page.locator("#log .msg.me").last

    def shot(self, name: str, full_page: bool = False) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        self.context.close()
        assert self.problems == [], self.problems


@pytest.fixture
def phone(browser: Any, served: Served) -> Iterator[Phone]:
    p = Phone(browser, served, PHONE, has_touch=True, is_mobile=True)
    yield p
    p.close()


GEOMETRY = """() => {
  const bubbles = [...document.querySelectorAll('#log .msg.bot')];
  const turn = Math.max(...bubbles.map(b => Number(b.dataset.turn)));
  const mine = bubbles.filter(b => Number(b.dataset.turn) === turn);
  const first = mine[0].getBoundingClientRect();
  const last = mine[mine.length - 1].getBoundingClientRect();
  const dock = document.querySelector('.dock').getBoundingClientRect();
  const style = getComputedStyle(mine[0]);
  return {turn, firstTop: first.top, lastBottom: last.bottom, dockTop: dock.top,
          lineHeight: parseFloat(style.lineHeight) + parseFloat(style.paddingTop),
          scrollY: window.scrollY,
          maxScroll: document.documentElement.scrollHeight - window.innerHeight};
}"""

COUNT_ANNOUNCEMENTS = """() => {
  window.announced = 0;
  new MutationObserver(() => { window.announced += 1; })
    .observe(document.getElementById('announce'),
             {childList: true, characterData: true, subtree: true});
}"""

AUDIT = """(minTarget) => {
  const parse = c => { const p = c.match(/rgba?\\(([^)]+)\\)/)[1].split(',').map(Number);
                       return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = ({r, g, b}) => { const f = v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = el => { for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor); if (c.a > 0) return c; }
    return {r: 255, g: 255, b: 255, a: 1}; };
  const shown = el => { const r = el.getBoundingClientRect();
    return r.width > 2 && r.height > 2 && getComputedStyle(el).visibility !== 'hidden'; };
  const out = {contrast: [], small: [], targets: []};
  const what = el => [el.tagName, el.className, el.textContent.slice(0, 12)];
  for (const el of document.querySelectorAll('body *')) {
    if (!shown(el)) continue;
    const text = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(el);
    if (text) {
      const a = lum(parse(style.color)), b = lum(background(el));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < 7) out.contrast.push([...what(el), ratio]);
      if (parseFloat(style.fontSize) < 20) out.small.push([...what(el), style.fontSize]);
    }
    if (el.matches('button, a, summary, textarea')) {
      const r = el.getBoundingClientRect();
      if (r.width < minTarget || r.height < minTarget)
        out.targets.push([...what(el), r.width, r.height]);
    }
  }
  out.overflow = document.documentElement.scrollWidth - window.innerWidth;
  return out;
}"""


def check_newest_turn(phone: Phone) -> dict:
    """The newest answer starts at the top of the screen, and its end can be
    scrolled to above the bar; returns the geometry seen."""
    page = phone.page
    g = page.evaluate(GEOMETRY)
    # Its first line is on screen, above the bar...
    assert g["firstTop"] >= 0, g
    assert g["firstTop"] + g["lineHeight"] <= g["dockTop"], g
    # ...and at the top, unless the page cannot scroll that far.
    if g["scrollY"] < g["maxScroll"] - 1:
        assert g["firstTop"] <= 20, g
    # Its last line can be reached: scrolled to the end, nothing is under the bar.
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    end = page.evaluate(GEOMETRY)
    assert end["lastBottom"] <= end["dockTop"] + 1, end
    page.evaluate(f"() => window.scrollTo(0, {g['scrollY']})")
    return g


# ---- 1: every new answer starts at the top ---------------------------------

CONVERSATION = [
    ("type", "你好"),
    ("tap", "2 健康"),
    ("tap", "1 中风有什么表现"),
    ("tap", "有用"),
    ("type", "我妈晕倒了"),
    ("type", "群里说喝醋能软化血管"),
    ("type", "讲一个长一点的"),
    ("bar", "菜单"),
    ("tap", "3 防骗"),
    ("type", "高血压"),
    ("tap", "1 AED怎么用"),
    ("bar", "再说一遍"),
]


def test_every_new_answer_starts_at_the_top_and_nothing_hides_under_the_bar(
    phone: Phone,
) -> None:
    phone.open()
    phone.page.evaluate(COUNT_ANNOUNCEMENTS)
    for i, (how, what) in enumerate(CONVERSATION, start=1):
        getattr(phone, how)(what)
        g = check_newest_turn(phone)
        assert g["turn"] == i
        assert phone.page.evaluate("window.announced") == i  # once per answer
        if i in (3, 6, 7, 12):
            phone.shot(f"chat-360-turn-{i:02d}")
    texts = phone.served.assistant.texts()
    assert texts[-12:] == [
        "你好",
        "2",
        "1",
        "有用",
        "我妈晕倒了",
        "群里说喝醋能软化血管",
        "讲一个长一点的",
        "菜单",
        "3",
        "高血压",
        "1",
        "再说一遍",
    ]


# ---- 2: options under their message, the bar, phone links -------------------


def test_options_belong_to_the_message_that_offered_them(phone: Phone) -> None:
    page = phone.open().page
    welcome = page.locator("#log .msg.bot[data-turn='0'] button.opt")
    assert welcome.count() == 7 and welcome.nth(1).inner_text() == "2 健康"
    box = welcome.nth(1).bounding_box()
    assert box["height"] >= 48 and box["width"] >= 200
    phone.tap("2 健康")
    assert phone.mine().inner_text() == "2 健康"
    assert phone.served.assistant.texts()[-1] == "2"
    topic = phone.newest.locator("button.opt")
    assert topic.all_inner_texts() == [
        "1 中风有什么表现",
        "2 高血压平时要注意什么",
        "3 每天吃多少盐合适",
        "4 野生菌能不能吃",
    ]
    # The welcome's buttons now say, and send, what they mean anywhere.
    assert welcome.nth(1).inner_text() == "健康"
    assert welcome.nth(1).get_attribute("data-send") == "健康"
    welcome.nth(0).click()
    phone.wait_turn(2)
    assert phone.served.assistant.texts()[-1] == "手机使用"
    assert "手机使用：" in phone.newest.first.inner_text()

    # An offer that only means something right away goes once newer messages come.
    phone.type("帮我看看这条短信")
    offer = phone.newest.locator("button.opt", has_text="交给辟谣平台核实")
    assert offer.inner_text() == "1 交给辟谣平台核实"
    phone.type("AED咋个用")
    assert offer.count() == 0

    # An answer: a lead, the steps, a one-line source, the detail behind a tap.
    card = phone.newest.first
    assert "card" in card.get_attribute("class")
    assert card.locator(".lead").inner_text().startswith("有人心跳骤停时")
    assert card.locator(".steps li").count() == 5
    assert card.locator(".source").inner_text() == "来源：美国心脏协会（AHA），2020"
    cite = card.locator("details", has_text="看出处")
    assert not cite.locator("p").first.is_visible()
    cite.locator("summary").click()
    assert cite.locator("p").first.is_visible()
    assert cite.locator("a").get_attribute("href") == "https://cpr.heart.org/"
    link = card.locator("a[href='tel:120']")
    assert link.get_attribute("aria-label") == "拨打 120 急救电话"
    phone.shot("chat-360-card", full_page=False)
    assert card.locator("button.opt").all_inner_texts() == ["有用", "没用"]

    # Hotlines of any answer, named for screen readers; other numbers stay text.
    phone.type("讲一个长一点的")
    long = phone.newest.first
    assert long.locator("a[href='tel:12315']").get_attribute("aria-label") == (
        "拨打 12315 消费投诉热线"
    )
    assert long.locator("a").count() == 2  # 120 and 12315, not 第1条…

    # The bar: 菜单 and 再说一遍 send those words.
    phone.bar("菜单")
    assert phone.served.assistant.texts()[-1] == "菜单"
    menu_text = phone.newest.last.inner_text()
    phone.bar("再说一遍")
    assert phone.served.assistant.texts()[-1] == "再说一遍"
    assert phone.newest.last.inner_text() == menu_text


def test_a_not_sure_reply_offers_the_related_entry_by_its_title(phone: Phone) -> None:
    phone.open()
    phone.type("车站那个红盒子是干啥的")
    reply = phone.newest.first
    assert reply.inner_text().startswith("这个问题我没有把握答准。")
    related = reply.locator("button.opt")
    # The button names the entry (not "1", which the menu's item 1 also is).
    assert related.all_inner_texts() == ["1 AED怎么用？"]
    box = related.first.bounding_box()
    assert box["height"] >= 48 and box["x"] + box["width"] <= PHONE["width"]
    phone.shot("chat-360-not-sure")
    phone.tap("AED怎么用")
    assert phone.served.assistant.texts()[-1] == "1"
    assert phone.newest.first.locator(".lead").inner_text().startswith("有人心跳骤停时")
    # Once newer messages came, the old button sends the title: it still means the entry.
    assert related.first.inner_text() == "AED怎么用？"
    related.first.click()
    phone.wait_turn(3)
    assert phone.served.assistant.texts()[-1] == "AED怎么用？"
    assert phone.newest.first.locator(".lead").inner_text().startswith("有人心跳骤停时")


def test_the_text_size_is_kept_on_the_phone(phone: Phone) -> None:
    page = phone.open().page
    size = "() => getComputedStyle(document.documentElement).fontSize"
    assert page.evaluate(size) == "22px"
    page.click("#bigger")
    page.click("#bigger")
    assert page.evaluate(size) == "30px"
    phone.shot("chat-360-larger-text")
    page.reload()
    assert page.evaluate(size) == "30px"
    page.click("#smaller")
    assert page.evaluate(size) == "26px"
    page.click("#smaller")
    assert page.evaluate(size) == "22px"
    assert page.get_attribute("#smaller", "aria-disabled") == "true"


# ---- 3: her words are never lost --------------------------------------------


def test_a_dropped_network_keeps_her_words_and_the_resend_is_handled_once(
    phone: Phone,
) -> None:
    page = phone.open().page
    assistant = phone.served.assistant
    page.route(CHAT, lambda route: route.abort("internetdisconnected"))
    words = "我的血压有点高，早上起来头晕"
    page.fill("#text", words)
    page.click("#send")
    mine = phone.mine()
    mine.locator(".state", has_text="网络连不上").wait_for()
    assert page.input_value("#text") == words
    assert "网络连不上" in page.inner_text("#announce")
    assert not page.is_disabled("#send")
    phone.shot("chat-360-network-dropped")
    page.unroute(CHAT)
    mine.locator("button.retry").click()
    phone.wait_turn(1)
    assert page.input_value("#text") == ""
    assert mine.locator(".state").count() == 0
    ids = {body["client_id"] for body in phone.sent}
    assert len(ids) == 1 and len(phone.sent) == 2  # the same message, sent twice
    assert assistant.handled(ids.pop()) == 1


def test_a_hung_request_times_out_and_the_resend_is_handled_once(phone: Phone) -> None:
    page = phone.page
    page.clock.install()
    phone.open()
    assistant = phone.served.assistant
    held: list[Any] = []

    def hang_the_first(route: Any) -> None:
        if held:
            route.continue_()
            return
        held.append(route)
        route.fetch()  # the server gets it and answers; the page never hears back

    page.route(CHAT, hang_the_first)
    words = "血压高怎么办"
    page.fill("#text", words)
    page.click("#send")
    phone.mine().locator(".state", has_text="正在发送").wait_for()
    assert page.is_disabled("#send") and page.inner_text("#send") == "等回复"
    # She keeps typing meanwhile; Enter does not send a second message.
    page.fill("#text", words + "\n还有头晕")
    page.press("#text", "Enter")
    assert len(phone.sent) == 1
    page.clock.run_for(16_000)
    mine = phone.mine()
    mine.locator(".state", has_text="等了 15 秒还没有收到回复").wait_for()
    assert page.input_value("#text") == words + "\n还有头晕"
    phone.shot("chat-360-timed-out")
    mine.locator("button.retry").click()
    phone.wait_turn(1)
    assert page.input_value("#text") == "还有头晕"  # what she typed meanwhile stays
    ids = [body["client_id"] for body in phone.sent]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert assistant.handled(ids[0]) == 1


def test_server_errors_and_network_errors_are_told_apart(phone: Phone) -> None:
    page = phone.open().page
    page.route(
        CHAT,
        lambda route: route.fulfill(status=502, content_type="text/html", body="<h1>502</h1>"),
    )
    page.fill("#text", "你好")
    page.click("#send")
    state = phone.mine().locator(".state.bad")
    state.wait_for()
    assert state.inner_text().startswith("服务器出了点问题，这句话没有处理。")
    assert "您的话还在输入框里" in state.inner_text() and "网络" not in state.inner_text()
    page.unroute(CHAT)
    page.fill("#text", "这里出错了")  # the assistant behind the server fails: 503
    page.click("#send")
    state = phone.mine().locator(".state.bad")
    state.wait_for()
    assert state.inner_text().startswith("助手这会儿没有回应，这句话还没有处理。")
    assert "120" in state.inner_text()
    assert page.input_value("#text") == "这里出错了"
    # The first message, not sent, is marked so (and no longer offered again).
    assert "没有发出去" in page.locator("#log .msg.me").first.inner_text()
    phone.shot("chat-360-server-error")


def test_a_reload_shows_the_conversation_so_far(phone: Phone) -> None:
    page = phone.open().page
    assistant = phone.served.assistant
    phone.type("你好")
    phone.tap("2 健康")
    page.fill("#text", "我还想问")
    page.wait_for_timeout(400)  # the draft is saved as she types
    before = page.locator("#log .msg").all_inner_texts()
    page.reload()
    assert page.locator("#log .msg").all_inner_texts() == before
    assert page.input_value("#text") == "我还想问"
    assert page.inner_text("#announce") == ""  # nothing is read out again
    # The newest offer still answers by number.
    phone.tap("1 中风有什么表现")
    assert assistant.texts()[-1] == "1"
    assert "card" in phone.newest.first.get_attribute("class")

    # A message the server got but the page did not hear back about, then a reload.
    def handled_but_lost(route: Any) -> None:
        route.fetch()
        route.abort("internetdisconnected")

    page.route(CHAT, handled_but_lost)
    page.fill("#text", "AED在哪里找")
    page.click("#send")
    phone.mine().locator("button.retry").wait_for()
    page.unroute(CHAT)
    page.reload()
    mine = phone.mine()
    assert "可能没有发出去" in mine.inner_text()
    assert page.input_value("#text").startswith("AED在哪里找")
    turn = phone.turn
    mine.locator("button.retry").click()
    phone.wait_turn(turn + 1)
    ids = [body["client_id"] for body in phone.sent if body["message"] == "AED在哪里找"]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert assistant.handled(ids[0]) == 1
    assert page.input_value("#text") == ""


# ---- 5: small screens, zoom, motion, contrast, targets, screen readers -------


@pytest.mark.parametrize("viewport, name", [(PHONE, "360"), (ZOOM_200, "zoom200")])
def test_it_works_at_360_px_and_at_200_percent_zoom(
    browser: Any, served: Served, viewport: dict, name: str
) -> None:
    phone = Phone(browser, served, viewport, has_touch=True, is_mobile=True)
    try:
        page = phone.open().page
        phone.shot(f"chat-{name}-start")
        phone.type("AED咋个用")
        check_newest_turn(phone)
        phone.newest.first.locator("summary", has_text="看出处").click()
        phone.newest.first.locator("summary", has_text="多讲一点").click()
        phone.type("讲一个长一点的")
        check_newest_turn(phone)
        audit = page.evaluate(AUDIT, 47.5)
        assert audit["overflow"] <= 0, audit
        assert audit["contrast"] == [], audit["contrast"]
        assert audit["small"] == [], audit["small"]
        assert audit["targets"] == [], audit["targets"]
        box = page.locator("#text").bounding_box()
        dock = page.evaluate("() => getComputedStyle(document.querySelector('.dock')).position")
        if viewport is ZOOM_200:
            assert box["width"] >= 0.8 * viewport["width"]
            assert dock == "static"  # a sticky dock would cover most of the screen
        else:
            assert box["width"] >= 200
            assert dock == "sticky"
            tops = {round(button.bounding_box()["y"]) for button in _bar(page)}
            assert len(tops) == 1  # the bar is one row
        phone.shot(f"chat-{name}-end")
        phone.shot(f"chat-{name}-full", full_page=True)
    finally:
        phone.close()


def _bar(page: Any) -> list[Any]:
    return page.locator(".bar button").element_handles()


@pytest.mark.parametrize("motion, behaviour", [("reduce", "auto"), ("no-preference", "smooth")])
def test_motion_follows_the_users_preference(
    browser: Any, served: Served, motion: str, behaviour: str
) -> None:
    phone = Phone(browser, served, PHONE, reduced_motion=motion)
    try:
        page = phone.open().page
        style = "() => getComputedStyle(document.documentElement).scrollBehavior"
        assert page.evaluate(style) == behaviour
    finally:
        phone.close()


def test_screen_readers_hear_each_new_answer_once(phone: Phone) -> None:
    page = phone.open().page
    log = page.locator("#log")
    assert log.get_attribute("aria-live") is None and log.get_attribute("role") is None
    assert page.get_attribute("#announce", "aria-live") == "polite"
    phone.type("AED咋个用")
    said = page.inner_text("#announce")
    assert said.startswith("有人心跳骤停时") and "1、打开AED电源" in said
    phone.type("我妈晕倒了")
    said = page.inner_text("#announce")
    assert said.startswith("请马上拨打 120") and "AED" not in said
    link = phone.newest.locator("a[href='tel:120']")
    assert link.get_attribute("aria-label") == "拨打 120 急救电话"
    assert page.get_attribute("header a[href='tel:96110']", "aria-label") == (
        "拨打 96110 反诈预警咨询专线"
    )


# ---- the desktop --------------------------------------------------------------


def test_the_chat_on_a_desktop(browser: Any, served: Served) -> None:
    desk = Phone(browser, served, {"width": 1280, "height": 900})
    try:
        page = desk.open().page
        desk.type("你好")
        desk.tap("2 健康")
        desk.tap("1 中风有什么表现")
        check_newest_turn(desk)
        desk.newest.first.locator("summary", has_text="看出处").click()
        width = page.evaluate("() => document.querySelector('main').getBoundingClientRect().width")
        assert width <= 48 * 22 + 1
        audit = page.evaluate(AUDIT, 47.5)
        assert audit["contrast"] == [] and audit["targets"] == [] and audit["overflow"] <= 0
        desk.shot("chat-desktop")
        desk.shot("chat-desktop-full", full_page=True)
    finally:
        desk.close()


# ---- an entry's own page (/k/<id>, linked from WeChat answers) ------------------------


@pytest.mark.parametrize(
    "viewport, name", [(PHONE, "phone"), ({"width": 1280, "height": 900}, "desktop")]
)
def test_an_entry_page_reads_on_a_phone_and_a_desktop(
    browser: Any, served: Served, viewport: dict, name: str
) -> None:
    reader = Phone(browser, served, viewport)
    try:
        page = reader.page
        page.goto(served.url + "/k/health-aed")
        assert page.locator("main h2").inner_text() == "AED怎么用？"
        assert "公共场所常配有AED" in page.locator("main").inner_text()  # the whole answer
        assert page.locator("main ol.steps li").count() == 5
        assert page.locator("a[href='https://cpr.heart.org/']").inner_text() == "打开出处网页"
        audit = page.evaluate(AUDIT, 47.5)
        assert audit["overflow"] <= 0, audit
        assert audit["contrast"] == [] and audit["small"] == [] and audit["targets"] == [], audit
        reader.shot(f"entry-{name}", full_page=True)
    finally:
        reader.close()
