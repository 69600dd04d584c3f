"""Local recognition with sherpa-onnx and a streaming Zipformer transducer model
the operator installs (``KEPU_ASR_MODEL_DIR``; see ``bot/voice/models.json``).

sherpa-onnx is imported and the model loaded on the first voice message, in a
worker thread; one message is decoded at a time (the model uses the CPU).
What can be checked without loading — the package is installed, the files are
there — is checked when the engine is built, so a broken set-up stops the
start with a clear message instead of failing at the first user.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
from pathlib import Path
from typing import Any

import numpy as np

from bot.voice.errors import RecognitionFailed, VoiceSetupError
from bot.voice.models import missing_roles, model_files, model_spec

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
TAIL_SECONDS = 0.66  # silence fed after the audio so the streaming model emits its last tokens


class LocalEngine:
    """sherpa-onnx ``OnlineRecognizer.from_transducer`` over whole voice messages."""

    name = "local"

    def __init__(self, model_dir: Path | None, threads: int = 1) -> None:
        if importlib.util.find_spec("sherpa_onnx") is None:
            raise VoiceSetupError(
                "KEPU_ASR=local needs the sherpa-onnx package, which is not installed: "
                "run `.venv/bin/pip install sherpa-onnx`, or choose another KEPU_ASR"
            )
        if model_dir is None or not model_dir.is_dir():
            raise VoiceSetupError(
                f"KEPU_ASR=local needs KEPU_ASR_MODEL_DIR, a directory with the model "
                f"{model_spec()['name']} (got {model_dir}); `kepu asr check` says where it is "
                "published"
            )
        missing = missing_roles(model_dir)
        if missing:
            raise VoiceSetupError(
                f"KEPU_ASR_MODEL_DIR={model_dir} lacks {', '.join(missing)}; "
                "`kepu asr check` lists the files and where they are published"
            )
        self.model_dir = model_dir
        self.threads = threads
        self._recognizer: Any = None
        self._busy = asyncio.Lock()

    def _load(self) -> Any:
        if self._recognizer is None:
            sherpa_onnx = importlib.import_module("sherpa_onnx")
            files = model_files(self.model_dir)
            self._recognizer = sherpa_onnx.OnlineRecognizer.from_transducer(
                tokens=str(files["tokens"]),
                encoder=str(files["encoder"]),
                decoder=str(files["decoder"]),
                joiner=str(files["joiner"]),
                num_threads=self.threads,
                sample_rate=SAMPLE_RATE,
                feature_dim=80,
                decoding_method="greedy_search",
            )
            log.info("local speech model loaded from %s", self.model_dir)
        return self._recognizer

    def _recognize(self, pcm16k: bytes) -> str:
        recognizer = self._load()
        samples = np.frombuffer(pcm16k, dtype="<i2").astype(np.float32) / 32768.0
        stream = recognizer.create_stream()
        stream.accept_waveform(SAMPLE_RATE, samples)
        stream.accept_waveform(SAMPLE_RATE, np.zeros(int(TAIL_SECONDS * SAMPLE_RATE), np.float32))
        stream.input_finished()
        while recognizer.is_ready(stream):
            recognizer.decode_stream(stream)
        result = recognizer.get_result(stream)
        text = result if isinstance(result, str) else getattr(result, "text", "")
        return str(text).strip()

    async def recognize(self, pcm16k: bytes) -> str | None:
        """The text, or None for no audio or no words; one message at a time, in a thread."""
        if not pcm16k:
            return None
        async with self._busy:
            try:
                text = await asyncio.to_thread(self._recognize, pcm16k)
            except Exception as exc:  # a model that cannot load or run: fail this message
                raise RecognitionFailed(f"local: {type(exc).__name__}: {exc}") from exc
        return text or None

    async def close(self) -> None:
        """Drop the loaded model (it is loaded again for the next message)."""
        self._recognizer = None
