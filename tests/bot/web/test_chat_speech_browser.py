"""🔊 读给我听 in headless Chromium, at 360×740 by touch and on a desktop by mouse and
keyboard: the button under an answer card, the audio fetched and played (the tone
engine in a real worker process), a second tap to stop, and a kind note when the
engine fails — the answer's text untouched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.voice.speaker import Speaker
from bot.web.views.speech import FAILED
from tests.bot.voice.speaking import tone_speaker
from tests.bot.web import test_chat_browser
from tests.bot.web.chat_support import Served, serve
from tests.bot.web.test_chat_browser import PHONE, SCREENSHOTS, Phone

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 900}
LABEL = "🔊 读给我听"
# the same headless Chromium as the chat's own browser tests (a module fixture)
browser = test_chat_browser.browser


@pytest.fixture(scope="module")
def speaker(tmp_path_factory: pytest.TempPathFactory) -> Speaker:
    return tone_speaker(tmp_path_factory.mktemp("speech"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, speaker: Speaker) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("speech-chat"), speaker=speaker)


def speak_button(user: Phone) -> Any:
    return user.newest.locator("button.speak")


def wait_state(button: Any, state: str) -> None:
    button.page.wait_for_function(
        "([b, s]) => b.getAttribute('data-state') === s",
        arg=[button.element_handle(), state],
        timeout=20000,
    )


def test_read_aloud_on_a_phone_by_touch(browser: Any, served: Served) -> None:
    user = Phone(browser, served, PHONE, has_touch=True, is_mobile=True).open()
    try:
        page = user.page
        user.type("AED怎么用")
        button = speak_button(user)
        assert button.inner_text() == LABEL
        assert button.get_attribute("aria-label") == "读给我听"
        box = button.bounding_box()
        assert box["height"] >= 48 and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # The answer itself still reads in one screen (issue 15); with the Chinese font
        # the set-up installs, the longest answer's card plus this button is about 20 px
        # taller than the screen, so the button is reached by a short scroll.
        card = user.newest.first.bounding_box()
        assert card["height"] - box["height"] <= PHONE["height"], card
        with page.expect_response(lambda r: "/api/v1/chat/speech/health-aed" in r.url) as got:
            button.tap()
        response = got.value
        assert response.status == 200 and response.headers["content-type"] == "audio/mpeg"
        wait_state(button, "playing")
        assert (
            button.inner_text() == "⏹ 停止朗读" and button.get_attribute("aria-pressed") == "true"
        )
        user.shot("speech-phone-playing")
        button.tap()  # a second tap stops it
        wait_state(button, "idle")
        assert button.inner_text() == LABEL
        # the answer itself is as it was
        assert user.newest.locator(".lead").inner_text().startswith("有人心跳骤停时")
    finally:
        user.close()


def test_read_aloud_on_a_desktop_by_mouse_and_keyboard(browser: Any, served: Served) -> None:
    user = Phone(browser, served, DESKTOP).open()
    try:
        user.type("喝醋能软化血管吗")  # a debunk: its card has the button too
        button = speak_button(user)
        button.click()
        wait_state(button, "playing")
        user.shot("speech-desktop-playing")
        button.click()
        wait_state(button, "idle")
        button.focus()
        user.page.keyboard.press("Enter")
        wait_state(button, "playing")
        # another answer's button stops the first
        user.type("AED怎么用")
        second = speak_button(user)
        second.click()
        wait_state(second, "playing")
        wait_state(button, "idle")
    finally:
        user.close()


def test_answers_without_a_card_have_no_button(browser: Any, served: Served) -> None:
    user = Phone(browser, served, PHONE, has_touch=True, is_mobile=True).open()
    try:
        user.type("菜单")
        assert user.page.locator("button.speak").count() == 0
    finally:
        user.close()


def test_a_failing_engine_leaves_a_kind_note(
    browser: Any, served: Served, speaker: Speaker
) -> None:
    user = Phone(browser, served, PHONE, has_touch=True, is_mobile=True).open()
    engine, retry = speaker.engine, speaker.retry_after_failure
    try:
        user.type("AED怎么用")
        # another engine's audio is not in the cache: its worker must load, and cannot
        speaker.engine, speaker.retry_after_failure = "missing-engine", 0.0
        button = speak_button(user)
        button.tap()
        note = user.newest.locator(".speak-note")
        note.wait_for(state="visible")
        assert note.inner_text() == FAILED
        assert button.inner_text() == LABEL and button.is_enabled()
        assert user.newest.locator(".lead").inner_text().startswith("有人心跳骤停时")
        assert user.newest.locator(".steps li").count() == 5  # the answer as it was
    finally:
        speaker.engine, speaker.retry_after_failure = engine, retry
        user.close()


def test_screenshots_are_written() -> None:
    for name in ("speech-phone-playing", "speech-desktop-playing"):
        assert Path(SCREENSHOTS / f"{name}.png").is_file()
