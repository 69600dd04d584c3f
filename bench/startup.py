"""Cold start and memory of every process, as `make run` starts them.

Usage: .venv/bin/python -m bench.startup [--runs 3]

Starts `kepu run --model <current model>` on free loopback ports with a
throw-away var/ folder, records when each process answers its readiness URL,
sends a few chat turns, reads each process tree's RSS from /proc, and stops
it with SIGTERM. Prints a Markdown table for docs/benchmarks.md.

The first users after a start are timed too: as soon as every process says it
is ready, six new users ask a question at the same moment, three through the
REST channel and three by WeChat (plain mode, signed as WeChat signs):
``first_turns_max`` and ``first_wechat_max`` are the slowest of their replies,
``first_wechat_passive`` how many WeChat users got the answer in the reply
itself rather than "success" and a later customer-service message (WeChat
waits 5 s; the channel's budget is shorter). After the six chat turns, three
new REST users do the same again (``warm_turns_max``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

from bench.ports import free_port
from bench.wechat_platform import WECHAT_TOKEN, WeChatSigner
from bot.run.training import model_path
from bot.settings import PROJECT_ROOT


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


def process_role(cmdline: str) -> str:
    """Which of `kepu run`'s processes a command line is (``bot.run.cli``'s argv)."""
    if "bot.run.rasa_entry" in cmdline or "rasa run" in cmdline:
        return "rasa"
    if "actions.security" in cmdline or "rasa_sdk" in cmdline:
        return "actions"
    return "web"


def chat(web: str, text: str) -> None:
    req = urllib.request.Request(
        f"{web}/api/v1/chat",
        data=json.dumps({"message": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(req, timeout=60).read()


# Questions of three new users who write at the same moment.
FIRST_QUESTIONS = ("微信怎么视频通话", "高血压平时吃什么好", "二化螟咋个防")


def timed_turn(rasa: str, sender: str, text: str) -> float:
    """Seconds until the REST channel answers ``text`` from ``sender``."""
    req = urllib.request.Request(
        f"{rasa}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    started = time.monotonic()
    urllib.request.urlopen(req, timeout=120).read()
    return time.monotonic() - started


def timed_wechat(rasa: str, user: str, text: str) -> tuple[float, bool]:
    """Seconds until the WeChat webhook answers, and whether the answer came in it."""
    query, body = WeChatSigner().request(user, text)
    req = urllib.request.Request(
        f"{rasa}/webhooks/wechat/webhook?{urlencode(query)}", data=body, method="POST"
    )
    started = time.monotonic()
    reply = urllib.request.urlopen(req, timeout=120).read()
    return time.monotonic() - started, b"<Content>" in reply


def new_users_at_once(rasa: str, tag: str, wechat: bool = False) -> dict[str, float]:
    """The slowest reply to ``FIRST_QUESTIONS``, each from a new REST sender (and as
    many new WeChat users, with ``wechat``), all sent together."""
    questions = list(enumerate(FIRST_QUESTIONS))
    with ThreadPoolExecutor(2 * len(questions)) as pool:
        rest = [pool.submit(timed_turn, rasa, f"startup-{tag}-{n}", q) for n, q in questions]
        chats = [pool.submit(timed_wechat, rasa, f"oStartup{tag}{n}", q) for n, q in questions]
        result = {"turns_max": max(f.result() for f in rest)}
        if wechat:
            answers = [f.result() for f in chats]
            result["wechat_max"] = max(seconds for seconds, _ in answers)
            result["wechat_passive"] = sum(passive for _, passive in answers)
        return result


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
            # WeChat in plain mode; its message API (for answers past the reply
            # budget) at a port nobody listens on: only the replies are timed.
            "KEPU_WECHAT_TOKEN": WECHAT_TOKEN,
            "KEPU_WECHAT_APPID": "wxkepubench",
            "KEPU_WECHAT_APPSECRET": "kepubenchsecret",
            "KEPU_WECHAT_MODE": "plain",
            "KEPU_WECHAT_API_BASE": f"http://127.0.0.1:{free_port()}",
        }
        urls = {
            "actions": f"http://127.0.0.1:{ports['actions']}/health",
            "rasa": f"http://127.0.0.1:{ports['rasa']}/",
            "web": f"http://127.0.0.1:{ports['web']}/readyz",
        }
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.run.cli", "run", "--model", str(model)],
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
            rasa = f"http://127.0.0.1:{ports['rasa']}"
            first = new_users_at_once(rasa, "first", wechat=True)
            web = f"http://127.0.0.1:{ports['web']}"
            for text in ("你好", "2", "1", "再说一遍", "二化螟怎么防治", "7"):
                chat(web, text)
            warm = new_users_at_once(rasa, "warm")
            children = [
                int(c)
                for c in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            ]
            names = {}
            for c in children:
                cmd = Path(f"/proc/{c}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                names[process_role(cmd)] = c
            result = {f"ready_{k}": v for k, v in ready.items()}
            result |= {f"first_{k}": v for k, v in first.items()}
            result["warm_turns_max"] = warm["turns_max"]
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
        unit = "MiB" if k.startswith("rss") else "of 3" if k.endswith("passive") else "s"
        print(f"| {k} ({unit}) | " + " | ".join(f"{r[k]:.1f}" for r in runs) + " |")


if __name__ == "__main__":
    main()
