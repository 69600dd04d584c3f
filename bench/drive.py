"""Driving a stack: simulated users playing a mix over the REST channel or signed
WeChat messages, one level of load at a time, and what a level measured (latency
of every turn, CPU of the stack's processes, errors it logged)."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.mixes import Mix
from bench.procstat import cpu_by_role, own_cpu_seconds
from bench.service_log import log_size, logged_errors
from bench.wechat_platform import WeChatSigner


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); nan when empty."""
    if not values:
        return math.nan
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = math.floor(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


@dataclass
class Sample:
    kind: str
    seconds: float
    ok: bool
    note: str = ""  # wechat: "passive" | "late"; errors: what went wrong


@dataclass
class Level:
    stack: str  # "kepu" | "stock"
    channel: str  # "rest" | "wechat"
    users: int
    wall: float
    samples: list[Sample]
    cpu_seconds: float
    client_cpu_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)
    cpu_by_role: dict[str, float] = field(default_factory=dict)  # CPU seconds per process
    # ERROR lines the service logged during the level, per logger (turns that were
    # answered but failed inside: a report not stored, a fallback taken).
    log_errors: dict[str, int] = field(default_factory=dict)
    log_offset: int = 0
    mix: str = "realistic"  # MIXES
    processes: int = 1  # Rasa processes of our stack (more than 1: behind nginx)

    @property
    def turns(self) -> int:
        return len(self.samples)

    @property
    def errors(self) -> int:
        return sum(not s.ok for s in self.samples)

    @property
    def throughput(self) -> float:
        return self.turns / self.wall if self.wall else math.nan

    def latency(self, p: float, kind: str | None = None) -> float:
        return percentile([s.seconds for s in self.samples if kind in (None, s.kind)], p)

    @property
    def cpu_per_turn(self) -> float:
        return self.cpu_seconds / self.turns if self.turns else math.nan

    def summary(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "channel": self.channel,
            "mix": self.mix,
            "users": self.users,
            "processes": self.processes,
            "turns": self.turns,
            "errors": self.errors,
            "wall_s": round(self.wall, 3),
            "throughput": round(self.throughput, 3),
            **{f"p{p}_ms": round(self.latency(p) * 1000, 1) for p in (50, 95, 99, 100)},
            "cpu_s": round(self.cpu_seconds, 3),
            "cpu_ms_per_turn": round(self.cpu_per_turn * 1000, 2),
            "client_cpu_s": round(self.client_cpu_seconds, 3),
            "cpu_ms_per_turn_by_process": {
                k: round(v / max(self.turns, 1) * 1000, 2) for k, v in self.cpu_by_role.items()
            },
            "kinds": {
                k: {
                    "turns": sum(s.kind == k for s in self.samples),
                    "p50_ms": round(self.latency(50, k) * 1000, 1),
                    "p95_ms": round(self.latency(95, k) * 1000, 1),
                }
                for k in sorted({s.kind for s in self.samples})
            },
            "error_notes": sorted({s.note for s in self.samples if not s.ok})[:10],
            "errors_logged": self.log_errors,
            **self.extra,
        }


Send = Callable[[str, str], Awaitable[tuple[bool, str]]]


async def drive(
    send: Send,
    mix: Mix,
    users: int,
    seconds: float,
    max_turns: int,
    tag: str,
    think: tuple[float, float] = (0.0, 0.0),
    mix_name: str = "realistic",
) -> tuple[list[Sample], float]:
    """Users playing the mix until the time or the turn budget runs out.

    ``think``: seconds (uniform between the two) a user takes to read an answer
    and type the next message; (0, 0) sends the next one at once (saturation).
    ``mix_name``: which conversation each user plays (``Mix.turns``).
    """
    started = time.monotonic()
    deadline = started + seconds
    samples: list[Sample] = []
    issued = 0

    async def user(u: int) -> None:
        nonlocal issued
        rng = random.Random(f"{tag}-think-{u}")
        if think[1] > 0:  # users do not all start in the same instant
            await asyncio.sleep(rng.uniform(0.0, think[1]))
        for cycle in itertools.count():
            sender = f"{tag}-u{u}-c{cycle}"
            for kind, text in mix.turns(mix_name, u, cycle):
                if time.monotonic() >= deadline or issued >= max_turns:
                    return
                issued += 1
                t0 = time.perf_counter()
                try:
                    ok, note = await send(sender, text)
                except Exception as exc:  # timeouts, refused connections
                    ok, note = False, type(exc).__name__
                samples.append(Sample(kind, time.perf_counter() - t0, ok, note))
                if think[1] > 0:
                    await asyncio.sleep(rng.uniform(*think))

    await asyncio.gather(*(user(u) for u in range(users)))
    return samples, time.monotonic() - started


