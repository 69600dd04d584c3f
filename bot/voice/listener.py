"""From a voice message to text: WeChat's transcript or an engine's, chosen by settings.

``KEPU_ASR``:

- ``wechat`` (default): WeChat's ``<Recognition>`` when it is there; otherwise
  no text, and the channel teaches the user to convert the voice themselves;
- ``local`` / ``tencent``: the audio is fetched, decoded and recognised when
  ``<Recognition>`` is empty (WeCom never sends one), or always with
  ``KEPU_ASR_PREFER=engine``; WeChat's transcript is the fallback if the
  engine fails;
- ``none``: no recognition at all (the same teaching reply).

Every failure ends in a ``Heard`` with a ``problem`` the channel turns into a
kind reply, never an exception.
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.settings import Settings
from bot.voice.audio import MAX_SECONDS, MAX_VOICE_BYTES, decode_voice, ffmpeg_path
from bot.voice.errors import AudioError, RecognitionFailed, VoiceSetupError

log = logging.getLogger(__name__)

ASR_MODES = ("wechat", "local", "tencent", "none")
ASR_PREFER = ("wechat", "engine")


class Engine(Protocol):
    """A speech recognizer: 16 kHz mono s16le PCM in, text (or None) out."""

    name: str

    async def recognize(self, pcm16k: bytes) -> str | None:
        """The words said, or None if none; raises ``RecognitionFailed``."""

    async def close(self) -> None:
        """Release what the engine holds (a loaded model, an HTTP session)."""


class MediaError(Exception):
    """The platform did not hand over the audio; ``kind`` says why."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind  # "expired" | "too_large" | "unavailable"


# media id, size cap -> the file's bytes; raises MediaError
FetchMedia = Callable[[str, int], Awaitable[bytes]]

# What the channel replies to, when there is no text.
NOT_CONFIGURED = "none"
EXPIRED = "expired"
TOO_LARGE = "too_large"
UNAVAILABLE = "unavailable"
UNREADABLE = "unreadable"
SILENT = "silent"
FAILED = "failed"


@dataclass(frozen=True)
class Heard:
    """What a voice message said: ``text`` and its ``source``, or a ``problem``."""

    text: str = ""
    source: str = ""  # "wechat" | engine name
    problem: str = ""


def build_engine(settings: Settings) -> Engine | None:
    """The engine ``KEPU_ASR`` names (None for wechat and none); raises ``VoiceSetupError``."""
    if settings.asr not in ("local", "tencent"):
        return None
    if ffmpeg_path() is None:
        raise VoiceSetupError(
            f"KEPU_ASR={settings.asr} needs ffmpeg to decode voice messages: "
            "apt-get install ffmpeg (scripts/bootstrap.sh installs it)"
        )
    if settings.asr == "local":
        from bot.voice.local import LocalEngine

        return LocalEngine(settings.asr_model_dir)
    from bot.voice.tencent import TencentEngine

    return TencentEngine(
        settings.tencent_secret_id,
        settings.tencent_secret_key,
        region=settings.tencent_region,
        url=settings.tencent_asr_url,
        engine_type=settings.tencent_asr_engine,
    )


