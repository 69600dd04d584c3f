"""Load test of the running service, and of a stock Rasa assistant as the ceiling.

Usage: .venv/bin/python -m bench.load [--users 1,10,50] [--seconds 30] [--max-turns 5000]
       [--mix realistic,knowledge] [--env NAME=VALUE ...]

1. Starts our service as `kepu run --model <current model>` does (a throw-away
   var/ folder, free loopback ports, the WeChat channel in plain mode with its
   message API pointed at a local stand-in), waits until it is ready, warms it
   up, then runs one level per user count: every user is a distinct sender
   playing a scripted mix of menu, knowledge questions, forwarded-message checks
   and rumour reports over POST /webhooks/rest/webhook. A last level posts
   signed plain-mode WeChat text messages from 50 users to
   /webhooks/wechat/webhook. Stops it with SIGTERM to its process group.
2. Trains (only when its inputs changed) and starts the stock assistant of
   bench/stock/ (`rasa run` + the rasa_sdk action server, 127.0.0.1 only; every
   turn runs its one custom action) and runs the same REST levels against it:
   with Rasa's default in-memory tracker store (the baseline of the targets),
   and with `--stock-tracker memory,sqlite` also with the SQLite tracker store
   our embedded profile uses.

--mix knowledge (or knowledge,realistic) plays conversations of knowledge
questions only as well, or instead: issue 19's turn-cost mix, reported and
judged (CPU per turn against the stock turn on the same mix, turns/s, p95 at
10 clients) in its own section, "Turn cost, knowledge mix (issue 19)". --env
NAME=VALUE adds to our stack's environment (e.g. ``KEPU_SPEEDUPS_OFF=keepalive``
to measure one of bot/channels/speedups.py's fixes on its own, or TensorFlow's
thread variables for the Rasa process); bench/profile_turn.py profiles the same
mix per process.

Each level stops after --seconds or --max-turns turns, whichever comes first
(in-flight turns finish). Per level: turns, throughput, p50/p95/p99/max latency,
errors (non-200, no text reply, or no answer at all), and the CPU cost per turn:
user+system CPU time of every process in the service's process tree (from
/proc/<pid>/stat, including reaped children) read before and after the level,
divided by the turns. Our cost per turn over the stock one is the ratio the
targets refer to. Prints Markdown and rewrites the "Load test (issue 8)"
section of docs/benchmarks.md (--no-write: print only); raw numbers go to
var/bench/load-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.drive import (
    actions_per_turn,
    rest_sender,
    run_level,
    warm_up,
    wechat_sender,
)
from bench.load_report import (
    BUSY_LOAD,
    DOC,
    SECTION,
    SECTION_KNOWLEDGE,
    SECTION_SCALE,
    TARGET_WECHAT_SECONDS,
    Run,
    replace_section,
    report,
    scale_report,
)
from bench.machine import load_average, machine
from bench.mixes import MIXES, Mix, load_mix
from bench.ports import free_port
from bench.procstat import idle_rate
from bench.service_log import logged_errors
from bench.stacks import our_stack, production_profile, spawn, stop, wait_ready
from bench.stock_model import current_model, ensure_stock_model
from bench.wechat_platform import WeChatSigner
from bot.settings import PROJECT_ROOT


async def rest_levels(
    run: Run, args: argparse.Namespace, stack: str, rest: Any, mix: Mix, roots: list[int], log: Path
) -> None:
    """One stack's REST levels: every mix of the run at every number of users."""
    for mix_name in args.mix:
        for users in args.users:
            run.levels.append(
                await run_level(
                    stack,
                    "rest",
                    rest,
                    mix,
                    users,
                    args.seconds,
                    args.max_turns,
                    lambda: roots,
                    log=log,
                    think=args.think,
                    mix_name=mix_name,
                )
            )


async def measure_ours(
    args: argparse.Namespace, mix: Mix, run: Run, session: Any, processes: int = 0
) -> None:
    """Our stack's levels: the embedded profile, or (``processes`` > 0) the production
    profile with that many Rasa processes (behind nginx when more than one)."""
    model = Path(args.model) if args.model else current_model()
    if f"our model: {model.name}" not in run.notes:
        run.notes.append(f"our model: {model.name}")
    with contextlib.ExitStack() as profile:
        env = dict(args.env)
        if processes:
            env.update(profile.enter_context(production_profile(args, processes)))
        first = len(run.levels)
        await _measure_ours(args, mix, run, session, model, env)
        for level in run.levels[first:]:
            level.processes = max(processes, 1)


