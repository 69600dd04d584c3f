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
import csv
import datetime
import hashlib
import itertools
import json
import math
import os
import platform
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.startup import free_port
from bot.settings import PROJECT_ROOT

STOCK_DIR = PROJECT_ROOT / "bench" / "stock"
STOCK_MODELS = PROJECT_ROOT / "var" / "bench" / "stock-models"
EVAL_DIR = PROJECT_ROOT.parent / "shared" / "eval"
DOC = PROJECT_ROOT / "docs" / "benchmarks.md"
SECTION = "## Load test (issue 8)"
RASA_VERSION = "3.6.21"
SEED = "20251129"

# Targets of issue 8 (2 cores).
TARGET_COST_RATIO = 1.3
TARGET_P95_AT_10 = 0.5
TARGET_WECHAT_SECONDS = 4.5

# A 1-minute load average above this before the run: other jobs share the cores.
BUSY_LOAD = 1.5

WECHAT_TOKEN = "kepubenchtoken"
WECHAT_ACCOUNT = "gh_kepu_bench"

# --- the scripted mix -----------------------------------------------------------------

FRAUD_SMS = (
    "【XX银行】您的账户存在风险，请将资金转入安全账户 http://t.cn/xxxx",
    "【工商银行】您的积分即将清零，请登录 http://icbc-vip.top 兑换礼品",
    "【医保中心】您的医保卡已被冻结，请点击 http://ybk-jd.cc 办理解冻，逾期作废",
    "妈，我换号了，这是我新号码。我现在急需用钱，先转我两千，晚上还你",
    "【顺丰快递】您的包裹在运输中丢失，客服将为您办理三倍理赔，请加QQ 2938475612",
    "您好，您已获得免息贷款资格，最高额度20万，先交888元保证金即可放款",
    "【社保局】您的养老金资格认证即将到期，请点击链接完成人脸认证 http://sbj-rz.top",
    "【中国移动】尊敬的客户，您本月话费账单已出，详情请登录中国移动APP查询。",
)
FRAUD_PREFIXES = ("", "", "帮我看看这条短信：", "这个是真的吗 ", "收到一条短信：")
RUMOUR_CLAIMS = (
    "喝醋能软化血管",
    "吃隔夜菜会致癌",
    "5G基站辐射会让人得癌症",
    "香蕉和牛奶一起吃会中毒",
    "说是鸡蛋和豆浆不能一起吃",
    "用淘米水洗脸能治老年斑",
    "微波炉热的饭菜有辐射不能吃",
    "空腹吃柿子会得胃结石要死人",
)
RUMOUR_WHERE = ("1", "2", "3", "4", "微信群里看到的")

# Mixes a level can play: the scripted realistic conversation (issue 8) and a
# conversation of knowledge questions only (issue 19's turn-cost mix).
MIXES = ("realistic", "knowledge")
KNOWLEDGE_TURNS = 10
SECTION_KNOWLEDGE = "## Turn cost, knowledge mix (issue 19)"
SECTION_SCALE = "## Scale-out: Rasa processes behind nginx (issue 19)"

# Targets of issue 19 on the knowledge mix (2 cores).
TARGET_KNOWLEDGE_COST_RATIO = 1.0
TARGET_KNOWLEDGE_P95_AT_10 = 0.3
TARGET_KNOWLEDGE_TURNS_PER_S = 25.0


