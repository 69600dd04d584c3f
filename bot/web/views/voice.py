"""``POST /api/v1/chat/voice``: a clip from the chat page's hold-to-talk button.

The body is the recording itself (``Content-Type: audio/webm`` or
``audio/ogg``, what MediaRecorder writes), the message id in the query
(``?client_id=``). It goes through the chat's own gates, in the same order
and with the same answers (``bot.web.views.chat``): the sender cookie, the
per-sender and per-client limits, and a resend with a known id answered from
memory. An audio Content-Type is not one a cross-site form can send, so, like
the JSON the text endpoint insists on, it cannot be posted from another site
without a CORS preflight this service never answers.

The clip is read into memory (at most ``MAX_BYTES``), decoded by ffmpeg
through pipes (``bot.voice.audio``), recognised, and dropped: audio is never
written anywhere. The transcript is cleaned like typed text and answered by
the same turn (``_turn_once``); the reply starts with "您说的是：…".
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.text.inbound import clean_inbound, too_long_reply
from bot.voice.audio import decode_voice, sniff
from bot.voice.errors import AudioError
from bot.voice.listener import heard_reply
from bot.web import keys
from bot.web.listening import (
    CONTENT_TYPES,
    CORRECTION,
    EARS,
    MAX_BYTES,
    MAX_SECONDS,
    Ears,
    ears_ctx,
    problem_reply,
)
from bot.web.views.chat import CLIENT_ID, _body, _keep_sender, _sender_of, _too_fast, _turn_once

log = logging.getLogger(__name__)

# A clip may run a little over the page's cap (the recorder stops on a timer).
SLACK_SECONDS = 2.0
TOO_BIG = f"录音太长了。每次最多说 {MAX_SECONDS} 秒，请分几次说。"
NOT_AUDIO = "这不是录音，请按住“按住说话”再说一遍。"


def setup_voice(app: web.Application) -> None:
    """The speech engine (built at start when KEPU_ASR names one) and its endpoint."""
    app[EARS] = Ears()
    app.cleanup_ctx.append(ears_ctx)
    app.router.add_post("/api/v1/chat/voice", send_voice, name="chat_voice")


def _refuse(status: int, message: str) -> web.Response:
    body = {"error": message}
    return web.json_response(body, status=status, headers={"Cache-Control": "no-store"})


async def _read_capped(request: web.Request, limit: int) -> bytes | None:
    """The body, or None if it is longer than ``limit`` (read no further than that)."""
    data = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > limit:
            return None
    return bytes(data)


async def send_voice(request: web.Request) -> web.Response:
    """Anyone, limited like the chat: the clip recognised and answered as a typed message."""
    demuxer = CONTENT_TYPES.get(request.content_type)
    if demuxer is None:
        return _refuse(415, "请用录音格式发送（audio/webm 或 audio/ogg）")
    if request.content_length is not None and request.content_length > MAX_BYTES:
        return _refuse(413, TOO_BIG)
    client_id = request.query.get("client_id")
    if not (client_id and CLIENT_ID.match(client_id)):
        client_id = None
    sender, new_sender = _sender_of(request)
    if (refused := _too_fast(request, sender, new_sender, client_id)) is not None:
        return refused
    body = await _voice_turn(request, sender, client_id, demuxer)
    if isinstance(body, web.Response):
        return body
    status = body.pop("_status", 200)
    if client_id:
        body["client_id"] = client_id
    response = web.json_response(body, status=status)
    response.headers["Cache-Control"] = "no-store"
    if new_sender:
        _keep_sender(response, request, sender)
    return response


async def _voice_turn(
    request: web.Request, sender: str, client_id: str | None, demuxer: str
) -> dict[str, Any] | web.Response:
    app = request.app
    ears = app[EARS]
    if ears.engine is None:
        return _problem("none")
    data = await _read_capped(request, MAX_BYTES)
    if data is None:
        return _refuse(413, TOO_BIG)
    try:
        if sniff(data) != demuxer:
            return _refuse(415, NOT_AUDIO)
    except AudioError:
        return _refuse(415, NOT_AUDIO)
    try:
        async with ears.decoders:
            pcm = await decode_voice(data, MAX_SECONDS)
    except (AudioError, OSError) as exc:  # OSError: ffmpeg could not be started
        log.warning("web voice clip not decoded: %s", exc)
        return _problem("unreadable")
    if pcm.decoded_seconds > MAX_SECONDS + SLACK_SECONDS:
        return _refuse(413, TOO_BIG)
    if not pcm:
        return _problem("silent")
    try:
        text = await ears.engine.recognize(pcm.data)
    except Exception as exc:  # RecognitionFailed, or an engine bug: a kind reply either way
        log.warning("web voice clip not recognised: %s: %s", type(exc).__name__, exc)
        return _problem("failed")
    max_chars = app[keys.SETTINGS].max_message_chars
    cleaned = clean_inbound(text or "", max_chars)
    if cleaned.empty:
        return _problem("silent")
    if cleaned.too_long:
        return _body([too_long_reply(max_chars)])
    if ears.recent.corrects(sender, cleaned.text):  # a spoken "不对"
        return {**_body([CORRECTION]), "heard": cleaned.text}
    outcome = await _turn_once(request, sender, client_id, cleaned.text)
    body = dict(outcome.body)
    quote = heard_reply(cleaned.text)
    if outcome.handled:
        ears.recent.remember(sender)
        quoted = _body([quote])
        body["messages"] = [quote, *body.get("messages", [])]
        body["replies"] = [*quoted["replies"], *body.get("replies", [])]
    body["heard"] = cleaned.text
    body["_status"] = outcome.status
    return body


def _problem(problem: str) -> dict[str, Any]:
    return {**_body([problem_reply(problem)]), "problem": problem}
