"""The multi-machine layout, on one machine: hosts on different loopback addresses
sharing PostgreSQL and Redis, behind one nginx.

Usage: .venv/bin/python -m bench.multihost [--hosts 127.0.0.2,127.0.0.3] [--processes 1]
       [--users 10] [--seconds 30] [--mix knowledge] [--no-write]

1. Creates a fresh PostgreSQL database beside ``--postgres`` (dropped at the end)
   and uses Redis at ``--redis``: what every host shares.
2. Starts one "host" per address as the README's layout does: ``kepu run --model
   <model>`` with ``KEPU_HOST=<address>``, ``KEPU_RASA_PROXY=none`` (its Rasa
   processes listen on the address itself, from the Rasa port on),
   ``KEPU_RASA_INSTANCES=--processes``, its own var/ (its own action server and
   web service), the same ports on every address, and the two secrets an
   operator copies to every host (``var/relay_secret``, ``var/rasa_token``).
   Each host's web service reaches Rasa through the front nginx (``KEPU_RASA_URL``).
3. Starts the front: ``kepu proxy --rasa <every host's Rasa processes> --web
   <every web service>`` on 127.0.0.1, the same ports.
4. Checks through the front, and fails loudly if one does not hold: three REST
   turns of one rumour report, answered by both hosts (round robin), keep the
   form's state; each WeChat user (plain mode, signed) stays on one host and both hosts
   get users; the web service answers ``/readyz`` through the front from both hosts.
5. Load: ``--users`` REST users through the front nginx, no think time, for
   ``--seconds``; turns/s, p50/p95, errors, the turns each host answered and
   the CPU each host's process tree spent.

Prints Markdown and rewrites the "Multi-machine layout on one machine" section
of docs/benchmarks.md (``--no-write``: print only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from bench.drive import Sample, drive, percentile
from bench.load import parse_mixes, parse_users
from bench.load_report import BUSY_LOAD, DOC, MIX_TEXT, machine_line, replace_section
from bench.machine import load_average, machine
from bench.mixes import load_mix
from bench.procstat import cpu_by_role
from bench.stacks import production_profile, spawn, stop, wait_ready
from bench.stock_model import current_model
from bench.wechat_platform import WECHAT_TOKEN, WeChatApiStandIn, WeChatSigner
from bot.run.nginx import FAIL_TIMEOUT_SECONDS, HEALTH_PATH, INSTANCE_HEADER
from bot.settings import PROJECT_ROOT

SECTION = "## Multi-machine layout on one machine (issue 19)"
FRONT = "127.0.0.1"
SHARED_SECRETS = ("relay_secret", "rasa_token")


def free_everywhere(addresses: Sequence[str], taken: set[int]) -> int:
    """A TCP port free on every one of ``addresses``."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind((addresses[0], 0))
            port = probe.getsockname()[1]
        if port in taken or port + 16 > 65535:
            continue
        try:
            for address in addresses[1:]:
                with socket.socket() as s:
                    s.bind((address, port))
        except OSError:
            continue
        taken.add(port)
        return port
    raise RuntimeError("no port free on every address")


class Layout:
    """Where everything listens: the same ports on every address."""

    def __init__(self, hosts: list[str], processes: int) -> None:
        self.hosts = hosts
        self.processes = processes
        taken: set[int] = set()
        everywhere = [FRONT, *hosts]
        # Rasa processes take the ports from the Rasa port on: keep room for them.
        self.rasa_port = free_everywhere(everywhere, taken)
        taken.update(range(self.rasa_port, self.rasa_port + processes + 1))
        self.actions_port = free_everywhere(everywhere, taken)
        self.web_port = free_everywhere(everywhere, taken)

    @property
    def rasa_backends(self) -> list[str]:
        return [f"{h}:{self.rasa_port + i}" for h in self.hosts for i in range(self.processes)]

    @property
    def web_backends(self) -> list[str]:
        return [f"{h}:{self.web_port}" for h in self.hosts]

    def host_of(self, instance: str) -> str:
        """The host of the Rasa process nginx numbered ``instance`` (1-based)."""
        if not instance.isdigit():
            return "?"
        return self.rasa_backends[int(instance) - 1].rsplit(":", 1)[0]

    @property
    def front(self) -> str:
        return f"http://{FRONT}:{self.rasa_port}"


