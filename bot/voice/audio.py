"""Voice message audio → 16 kHz mono 16-bit PCM, leading and trailing silence trimmed.

ffmpeg decodes (a subprocess with argument list, no shell, fed through
stdin and read from stdout: nothing is written to disk) and resamples; the
format is recognised from the file's first bytes and ffmpeg is told that
demuxer only, so it never guesses at untrusted input. Silence at either end
is cut with a frame-energy threshold in numpy, and the result is capped at
``max_seconds`` of sound.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass

import numpy as np

from bot.voice.errors import AudioError, UnsupportedAudio

SAMPLE_RATE = 16000
BYTES_PER_SECOND = SAMPLE_RATE * 2
MAX_VOICE_BYTES = 2 * 1024 * 1024  # a 60-second AMR voice message is about 100 kB
MAX_SECONDS = 60.0  # the platforms' own limit for one voice message
DECODE_TIMEOUT = 10.0
# ffmpeg stops reading after this much input: bounds its work on a crafted file.
MAX_INPUT_SECONDS = 2 * MAX_SECONDS

# Silence trimming: 20 ms frames; a frame is sound when its RMS exceeds both a
# floor (about -46 dBFS) and a share of the loudest frame; a margin is kept.
FRAME = SAMPLE_RATE // 50
SILENCE_FLOOR = 160.0
RELATIVE_THRESHOLD = 0.03
MARGIN_SECONDS = 0.2

# First bytes -> ffmpeg demuxer. WeChat and WeCom send AMR; Speex arrives in Ogg;
# the web chat's recorder (MediaRecorder) writes Opus in WebM (Chromium) or Ogg (Firefox).
_MAGIC = (
    (b"#!AMR", "amr"),  # AMR-NB ("#!AMR\n") and AMR-WB ("#!AMR-WB\n")
    (b"OggS", "ogg"),  # Speex or Opus in Ogg
    (b"RIFF", "wav"),
    (b"\x1a\x45\xdf\xa3", "matroska"),  # EBML: WebM (Matroska) with Opus
)
_SILK = (b"#!SILK", b"\x02#!SILK")  # WeChat's app-internal codec: ffmpeg has no decoder


@dataclass(frozen=True)
class Pcm:
    """Decoded audio: 16 kHz mono signed 16-bit little-endian samples."""

    data: bytes
    seconds: float  # after trimming and capping
    decoded_seconds: float  # as decoded, before trimming

    def __bool__(self) -> bool:
        return bool(self.data)


def sniff(data: bytes) -> str:
    """The ffmpeg demuxer for ``data``; raises ``UnsupportedAudio`` for anything else."""
    if data.startswith(_SILK):
        raise UnsupportedAudio("SILK audio (no decoder)")
    for magic, demuxer in _MAGIC:
        if data.startswith(magic):
            return demuxer
    raise UnsupportedAudio(f"unknown audio format (starts {data[:8]!r})")


def ffmpeg_path() -> str | None:
    """The ffmpeg on PATH, or None if it is not installed."""
    return shutil.which("ffmpeg")


def ffmpeg_pipe(ffmpeg: str) -> list[str]:
    """ffmpeg quiet, on one thread, reading and writing pipes only."""
    quiet = ["-hide_banner", "-loglevel", "error", "-threads", "1"]
    return [ffmpeg, *quiet, "-protocol_whitelist", "pipe"]


def ffmpeg_argv(ffmpeg: str, demuxer: str) -> list[str]:
    """ffmpeg decoding ``demuxer`` from stdin to 16 kHz mono s16le on stdout, input capped."""
    return [
        *ffmpeg_pipe(ffmpeg),
        "-f",
        demuxer,
        "-i",
        "pipe:0",
        "-t",
        str(MAX_INPUT_SECONDS),
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "-f",
        "s16le",
        "-acodec",
        "pcm_s16le",
        "pipe:1",
    ]


async def to_pcm16k(data: bytes, timeout: float = DECODE_TIMEOUT) -> bytes:
    """Decode ``data`` with ffmpeg to 16 kHz mono s16le; raises ``AudioError``."""
    if len(data) > MAX_VOICE_BYTES:
        raise AudioError(f"audio larger than {MAX_VOICE_BYTES} bytes")
    demuxer = sniff(data)
    ffmpeg = ffmpeg_path()
    if ffmpeg is None:
        raise AudioError("ffmpeg is not installed")
    process = await asyncio.create_subprocess_exec(
        *ffmpeg_argv(ffmpeg, demuxer),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(data), timeout)
    except asyncio.TimeoutError:
        raise AudioError(f"ffmpeg took longer than {timeout:.0f} s") from None
    finally:
        if process.returncode is None:  # timed out or cancelled: never leave it running
            process.kill()
            await process.wait()
    if process.returncode != 0:
        message = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise AudioError(f"ffmpeg failed ({process.returncode}): {message[0][:200]}")
    return out[: len(out) - len(out) % 2]


def trim_silence(pcm: bytes, max_seconds: float = MAX_SECONDS) -> bytes:
    """``pcm`` without silence at either end, at most ``max_seconds`` long; b"" if silent."""
    samples = np.frombuffer(pcm, dtype="<i2")
    frames = len(samples) // FRAME
    if frames == 0:
        return b""
    blocks = samples[: frames * FRAME].astype(np.float32).reshape(frames, FRAME)
    rms = np.sqrt(np.mean(blocks * blocks, axis=1))
    threshold = max(SILENCE_FLOOR, RELATIVE_THRESHOLD * float(rms.max()))
    loud = np.flatnonzero(rms > threshold)
    if loud.size == 0:
        return b""
    margin = int(MARGIN_SECONDS * SAMPLE_RATE)
    start = max(0, int(loud[0]) * FRAME - margin)
    end = min(len(samples), (int(loud[-1]) + 1) * FRAME + margin)
    end = min(end, start + int(max_seconds * SAMPLE_RATE))
    return samples[start:end].tobytes()


async def decode_voice(data: bytes, max_seconds: float = MAX_SECONDS) -> Pcm:
    """A voice message as trimmed 16 kHz PCM (empty if it holds no sound)."""
    raw = await to_pcm16k(data)
    trimmed = trim_silence(raw, max_seconds)
    return Pcm(trimmed, len(trimmed) / BYTES_PER_SECOND, len(raw) / BYTES_PER_SECOND)
