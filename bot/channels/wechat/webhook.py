"""What WeChat and WeCom callbacks share: checks in order, de-duplication, and the
5-second rule.

A POST goes through, in this order, and is refused (4xx) at the first failure:
body size → timestamp window → signature (for an encrypted message also the
``msg_signature`` over its ciphertext, read from the envelope with defusedxml)
→ nonce not seen before → decryption, AppID/CorpID check and parsing of the
message (defusedxml) → message id not seen before. Only then does the
assistant see it, and only within the rate limits: a user who sends more than
``KEPU_CHAT_RATE_PER_SENDER`` messages a minute, or an address (the platform's
server, as ``KEPU_TRUSTED_PROXIES`` name it) that sends more than
``KEPU_WEBHOOK_RATE_PER_CLIENT`` callbacks, gets the passive reply
"您发得太快了，请稍等一分钟再发。" and the message is not processed (nor its retries).

The platforms wait 5 seconds and then retry. The webhook waits at most the
reply budget for the assistant: an answer ready in time goes back as the
passive reply (what does not fit in one message follows through the message
API); otherwise the webhook answers "success" at once and the whole answer is
pushed through the message API when the assistant finishes. Verdicts owed to
the user (rumour report-back) and messages kept from earlier follow the answer.
The turn itself (cleaning, the busy reply and its undo, what is owed) is run by
``bot.channels.turn.TurnRunner``, as in the REST channel.

A voice message becomes text (``bot.voice``: WeChat's transcript, or the
audio fetched through the media API and recognised) and is then answered
like typed text, the answer starting with what was heard; without text the
user is taught to convert the voice in the app, and shown the menu. With
``KEPU_TTS`` on, an answer from the knowledge base to a voice message is also
read aloud: after the text has gone (passively or pushed), its first sentence
and steps are synthesised (``bot.voice.speaker``), uploaded as temporary media
and sent as a voice message through the message API. Nothing of that can
delay or lose the text: it runs after it, and every failure is only logged.
"""

from __future__ import annotations

import abc
import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.services import ChannelServices
from bot.channels.turn import OnNewMessage, TurnRunner
from bot.channels.wechat.output import TextCollector, entry_speech
from bot.menu.pages import BUSY_REPLY
from bot.net.proxies import client_of
from bot.net.ratelimit import TOO_FAST_REPLY, ChatLimits
from bot.rumors.evidence import MAX_IMAGE_BYTES, keep_image, store_content
from bot.settings import IPNetwork
from bot.storage.db import Database
from bot.voice.listener import Listener, MediaError, heard_reply
from bot.voice.speaker import Speaker, SpeechFailed
from bot.wechat import replies
from bot.wechat.api import (
    VOICE_MAX_BYTES,
    VOICE_MAX_SECONDS,
    ApiError,
    MediaTooLarge,
    OutsideWindow,
    PlatformApi,
)
from bot.wechat.dedup import ReceiptLog
from bot.wechat.errors import Refused, StaleRequest, TooLarge
from bot.wechat.messages import MAX_TEXT_BYTES, Inbound, pack_texts, text_reply
from bot.wechat.outbox import Outbox
from bot.wechat.push import Pusher

log = logging.getLogger(__name__)

# WeChat retries within seconds; a day longer is plenty and keeps the table small.
MESSAGE_ID_TTL_SECONDS = 2 * 24 * 3600.0
# A message's lease outlives the reply budget by this much; a retry polls this often.
LEASE_MARGIN_SECONDS = 0.5
CLAIM_POLL_SECONDS = 0.2
REPORT_FORM = "report_rumor_form"
# The platforms' answer for a media id they no longer have (temporary media: 3 days).
MEDIA_GONE = frozenset({40007, 46001})
# A voice reply waits this long after a passive reply went out, so that it follows it.
PASSIVE_FIRST_SECONDS = 1.0
# Uploaded voice is reused for the same text while the platform keeps it (3 days).
VOICE_MEDIA_TTL_SECONDS = 2.5 * 24 * 3600
VOICE_MEDIA_KEPT = 1000


class TurnTexts(list[str]):
    """A turn's texts, and what to read aloud after them ("" for nothing)."""

    speech: str = ""


@dataclass(frozen=True)
class Sealed:
    """A request whose signature and timestamp passed; its content not yet parsed."""

    timestamp: str
    nonce: str
    payload: str | bytes  # ciphertext, or the plain XML body
    encrypted: bool


