"""Real speech made during the test run: espeak-ng speaks Chinese to WAV, ffmpeg
resamples it to 8 kHz with silence around it, and the AMR-NB encoder of
libopencore-amrnb (Debian's package; Debian's ffmpeg decodes AMR but has no AMR
encoder) writes the "#!AMR" file a WeChat voice message is. Speex in Ogg comes
from ffmpeg's libspeex encoder.

The tools are Debian packages: installed with apt-get when missing and
possible (root, apt), otherwise the test is skipped saying why — and under
CI=true it fails (``tests.conftest.service_absent``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

from tests.conftest import service_absent

SENTENCE = "稻子生虫了怎么办"
AMR_MAGIC = b"#!AMR\n"
AMR_MODE_122 = 7  # MR122: 12.2 kbit/s, what phones record
AMR_FRAME = 160  # samples per 20 ms frame at 8 kHz


def _installed(package: str, present: bool) -> bool:
    """Install ``package`` with apt-get if it is missing and that is possible."""
    if present:
        return True
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Another apt (a second test run, the set-up) may hold the lock: wait for it.
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=300"]
    install = [*apt, "install", "-y", "-qq", package]
    for step in ([], [*apt, "update", "-qq"]):  # a fresh machine needs the lists first
        if step:
            subprocess.run(step, env=env, capture_output=True, timeout=600, check=False)
        done = subprocess.run(install, env=env, capture_output=True, timeout=600, check=False)
        if done.returncode == 0:
            return True
    return False


def _need(package: str, present: bool, why: str) -> None:
    if not _installed(package, present):
        service_absent(
            f"{package} is missing and could not be installed (needs root and apt-get): {why}"
        )


@functools.cache
def _amrnb() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("opencore-amrnb") or "libopencore-amrnb.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.Encoder_Interface_init.restype = ctypes.c_void_p
    lib.Encoder_Interface_init.argtypes = [ctypes.c_int]
    lib.Encoder_Interface_Encode.restype = ctypes.c_int
    lib.Encoder_Interface_Encode.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_short),
        ctypes.c_char_p,
        ctypes.c_int,
    ]
    lib.Encoder_Interface_exit.argtypes = [ctypes.c_void_p]
    return lib


def require_tools() -> None:
    """ffmpeg, espeak-ng and the AMR-NB encoder, or skip (fail under CI) saying why."""
    _need("ffmpeg", shutil.which("ffmpeg") is not None, "it decodes voice messages")
    _need("espeak-ng", shutil.which("espeak-ng") is not None, "it speaks the test sentences")
    if _amrnb() is None:
        _amrnb.cache_clear()
        _need("libopencore-amrnb0", False, "its encoder writes the AMR test files")
        _amrnb.cache_clear()
        if _amrnb() is None:
            service_absent("libopencore-amrnb0 installed but its library does not load")


def speak_wav(text: str = SENTENCE) -> bytes:
    """espeak-ng's Mandarin voice saying ``text``, as a WAV file's bytes."""
    done = subprocess.run(
        ["espeak-ng", "-v", "cmn", "-s", "150", "--stdout", text],
        capture_output=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def pcm8k(wav: bytes, pad_before: float = 1.0, pad_after: float = 1.0) -> np.ndarray:
    """``wav`` as 8 kHz mono int16 with seconds of silence added before and after."""
    done = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", "pipe:0"]
        + ["-ac", "1", "-ar", "8000", "-f", "s16le", "pipe:1"],
        input=wav,
        capture_output=True,
        timeout=60,
        check=True,
    )
    speech = np.frombuffer(done.stdout, dtype="<i2")
    before = np.zeros(int(pad_before * 8000), dtype=np.int16)
    after = np.zeros(int(pad_after * 8000), dtype=np.int16)
    return np.concatenate([before, speech, after])


def amr_nb(samples: np.ndarray) -> bytes:
    """8 kHz int16 samples as an AMR-NB file (12.2 kbit/s), as phones record voice messages."""
    lib = _amrnb()
    assert lib is not None, "call require_tools() first"
    state = lib.Encoder_Interface_init(0)
    out = bytearray(AMR_MAGIC)
    frame_out = ctypes.create_string_buffer(64)
    try:
        for start in range(0, len(samples) - AMR_FRAME + 1, AMR_FRAME):
            frame = np.ascontiguousarray(samples[start : start + AMR_FRAME], dtype=np.int16)
            pointer = frame.ctypes.data_as(ctypes.POINTER(ctypes.c_short))
            size = lib.Encoder_Interface_Encode(state, AMR_MODE_122, pointer, frame_out, 0)
            out += frame_out.raw[:size]
    finally:
        lib.Encoder_Interface_exit(state)
    return bytes(out)


def speex_ogg(samples: np.ndarray) -> bytes:
    """8 kHz int16 samples as Speex in Ogg (ffmpeg's libspeex encoder)."""
    done = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", "8000"]
        + ["-ac", "1", "-i", "pipe:0", "-c:a", "libspeex", "-f", "ogg", "pipe:1"],
        input=samples.astype("<i2").tobytes(),
        capture_output=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def speech_seconds(samples: np.ndarray, rate: int = 8000) -> float:
    """Seconds from the first to the last sample that is not silence."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 300)
    return 0.0 if loud.size == 0 else (int(loud[-1]) - int(loud[0])) / rate


@dataclass(frozen=True)
class Spoken:
    """One sentence spoken by espeak-ng, with 1 s of silence before and after."""

    samples8k: np.ndarray
    amr: bytes
    speex: bytes
    speech_seconds: float  # first to last sound

    @property
    def total_seconds(self) -> float:
        return len(self.samples8k) / 8000


def spoken_sentence(text: str = SENTENCE) -> Spoken:
    """``text`` spoken, as 8 kHz samples, AMR-NB and Speex (tools installed or skipped)."""
    require_tools()
    samples = pcm8k(speak_wav(text), pad_before=1.0, pad_after=1.0)
    return Spoken(samples, amr_nb(samples), speex_ogg(samples), speech_seconds(samples))
