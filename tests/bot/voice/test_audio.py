"""Decoding voice messages: real speech (espeak-ng) as AMR-NB and Speex, through ffmpeg
to 16 kHz mono PCM with the silence at both ends trimmed."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import numpy as np
import pytest

from bot.voice import audio
from bot.voice.audio import MARGIN_SECONDS, SAMPLE_RATE, decode_voice, to_pcm16k, trim_silence
from bot.voice.errors import AudioError, UnsupportedAudio
from tests.bot.voice import sounds


async def test_amr_becomes_16k_mono_pcm_of_the_right_length(spoken) -> None:
    raw = await to_pcm16k(spoken.amr)
    assert len(raw) % 2 == 0
    # 16 kHz mono s16le: twice the 8 kHz samples (the AMR file holds whole 20 ms frames).
    frames = len(spoken.samples8k) // sounds.AMR_FRAME
    assert abs(len(raw) // 2 - frames * sounds.AMR_FRAME * 2) <= 2 * sounds.AMR_FRAME
    samples = np.frombuffer(raw, dtype="<i2")
    assert np.abs(samples.astype(np.int32)).max() > 3000  # speech survived the codec


async def test_silence_around_the_speech_is_trimmed(spoken) -> None:
    pcm = await decode_voice(spoken.amr)
    assert pcm.decoded_seconds == pytest.approx(spoken.total_seconds, abs=0.05)
    # 2 s of silence added around the sentence: all but the margins is gone.
    assert pcm.seconds < spoken.total_seconds - 1.5
    assert pcm.seconds == pytest.approx(spoken.speech_seconds + 2 * MARGIN_SECONDS, abs=0.25)
    assert 1.0 < pcm.seconds < 10.0  # a short sentence, plausibly long
    assert len(pcm.data) == int(pcm.seconds * SAMPLE_RATE) * 2


async def test_speex_in_ogg_decodes_too(spoken) -> None:
    pcm = await decode_voice(spoken.speex)
    assert pcm.seconds == pytest.approx(spoken.speech_seconds + 2 * MARGIN_SECONDS, abs=0.35)


async def test_a_silent_message_decodes_to_nothing(spoken) -> None:
    silent = sounds.amr_nb(np.zeros(8000 * 3, dtype=np.int16))
    pcm = await decode_voice(silent)
    assert not pcm and pcm.seconds == 0.0
    assert pcm.decoded_seconds == pytest.approx(3.0, abs=0.05)


async def test_long_audio_is_capped_at_60_seconds(spoken) -> None:
    repeats = int(70 / spoken.total_seconds) + 1
    long_amr = sounds.amr_nb(np.tile(spoken.samples8k, repeats))
    pcm = await decode_voice(long_amr)
    assert pcm.decoded_seconds > 65
    assert pcm.seconds == pytest.approx(60.0, abs=0.01)


@pytest.mark.parametrize(
    "data",
    [b"#!SILK_V3" + bytes(100), b"\x02#!SILK_V3" + bytes(100), b"ID3\x03" + bytes(100), b""],
)
async def test_formats_not_asked_of_ffmpeg_are_refused(data: bytes) -> None:
    with pytest.raises(UnsupportedAudio):
        await decode_voice(data)


async def test_a_broken_file_is_an_audio_error(spoken) -> None:
    with pytest.raises(AudioError):
        await decode_voice(b"RIFF" + os.urandom(2000))


async def test_oversize_audio_never_reaches_ffmpeg(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_ffmpeg(*args, **kwargs):
        raise AssertionError("ffmpeg started")

    monkeypatch.setattr(asyncio, "create_subprocess_exec", no_ffmpeg)
    with pytest.raises(AudioError, match="larger than"):
        await to_pcm16k(b"#!AMR\n" + bytes(audio.MAX_VOICE_BYTES))


async def test_a_hanging_decoder_is_killed_at_the_timeout(
    spoken, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audio, "ffmpeg_argv", lambda ffmpeg, demuxer: ["sleep", "30"])
    started = asyncio.get_running_loop().time()
    with pytest.raises(AudioError, match="longer than"):
        await to_pcm16k(spoken.amr, timeout=0.5)
    assert asyncio.get_running_loop().time() - started < 5


async def test_no_file_is_written(spoken, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    await decode_voice(spoken.amr)
    assert list(tmp_path.iterdir()) == []


def test_trim_keeps_a_margin_around_the_sound() -> None:
    rate = SAMPLE_RATE
    tone = (8000 * np.sin(np.arange(rate) * 2 * np.pi * 440 / rate)).astype(np.int16)
    quiet = np.zeros(2 * rate, dtype=np.int16)
    noise = np.random.default_rng(1).normal(0, 30, 2 * rate).astype(np.int16)  # -60 dBFS hiss
    trimmed = trim_silence(np.concatenate([quiet, noise, tone, noise, quiet]).tobytes())
    assert len(trimmed) // 2 == pytest.approx(rate * (1 + 2 * MARGIN_SECONDS), abs=rate * 0.05)
    assert trim_silence(np.concatenate([quiet, noise]).tobytes()) == b""
    assert trim_silence(b"") == b""