async def _measure_ours(
    args: argparse.Namespace, mix: Mix, run: Run, session: Any, model: Path, env: dict[str, str]
) -> None:
    async with our_stack(args, session, model, env) as stack:
        roots, log, rasa, standin = stack.roots, stack.log, stack.rasa, stack.standin
        rest = rest_sender(session, f"{rasa}/webhooks/rest/webhook")
        await warm_up(rest, mix, "kepu")
        run.actions["kepu"] = await actions_per_turn(session, rasa, stack.token(), "kepu")
        run.idle_cpu["kepu"] = await idle_rate(roots)
        await rest_levels(run, args, "kepu", rest, mix, roots, log)
        if args.wechat_users:
            wechat = wechat_sender(session, f"{rasa}/webhooks/wechat/webhook", WeChatSigner())
            level = await run_level(
                "kepu",
                "wechat",
                wechat,
                mix,
                args.wechat_users,
                args.seconds,
                args.max_turns,
                lambda: roots,
                log=log,
                think=args.think,
                mix_name=args.mix[0],
            )
            late = sum(s.note == "late" for s in level.samples)
            waited = time.monotonic()
            while standin.sent < late and time.monotonic() - waited < 60:
                await asyncio.sleep(0.5)
            await asyncio.sleep(1.0)
            # Late answers are still delivered after the level: their failures count too.
            level.log_errors = logged_errors(log, level.log_offset)
            level.extra = {
                "passive_replies": sum(s.note == "passive" for s in level.samples),
                "late_success": late,
                "pushed_by_api": standin.sent,
                "over_budget": sum(s.seconds > TARGET_WECHAT_SECONDS for s in level.samples),
                "over_5s": sum(s.seconds > 5.0 for s in level.samples),
            }
            run.levels.append(level)


async def measure_stock(
    args: argparse.Namespace, mix: Mix, run: Run, session: Any, tracker: str = "memory"
) -> None:
    stack = "stock" if tracker == "memory" else "stock-sqlite"
    model = ensure_stock_model()
    if f"stock model: {model.relative_to(PROJECT_ROOT)}" not in run.notes:
        run.notes.append(f"stock model: {model.relative_to(PROJECT_ROOT)}")
    rasa_port, actions_port = free_port(), free_port()
    token = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="kepu-load-stock-") as tmp:
        tmpdir = Path(tmp)
        (tmpdir / "endpoints.yml").write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
            + (
                f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmpdir / 'tracker.db'}\n"
                if tracker == "sqlite"
                else ""
            )
        )
        (tmpdir / "credentials.yml").write_text("rest:\n")
        env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SANIC_HOST": "127.0.0.1",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        log = tmpdir / "stock.log"
        actions = spawn(
            [
                sys.executable,
                "-m",
                "rasa_sdk",
                "--actions",
                "bench.stock.actions",
                "--port",
                str(actions_port),
            ],
            env,
            PROJECT_ROOT,
            log,
        )
        rasa = spawn(
            [
                sys.executable,
                "-m",
                "rasa",
                "run",
                "--model",
                str(model),
                "--endpoints",
                str(tmpdir / "endpoints.yml"),
                "--credentials",
                str(tmpdir / "credentials.yml"),
                "--interface",
                "127.0.0.1",
                "--port",
                str(rasa_port),
                "--enable-api",  # on loopback, with a token: to read the warm-up trackers
                "--auth-token",
                token,
            ],
            env,
            tmpdir,
            log,
        )
        base = f"http://127.0.0.1:{rasa_port}"
        try:
            started = time.monotonic()
            await wait_ready(
                session,
                [f"http://127.0.0.1:{actions_port}/health", f"{base}/"],
                [actions, rasa],
                timeout=args.start_timeout,
            )
            print(f"[load] stock assistant ready in {time.monotonic() - started:.0f} s", flush=True)
            roots = [rasa.pid, actions.pid]
            rest = rest_sender(session, f"{base}/webhooks/rest/webhook")
            await warm_up(rest, mix, stack)
            run.actions[stack] = await actions_per_turn(session, base, token, stack)
            run.idle_cpu[stack] = await idle_rate(roots)
            await rest_levels(run, args, stack, rest, mix, roots, log)
        except (RuntimeError, TimeoutError):
            print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
        finally:
            await stop(rasa)
            await stop(actions)
            if args.keep_logs:
                Path(args.keep_logs).mkdir(parents=True, exist_ok=True)
                (Path(args.keep_logs) / f"{stack}.log").write_bytes(log.read_bytes())


def parse_trackers(text: str) -> list[str]:
    trackers = [x.strip() for x in text.split(",") if x.strip()]
    if not trackers or not set(trackers) <= {"memory", "sqlite"}:
        raise argparse.ArgumentTypeError("tracker stores: memory and/or sqlite")
    return list(dict.fromkeys(trackers))


def parse_think(text: str) -> tuple[float, float]:
    parts = [float(x) for x in text.split(",") if x.strip()]
    low, high = (parts[0], parts[0]) if len(parts) == 1 else tuple(parts[:2])
    if not 0 <= low <= high <= 120:
        raise argparse.ArgumentTypeError("think time: MIN,MAX seconds, 0 <= MIN <= MAX <= 120")
    return (low, high)