@dataclass(frozen=True)
class Limits:
    reply_budget: float
    timestamp_window: float
    max_body_bytes: int
    per_sender: int = 20  # messages a minute per user (KEPU_CHAT_RATE_PER_SENDER)
    per_client: int = 1200  # callbacks a minute per address (KEPU_WEBHOOK_RATE_PER_CLIENT)
    proxies: tuple[IPNetwork, ...] = ()  # KEPU_TRUSTED_PROXIES: who may name the client


class CallbackChannel(InputChannel, abc.ABC):
    """A Rasa input channel for a platform that POSTs signed (maybe encrypted) XML."""

    # Body of a 200 that tells the platform "received, no passive reply".
    nothing_to_say = "success"
    # How long the platform lets us push after the user's last message (None: no limit).
    push_window_seconds: float | None = None

    def __init__(
        self,
        limits: Limits,
        api: PlatformApi,
        services: ChannelServices,
        listener: Listener | None = None,
        speaker: Speaker | None = None,
    ) -> None:
        self.limits = limits
        self.api = api
        self.services = services  # settings and the database, shared with the other channels
        services.hold(self)
        self.runner = TurnRunner(services, self.name())
        self.listener = listener or Listener()  # default: WeChat's transcript only
        self.speaker = speaker  # KEPU_TTS: answers to voice messages read aloud (None: off)
        self._voice_media: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._voice_format_missing = False
        self._receipts: ReceiptLog | None = None
        self._pusher: Pusher | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._agent: Any = None  # Rasa's agent, read from the app on the first request
        self.rate_limits = ChatLimits(limits.per_sender, limits.per_client)

    # --- what each platform defines -------------------------------------------------

    @abc.abstractmethod
    def verify_url(self, query: dict[str, str]) -> str:
        """The body answering the platform's GET URL check; raises ``Refused``."""

    @abc.abstractmethod
    def authenticate(self, query: dict[str, str], body: bytes) -> Sealed:
        """Check timestamp and signature; raises ``Refused``. Content is not parsed yet."""

    @abc.abstractmethod
    def open(self, sealed: Sealed) -> Inbound:
        """Decrypt and parse the message; raises ``Refused``."""

    @abc.abstractmethod
    def seal_reply(self, sealed: Sealed, xml: bytes) -> bytes:
        """The passive reply as sent: encrypted if the request was."""

    # --- shared machinery -------------------------------------------------------------

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def receipts(self) -> ReceiptLog:
        if self._receipts is None:
            self._receipts = ReceiptLog(self.db)
        return self._receipts

    @property
    def pusher(self) -> Pusher:
        if self._pusher is None:
            outbox = Outbox(self.db, self.name())
            self._pusher = Pusher(self.api, outbox, self.push_window_seconds)
        return self._pusher

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint(f"kepu_{self.name()}_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            try:
                return response.text(self.verify_url(_query(request)))
            except Refused as exc:
                return self._refuse(exc)

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            started = time.monotonic()
            self._agent = getattr(request.app.ctx, "agent", None)
            forwarded = request.headers.getall("x-forwarded-for", [])
            client = client_of(request.ip, forwarded, self.limits.proxies)
            try:
                return await self.receive(
                    _query(request), request.body or b"", on_new_message, started, client
                )
            except Refused as exc:
                return self._refuse(exc)
            except Exception:  # a bug must not make the platform retry into it
                log.exception("%s webhook failed", self.name())
                return response.text(self.nothing_to_say)

        @bp.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.close()

        return bp

    async def receive(
        self,
        query: dict[str, str],
        body: bytes,
        on_new_message: OnNewMessage,
        started: float,
        client: str = "unknown",
    ) -> HTTPResponse:
        if len(body) > self.limits.max_body_bytes:
            raise TooLarge(len(body), self.limits.max_body_bytes)
        sealed = self.authenticate(query, body)
        await self.check_nonce(sealed, body)
        inbound = self.open(sealed)
        key = f"{self.name()}\0{inbound.dedup_key}"
        deadline = started + self.limits.reply_budget
        if not await self.claim(key, deadline):
            log.info("%s retry of a message already received: not processed again", self.name())
            return response.text(self.nothing_to_say)
        try:
            turn = self.turn_for(inbound, on_new_message)
            if turn is None:
                return response.text(self.nothing_to_say)
            self.pusher.saw(inbound.sender)
            if self.rate_limits.allow(inbound.sender, client):
                # Too fast: a polite passive reply, and the message is not processed.
                turn.close()
                log.info("%s message over the rate limit: not processed", self.name())
                return self.passive(sealed, inbound, TOO_FAST_REPLY)
            return await self.answer(sealed, inbound, turn, deadline)
        finally:  # answered (passively, or "success" and the rest pushed): the lease is kept
            await self.receipts.keep(key, MESSAGE_ID_TTL_SECONDS)

    async def check_nonce(self, sealed: Sealed, body: bytes) -> None:
        """Refuse a nonce used before for a different body (a tampered replay).

        The very same request again is the platform retrying: it goes on to the
        message-id check, which decides whether it still needs an answer.
        """
        window = 2 * self.limits.timestamp_window + 60
        nonce_key = f"{self.name()}\0nonce\0{sealed.timestamp}\0{sealed.nonce}"
        digest = hashlib.sha256(body).hexdigest()
        if not await self.receipts.first_time(f"{nonce_key}\0{digest}", window):
            return  # this exact request was seen: a retry
        if not await self.receipts.first_time(nonce_key, window):
            raise StaleRequest("nonce already used for another request")

    async def claim(self, key: str, deadline: float) -> bool:
        """Whether this request should answer the message ``key``.

        The first request takes a lease as long as the reply budget: the platform
        retries only when it got no answer in 5 seconds, that is, when the
        process answering died. A retry that finds the lease held waits (within
        its own budget) until the message is answered — then it has nothing to
        do — or the lease runs out, and then it answers the message itself.
        """
        lease = self.limits.reply_budget + LEASE_MARGIN_SECONDS
        while True:
            if await self.receipts.first_time(key, lease):
                return True
            # Held: a lease longer than any lease is an answered message.
            if await self.receipts.remaining(key) > lease:
                return False
            if time.monotonic() + CLAIM_POLL_SECONDS >= deadline:
                return False
            await asyncio.sleep(CLAIM_POLL_SECONDS)

    def turn_for(
        self, inbound: Inbound, on_new_message: OnNewMessage
    ) -> Coroutine[Any, Any, list[str]] | None:
        """What answers this message: the assistant, a fixed reply, or nothing (None)."""
        kind = inbound.msg_type
        if kind == "event":
            if inbound.event == "subscribe":
                return self.ask(inbound, replies.WELCOME_TRIGGER, on_new_message)
            if inbound.event == "click":
                return self.ask(inbound, replies.click_text(inbound.event_key), on_new_message)
            return None  # unsubscribe, view, location reports …: nothing to say
        if kind == "text":
            cleaned = self.runner.clean(inbound.content)
            if cleaned.reply:  # empty or too long
                return _fixed(cleaned.reply)
            if self.listener.recent.corrects(inbound.sender, cleaned.text):
                return _fixed(replies.VOICE_CORRECTION)
            return self.ask(inbound, cleaned.text, on_new_message)
        if kind == "voice":
            return self.voice_turn(inbound, on_new_message)
        if kind == "image":
            return self.image_turn(inbound)
        return _fixed(replies.UNSUPPORTED)

    async def voice_turn(self, inbound: Inbound, on_new_message: OnNewMessage) -> list[str]:
        """A voice message: its text answered like typed text, after "您说的是：…"."""
        heard = await self.listener.hear(inbound.recognition, inbound.media_id, self.fetch_voice)
        cleaned = self.runner.clean(heard.text)
        if cleaned.empty:
            return [replies.voice_help(self.name(), heard.problem or "silent")]
        if cleaned.reply:  # too long
            return [cleaned.reply]
        if self.listener.recent.corrects(inbound.sender, cleaned.text):  # a spoken "不对"
            return [replies.VOICE_CORRECTION]
        collector, busy = await self.ask_collected(inbound, cleaned.text, on_new_message)
        self.listener.recent.remember(inbound.sender)
        answer = TurnTexts([heard_reply(cleaned.text), *collector.texts])
        if self.speaker is not None and not busy:  # not a failed turn
            answer.speech = entry_speech(collector)
        return answer

    async def fetch_voice(self, media_id: str, max_bytes: int) -> bytes:
        """A voice message's audio from the media API; raises ``MediaError``."""
        try:
            content, _ = await self.api.media(media_id, max_bytes)
        except MediaTooLarge as exc:
            raise MediaError("too_large", exc.message) from exc
        except ApiError as exc:
            kind = "expired" if exc.code in MEDIA_GONE else "unavailable"
            raise MediaError(kind, f"{exc.code}: {exc.message}") from exc
        return content

    async def image_turn(self, inbound: Inbound) -> list[str]:
        """A picture: evidence if a rumour report is in progress, else acknowledged."""
        step = await self._report_step(inbound.sender)
        if step is None or not inbound.media_id:
            return [replies.IMAGE_RECEIVED]
        try:
            evidence_id = await keep_image(
                self.db,
                sender_id=inbound.sender,
                channel=self.name(),
                media_id=inbound.media_id,
                pic_url=inbound.pic_url,
            )
        except (SQLAlchemyError, OSError):
            log.exception("could not keep a picture sent with a rumour report")
            return [replies.IMAGE_NOT_KEPT]
        if evidence_id is not None:
            self._spawn(self._fetch_image(evidence_id, inbound.media_id))
        ask_claim = step == "rumor_claim"
        return [replies.IMAGE_KEPT_ASK_CLAIM if ask_claim else replies.IMAGE_KEPT_CONTINUE]

    async def _report_step(self, sender: str) -> str | None:
        """The slot the rumour report form is asking for, or None if no report is open."""
        store = getattr(self._agent, "tracker_store", None)
        if store is None:
            return None
        try:
            tracker = await store.retrieve(sender)
        except Exception:
            log.exception("could not read the conversation of a picture's sender")
            return None
        if tracker is None or tracker.active_loop_name != REPORT_FORM:
            return None
        return str(tracker.get_slot("requested_slot") or "")

    async def _fetch_image(self, evidence_id: int, media_id: str) -> None:
        """Keep the picture's bytes: the platform deletes temporary media after 3 days."""
        try:
            content, kind = await self.api.media(media_id, MAX_IMAGE_BYTES)
            if not await store_content(self.db, evidence_id, content, kind):
                log.warning("picture %s not kept: %s, %d bytes", evidence_id, kind, len(content))
        except Exception:  # the media id and link stay; a moderator can still open it
            log.exception("could not fetch picture %s from the platform", evidence_id)

    async def ask(self, inbound: Inbound, text: str, on_new_message: OnNewMessage) -> list[str]:
        """One turn of the assistant; a polite busy reply if it fails or says nothing."""
        collector, _ = await self.ask_collected(inbound, text, on_new_message)
        return collector.texts

    async def ask_collected(
        self, inbound: Inbound, text: str, on_new_message: OnNewMessage
    ) -> tuple[TextCollector, bool]:
        """``ask``'s collector (its texts, which entries it said), and whether it was busy."""
        collector = TextCollector()
        busy = await self.runner.run(
            on_new_message,
            collector,
            inbound.sender,
            text,
            agent=self._agent,
            input_channel=self.name(),
            message_id=inbound.msg_id or None,
            metadata={"msg_type": inbound.msg_type},
        )
        return collector, busy

    async def owed(self, sender: str) -> list[str]:
        """What is owed to ``sender`` on this channel (``TurnRunner.owed``), and messages kept."""
        owed = await self.runner.owed(sender, (self.name(),))
        return owed + await self.pusher.take_waiting(sender)

    async def answer(
        self,
        sealed: Sealed,
        inbound: Inbound,
        turn: Coroutine[Any, Any, list[str]],
        deadline: float,
    ) -> HTTPResponse:
        turn_task = asyncio.ensure_future(turn)
        owed_task = asyncio.ensure_future(self.owed(inbound.sender))
        await asyncio.wait({turn_task, owed_task}, timeout=max(0.0, deadline - time.monotonic()))
        if not (turn_task.done() and owed_task.done()):
            self._spawn(self._answer_late(inbound.sender, turn_task, owed_task))
            return response.text(self.nothing_to_say)
        said = turn_task.result()
        speech = getattr(said, "speech", "")
        texts = said + owed_task.result()
        overhead = len(text_reply(inbound.sender, inbound.account, "", int(time.time())))
        first, *rest = pack_texts(texts, MAX_TEXT_BYTES - overhead) or [BUSY_REPLY]
        if rest:
            self._spawn(self._push_then_speak(inbound.sender, rest, speech))
        elif speech:
            self._spawn(self._speak_after_passive(inbound.sender, speech))
        return self.passive(sealed, inbound, first)

    def passive(self, sealed: Sealed, inbound: Inbound, text: str) -> HTTPResponse:
        """``text`` as the passive reply to ``inbound`` (encrypted if the request was)."""
        xml = text_reply(inbound.sender, inbound.account, text, int(time.time()))
        return response.raw(
            self.seal_reply(sealed, xml), content_type="application/xml; charset=utf-8"
        )

    async def _answer_late(
        self, sender: str, turn: asyncio.Future[list[str]], owed: asyncio.Future[list[str]]
    ) -> None:
        said = await turn
        speech = getattr(said, "speech", "")
        await self._push_then_speak(sender, said + await owed, speech)

    async def _push_then_speak(self, sender: str, texts: list[str], speech: str) -> None:
        await self.pusher.push(sender, texts)
        if speech:
            await self.say_aloud(sender, speech)

    async def _speak_after_passive(self, sender: str, speech: str) -> None:
        await asyncio.sleep(PASSIVE_FIRST_SECONDS)  # the passive reply is on its way first
        await self.say_aloud(sender, speech)

    async def say_aloud(self, sender: str, text: str) -> bool:
        """Send ``text`` read aloud as a voice message; whether it went. Never raises."""
        speaker = self.speaker
        fmt = self.api.voice_format
        if speaker is None:
            return False
        if not speaker.can_encode(fmt):
            if not self._voice_format_missing:  # said once, not for every message
                self._voice_format_missing = True
                log.error(
                    "%s voice replies need %s audio, which this ffmpeg cannot encode: "
                    "answers are not read aloud here",
                    self.name(),
                    fmt.upper(),
                )
            return False
        try:
            media_id = await self._voice_media_id(speaker, text, fmt)
            if media_id is None:
                return False
            await self.api.send_voice(sender, media_id)
        except SpeechFailed as exc:
            log.warning("%s answer not read aloud: %s", self.name(), exc)
        except OutsideWindow:
            log.info("%s voice reply not delivered: the user's window is closed", self.name())
        except ApiError as exc:
            log.warning("%s voice reply not delivered: %s", self.name(), exc)
            if exc.code in MEDIA_GONE:
                self._voice_media.pop(speaker.key(text), None)
        except Exception:  # a bug here must not reach the channel
            log.exception("%s voice reply failed", self.name())
        else:
            return True
        return False

    async def _voice_media_id(self, speaker: Speaker, text: str, fmt: str) -> str | None:
        """The platform's media id of ``text`` read aloud: uploaded once, reused for days."""
        key = speaker.key(text)
        known = self._voice_media.get(key)
        if known is not None and known[1] > time.monotonic():
            self._voice_media.move_to_end(key)
            return known[0]
        speech = await speaker.speak(text, fmt)
        if speech.seconds > VOICE_MAX_SECONDS or len(speech.data) > VOICE_MAX_BYTES:
            log.warning(
                "%s voice reply not sent: %.0f s, %d bytes is over the platform's limit",
                self.name(),
                speech.seconds,
                len(speech.data),
            )
            return None
        media_id = await self.api.upload_media(
            "voice", f"answer.{fmt}", speech.data, speech.content_type
        )
        self._voice_media[key] = (media_id, time.monotonic() + VOICE_MEDIA_TTL_SECONDS)
        while len(self._voice_media) > VOICE_MEDIA_KEPT:
            self._voice_media.popitem(last=False)
        return media_id

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background delivery failed", exc_info=task.exception())

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for answers still being delivered (tests; server shutdown)."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=timeout)

    async def close(self) -> None:
        await self.drain(timeout=10.0)
        await self.api.close()
        await self.listener.close()
        if self.speaker is not None:
            await self.speaker.close()
        self._receipts = None
        self._pusher = None
        await self.services.release(self)  # the last channel to stop closes the database

    def _refuse(self, exc: Refused) -> HTTPResponse:
        log.warning("%s webhook refused a request: %s", self.name(), exc.reason)
        return response.text("refused", status=exc.status)


async def _fixed(text: str) -> list[str]:
    """A reply the channel gives itself, shaped like a turn of the assistant."""
    return [text]


def _query(request: Request) -> dict[str, str]:
    """First value of each query parameter (the platforms never repeat one)."""
    return {key: values[0] for key, values in request.args.items() if values}
