"""The web chat's voice (issue 23 item 3): "🔊 读给我听" under each answer card.

With ``KEPU_TTS`` set (and the engine installed) the page is told so and shows
the button under every answer card; a tap fetches the answer's audio from
``/api/v1/chat/speech/<entry id>`` (``bot.web.views.speech``) and plays it.
The audio is made by the speaker's worker process (``bot.voice.speaker``) on
first need and then served from its disk cache. Off (the default), or with the
engine missing, the page has no button and the endpoint answers 404.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from bot.net.ratelimit import ChatLimits
from bot.voice.speaker import Speaker, build_speaker
from bot.web import keys

log = logging.getLogger(__name__)


@dataclass
class Mouth:
    """The speaker (None: reading aloud is off) and its own per-sender/per-client limits."""

    speaker: Speaker | None = None
    limits: ChatLimits | None = None
    injected: bool = False  # a test handed the speaker in: the app does not build one

    @property
    def enabled(self) -> bool:
        """Whether answers can be read aloud (a speaker was built)."""
        return self.speaker is not None


MOUTH = web.AppKey("chat_mouth", Mouth)


async def mouth_ctx(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: build the speaker (unless handed one); stop its worker at the end."""
    mouth = app[MOUTH]
    settings = app[keys.SETTINGS]
    if mouth.speaker is None and not mouth.injected:
        mouth.speaker = build_speaker(settings)
    if mouth.limits is None:
        mouth.limits = ChatLimits(settings.chat_rate_per_sender, settings.chat_rate_per_client)
    yield
    if mouth.speaker is not None:
        await mouth.speaker.close()


def speech_enabled(app: web.Application) -> bool:
    """Whether the chat page offers reading aloud (this app has a speaker)."""
    mouth = app.get(MOUTH)
    return mouth is not None and mouth.enabled
