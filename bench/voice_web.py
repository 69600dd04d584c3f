"""The web chat's hold-to-talk upload, end to end: clip in, answer out.

Usage: .venv/bin/python -m bench.voice_web [--runs 5]

Clips are made as the tests make them (espeak-ng's Mandarin voice tiled to the
lengths below, half a second of silence at each end, Opus 32 kbit/s in WebM as
Chromium's MediaRecorder writes it). Each is POSTed to ``/api/v1/chat/voice``
of the real app (in-process, loopback HTTP), which reads it, decodes it with
ffmpeg, sends the PCM to the Tencent engine — against the local simulator
(tests/bot/voice/tencent_sim.py: it checks the TC3 signature, recognises
nothing) — and asks a stand-in Rasa that answers at once. A real engine's and
Rasa's time are not in these numbers. Prints Markdown; medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.fraud.checker import default_checker
from bot.knowledge.service import KnowledgeService
from bot.settings import Settings
from bot.web.app import create_app
from tests.bot.voice.tencent_sim import SECRET_ID, SECRET_KEY, TencentAsrSimulator
from tests.bot.web.voice_clips import opus, spoken_samples

LENGTHS = (3, 10, 30, 60)  # seconds of speech in the clip


def clip_of(seconds: float, sentence: np.ndarray) -> bytes:
    repeats = int(np.ceil(seconds * 8000 / len(sentence)))
    speech = np.tile(sentence, repeats)[: int(seconds * 8000)]
    silence = np.zeros(4000, dtype=np.int16)
    return opus(np.concatenate([silence, speech, silence]), "webm")


async def rasa_answer(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response([{"recipient_id": body["sender"], "text": "收到"}])


async def main(runs: int) -> None:
    sentence = spoken_samples()
    sim = TencentAsrSimulator(transcript="稻子生虫了怎么办")
    rasa = web.Application()
    rasa.router.add_post("/webhooks/rest/webhook", rasa_answer)
    async with TestServer(sim.app()) as asr, TestServer(rasa) as rasa_server:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "kb").mkdir()
            settings = Settings(
                var_dir=Path(tmp),
                rasa_url=str(rasa_server.make_url("")).rstrip("/"),
                chat_rate_per_sender=100_000,
                chat_rate_per_client=100_000,
                asr="tencent",
                tencent_secret_id=SECRET_ID,
                tencent_secret_key=SECRET_KEY,
                tencent_asr_url=str(asr.make_url("/")),
            )
            kb = KnowledgeService(Path(tmp) / "kb")
            app = create_app(settings, knowledge=kb, fraud=default_checker())
            async with TestClient(TestServer(app)) as client:
                await client.get("/")
                machine = f"{platform.machine()}, python {platform.python_version()}"
                print(f"machine: {machine}; runs: {runs}\n")
                print("| speech (s) | WebM bytes | upload→answer (ms) | ms per audio second |")
                print("|---|---|---|---|")
                for seconds in LENGTHS:
                    clip = clip_of(seconds, sentence)
                    times = []
                    for run in range(runs + 1):  # the first is a warm-up
                        started = time.perf_counter()
                        resp = await client.post(
                            "/api/v1/chat/voice", data=clip, headers={"Content-Type": "audio/webm"}
                        )
                        body = await resp.json()
                        assert resp.status == 200 and body.get("heard"), body
                        if run:
                            times.append((time.perf_counter() - started) * 1000)
                    ms = statistics.median(times)
                    print(f"| {seconds} | {len(clip)} | {ms:.0f} | {ms / seconds:.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
