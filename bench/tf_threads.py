"""One user at a time: does `kepu run`'s TensorFlow setting (one thread per pool)
cost a lone message any latency?

Usage: .venv/bin/python -m bench.tf_threads [--rounds 2]

The 10-client figures of "Turn cost: profile and cuts" (docs/benchmarks.md) are
about throughput; this is about a single message on a quiet service. Each
round loads the current model in a fresh process twice, once with
``TF_INTER_OP_PARALLELISM_THREADS``/``TF_INTRA_OP_PARALLELISM_THREADS`` = 1 (what
`kepu run` sets) and once with 0 (TensorFlow's own choice), and times 120 NLU
parses (DIET and the rest of the pipeline) of eight everyday messages, one at
a time, after one warm-up pass. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time

from bot.settings import PROJECT_ROOT

TEXTS = (
    "微信红包怎么发",
    "高血压平时吃什么好",
    "二化螟咋个防",
    "菜单",
    "2",
    "听说喝醋能软化血管是真的吗",
    "我被人骗了两千块钱咋个办",
    "你好",
)
REPEATS = 15


async def _time_parses() -> dict[str, float]:
    import rasa.utils.tensorflow.environment as tf_env

    tf_env.setup_tf_environment()
    from rasa.core.agent import Agent

    from bot.run.training import model_path

    agent = Agent.load(str(model_path(PROJECT_ROOT / "models")))
    for text in TEXTS:
        await agent.parse_message(text)
    seconds = []
    for _ in range(REPEATS):
        for text in TEXTS:
            started = time.perf_counter()
            await agent.parse_message(text)
            seconds.append(time.perf_counter() - started)
    seconds.sort()
    return {
        "median_ms": 1000 * statistics.median(seconds),
        "p95_ms": 1000 * seconds[int(0.95 * len(seconds))],
    }


def measure(threads: str) -> dict[str, float]:
    """The parse times in a fresh process whose TF pools have ``threads`` threads."""
    env = {
        **os.environ,
        "TF_INTER_OP_PARALLELISM_THREADS": threads,
        "TF_INTRA_OP_PARALLELISM_THREADS": threads,
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    out = subprocess.run(
        [sys.executable, "-m", "bench.tf_threads", "--child"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_time_parses())))
        return
    rows = []
    for n in range(1, args.rounds + 1):
        for threads, label in (("1", "1 and 1 (`kepu run`)"), ("0", "0 (TensorFlow's choice)")):
            result = measure(threads)
            rows.append(f"| {n} | {label} | {result['median_ms']:.1f} | {result['p95_ms']:.1f} |")
    print(f"machine: {os.cpu_count()} cores; {len(TEXTS) * REPEATS} parses per run")
    print("| round | TF threads per pool | median ms | p95 ms |")
    print("|---|---|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