@dataclass(frozen=True)
class Mix:
    """Pools of real texts and the scripted session one user plays (10 turns).

    Session: 菜单 → 2 → question → message check → question → question →
    举报谣言 → claim → where → message check, started at a different block for
    each user and conversation. Deterministic for a (user, cycle): our stack
    and the stock one get exactly the same texts.
    """

    questions: tuple[str, ...]
    eval_questions: tuple[str, ...] = ()
    messages: tuple[str, ...] = FRAUD_SMS
    eval_messages: tuple[str, ...] = ()
    claims: tuple[str, ...] = RUMOUR_CLAIMS
    eval_claims: tuple[str, ...] = ()
    seed: str = SEED

    def _pick(self, rng: random.Random, own: Sequence[str], extra: Sequence[str], p: float) -> str:
        return rng.choice(extra) if extra and rng.random() < p else rng.choice(own)

    def session(self, user: int, cycle: int) -> list[tuple[str, str]]:
        """[(kind, text)] for one conversation; kind: menu, knowledge, fraud, rumour."""
        rng = random.Random(f"{self.seed}-{user}-{cycle}")

        def question() -> tuple[str, str]:
            return "knowledge", self._pick(rng, self.questions, self.eval_questions, 1 / 3)

        def message() -> tuple[str, str]:
            text = self._pick(rng, self.messages, self.eval_messages, 1 / 2)
            return "fraud", rng.choice(FRAUD_PREFIXES) + text

        blocks = [
            [("menu", "菜单"), ("menu", "2")],
            [question()],
            [message()],
            [question()],
            [question()],
            [
                ("rumour", "举报谣言"),
                ("rumour", self._pick(rng, self.claims, self.eval_claims, 1 / 4)),
                ("rumour", rng.choice(RUMOUR_WHERE)),
            ],
            [message()],
        ]
        # Rotated per user and conversation, each block kept whole: a level that
        # ends after a few turns per user (50 users, a short level) still sees
        # the whole mix, not only the first turns of the script.
        k = (user + cycle) % len(blocks)
        return [turn for block in blocks[k:] + blocks[:k] for turn in block]

    def knowledge_session(self, user: int, cycle: int) -> list[tuple[str, str]]:
        """[("knowledge", question)] × KNOWLEDGE_TURNS: a conversation of questions only.

        The same pools as the questions of the realistic mix (a third from the
        health/farming evaluation sets when present); deterministic per (user, cycle).
        """
        rng = random.Random(f"{self.seed}-knowledge-{user}-{cycle}")
        return [
            ("knowledge", self._pick(rng, self.questions, self.eval_questions, 1 / 3))
            for _ in range(KNOWLEDGE_TURNS)
        ]

    def turns(self, mix: str, user: int, cycle: int) -> list[tuple[str, str]]:
        """One conversation of ``mix`` ("realistic" or "knowledge")."""
        if mix == "knowledge":
            return self.knowledge_session(user, cycle)
        return self.session(user, cycle)


def knowledge_questions(root: Path = PROJECT_ROOT / "knowledge") -> list[str]:
    import yaml

    out: list[str] = []
    for path in sorted(root.rglob("*.yml")):
        entry = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out += [q for q in entry.get("questions") or [] if isinstance(q, str) and q.strip()]
    return out


def load_mix(eval_dir: Path = EVAL_DIR, limit: int = 600) -> tuple[Mix, str]:
    """The mix, with real questions, messages and claims from ../shared/eval when present."""
    questions = knowledge_questions()
    eval_q: list[str] = []
    eval_m: list[str] = []
    eval_c: list[str] = []
    health = eval_dir / "health_qa" / "toyhom_internal_medicine_sample.csv"
    agri = eval_dir / "agri_qa" / "agrieval_openqa_sample.jsonl"
    fraud = eval_dir / "fraud_sms" / "telecom_fraud_texts_sample.csv"
    rumours = eval_dir / "rumors" / "ced_weibo_rumor_sample.jsonl"
    if health.exists():
        with health.open(encoding="utf-8") as fh:
            eval_q += [r["title"] for r in csv.DictReader(fh) if r.get("title")]
    if agri.exists():
        for line in agri.read_text(encoding="utf-8").splitlines():
            if line.strip():
                eval_q.append(json.loads(line)["question"])
    if fraud.exists():
        with fraud.open(encoding="utf-8") as fh:
            eval_m += [r["text"][:limit] for r in csv.DictReader(fh) if r.get("text")]
    if rumours.exists():
        for line in rumours.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            if row.get("label") == "rumor" and 0 < len(row.get("text", "")) <= 200:
                eval_c.append(row["text"])
    mix = Mix(
        questions=tuple(questions),
        eval_questions=tuple(eval_q),
        eval_messages=tuple(eval_m),
        eval_claims=tuple(eval_c),
    )
    source = f"{len(questions)} knowledge-base questions (knowledge/**/questions)" + (
        f", {len(eval_q)} health/farming questions, {len(eval_m)} telecom-fraud texts and "
        f"{len(eval_c)} Weibo rumours from public evaluation sets (not shipped)"
        if eval_q or eval_m or eval_c
        else " (public evaluation sets not found: built-in messages and claims only)"
    )
    return mix, source


