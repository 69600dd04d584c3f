"""``GET /api/v1/chat/speech/<entry id>``: an answer card read aloud, as MP3.

What is read is what every channel reads of that entry (``bot.voice.speech``:
the first sentence and the steps), so the web chat and WeChat share the
cached audio. Only entries can be read, never a text the caller chooses: the
engine's CPU is spent on the knowledge base's answers and nothing else.

Limits as the chat's (``KEPU_CHAT_RATE_PER_SENDER`` per sender cookie,
``KEPU_CHAT_RATE_PER_CLIENT`` per address, counted apart from the chat's own
messages): more get 429 with ``Retry-After``. Failures get a JSON error the
page shows under the button; the text answer is on the page already.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.knowledge.reply import answer_messages
from bot.net.ratelimit import TOO_FAST_REPLY, retry_after
from bot.voice.speaker import SpeechBusy, SpeechFailed
from bot.voice.speech import spoken_text
from bot.web import keys
from bot.web.speaking import MOUTH, Mouth, mouth_ctx
from bot.web.views.chat import _sender_of
from bot.web.views.entry_page import ENTRY_ID

log = logging.getLogger(__name__)

FORMAT = "mp3"  # plays in every browser the chat supports
NOT_READABLE = "这条回答不能朗读。"
BUSY = "现在朗读的人多，请过一会儿再点。上面的文字就是回答。"
FAILED = "暂时读不了，请看上面的文字；过一会儿可以再点一次。"


def setup_speech(app: web.Application) -> None:
    """The speaker (built at start when KEPU_TTS is on) and its endpoint."""
    app[MOUTH] = Mouth()
    app.cleanup_ctx.append(mouth_ctx)
    app.router.add_get(f"/api/v1/chat/speech/{ENTRY_ID}", read_aloud, name="chat_speech")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": message}, status=status, headers={"Cache-Control": "no-store", **(headers or {})}
    )


async def read_aloud(request: web.Request) -> web.StreamResponse:
    """Anyone, limited like the chat: the entry's MP3; 404 when off, 503 when busy or failed."""
    mouth = request.app[MOUTH]
    if mouth.speaker is None or mouth.limits is None:
        return _error(404, NOT_READABLE)
    sender, new_sender = _sender_of(request)
    wait = mouth.limits.allow(None if new_sender else sender, request.remote or "unknown")
    if wait:
        return _error(429, TOO_FAST_REPLY, {"Retry-After": retry_after(wait)})
    knowledge = request.app.get(keys.KNOWLEDGE)
    entry = await knowledge.get(request.match_info["id"]) if knowledge is not None else None
    text = spoken_text(answer_messages(entry)) if entry is not None else ""
    if not text:
        return _error(404, NOT_READABLE)
    key = mouth.speaker.key(text)
    if request.headers.get("If-None-Match") == f'"{key}"':
        return web.Response(status=304, headers={"ETag": f'"{key}"'})
    try:
        speech = await mouth.speaker.speak(text, FORMAT)
    except SpeechBusy:
        return _error(503, BUSY, {"Retry-After": "10"})
    except SpeechFailed as exc:
        log.warning("entry %s not read aloud: %s", entry.id if entry else "?", exc)
        return _error(503, FAILED)
    return web.Response(
        body=speech.data,
        content_type=speech.content_type,
        headers={
            # Her browser may keep it; no shared cache need (the chat is per person anyway).
            "Cache-Control": "private, max-age=86400",
            "ETag": f'"{key}"',
            "X-Speech-Seconds": f"{speech.seconds:.2f}",
        },
    )