def rest_sender(session: Any, url: str) -> Send:
    async def send(sender: str, text: str) -> tuple[bool, str]:
        async with session.post(url, json={"sender": sender, "message": text}) as resp:
            body = await resp.read()
        if resp.status != 200:
            return False, f"HTTP {resp.status}"
        replies = json.loads(body or b"null")
        if not (isinstance(replies, list) and any(m.get("text") for m in replies)):
            return False, "no text reply"
        return True, ""

    return send


def wechat_sender(session: Any, url: str, signer: WeChatSigner) -> Send:
    async def send(sender: str, text: str) -> tuple[bool, str]:
        query, body = signer.request(sender, text)
        async with session.post(url, params=query, data=body) as resp:
            data = await resp.read()
        if resp.status != 200:
            return False, f"HTTP {resp.status}"
        if data.strip() == b"success":
            return True, "late"  # past the reply budget: the answer goes by the message API
        if b"<Content>" in data:
            return True, "passive"
        return False, "unexpected body"

    return send


async def run_level(
    stack: str,
    channel: str,
    send: Send,
    mix: Mix,
    users: int,
    seconds: float,
    max_turns: int,
    roots: Callable[[], list[int]],
    settle: float = 1.0,
    log: Path | None = None,
    think: tuple[float, float] = (0.0, 0.0),
    mix_name: str = "realistic",
) -> Level:
    tag = f"{stack}-{channel}-{mix_name[0]}{users}-{uuid.uuid4().hex[:6]}"
    offset = log_size(log)
    cpu0, client0 = cpu_by_role(roots()), own_cpu_seconds()
    samples, wall = await drive(send, mix, users, seconds, max_turns, tag, think, mix_name)
    await asyncio.sleep(settle)  # work a turn leaves behind (writes, logs) counts too
    cpu1, client1 = cpu_by_role(roots()), own_cpu_seconds()
    by_role = {k: cpu1.get(k, 0.0) - cpu0.get(k, 0.0) for k in sorted(set(cpu0) | set(cpu1))}
    level = Level(stack, channel, users, wall, samples, sum(by_role.values()), client1 - client0)
    level.cpu_by_role = by_role
    level.log_offset = offset
    level.log_errors = logged_errors(log, offset)
    level.mix = mix_name
    print(
        f"[load] {stack} {channel} {mix_name} {users:>2} users: {level.turns} turns, "
        f"{level.throughput:.1f}/s, p50 {level.latency(50) * 1000:.0f} ms, "
        f"p95 {level.latency(95) * 1000:.0f} ms, errors {level.errors}, "
        f"CPU {level.cpu_per_turn * 1000:.1f} ms/turn, "
        f"errors logged by the service {sum(level.log_errors.values())}",
        flush=True,
    )
    return level


# Run by Rasa itself around every turn; not what the assistant decided to do.
FRAMEWORK_ACTIONS = frozenset({"action_listen", "action_session_start"})


def count_actions(events: Iterable[dict[str, Any]]) -> tuple[int, dict[str, int]]:
    """User messages in a tracker's events, and how often each action ran."""
    users = 0
    actions: dict[str, int] = {}
    for event in events:
        if event.get("event") == "user":
            users += 1
        elif event.get("event") == "action" and event.get("name") not in FRAMEWORK_ACTIONS:
            actions[event["name"]] = actions.get(event["name"], 0) + 1
    return users, actions


async def actions_per_turn(session: Any, base: str, token: str, stack: str) -> dict[str, Any]:
    """Actions per user message in the warm-up conversations (2 users, one session each)."""
    users = 0
    actions: dict[str, int] = {}
    for u in range(2):
        url = f"{base}/conversations/{stack}-warmup-u{u}-c0/tracker"
        async with session.get(url, params={"token": token}) as resp:
            if resp.status != 200:
                return {}
            n, counted = count_actions((await resp.json()).get("events") or [])
        users += n
        for name, k in counted.items():
            actions[name] = actions.get(name, 0) + k
    total = sum(actions.values())
    return {"per_turn": total / users if users else math.nan, "actions": actions}


async def warm_up(send: Send, mix: Mix, stack: str) -> None:
    await drive(send, mix, users=2, seconds=120, max_turns=20, tag=f"{stack}-warmup")