def host_env(
    args: argparse.Namespace,
    layout: Layout,
    host: str,
    var: Path,
    shared: dict[str, str],
    api_base: str,
) -> dict[str, str]:
    return {
        **os.environ,
        **shared,
        "KEPU_HOST": host,
        "KEPU_VAR_DIR": str(var),
        # Derived data built by `kepu train` (vectors, the fraud classifier): shared,
        # as a real host would have it built, not rebuilt per host in every run.
        "KEPU_CACHE_DIR": str(args.cache_dir),
        "KEPU_RASA_PORT": str(layout.rasa_port),
        "KEPU_ACTIONS_PORT": str(layout.actions_port),
        "KEPU_WEB_PORT": str(layout.web_port),
        "KEPU_RASA_PROXY": "none",
        "KEPU_RASA_URL": layout.front,
        "KEPU_WECHAT_TOKEN": WECHAT_TOKEN,
        "KEPU_WECHAT_APPID": "wxkepubench",
        "KEPU_WECHAT_APPSECRET": "kepubenchsecret",
        "KEPU_WECHAT_MODE": "plain",
        "KEPU_WECHAT_API_BASE": api_base,
        # Simulated users send without pause from one address: measure turns, not limits.
        "KEPU_CHAT_RATE_PER_SENDER": "1000000",
        "KEPU_CHAT_RATE_PER_CLIENT": "1000000",
        "KEPU_WEBHOOK_RATE_PER_CLIENT": "1000000",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


def copy_secrets(source: Path, target: Path) -> None:
    """What an operator does once: the first host's shared secrets onto another host."""
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in SHARED_SECRETS:
        path = target / name
        path.write_text((source / name).read_text())
        path.chmod(0o600)


@contextlib.asynccontextmanager
async def started(
    args: argparse.Namespace, session: Any, layout: Layout, model: Path
) -> AsyncIterator[dict[str, subprocess.Popen]]:
    """Every host and the front, ready; all stopped on the way out."""
    standin = WeChatApiStandIn()
    await standin.start()
    procs: dict[str, subprocess.Popen] = {}
    with contextlib.ExitStack() as stack:
        shared = stack.enter_context(production_profile(args, layout.processes))
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kepu-multihost-")))
        first = root / layout.hosts[0]
        first.mkdir(mode=0o700)
        from bot.settings import Settings, shared_secret

        shared_secret(first / "relay_secret")
        Settings.from_env({"KEPU_VAR_DIR": str(first)}).resolve_rasa_token()
        argv = [sys.executable, "-m", "bot.run.cli", "run", "--model", str(model)]
        try:
            for host in layout.hosts:
                var = root / host
                if var != first:
                    copy_secrets(first, var)
                env = host_env(args, layout, host, var, shared, standin.base)
                procs[host] = spawn(argv, env, PROJECT_ROOT, var / "stack.log")
                if var == first:
                    # The first host migrates the shared database before it starts its
                    # processes; the others start once it has (as the README says).
                    health = f"http://{host}:{layout.web_port}/healthz"
                    await wait_ready(session, [health], [procs[host]], args.start_timeout)
            front_var = root / "front"
            front_env = {
                **os.environ,
                "KEPU_HOST": FRONT,
                "KEPU_VAR_DIR": str(front_var),
                "KEPU_RASA_PORT": str(layout.rasa_port),
                "KEPU_WEB_PORT": str(layout.web_port),
            }
            proxy = [sys.executable, "-m", "bot.run.cli", "proxy"]
            proxy += ["--rasa", ",".join(layout.rasa_backends)]
            proxy += ["--web", ",".join(layout.web_backends)]
            front_var.mkdir(mode=0o700)
            procs["front"] = spawn(proxy, front_env, PROJECT_ROOT, front_var / "stack.log")
            began = time.monotonic()
            urls = [f"http://{h}:{layout.web_port}/readyz" for h in layout.hosts]
            urls += [f"{layout.front}{HEALTH_PATH}", f"{layout.front}/"]
            urls += [f"http://{backend}/" for backend in layout.rasa_backends]
            await wait_ready(session, urls, list(procs.values()), args.start_timeout)
            print(f"[multihost] ready in {time.monotonic() - began:.0f} s", flush=True)
            # A Rasa process asked through the front before it listened is left out for
            # FAIL_TIMEOUT_SECONDS (nginx's passive check); the checks need every one.
            await asyncio.sleep(FAIL_TIMEOUT_SECONDS + 1)
            yield procs
        except (RuntimeError, TimeoutError):
            for name in procs:
                log = root / name / "stack.log"
                if log.exists():
                    tail = log.read_text(errors="replace")[-3000:]
                    print(f"--- {name}\n{tail}", file=sys.stderr)
            raise
        finally:
            for proc in procs.values():
                await stop(proc)
            await standin.close()


async def rest_turn(session: Any, url: str, sender: str, text: str) -> tuple[str, str]:
    async with session.post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
    ) as resp:
        body = await resp.json()
        return "\n".join(m.get("text") or "" for m in body), resp.headers.get(INSTANCE_HEADER, "")