# --- statistics and CPU accounting ------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); nan when empty."""
    if not values:
        return math.nan
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = math.floor(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


@dataclass(frozen=True)
class ProcStat:
    pid: int
    ppid: int
    ticks: int  # utime + stime + cutime + cstime


def parse_stat(text: str) -> ProcStat:
    """Fields of /proc/<pid>/stat; the command name may hold spaces and parentheses."""
    head, _, rest = text.rpartition(")")
    pid = int(head.split("(", 1)[0])
    f = rest.split()  # f[0] is field 3 (state); field n is f[n - 3]
    utime, stime, cutime, cstime = (int(x) for x in f[11:15])
    return ProcStat(pid=pid, ppid=int(f[1]), ticks=utime + stime + cutime + cstime)


def read_stats(proc: Path = Path("/proc")) -> dict[int, ProcStat]:
    stats = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            st = parse_stat((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):  # exited meanwhile
            continue
        stats[st.pid] = st
    return stats


def tree_ticks(stats: dict[int, ProcStat], roots: Iterable[int]) -> tuple[int, set[int]]:
    """CPU ticks of the roots and all their descendants, and the pids counted."""
    children: dict[int, list[int]] = {}
    for st in stats.values():
        children.setdefault(st.ppid, []).append(st.pid)
    seen: set[int] = set()
    todo = [r for r in roots if r in stats]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo += children.get(pid, [])
    return sum(stats[p].ticks for p in seen), seen


def tree_cpu_seconds(roots: Iterable[int]) -> float:
    ticks, _ = tree_ticks(read_stats(), roots)
    return ticks / os.sysconf("SC_CLK_TCK")


def role(cmdline: str) -> str:
    """Which of the service's processes a command line is."""
    if "rasa_sdk" in cmdline or "-m actions.security" in cmdline:
        return "actions"
    if (
        " rasa run" in cmdline
        or cmdline.startswith("rasa run")
        or "-m bot.run.rasa_entry" in cmdline
    ):
        return "rasa"
    if "bot.run.cli web" in cmdline:
        return "web"
    if "bot.run.cli run" in cmdline:
        return "supervisor"
    if cmdline.startswith("nginx"):
        return "nginx"
    return "other"


def cpu_by_role(roots: Iterable[int]) -> dict[str, float]:
    """CPU seconds of the tree, per process role (rasa, actions, web, supervisor, other)."""
    stats = read_stats()
    _, pids = tree_ticks(stats, roots)
    out: dict[str, float] = {}
    for pid in pids:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            cmd = ""
        name = role(cmd)
        out[name] = out.get(name, 0.0) + stats[pid].ticks / os.sysconf("SC_CLK_TCK")
    return out


def own_cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


_ERROR_LINE = re.compile(r"\bERROR\s+([\w.]+)")


def log_size(log: Path | None) -> int:
    try:
        return log.stat().st_size if log is not None else 0
    except OSError:
        return 0


def count_errors(lines: Iterable[str]) -> dict[str, int]:
    """ERROR log lines (Rasa's format: ``<date> <time> ERROR    <logger>  - …``) per logger."""
    out: dict[str, int] = {}
    for line in lines:
        m = _ERROR_LINE.search(line)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0) + 1
    return out


def logged_errors(log: Path | None, offset: int) -> dict[str, int]:
    if log is None:
        return {}
    try:
        with log.open("rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return {}
    return count_errors(text.splitlines())


# --- WeChat plain mode ----------------------------------------------------------------


def wechat_signature(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's callback signature: sha1 of the sorted, concatenated token/timestamp/nonce."""
    return hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode()).hexdigest()


def wechat_query(token: str, timestamp: str, nonce: str, openid: str) -> dict[str, str]:
    return {
        "signature": wechat_signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": openid,
    }


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def wechat_text_xml(account: str, user: str, content: str, msg_id: int, create_time: int) -> bytes:
    return (
        "<xml>"
        f"<ToUserName>{_cdata(account)}</ToUserName>"
        f"<FromUserName>{_cdata(user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        f"<MsgType>{_cdata('text')}</MsgType>"
        f"<Content>{_cdata(content)}</Content>"
        f"<MsgId>{msg_id}</MsgId>"
        "</xml>"
    ).encode()


class WeChatSigner:
    """Fresh nonce and MsgId for every request."""

    def __init__(self, token: str = WECHAT_TOKEN, account: str = WECHAT_ACCOUNT) -> None:
        self.token = token
        self.account = account
        self._ids = itertools.count(random.SystemRandom().randrange(10**15, 9 * 10**15))

    def request(self, user: str, content: str) -> tuple[dict[str, str], bytes]:
        now = int(time.time())
        nonce = str(uuid.uuid4().int % 10**10)
        query = wechat_query(self.token, str(now), nonce, user)
        return query, wechat_text_xml(self.account, user, content, next(self._ids), now)


# --- one level of load ----------------------------------------------------------------


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


# --- the services ---------------------------------------------------------------------


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


def _spawn(argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


class WeChatApiStandIn:
    """Answers the message API on loopback: access tokens, and customer-service sends."""

    def __init__(self) -> None:
        self.sent = 0
        self.pushed: dict[str, list[str]] = {}  # user -> texts, in order
        self.port = free_port()
        self._runner: Any = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        from aiohttp import web

        async def token(request: web.Request) -> web.Response:
            return web.json_response({"access_token": "bench-token", "expires_in": 7200})

        async def send(request: web.Request) -> web.Response:
            body = json.loads(await request.read() or b"{}")
            self.sent += 1
            text = (body.get("text") or {}).get("content", "")
            self.pushed.setdefault(body.get("touser", ""), []).append(text)
            return web.json_response({"errcode": 0, "errmsg": "ok"})

        app = web.Application()
        app.router.add_get("/cgi-bin/token", token)
        app.router.add_post("/cgi-bin/message/custom/send", send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def current_model() -> Path:
    from bot.run.training import model_path

    model = model_path(PROJECT_ROOT / "models")
    if model.exists():
        return model
    newest = sorted(
        (PROJECT_ROOT / "models").glob("kepu-*.tar.gz"), key=lambda p: p.stat().st_mtime
    )
    if not newest:
        sys.exit("no trained model in models/: run `make train` first")
    print(f"[load] no model for the current inputs; using the newest: {newest[-1].name}")
    return newest[-1]


def stock_inputs() -> list[Path]:
    return [STOCK_DIR / "config.yml", STOCK_DIR / "domain.yml", *sorted(STOCK_DIR.glob("data/*"))]


def stock_hash(files: Sequence[Path] | None = None) -> str:
    h = hashlib.sha256(RASA_VERSION.encode())
    for path in files if files is not None else stock_inputs():
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def ensure_stock_model(out_dir: Path = STOCK_MODELS) -> Path:
    """The stock assistant's model, trained only when no model for its inputs exists."""
    name = f"stock-{stock_hash()}"
    target = out_dir / f"{name}.tar.gz"
    if target.exists():
        return target
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"[load] training the stock assistant into {target.relative_to(PROJECT_ROOT)}")
    started = time.monotonic()
    log = out_dir / f"{name}.train.log"
    with log.open("wb") as out:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "rasa",
                "train",
                "--config",
                str(STOCK_DIR / "config.yml"),
                "--domain",
                str(STOCK_DIR / "domain.yml"),
                "--data",
                str(STOCK_DIR / "data"),
                "--out",
                str(out_dir),
                "--fixed-model-name",
                name,
            ],
            cwd=out_dir.parent,
            env={
                **os.environ,
                "RASA_TELEMETRY_ENABLED": "false",
                "RASA_CACHE_DIRECTORY": str(out_dir.parent / "stock-cache"),
                "TF_CPP_MIN_LOG_LEVEL": "2",
            },
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if result.returncode != 0 or not target.exists():
        print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
        raise RuntimeError(f"training the stock assistant failed (log: {log})")
    print(f"[load] stock assistant trained in {time.monotonic() - started:.0f} s")
    return target


# --- the whole run --------------------------------------------------------------------


@dataclass
class Run:
    levels: list[Level] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    idle_cpu: dict[str, float] = field(default_factory=dict)  # CPU s per s while idle
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)  # per stack, warm-up


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


async def idle_rate(roots: list[int], seconds: float = 3.0) -> float:
    before = tree_cpu_seconds(roots)
    await asyncio.sleep(seconds)
    return (tree_cpu_seconds(roots) - before) / seconds


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
        proc = _spawn(
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
        actions = _spawn(
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
        rasa = _spawn(
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


# --- report ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(x.split()[1])
            for x in Path("/proc/meminfo").read_text().splitlines()
            if x.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem_kb = 0
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gib": round(mem_kb / 1024**2, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def _ms(seconds: float) -> str:
    return "–" if math.isnan(seconds) else f"{seconds * 1000:.0f}"


def _ratio(a: float, b: float) -> str:
    return "–" if not b or math.isnan(a) or math.isnan(b) else f"{a / b:.2f}×"


def rest_table(levels: list[Level]) -> list[str]:
    out = [
        "| stack | users | turns | turns/s | p50 ms | p95 ms | p99 ms | max ms | errors "
        "| errors logged by the service | CPU ms/turn | load-generator CPU ms/turn |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for lv in levels:
        if lv.channel != "rest":
            continue
        out.append(
            f"| {lv.stack} | {lv.users} | {lv.turns} | {lv.throughput:.1f} | "
            f"{_ms(lv.latency(50))} | {_ms(lv.latency(95))} | {_ms(lv.latency(99))} | "
            f"{_ms(lv.latency(100))} | {lv.errors} | {sum(lv.log_errors.values())} | "
            f"{lv.cpu_per_turn * 1000:.1f} | "
            f"{lv.client_cpu_seconds / max(lv.turns, 1) * 1000:.1f} |"
        )
    return out


def pairs(levels: list[Level], baseline: str = "stock") -> list[tuple[Level, Level]]:
    stock = {lv.users: lv for lv in levels if lv.stack == baseline and lv.channel == "rest"}
    return [
        (lv, stock[lv.users])
        for lv in levels
        if lv.stack == "kepu" and lv.channel == "rest" and lv.users in stock
    ]


def overall_cost_ratio(levels: list[Level], baseline: str = "stock") -> float:
    ps = pairs(levels, baseline)
    ours = sum(a.cpu_seconds for a, _ in ps) / max(sum(a.turns for a, _ in ps), 1)
    stock = sum(b.cpu_seconds for _, b in ps) / max(sum(b.turns for _, b in ps), 1)
    return ours / stock if stock else math.nan


def ratio_table(levels: list[Level], baseline: str = "stock") -> list[str]:
    out = [
        f"| users | our CPU ms/turn | {baseline} CPU ms/turn | cost ratio | p50 ratio | p95 ratio "
        "| throughput ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for a, b in pairs(levels, baseline):
        out.append(
            f"| {a.users} | {a.cpu_per_turn * 1000:.1f} | {b.cpu_per_turn * 1000:.1f} | "
            f"{_ratio(a.cpu_per_turn, b.cpu_per_turn)} | {_ratio(a.latency(50), b.latency(50))} | "
            f"{_ratio(a.latency(95), b.latency(95))} | {_ratio(a.throughput, b.throughput)} |"
        )
    if pairs(levels, baseline):
        ratio = overall_cost_ratio(levels, baseline)
        out.append(f"| all | | | **{ratio:.2f}×** | | | |")
    return out


ROLES = ("rasa", "actions", "web", "nginx", "supervisor", "other")
BASELINES = ("stock", "stock-sqlite")


def process_table(levels: list[Level]) -> list[str]:
    out = [
        "| stack | channel | users | " + " | ".join(ROLES) + " | total |",
        "|---|---|---:|" + "---:|" * (len(ROLES) + 1),
    ]
    for lv in levels:
        per = [lv.cpu_by_role.get(r, 0.0) / max(lv.turns, 1) * 1000 for r in ROLES]
        out.append(
            f"| {lv.stack} | {lv.channel} | {lv.users} | "
            + " | ".join(f"{x:.1f}" for x in per)
            + f" | {lv.cpu_per_turn * 1000:.1f} |"
        )
    return out


def kind_table(levels: list[Level]) -> list[str]:
    out = [
        "| users | kind | turns (ours) | ours p50 ms | ours p95 ms | stock p50 ms | stock p95 ms |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for a, b in pairs(levels):
        for kind in ("menu", "knowledge", "fraud", "rumour"):
            out.append(
                f"| {a.users} | {kind} | {sum(s.kind == kind for s in a.samples)} | "
                f"{_ms(a.latency(50, kind))} | {_ms(a.latency(95, kind))} | "
                f"{_ms(b.latency(50, kind))} | {_ms(b.latency(95, kind))} |"
            )
    return out


def wechat_table(levels: list[Level]) -> list[str]:
    out = [
        '| users | requests | passive replies | "success" (answer pushed later) | p50 ms '
        "| p95 ms | p99 ms | max ms | > 4.5 s | > 5 s | errors | errors logged by the service |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for lv in levels:
        if lv.channel != "wechat":
            continue
        e = lv.extra
        out.append(
            f"| {lv.users} | {lv.turns} | {e.get('passive_replies', 0)} | "
            f"{e.get('late_success', 0)} | {_ms(lv.latency(50))} | {_ms(lv.latency(95))} | "
            f"{_ms(lv.latency(99))} | {_ms(lv.latency(100))} | {e.get('over_budget', 0)} | "
            f"{e.get('over_5s', 0)} | {lv.errors} | {sum(lv.log_errors.values())} |"
        )
    return out


def verdicts(levels: list[Level]) -> list[str]:
    """Issue 8's targets, on the realistic mix."""
    out = []
    ratio = overall_cost_ratio(levels)
    if not math.isnan(ratio):
        mark = "met" if ratio <= TARGET_COST_RATIO else "**missed**"
        out.append(
            f"- cost per turn ≤ {TARGET_COST_RATIO}× the stock custom-action turn: "
            f"{ratio:.2f}× — {mark}"
        )
    at10 = [lv for lv in levels if lv.stack == "kepu" and lv.channel == "rest" and lv.users == 10]
    if at10:
        p95 = at10[0].latency(95)
        mark = "met" if p95 <= TARGET_P95_AT_10 else "**missed**"
        out.append(f"- p95 ≤ 500 ms at 10 users: {p95 * 1000:.0f} ms — {mark}")
    for lv in levels:
        if lv.channel == "wechat":
            worst = lv.latency(100)
            ok = worst <= TARGET_WECHAT_SECONDS and lv.errors == 0
            mark = "met" if ok else "**missed**"
            out.append(
                f"- WeChat webhook answers ≤ 4.5 s at {lv.users} users: max {worst:.2f} s, "
                f"{lv.extra.get('over_budget', 0)} of {lv.turns} over 4.5 s, "
                f"{lv.extra.get('late_success', 0)} answered \"success\" and pushed later — {mark}"
            )
    return out


def knowledge_verdicts(levels: list[Level]) -> list[str]:
    """Issue 19's targets, on the knowledge mix (REST levels of that mix only)."""
    out = []
    ratio = overall_cost_ratio(levels)
    if not math.isnan(ratio):
        mark = "met" if ratio <= TARGET_KNOWLEDGE_COST_RATIO else "**missed**"
        out.append(
            f"- CPU per turn ≤ {TARGET_KNOWLEDGE_COST_RATIO:.1f}× the stock custom-action turn "
            f"on the same mix: {ratio:.2f}× — {mark}"
        )
    ours = [lv for lv in levels if lv.stack == "kepu" and lv.channel == "rest"]
    if ours:
        best = max(lv.throughput for lv in ours)
        mark = "met" if best >= TARGET_KNOWLEDGE_TURNS_PER_S else "**missed**"
        out.append(
            f"- ≥ {TARGET_KNOWLEDGE_TURNS_PER_S:g} turns/s at saturation: {best:.1f} turns/s "
            f"(best level) — {mark}"
        )
    at10 = [lv for lv in ours if lv.users == 10]
    if at10:
        p95 = at10[0].latency(95)
        mark = "met" if p95 <= TARGET_KNOWLEDGE_P95_AT_10 else "**missed**"
        out.append(
            f"- p95 ≤ {TARGET_KNOWLEDGE_P95_AT_10 * 1000:.0f} ms at 10 clients without think "
            f"time: {p95 * 1000:.0f} ms — {mark}"
        )
    return out


MIX_TEXT = {
    "realistic": "each conversation is 10 turns (菜单 → 2 → question → message check → "
    "question → question → 举报谣言 → claim → where → message check, rotated to start at a "
    "different step for each user and conversation), then the user starts a new conversation",
    "knowledge": f"each conversation is {KNOWLEDGE_TURNS} knowledge questions (a third from the "
    "health/farming evaluation sets when present, the rest the knowledge base's own "
    "phrasings), then the user starts a new conversation",
}


def command_line(args: argparse.Namespace) -> str:
    users = ",".join(str(u) for u in args.users)
    think = f" --think {args.think[0]:g},{args.think[1]:g}" if args.think[1] > 0 else ""
    return (
        f".venv/bin/python -m bench.load --users {users} --seconds {args.seconds:g} "
        f"--max-turns {args.max_turns}{think}"
        + (
            f" --stock-tracker {','.join(args.stock_tracker)}"
            if args.stock_tracker != ["memory"]
            else ""
        )
        + (f" --mix {','.join(args.mix)}" if args.mix != ["realistic"] else "")
        + (f" --wechat-users {args.wechat_users}" if args.wechat_users != 50 else "")
        + "".join(f" --env {k}={v}" for k, v in args.env)
        + (f" --processes {','.join(map(str, args.processes))}" if args.processes else "")
    )


def mix_tables(levels: list[Level], suffix: str) -> list[str]:
    lines = [
        f"### REST turns{suffix}",
        "",
        *rest_table(levels),
        "",
        f"### Our cost against the stock custom-action turn{suffix}",
        "",
        *ratio_table(levels),
        "",
        *(
            line
            for b in BASELINES[1:]
            if pairs(levels, b)
            for line in (
                f"Against the same stock assistant with the SQLite tracker store ({b}), "
                "as our embedded profile uses:",
                "",
                *ratio_table(levels, b),
                "",
            )
        ),
        f"### CPU ms per turn, by process{suffix}",
        "",
        *process_table(levels),
        "",
    ]
    if any(lv.mix == "realistic" for lv in levels):
        lines += [f"### Latency by kind of turn{suffix}", "", *kind_table(levels), ""]
    if any(lv.channel == "wechat" for lv in levels):
        lines += [
            "### WeChat webhook (signed plain-mode text messages)",
            "",
            *wechat_table(levels),
            "",
        ]
    return lines


def machine_line(meta: dict[str, Any]) -> str:
    """The machine, the day and the load around the run, said once for every report."""
    m = meta["machine"]
    return (
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, "
        f"Python {m['python']}, rasa {RASA_VERSION}. Measured {meta['date']}; "
        f"load average {meta['load_before']} before, {meta['load_after']} after."
        + (
            f" **The machine was shared (1-minute load average above {BUSY_LOAD} before the "
            "run): other jobs competed for the cores; re-run on a quiet machine.**"
            if meta.get("busy")
            else ""
        )
    )


def report_head(args: argparse.Namespace, meta: dict[str, Any]) -> list[str]:
    return [args.heading, "", f"Command: `{command_line(args)}`", "", machine_line(meta), ""]


def report(run: Run, args: argparse.Namespace, mix_source: str, meta: dict[str, Any]) -> str:
    mixes = list(dict.fromkeys(args.mix))
    lines = [
        *report_head(args, meta),
        "Everything on loopback. Our stack is `kepu run --model <model>` (supervisor, Rasa with "
        "the SQLite tracker store, action server, web service; WeChat channel in plain mode). "
        "The stock assistant (`bench/stock/`) is `rasa run` with Rasa's default in-memory "
        "tracker store plus the rasa_sdk action server; its pipeline is JiebaTokenizer, "
        "CountVectors (word and char_wb 1–4), DIET, Rule/Memoization/TED policies, and every "
        "turn runs its one custom action. Each user is a distinct sender; "
        + "; ".join((f"in the {mx} mix " if len(mixes) > 1 else "") + MIX_TEXT[mx] for mx in mixes)
        + ". "
        + (
            f"Each user waits {args.think[0]:g}–{args.think[1]:g} s (uniform) after an answer "
            "before sending the next message: reading it and typing or speaking the next one. "
            if args.think[1] > 0
            else "Users send their next message as soon as the answer arrives (no think time: "
            "the service is saturated, which is what the CPU cost per turn is measured at). "
        )
        + f"Texts: {mix_source}. Each level runs {args.seconds:g} s or {args.max_turns} turns "
        "after a 20-turn warm-up. CPU ms/turn: user+system CPU of every process of the "
        "service's tree (from /proc, including reaped children) over the level and 1 s after "
        "it, divided by the turns; the load generator runs outside that tree and shares the "
        "same cores. Idle CPU of the trees (CPU-s/s): "
        + ", ".join(f"{k} {v:.3f}" for k, v in run.idle_cpu.items())
        + ". Actions run per user message in the warm-up conversations (realistic mix; "
        "excluding action_listen; a form's call of its validation action is not counted): "
        + "; ".join(
            f"{k} {v['per_turn']:.2f} ("
            + ", ".join(f"{n} {c}" for n, c in sorted(v["actions"].items(), key=lambda x: -x[1]))
            + ")"
            for k, v in run.actions.items()
            if v
        )
        + ".",
        "",
    ]
    for mx in mixes:
        levels = [
            lv for lv in run.levels if lv.mix == mx and (lv.channel == "rest" or mx == mixes[0])
        ]
        lines += mix_tables(levels, "" if mixes == ["realistic"] else f" ({mx} mix)")
    logged = [
        f"- {lv.stack} {lv.channel} {lv.mix} {lv.users} users: "
        + ", ".join(f"{n} {c}" for n, c in sorted(lv.log_errors.items(), key=lambda x: -x[1]))
        for lv in run.levels
        if lv.log_errors
    ]
    if logged:
        lines += ["Errors the service logged (ERROR lines per logger):", "", *logged, ""]
    lines += ["### Targets (2 cores)", ""]
    for mx in mixes:
        levels = [lv for lv in run.levels if lv.mix == mx]
        if mx == "knowledge":
            lines += [
                *(["Knowledge mix (issue 19):", ""] if len(mixes) > 1 else []),
                *knowledge_verdicts([lv for lv in levels if lv.channel == "rest"]),
            ]
        else:
            lines += [
                *(["Realistic mix (issue 8):", ""] if len(mixes) > 1 else []),
                *verdicts(levels),
            ]
        lines.append("")
    if run.notes:
        lines += ["Notes: " + "; ".join(run.notes) + ".", ""]
    return "\n".join(lines)


def scale_table(levels: list[Level]) -> list[str]:
    """Throughput per number of Rasa processes, and how much of a process each one adds:
    efficiency = turns/s with n processes / (n × turns/s with 1), same mix, channel, users."""
    one = {(lv.mix, lv.channel, lv.users): lv for lv in levels if lv.processes == 1}
    out = [
        "| mix | channel | Rasa processes | users | turns | turns/s | p50 ms | p95 ms | errors "
        "| CPU ms/turn | " + " | ".join(f"{r} CPU ms/turn" for r in ROLES) + " "
        "| turns/s per process | per-process efficiency |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * (len(ROLES) + 2),
    ]
    for lv in levels:
        base = one.get((lv.mix, lv.channel, lv.users))
        per = [lv.cpu_by_role.get(r, 0.0) / max(lv.turns, 1) * 1000 for r in ROLES]
        efficiency = (
            f"{lv.throughput / (lv.processes * base.throughput):.0%}"
            if base is not None and base.throughput
            else "–"
        )
        out.append(
            f"| {lv.mix} | {lv.channel} | {lv.processes} | {lv.users} | {lv.turns} | "
            f"{lv.throughput:.1f} | {_ms(lv.latency(50))} | {_ms(lv.latency(95))} | "
            f"{lv.errors} | {lv.cpu_per_turn * 1000:.1f} | "
            + " | ".join(f"{x:.1f}" for x in per)
            + f" | {lv.throughput / lv.processes:.1f} | {efficiency} |"
        )
    return out


def scale_report(run: Run, args: argparse.Namespace, mix_source: str, meta: dict[str, Any]) -> str:
    mixes = list(dict.fromkeys(args.mix))
    think = (
        f"each user waits {args.think[0]:g}–{args.think[1]:g} s (uniform) after an answer"
        if args.think[1] > 0
        else "no think time (each user sends the next message as soon as the answer arrives: "
        "saturation)"
    )
    lines = [
        *report_head(args, meta),
        "Our stack only, in the production profile: `kepu run --model <model>` with "
        "conversations and our tables in a fresh PostgreSQL database, locks in Redis, and "
        "`KEPU_RASA_INSTANCES` Rasa processes (more than one: behind nginx, which `kepu run` "
        "configures and starts on the Rasa port; REST turns go round robin), one action "
        "server, one web service. Mix: "
        + "; ".join(f"{mx}: " + MIX_TEXT[mx] for mx in mixes)
        + f"; {think}. Texts: {mix_source}. Each level runs {args.seconds:g} s or "
        f"{args.max_turns} turns after a 20-turn warm-up; CPU ms/turn counts every process "
        "of the stack's tree, nginx included (the load generator shares the same cores).",
        "",
        *scale_table(run.levels),
        "",
    ]
    if run.notes:
        lines += ["Notes: " + "; ".join(run.notes) + ".", ""]
    return "\n".join(lines)


def replace_section(doc: str, section: str, heading: str = SECTION) -> str:
    """``doc`` with the level-2 section under ``heading`` replaced by ``section`` (or appended)."""
    lines = doc.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    if start is None:
        return doc.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    new = lines[:start] + section.rstrip("\n").splitlines() + ([""] if end < len(lines) else [])
    return "\n".join(new + lines[end:]).rstrip("\n") + "\n"


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
    load = os.getloadavg()
    load_before = " / ".join(f"{x:.2f}" for x in load)
    mix, mix_source = load_mix()
    run = asyncio.run(amain(args, mix))
    meta = {
        "machine": machine(),
        "date": datetime.date.today().isoformat(),
        "load_before": load_before,
        "busy": load[0] > BUSY_LOAD,
        "load_after": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
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