def parse_mixes(text: str) -> list[str]:
    mixes = [x.strip() for x in text.split(",") if x.strip()]
    if not mixes or not set(mixes) <= set(MIXES):
        raise argparse.ArgumentTypeError(f"mixes: {', '.join(MIXES)}")
    return list(dict.fromkeys(mixes))


def parse_env(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name):
        raise argparse.ArgumentTypeError("NAME=VALUE, NAME in capitals")
    return name, value


def parse_users(text: str) -> list[int]:
    users = [int(x) for x in text.split(",") if x.strip()]
    if not users or any(u < 1 or u > 200 for u in users):
        raise argparse.ArgumentTypeError("user counts must be between 1 and 200")
    return users


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=parse_users, default=[1, 10, 50])
    p.add_argument("--seconds", type=float, default=30.0, help="length of each level")
    p.add_argument("--max-turns", type=int, default=5000, help="turn budget of each level")
    p.add_argument("--wechat-users", type=int, default=50, help="0: skip the WeChat level")
    p.add_argument("--model", help="our model (default: the one for the current inputs)")
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=PROJECT_ROOT / "var" / "cache",
        help="sentence vectors of the entries (shared with the tests; warm start)",
    )
    p.add_argument(
        "--stock-tracker",
        type=parse_trackers,
        default=["memory"],
        help="tracker store(s) of the stock assistant, e.g. memory,sqlite (stock default: "
        "memory, the baseline of the targets; sqlite as our embedded profile)",
    )
    p.add_argument("--only", choices=("kepu", "stock"), help="measure one stack only")
    p.add_argument("--start-timeout", type=float, default=300.0)
    p.add_argument("--keep-logs", help="copy the services' logs into this folder")
    p.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    p.add_argument(
        "--think",
        type=parse_think,
        default=(0.0, 0.0),
        help="MIN,MAX seconds a user waits between an answer and the next message (default 0)",
    )
    p.add_argument(
        "--mix",
        type=parse_mixes,
        default=["realistic"],
        help="conversations the users play: realistic (issue 8's scripted mix) and/or "
        "knowledge (questions only), e.g. knowledge,realistic",
    )
    p.add_argument(
        "--env",
        type=parse_env,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment of our stack (repeatable), e.g. to switch one speed-up off",
    )
    p.add_argument("--heading", help="section of docs/benchmarks.md to write")
    p.add_argument(
        "--processes",
        type=parse_users,
        help="scale-out: our stack only, in the production profile with each of these "
        "numbers of Rasa processes (e.g. 1,2; more than 1 behind nginx)",
    )
    p.add_argument(
        "--postgres",
        default=os.environ.get("KEPU_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"),
        help="--processes: a PostgreSQL database to connect to and create a fresh one beside",
    )
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="--processes: Redis")
    args = p.parse_args(argv)
    if args.heading is None and args.processes:
        args.heading = SECTION_SCALE
    if args.heading is None:
        args.heading = SECTION if args.mix == ["realistic"] else SECTION_KNOWLEDGE
    if args.seconds <= 0 or args.seconds > 600 or args.max_turns < 1:
        p.error("--seconds must be in (0, 600] and --max-turns positive")
    return args


async def amain(args: argparse.Namespace, mix: Mix) -> Run:
    import aiohttp

    run = Run()
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        if args.processes:
            for processes in args.processes:
                await measure_ours(args, mix, run, session, processes)
            return run
        if args.only in (None, "kepu"):
            await measure_ours(args, mix, run, session)
        if args.only in (None, "stock"):
            for tracker in args.stock_tracker:
                await measure_stock(args, mix, run, session, tracker)
    return run


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    busy = os.getloadavg()[0] > BUSY_LOAD
    load_before = load_average()
    mix, mix_source = load_mix()
    run = asyncio.run(amain(args, mix))
    meta = {
        "machine": machine(),
        "date": datetime.date.today().isoformat(),
        "load_before": load_before,
        "busy": busy,
        "load_after": load_average(),
    }
    text = (scale_report if args.processes else report)(run, args, mix_source, meta)
    print()
    print(text)
    out = PROJECT_ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    raw = {
        **meta,
        "args": {k: str(v) for k, v in vars(args).items()},
        "idle_cpu": run.idle_cpu,
        "actions_per_turn": run.actions,
        "notes": run.notes,
        "levels": [lv.summary() for lv in run.levels],
    }
    (out / f"load-{stamp}.json").write_text(json.dumps(raw, ensure_ascii=False, indent=1))
    if not args.no_write:
        DOC.write_text(
            replace_section(DOC.read_text(encoding="utf-8"), text, args.heading), encoding="utf-8"
        )
        print(f"[load] wrote the section to {DOC.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
