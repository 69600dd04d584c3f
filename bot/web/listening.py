"""The web chat's ears (issue 23): the speech engine, its caps, and what the page says.

The hold-to-talk button records a short clip in the browser and uploads it
(``bot.web.views.voice``); the engine is the one ``KEPU_ASR`` names for the
voice messages of WeChat (``local`` or ``tencent``). With ``wechat`` or
``none`` the web has no engine: the page does not show the button, and an
upload anyway is answered with how to type or use the phone's own voice input.

A transcript is quoted back ("您说的是：…", ``bot.voice.listener.heard_reply``; the
page shows "不对" as a button under it); a "不对" right after it, typed or tapped, is
answered with how to say it again (``CORRECTION``), as on WeChat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web

from bot.menu.pages import menu_text
from bot.settings import Settings
from bot.voice.errors import VoiceSetupError
from bot.voice.listener import Engine, RecentTranscripts, build_engine
from bot.web import keys

log = logging.getLogger(__name__)

# One clip: the page stops recording at MAX_SECONDS; the server refuses a longer
# one, and any upload over MAX_BYTES (60 s of Opus at the page's 32 kbit/s is
# about 240 kB; at a browser's default 128 kbit/s about 960 kB).
MAX_SECONDS = 60
MAX_BYTES = 1024 * 1024
# Clips decoded at once (ffmpeg processes): the machine has two cores.
DECODERS = 2
# The recorder's formats, by Content-Type (without codec parameters) -> demuxer.
CONTENT_TYPES = {"audio/webm": "matroska", "audio/ogg": "ogg"}

HOW_TO_TYPE = "请直接打字；也可以点手机键盘上的话筒（语音输入），说完字会自动打出来，再点“发送”。"
PROBLEMS = {
    "none": "这里暂时听不了语音。" + HOW_TO_TYPE,
    "silent": "不好意思，这段录音我没听清。请离手机近一点、说慢一点，按住“按住说话”再说一遍；"
    "或者" + HOW_TO_TYPE,
    "unreadable": "这段录音我打不开。请按住“按住说话”再录一次；或者" + HOW_TO_TYPE,
    "failed": "这段录音暂时没听成。请过一会儿再说一次；或者" + HOW_TO_TYPE,
}
CORRECTION = (
    "对不起，是我听错了。请按住“按住说话”再说一遍，说慢一点、离手机近一点；"
    "也可以直接打字，或者点手机键盘上的话筒说。"
)


def problem_reply(problem: str) -> str:
    """Why a clip got no answer, what to do instead, and the menu: never a dead end."""
    return f"{PROBLEMS.get(problem, PROBLEMS['failed'])}\n{menu_text()}"


@dataclass
class Ears:
    """The engine (None: not configured), what was just heard, and the decoder slots."""

    engine: Engine | None = None
    recent: RecentTranscripts = field(default_factory=RecentTranscripts)
    decoders: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(DECODERS))

    @property
    def enabled(self) -> bool:
        """Whether the chat page offers voice input (an engine was built)."""
        return self.engine is not None


EARS = web.AppKey("chat_ears", Ears)


def engine_for_web(settings: Settings) -> Engine | None:
    """The configured engine, or None; a broken set-up only hides the button."""
    try:
        return build_engine(settings)
    except VoiceSetupError as exc:
        log.error("web chat voice input is off: %s", exc)
        return None


async def ears_ctx(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: build the engine at start (unless a test handed one in), close it."""
    ears = app[EARS]
    if ears.engine is None:
        ears.engine = engine_for_web(app[keys.SETTINGS])
    yield
    if ears.engine is not None:
        await ears.engine.close()


def page_settings(app: web.Application) -> dict[str, int] | None:
    """What the chat page needs to offer the button, or None when there is no engine."""
    ears = app.get(EARS)
    if ears is None or not ears.enabled:
        return None
    return {"max_ms": MAX_SECONDS * 1000, "max_bytes": MAX_BYTES}


def correction(app: web.Application, sender: str, text: str) -> str | None:
    """The reply to a "不对" that rejects the transcript just quoted to ``sender``."""
    ears = app.get(EARS)
    if ears is None or not ears.recent.corrects(sender, text):  # only the next message counts
        return None
    return CORRECTION
