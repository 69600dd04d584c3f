"""Does a long conversation stay fast? 500 turns of one sender through the REST channel.

Usage: .venv/bin/python -m bench.long_conversation [--turns 500] [--store windowed|plain|both]

``windowed`` starts the service as `make run` does (`kepu run --model <current
model>`, endpoints.yml as committed: the windowed tracker store) on free
loopback ports with a throw-away var/ folder. ``plain`` starts the same action
server and Rasa argv as `kepu run` builds, but with an endpoints file whose
tracker store is Rasa's own ``SQL`` store, for comparison.

One sender then sends a fixed cycle of menu choices, questions, "再说一遍", a
rumour report form and a fraud check, and every turn's round trip is timed.
Prints the medians of turns 1-50 and of the last 50, their ratio (target: at
most 2), and a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.ports import free_port
from bench.startup import up
from bot.run.training import model_path
from bot.settings import PROJECT_ROOT

# Ten turns a senior might send, repeated: menu, a topic page, a question picked
# by number, a typed question, "say again", a rumour report (claim, where seen),
# a forwarded SMS, thanks.
CYCLE = (
    "菜单",
    "2",
    "1",
    "高血压平时要注意什么",
    "再说一遍",
    "举报谣言",
    "群里说喝醋能软化血管，第{n}次听说",
    "1",
    "帮我看看这条短信：【工商银行】您的账户异常，请点击 http://icbc-vip.top 处理",
    "谢谢",
)
WINDOW = 50


def wait_up(urls: list[str], procs: list[subprocess.Popen], log: Path, timeout=300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            sys.exit("a process exited before it was ready:\n" + log.read_text()[-3000:])
        if all(up(u) for u in urls):
            return
        time.sleep(0.5)
    sys.exit("not ready in time:\n" + log.read_text()[-3000:])


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def windowed_stack(model: Path, var: str, cache: str) -> Iterator[str]:
    """`kepu run`, exactly as `make run` starts it; yields Rasa's base URL."""
    ports = {"rasa": free_port(), "actions": free_port(), "web": free_port()}
    env = {
        **os.environ,
        "KEPU_VAR_DIR": var,
        "KEPU_CACHE_DIR": cache,
        "KEPU_RASA_PORT": str(ports["rasa"]),
        "KEPU_ACTIONS_PORT": str(ports["actions"]),
        "KEPU_WEB_PORT": str(ports["web"]),
        # One sender talks without pause: the per-sender chat limit would cut it short.
        "KEPU_CHAT_RATE_PER_SENDER": "1000000",
    }
    log = Path(var) / "stack.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.run.cli", "run", "--model", str(model)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_up([f"http://127.0.0.1:{ports['web']}/readyz"], [proc], log)
        yield f"http://127.0.0.1:{ports['rasa']}"
    finally:
        stop([proc])


@contextmanager
def plain_stack(model: Path, var: str, cache: str) -> Iterator[str]:
    """The action server and Rasa with `kepu run`'s argv, but Rasa's own SQL store."""
    from bot.run.cli import ACTION_SERVER_MAX_BODY, _rasa_env, action_server_argv, rasa_server_argv
    from bot.settings import Settings

    ports = {"rasa": free_port(), "actions": free_port()}
    env = {
        **os.environ,
        "KEPU_VAR_DIR": var,
        "KEPU_CACHE_DIR": cache,
        "KEPU_RASA_PORT": str(ports["rasa"]),
        "KEPU_ACTIONS_PORT": str(ports["actions"]),
    }
    settings = Settings.from_env(env)
    env |= {**_rasa_env(settings), "PYTHONPATH": str(PROJECT_ROOT)}
    endpoints = Path(var) / "endpoints-plain.yml"
    committed = (PROJECT_ROOT / "bot" / "endpoints.yml").read_text(encoding="utf-8")
    lines = [
        "  type: SQL" if line.strip().startswith("type:") and "tracker_store" in prev else line
        for prev, line in zip(["", *committed.splitlines()], committed.splitlines(), strict=False)
    ]
    endpoints.write_text("\n".join(lines) + "\n", encoding="utf-8")
    argv = rasa_server_argv(settings, str(model))
    argv[argv.index("--endpoints") + 1] = str(endpoints)
    subprocess.run(
        [sys.executable, "-m", "bot.run.cli", "kb", "import"], cwd=PROJECT_ROOT, env=env, check=True
    )
    log = Path(var) / "stack.log"
    with log.open("w") as out:
        actions = subprocess.Popen(
            action_server_argv(settings),
            cwd=PROJECT_ROOT,
            env={**env, "SANIC_REQUEST_MAX_SIZE": str(ACTION_SERVER_MAX_BODY)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        rasa = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=out)
    try:
        base = f"http://127.0.0.1:{ports['rasa']}"
        ready = [f"{base}/", f"http://127.0.0.1:{ports['actions']}/health"]
        wait_up(ready, [actions, rasa], log)
        yield base
    finally:
        stop([rasa, actions])


def post(url: str, body: dict) -> list[dict]:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=300) as resp:
        return json.loads(resp.read())