async def checks(session: Any, layout: Layout) -> list[str]:
    """What must hold across hosts; raises AssertionError when it does not."""
    found = []
    sender = f"mh-report-{uuid.uuid4().hex[:8]}"
    turns = [
        ("举报谣言", "说法"),
        ("听说七星村下个月要拆迁 每家赔十万", "1 微信群"),
        ("4", "已收到"),
    ]
    hosts = []
    for text, expected in turns:
        reply, instance = await rest_turn(session, layout.front, sender, text)
        assert expected in reply, (text, reply)
        hosts.append(layout.host_of(instance))
    assert len(set(hosts)) > 1, hosts  # round robin: the turns went to different hosts
    found.append(
        "a rumour report of three REST turns answered by "
        + " → ".join(hosts)
        + " kept its state (the receipt came on the last)"
    )
    signer = WeChatSigner()
    placed: dict[str, set[str]] = {}
    for n in range(8):
        openid = f"oMulti{n}{uuid.uuid4().hex[:8]}"
        for text in ("你好", "2"):
            query, body = signer.request(openid, text)
            url = f"{layout.front}/webhooks/wechat/webhook"
            async with session.post(url, params=query, data=body) as resp:
                assert resp.status == 200 and b"<Content>" in await resp.read()
                placed.setdefault(openid, set()).add(layout.host_of(resp.headers[INSTANCE_HEADER]))
    assert all(len(where) == 1 for where in placed.values()), placed
    spread = Counter(next(iter(w)) for w in placed.values())
    assert len(spread) > 1, spread
    found.append(
        "8 WeChat users, 2 messages each: every user stayed on one host ("
        + ", ".join(f"{h}: {n} users" for h, n in sorted(spread.items()))
        + ")"
    )
    web: Counter[str] = Counter()
    for _ in range(4):
        async with session.get(f"http://{FRONT}:{layout.web_port}/readyz") as resp:
            assert resp.status == 200, await resp.text()
            web[resp.headers.get(INSTANCE_HEADER, "?")] += 1
    assert len(web) == len(layout.hosts), web
    found.append(f"/readyz through the front's web port: {len(web)} web services answered ready")
    return found


async def load(
    args: argparse.Namespace, session: Any, layout: Layout, procs: dict[str, subprocess.Popen]
) -> dict[str, Any]:
    mix, source = load_mix()
    answered: Counter[str] = Counter()

    async def send(sender: str, text: str) -> tuple[bool, str]:
        async with session.post(
            f"{layout.front}/webhooks/rest/webhook", json={"sender": sender, "message": text}
        ) as resp:
            body = await resp.json()
            answered[layout.host_of(resp.headers.get(INSTANCE_HEADER, ""))] += 1
        ok = resp.status == 200 and any(m.get("text") for m in body)
        return ok, "" if ok else f"HTTP {resp.status}"

    await drive(send, mix, 2, 120, 20, "mh-warmup", mix_name=args.mix[0])
    answered.clear()
    roots = {name: [proc.pid] for name, proc in procs.items()}
    before = {name: cpu_by_role(r) for name, r in roots.items()}
    tag = f"mh-{uuid.uuid4().hex[:6]}"
    samples, wall = await drive(
        send, mix, args.users, args.seconds, args.max_turns, tag, mix_name=args.mix[0]
    )
    await asyncio.sleep(1.0)
    after = {name: cpu_by_role(r) for name, r in roots.items()}
    cpu = {name: sum(after[name].values()) - sum(before[name].values()) for name in roots}
    return {"samples": samples, "wall": wall, "answered": answered, "cpu": cpu, "source": source}


