"""Hold-to-talk in headless Chromium with a fake microphone that plays espeak-ng
saying "AED怎么用" (``--use-file-for-fake-audio-capture``): hold, speak, let go,
and the answer starts with "您说的是：…". The Tencent engine is configured and
talks to the simulator (signatures checked); the app, the stand-in assistant and
the simulator serve from one thread (``chat_support.serve_in_thread``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.ports import free_port
from bot.web.listening import CORRECTION
from tests.bot.voice.tencent_sim import SECRET_ID, SECRET_KEY, TencentAsrSimulator
from tests.bot.web.chat_support import Served, serve
from tests.bot.web.test_chat_browser import PHONE, SCREENSHOTS, Phone
from tests.bot.web.voice_clips import SENTENCE, spoken_wav_file
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, service_absent

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 900}
HOLD_MS = 2500


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    simulator = TencentAsrSimulator(transcript=SENTENCE)
    asr_port = free_port()
    yield from serve(
        tmp_path_factory.mktemp("voice-chat"),
        more_sites=((simulator.app(), asr_port),),
        asr="tencent",
        tencent_secret_id=SECRET_ID,
        tencent_secret_key=SECRET_KEY,
        tencent_asr_url=f"http://127.0.0.1:{asr_port}/",
    )
    assert simulator.refused == []


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if CHROMIUM is None:
        service_absent("Debian's chromium is missing (scripts/install-browser.sh installs it)")
    from playwright.sync_api import sync_playwright

    wav = spoken_wav_file(str(tmp_path_factory.mktemp("mic") / "aed.wav"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    fake_mic = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *fake_mic])
        yield browser
        browser.close()


def answered_by_voice(user: Phone, before: int) -> Any:
    """Her bubble shows what was heard; the new turn quotes it, then answers."""
    user.wait_turn(before + 1)
    page = user.page
    assert user.mine().locator(".text").inner_text() == SENTENCE
    quote = user.newest.first
    assert quote.locator(".text").first.inner_text().startswith(f"您说的是：“{SENTENCE}”")
    assert quote.locator("button.opt").all_inner_texts() == ["不对"]
    assert user.newest.nth(1).locator(".lead").inner_text().startswith("有人心跳骤停时")
    assert page.locator("#talk").inner_text() == "按住说话"  # ready again
    assert page.locator("#talk").is_enabled()
    return quote


def test_hold_to_talk_on_a_phone_by_touch(browser: Any, served: Served) -> None:
    user = Phone(browser, served, PHONE, has_touch=True, is_mobile=True).open()
    try:
        page = user.page
        talk = page.locator("#talk")
        talk.wait_for(state="visible")
        box = talk.bounding_box()
        assert box["height"] >= 48 and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        before = user.turn
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        cdp = user.context.new_cdp_session(page)
        touch = {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]}
        cdp.send("Input.dispatchTouchEvent", touch)
        page.locator("#talk", has_text="松开 发送").wait_for()
        user.shot("voice-phone-recording")
        page.wait_for_timeout(HOLD_MS)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        answered_by_voice(user, before)
        user.shot("voice-phone-answered")
        assert served.assistant.texts()[-1] == SENTENCE
        # "不对" under the quote: asked to say it again, the assistant not bothered
        count = len(served.assistant.received)
        user.tap("不对")
        assert CORRECTION in user.newest.inner_text()
        assert len(served.assistant.received) == count
    finally:
        user.close()


def test_hold_to_talk_on_a_desktop_by_mouse_and_by_keyboard(browser: Any, served: Served) -> None:
    user = Phone(browser, served, DESKTOP).open()
    try:
        page = user.page
        talk = page.locator("#talk")
        talk.wait_for(state="visible")
        before = user.turn
        talk.hover()
        page.mouse.down()
        page.wait_for_timeout(HOLD_MS)
        page.mouse.up()
        answered_by_voice(user, before)
        user.shot("voice-desktop-answered")
        # the keyboard: hold Space on the focused button
        before = user.turn
        talk.focus()
        page.keyboard.down(" ")
        page.locator("#talk", has_text="松开 发送").wait_for()
        page.wait_for_timeout(HOLD_MS)
        page.keyboard.up(" ")
        answered_by_voice(user, before)
    finally:
        user.close()


def test_a_tap_too_short_says_to_hold(browser: Any, served: Served) -> None:
    user = Phone(browser, served, PHONE, has_touch=True, is_mobile=True).open()
    try:
        page = user.page
        count = len(user.sent)
        page.locator("#talk").hover()
        page.mouse.down()
        page.locator("#talk", has_text="松开 发送").wait_for()
        page.mouse.up()
        page.locator("#talk-note", has_text="按得太短了").wait_for()
        assert page.locator("#log .msg.me").count() == 0 and len(user.sent) == count
    finally:
        user.close()


def test_no_button_where_the_browser_cannot_record(browser: Any, served: Served) -> None:
    user = Phone(browser, served, PHONE, has_touch=True, is_mobile=True)
    try:
        user.page.add_init_script("delete window.MediaRecorder;")
        user.open()
        user.page.wait_for_load_state("load")
        assert user.page.locator("#talk").is_hidden()
        user.type("菜单")  # typing works as ever
    finally:
        user.close()


def test_screenshots_are_written() -> None:
    for name in ("voice-phone-recording", "voice-phone-answered", "voice-desktop-answered"):
        assert Path(SCREENSHOTS / f"{name}.png").is_file()
