"""Voice message audio path: decode latency per second of audio, and the engine call.

Usage: .venv/bin/python -m bench.voice_audio [--runs 7]

Speech is made here as the tests make it (espeak-ng's Mandarin voice, 8 kHz,
AMR-NB 12.2 kbit/s via libopencore-amrnb; tiled to the lengths below, 1 s of
silence at each end). For each length: ffmpeg decode to 16 kHz mono PCM plus
silence trimming (``bot.voice.audio.decode_voice``), and the whole
``Listener.hear`` path with the Tencent engine against the local simulator
(tests/bot/voice/tencent_sim.py: it checks the TC3 signature but recognises
nothing — a real engine's time is not in these numbers). The local
sherpa-onnx engine cannot run here: no model can be downloaded on this machine.
Prints Markdown; medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import time

import numpy as np
from aiohttp import web

from bot.voice.audio import decode_voice
from bot.voice.listener import Listener
from bot.voice.tencent import TencentEngine
from tests.bot.voice import sounds
from tests.bot.voice.tencent_sim import SECRET_ID, SECRET_KEY, TencentAsrSimulator

LENGTHS = (3, 10, 30, 60)  # seconds of speech in the message


def amr_of(seconds: float, sentence: np.ndarray) -> bytes:
    repeats = int(np.ceil(seconds * 8000 / len(sentence)))
    speech = np.tile(sentence, repeats)[: int(seconds * 8000)]
    silence = np.zeros(8000, dtype=np.int16)
    return sounds.amr_nb(np.concatenate([silence, speech, silence]))


async def timed(work, runs: int) -> float:
    """Median milliseconds of ``runs`` calls (after one warm-up)."""
    await work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def main(runs: int) -> None:
    sounds.require_tools()
    sentence = sounds.pcm8k(sounds.speak_wav(), pad_before=0, pad_after=0)
    sim = TencentAsrSimulator()
    runner = web.AppRunner(sim.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    engine = TencentEngine(SECRET_ID, SECRET_KEY, url=f"http://127.0.0.1:{port}/")
    listener = Listener("tencent", engine)
    print(f"machine: {platform.machine()}, python {platform.python_version()}; runs: {runs}")
    print()
    print(
        "| audio (s) | AMR bytes | decode + trim (ms) | ms per audio second | "
        "fetch→decode→Tencent simulator (ms) | of which engine call (ms) |"
    )
    print("|---|---|---|---|---|---|")
    try:
        for seconds in LENGTHS:
            amr = amr_of(seconds, sentence)
            total = seconds + 2

            async def fetch(media_id: str, max_bytes: int, amr: bytes = amr) -> bytes:
                return amr

            decode_ms = await timed(lambda amr=amr: decode_voice(amr), runs)
            pcm = await decode_voice(amr)
            engine_ms = await timed(lambda pcm=pcm: engine.recognize(pcm.data), runs)
            hear_ms = await timed(lambda fetch=fetch: listener.hear("", "m", fetch), runs)
            print(
                f"| {total} | {len(amr)} | {decode_ms:.0f} | {decode_ms / total:.1f} | "
                f"{hear_ms:.0f} | {engine_ms:.0f} |"
            )
    finally:
        await listener.close()
        await runner.cleanup()
    assert not sim.refused, sim.refused


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    asyncio.run(main(parser.parse_args().runs))
