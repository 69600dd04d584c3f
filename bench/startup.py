"""Cold start and memory of every process, as `make run` starts them.

Usage: .venv/bin/python -m bench.startup [--runs 3]

Starts `kepu run --model <current model>` on free loopback ports with a
throw-away var/ folder, records when each process answers its readiness URL,
sends a few chat turns, reads each process tree's RSS from /proc, and stops
it with SIGTERM. Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bot.settings import PROJECT_ROOT
from bot.training import model_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return resp.status < 500
    except OSError:
        return False


def rss_mib(pid: int) -> float:
    """RSS of a process and all its descendants."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            line = next(x for x in status.splitlines() if x.startswith("VmRSS"))
            total += int(line.split()[1])
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
            pids += [int(c) for c in children]
        except (FileNotFoundError, StopIteration, ProcessLookupError):
            continue
    return total / 1024


def chat(web: str, text: str) -> None:
    req = urllib.request.Request(
        f"{web}/api/v1/chat",
        data=json.dumps({"message": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(req, timeout=60).read()


def one_run(model: Path, cache_dir: str | None) -> dict[str, float]:
    ports = {"rasa": free_port(), "actions": free_port(), "web": free_port()}
    with tempfile.TemporaryDirectory() as var:
        env = {
            **os.environ,
            "KEPU_VAR_DIR": var,
            "KEPU_CACHE_DIR": cache_dir or f"{var}/cache",
            "KEPU_RASA_PORT": str(ports["rasa"]),
            "KEPU_ACTIONS_PORT": str(ports["actions"]),
            "KEPU_WEB_PORT": str(ports["web"]),
        }
        urls = {
            "actions": f"http://127.0.0.1:{ports['actions']}/health",
            "rasa": f"http://127.0.0.1:{ports['rasa']}/",
            "web": f"http://127.0.0.1:{ports['web']}/readyz",
        }
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--model", str(model)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        ready: dict[str, float] = {}
        try:
            while len(ready) < 3 and time.monotonic() - start < 300:
                for name, url in urls.items():
                    if name not in ready and up(url):
                        ready[name] = time.monotonic() - start
                time.sleep(0.2)
            web = f"http://127.0.0.1:{ports['web']}"
            for text in ("你好", "2", "1", "再说一遍", "二化螟怎么防治", "7"):
                chat(web, text)
            children = [
                int(c)
                for c in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            ]
            names = {}
            for c in children:
                cmd = Path(f"/proc/{c}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                names[
                    "rasa" if "rasa run" in cmd else "actions" if "rasa_sdk" in cmd else "web"
                ] = c
            result = {f"ready_{k}": v for k, v in ready.items()}
            result |= {f"rss_{k}": rss_mib(pid) for k, pid in names.items()}
            result["rss_supervisor"] = rss_mib(proc.pid) - sum(result[f"rss_{k}"] for k in names)
            result["rss_total"] = rss_mib(proc.pid)
            return result
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--cache-dir",
        help="reuse entry vectors from here (default: none, "
        "so every run encodes all entries as on a fresh machine)",
    )
    args = parser.parse_args()
    model = model_path(PROJECT_ROOT / "models")
    if not model.exists():
        sys.exit("no model for the current inputs: run `make train` first")
    runs = [one_run(model, args.cache_dir) for _ in range(args.runs)]
    keys = sorted(runs[0])
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"python {platform.python_version()}; runs: {args.runs}; "
        f"vector cache: {'warm' if args.cache_dir else 'cold'}"
    )
    print("| measure | " + " | ".join(f"run {i + 1}" for i in range(len(runs))) + " |")
    print("|---|" + "---|" * len(runs))
    for k in keys:
        unit = "s" if k.startswith("ready") else "MiB"
        print(f"| {k} ({unit}) | " + " | ".join(f"{r[k]:.1f}" for r in runs) + " |")


if __name__ == "__main__":
    main()
