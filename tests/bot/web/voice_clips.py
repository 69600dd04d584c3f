"""Clips as the chat page's recorder writes them, made in the test run: espeak-ng
speaks, ffmpeg encodes Opus in WebM (Chromium's MediaRecorder) or in Ogg
(Firefox's). The tools are installed or the test skipped, as in
``tests.bot.voice.sounds``."""

from __future__ import annotations

import functools
import shutil
import subprocess

import numpy as np

from tests.bot.voice.sounds import _need, pcm8k, speak_wav

SENTENCE = "AED怎么用"


def require_tools() -> None:
    _need("ffmpeg", shutil.which("ffmpeg") is not None, "it encodes and decodes the clips")
    _need("espeak-ng", shutil.which("espeak-ng") is not None, "it speaks the test sentences")


def opus(samples: np.ndarray, container: str, rate: int = 8000) -> bytes:
    """int16 mono samples as Opus in ``container`` ("webm" or "ogg"), 32 kbit/s."""
    done = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", str(rate)]
        + ["-ac", "1", "-i", "pipe:0", "-c:a", "libopus", "-b:a", "32k", "-f", container]
        + ["pipe:1"],
        input=samples.astype("<i2").tobytes(),
        capture_output=True,
        timeout=60,
        check=True,
    )
    return done.stdout


@functools.cache
def spoken_samples(text: str = SENTENCE) -> np.ndarray:
    """``text`` spoken at 8 kHz with half a second of silence at each end."""
    require_tools()
    return pcm8k(speak_wav(text), pad_before=0.5, pad_after=0.5)


def spoken_wav_file(path: str, text: str = SENTENCE) -> str:
    """``text`` spoken, as a 16-bit 48 kHz mono WAV file (Chromium's fake microphone)."""
    require_tools()
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", "pipe:0"]
        + ["-af", "apad=pad_dur=1", "-ac", "1", "-ar", "48000", "-c:a", "pcm_s16le", path],
        input=speak_wav(text),
        capture_output=True,
        timeout=60,
        check=True,
    )
    return path