def report(args: argparse.Namespace, layout: Layout, found: list[str], result: dict, meta) -> str:
    samples: list[Sample] = result["samples"]
    turns = len(samples)
    seconds = [s.seconds for s in samples]
    hosts = ", ".join(layout.hosts)
    rows = [
        f"| {name} | {result['answered'].get(name, 0) if name != 'front' else turns} | "
        f"{result['cpu'][name]:.1f} | {result['cpu'][name] / max(turns, 1) * 1000:.1f} |"
        for name in [*layout.hosts, "front"]
    ]
    return "\n".join(
        [
            SECTION,
            "",
            f"Command: `.venv/bin/python -m bench.multihost --hosts {','.join(layout.hosts)} "
            f"--processes {layout.processes} --users {args.users} --seconds {args.seconds:g} "
            f"--mix {args.mix[0]}`",
            "",
            machine_line(meta),
            "",
            f"Hosts {hosts} (loopback addresses of this one machine, so all of them share its "
            f"2 cores): each runs `kepu run` with `KEPU_HOST=<its address>`, "
            f"`KEPU_RASA_PROXY=none`, `KEPU_RASA_INSTANCES={layout.processes}` (its Rasa "
            "processes, its action server, its web service), the same fresh PostgreSQL "
            "database and Redis; one nginx in front (`kepu proxy --rasa … --web …` on "
            f"{FRONT}). Mix: {args.mix[0]}: {MIX_TEXT[args.mix[0]]}; no think time. Texts: "
            f"{result['source']}.",
            "",
            "What held through the front nginx:",
            "",
            *(f"- {line}" for line in found),
            "",
            "| users | turns | turns/s | p50 ms | p95 ms | errors |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {args.users} | {turns} | {turns / result['wall']:.1f} | "
            f"{percentile(seconds, 50) * 1000:.0f} | {percentile(seconds, 95) * 1000:.0f} | "
            f"{sum(not s.ok for s in samples)} |",
            "",
            "| host | turns answered | CPU s | CPU ms/turn (of all turns) |",
            "|---|---:|---:|---:|",
            *rows,
            "",
        ]
    )


async def amain(args: argparse.Namespace) -> tuple[Layout, list[str], dict[str, Any]]:
    import aiohttp

    layout = Layout(args.hosts, args.processes)
    model = Path(args.model) if args.model else current_model()
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=0)
    async with (
        aiohttp.ClientSession(timeout=timeout, connector=connector) as session,
        started(args, session, layout, model) as procs,
    ):
        found = await checks(session, layout)
        for line in found:
            print(f"[multihost] {line}", flush=True)
        result = await load(args, session, layout, procs)
    return layout, found, result


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench.multihost", description=__doc__.split("\n")[0])
    p.add_argument("--hosts", default="127.0.0.2,127.0.0.3", help="loopback addresses")
    p.add_argument("--processes", type=int, default=1, help="Rasa processes per host")
    p.add_argument("--users", type=int, default=10)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--max-turns", type=int, default=5000)
    p.add_argument("--mix", type=parse_mixes, default=["knowledge"])
    p.add_argument("--model", help="our model (default: the one for the current inputs)")
    p.add_argument("--start-timeout", type=float, default=600.0)
    p.add_argument("--cache-dir", type=Path, default=PROJECT_ROOT / "var" / "cache")
    p.add_argument(
        "--postgres",
        default=os.environ.get("KEPU_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    p.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    args = p.parse_args(argv)
    args.hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
    if len(args.hosts) < 2 or not all(h.startswith("127.") for h in args.hosts):
        p.error("--hosts: at least two loopback addresses (127.x.y.z)")
    parse_users(str(args.users))
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    busy = os.getloadavg()[0] > BUSY_LOAD
    load_before = load_average()
    layout, found, result = asyncio.run(amain(args))
    meta = {
        "machine": machine(),
        "date": datetime.date.today().isoformat(),
        "load_before": load_before,
        "load_after": load_average(),
        "busy": busy,
    }
    text = report(args, layout, found, result, meta)
    print()
    print(text)
    if not args.no_write:
        DOC.write_text(replace_section(DOC.read_text(encoding="utf-8"), text, SECTION))
        print(f"[multihost] wrote the section to {DOC.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