def converse(rasa: str, turns: int) -> tuple[list[float], list[str]]:
    """Latency of each turn in ms, and the text of each turn's replies."""
    url = f"{rasa}/webhooks/rest/webhook"
    sender = f"bench-{uuid.uuid4().hex[:12]}"
    post(url, {"sender": f"warm-{sender}", "message": "你好"})  # first turn loads lazily
    latencies, answers = [], []
    for i in range(turns):
        text = CYCLE[i % len(CYCLE)].format(n=i // len(CYCLE))
        start = time.perf_counter()
        replies = post(url, {"sender": sender, "message": text})
        latencies.append((time.perf_counter() - start) * 1000)
        answers.append("\n".join(r.get("text") or "" for r in replies))
    return latencies, answers


def same_answers(a: list[str], b: list[str]) -> int:
    """Turns answered alike by two runs (receipt numbers aside)."""
    import re

    def norm(text: str) -> str:
        return re.sub(r"编号 \S+", "编号 …", text)

    return sum(norm(x) == norm(y) for x, y in zip(a, b, strict=True))


def tracker_events(var: str) -> int:
    import sqlite3

    with sqlite3.connect(Path(var) / "tracker.db") as conn:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]


def one_run(store: str, model: Path, turns: int, cache: str) -> tuple[dict[str, float], list[str]]:
    with tempfile.TemporaryDirectory() as var:
        stack = windowed_stack if store == "windowed" else plain_stack
        with stack(model, var, cache) as rasa:
            latencies, answers = converse(rasa, turns)
        first, last = latencies[:WINDOW], latencies[-WINDOW:]
        return {
            "first_median_ms": statistics.median(first),
            "last_median_ms": statistics.median(last),
            "ratio": statistics.median(last) / statistics.median(first),
            "first_p95_ms": sorted(first)[int(0.95 * len(first)) - 1],
            "last_p95_ms": sorted(last)[int(0.95 * len(last)) - 1],
            "total_s": sum(latencies) / 1000,
            "busy_replies": sum("系统正忙" in a for a in answers),
            "events_stored": tracker_events(var),
        }, answers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--store", choices=("windowed", "plain", "both"), default="both")
    parser.add_argument(
        "--cache-dir",
        default=str(PROJECT_ROOT / "var" / "cache"),
        help="entry vectors to reuse (default: var/cache, as the tests do)",
    )
    args = parser.parse_args()
    if args.turns < 2 * WINDOW:
        sys.exit(f"--turns must be at least {2 * WINDOW}")
    model = model_path(PROJECT_ROOT / "models")
    if not model.exists():
        sys.exit("no model for the current inputs: run `make train` first")
    stores = ("windowed", "plain") if args.store == "both" else (args.store,)
    runs = {store: one_run(store, model, args.turns, args.cache_dir) for store in stores}
    results = {store: run[0] for store, run in runs.items()}
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"python {platform.python_version()}; turns: {args.turns}; model: {model.name}"
    )
    print("| measure | " + " | ".join(f"{s} store" for s in stores) + " |")
    print("|---|" + "---|" * len(stores))
    labels = {
        "first_median_ms": f"median turn, turns 1-{WINDOW} (ms)",
        "last_median_ms": f"median turn, turns {args.turns - WINDOW + 1}-{args.turns} (ms)",
        "ratio": "ratio last / first (target <= 2)",
        "first_p95_ms": f"p95, turns 1-{WINDOW} (ms)",
        "last_p95_ms": f"p95, last {WINDOW} turns (ms)",
        "total_s": f"all {args.turns} turns (s)",
        "busy_replies": "busy replies",
        "events_stored": "events stored (all senders)",
    }
    for key, label in labels.items():
        cells = []
        for store in stores:
            value = results[store][key]
            cells.append(f"{value:.2f}" if key == "ratio" else f"{value:.0f}")
        print(f"| {label} | " + " | ".join(cells) + " |")
    if len(stores) == 2:
        alike = same_answers(runs["windowed"][1], runs["plain"][1])
        print(f"\nturns answered alike by both stores: {alike} of {args.turns}")


if __name__ == "__main__":
    main()
