"""Starting and stopping the stacks the benches measure: our stack as ``kepu run``
starts it (a throw-away var/, free loopback ports, the WeChat channel in plain mode
against the simulated message API), its production profile, and the processes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.ports import free_port
from bench.wechat_platform import WECHAT_TOKEN, WeChatApiStandIn
from bot.settings import PROJECT_ROOT


async def wait_ready(session: Any, urls: list[str], procs: list[subprocess.Popen], timeout: float):
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"process {proc.args[:4]} exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {timeout:.0f} s: {pending}")
        url = pending[0]
        try:
            # No keep-alive: an idle connection must not hold up the service's shutdown.
            async with session.get(url, headers={"Connection": "close"}) as resp:
                if resp.status == 200:
                    pending.pop(0)
                    continue
        except Exception:  # not listening yet
            pass
        await asyncio.sleep(0.5)


async def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group the bench started; SIGKILL after 60 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        await asyncio.to_thread(proc.wait, 60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        await asyncio.to_thread(proc.wait, 10)


def spawn(argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    """Start ``argv`` in a process group of its own (``stop`` ends the group), its output
    appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


@dataclass
class Stack:
    """Our running stack (``our_stack``): where to reach it and what to measure."""

    proc: subprocess.Popen
    var: Path
    log: Path
    rasa: str  # base URL of the Rasa server
    standin: WeChatApiStandIn

    @property
    def roots(self) -> list[int]:
        return [self.proc.pid]

    def token(self) -> str:
        return (self.var / "rasa_token").read_text().strip()


@contextlib.asynccontextmanager
async def our_stack(
    args: argparse.Namespace, session: Any, model: Path, extra_env: dict[str, str] | None = None
) -> AsyncIterator[Stack]:
    """``kepu run --model <model>`` on free loopback ports in a throw-away var/, ready;
    stopped (SIGTERM to its process group) on the way out."""
    import aiohttp

    ports = {k: free_port() for k in ("KEPU_RASA_PORT", "KEPU_ACTIONS_PORT", "KEPU_WEB_PORT")}
    standin = WeChatApiStandIn()
    await standin.start()
    with tempfile.TemporaryDirectory(prefix="kepu-load-") as var:
        log = Path(var) / "stack.log"
        env = {
            **os.environ,
            "KEPU_VAR_DIR": var,
            "KEPU_CACHE_DIR": str(args.cache_dir),
            **{k: str(v) for k, v in ports.items()},
            "KEPU_WECHAT_TOKEN": WECHAT_TOKEN,
            "KEPU_WECHAT_APPID": "wxkepubench",
            "KEPU_WECHAT_APPSECRET": "kepubenchsecret",
            "KEPU_WECHAT_MODE": "plain",
            "KEPU_WECHAT_API_BASE": standin.base,
            # Simulated users send without pause from one address: the chat limits
            # (bot/net/ratelimit.py) would measure the limiter, not the turn.
            "KEPU_CHAT_RATE_PER_SENDER": "1000000",
            "KEPU_CHAT_RATE_PER_CLIENT": "1000000",
            "KEPU_WEBHOOK_RATE_PER_CLIENT": "1000000",
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **(extra_env or {}),
        }
        proc = spawn(
            [sys.executable, "-m", "bot.run.cli", "run", "--model", str(model)],
            env,
            PROJECT_ROOT,
            log,
        )
        stack = Stack(proc, Path(var), log, f"http://127.0.0.1:{ports['KEPU_RASA_PORT']}", standin)
        try:
            started = time.monotonic()
            await wait_ready(
                session,
                [f"http://127.0.0.1:{ports['KEPU_WEB_PORT']}/readyz", f"{stack.rasa}/"],
                [proc],
                timeout=args.start_timeout,
            )
            print(f"[load] our stack ready in {time.monotonic() - started:.0f} s", flush=True)
            yield stack
        except (RuntimeError, TimeoutError, aiohttp.ClientError):
            print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
        finally:
            await stop(proc)
            await standin.close()
            if args.keep_logs:
                Path(args.keep_logs).mkdir(parents=True, exist_ok=True)
                (Path(args.keep_logs) / "kepu-stack.log").write_bytes(log.read_bytes())


@contextlib.contextmanager
def production_profile(args: argparse.Namespace, processes: int) -> Iterator[dict[str, str]]:
    """The environment of the production profile with ``processes`` Rasa processes:
    a new PostgreSQL database on ``--postgres``'s server (dropped afterwards) for
    conversations and our tables, locks in ``--redis``."""
    import psycopg2

    admin = psycopg2.connect(args.postgres, connect_timeout=5)
    admin.autocommit = True
    name = f"kepu_load_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    server = args.postgres.rsplit("/", 1)[0]
    try:
        yield {
            "KEPU_RASA_INSTANCES": str(processes),
            "KEPU_TRACKER_URL": f"{server}/{name}",
            "KEPU_DATABASE_URL": f"{server}/{name}".replace(
                "postgresql://", "postgresql+asyncpg://", 1
            ),
            "KEPU_REDIS_URL": args.redis,
        }
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