class Listener:
    """Turns voice messages into text for one channel."""

    def __init__(
        self,
        mode: str = "wechat",
        engine: Engine | None = None,
        prefer_engine: bool = False,
        max_bytes: int = MAX_VOICE_BYTES,
        max_seconds: float = MAX_SECONDS,
    ) -> None:
        self.mode = mode
        self.engine = engine
        self.prefer_engine = prefer_engine
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.recent = RecentTranscripts()

    @classmethod
    def from_settings(cls, settings: Settings) -> Listener:
        """The listener ``KEPU_ASR`` and ``KEPU_ASR_PREFER`` ask for; raises ``VoiceSetupError``."""
        return cls(settings.asr, build_engine(settings), settings.asr_prefer == "engine")

    async def hear(self, recognition: str, media_id: str, fetch: FetchMedia) -> Heard:
        """The text of one voice message; ``fetch`` gets its audio from the platform."""
        wechat = recognition.strip()
        if self.mode == "none":
            return Heard(problem=NOT_CONFIGURED)
        if wechat and (self.engine is None or not self.prefer_engine):
            return Heard(wechat, "wechat")
        if self.engine is None:
            return Heard(problem=NOT_CONFIGURED)
        heard = await self._recognize(self.engine, media_id, fetch)
        if not heard.text and wechat:  # the engine failed: WeChat's transcript will do
            return Heard(wechat, "wechat")
        return heard

    async def _recognize(self, engine: Engine, media_id: str, fetch: FetchMedia) -> Heard:
        if not media_id:
            return Heard(problem=UNREADABLE)
        try:
            data = await fetch(media_id, self.max_bytes)
        except MediaError as exc:
            log.warning("voice media not fetched: %s", exc)
            return Heard(problem=exc.kind)
        except Exception:
            log.exception("voice media not fetched")
            return Heard(problem=UNAVAILABLE)
        started = time.monotonic()
        try:
            pcm = await decode_voice(data, self.max_seconds)
        except (AudioError, OSError) as exc:  # OSError: ffmpeg could not be started
            log.warning("voice message not decoded: %s", exc)
            return Heard(problem=UNREADABLE)
        if not pcm:
            return Heard(problem=SILENT)
        decoded = time.monotonic()
        try:
            text = await engine.recognize(pcm.data)
        except RecognitionFailed as exc:
            log.warning("voice message not recognised: %s", exc)
            return Heard(problem=FAILED)
        except Exception:  # an engine bug must not cost the user an answer
            log.exception("speech engine %s failed", engine.name)
            return Heard(problem=FAILED)
        log.info(
            "voice %.1f s (%.1f s decoded): decode %.0f ms, %s %.0f ms",
            pcm.seconds,
            pcm.decoded_seconds,
            (decoded - started) * 1000,
            engine.name,
            (time.monotonic() - decoded) * 1000,
        )
        if not text or not text.strip():
            return Heard(problem=SILENT)
        return Heard(text.strip(), engine.name)

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.close()


# A reply to "您说的是：…" saying the transcript is wrong. Not "不是": it also
# answers the assistant's own questions ("都不是的话，回复“不是”"), which may come
# with the same reply, so it never means "you heard me wrong".
_CORRECTIONS = frozenset({"不对", "错了", "听错了", "说错了", "识别错了", "不对不对"})
_PUNCTUATION = re.compile(r"[\s，。！？、,.!?~～…]+")


def heard_reply(text: str) -> str:
    """The transcript quoted back before its answer (web chat, WeChat, WeCom), so a
    wrong one can be put right with "不对" (``RecentTranscripts.corrects``)."""
    return f"您说的是：“{text}”（听错了请回复“不对”）"


class RecentTranscripts:
    """Who was just answered from a transcript, so that "不对" can be taken as a correction.

    Only the very next message counts, within ``window`` seconds; kept in
    memory (a sender's messages reach one Rasa process) and bounded.
    """

    def __init__(self, window: float = 600.0, capacity: int = 10000) -> None:
        self.window = window
        self.capacity = capacity
        self._at: OrderedDict[str, float] = OrderedDict()

    def remember(self, sender: str) -> None:
        """Note ``sender`` was just answered from a transcript; the oldest go past capacity."""
        self._at[sender] = time.monotonic()
        self._at.move_to_end(sender)
        while len(self._at) > self.capacity:
            self._at.popitem(last=False)

    def corrects(self, sender: str, text: str) -> bool:
        """Whether ``text`` rejects the transcript ``sender`` was just answered from."""
        at = self._at.pop(sender, None)
        if at is None or time.monotonic() - at > self.window:
            return False
        return _PUNCTUATION.sub("", text) in _CORRECTIONS
