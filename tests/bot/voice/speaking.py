"""The test engine behind a real speaker: ``tone`` (``bot.voice.synth.ToneEngine``)
in a real worker process, a real disk cache and real ffmpeg encoding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.voice.speaker import Speaker
from bot.voice.speech_cache import SpeechCache


def tone_speaker(directory: Path, max_bytes: int = 10 * 1024 * 1024, **options: Any) -> Speaker:
    return Speaker("tone", SpeechCache(directory / "speech", max_bytes), **options)
