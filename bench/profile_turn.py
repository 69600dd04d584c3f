"""Where a saturated knowledge turn spends its CPU, per process (issue 19).

Usage: .venv/bin/python -m bench.profile_turn [--label before] [--users 10] [--seconds 40]
       [--rate 100] [--stock] [--env NAME=VALUE ...] [--no-svg]

Starts our stack as bench/load.py does (``kepu run --model <model>`` on free
loopback ports, a throw-away var/), warms it up, then drives the knowledge mix
(conversations of knowledge questions only) from --users clients with no think
time for --seconds, while ``py-spy record`` samples every Python process of the
stack (Rasa, the action server, the web service) at --rate Hz. Needs py-spy
(``.venv/bin/pip install py-spy``; as root, or with ptrace permission).

Writes ``docs/profiles/<label>-<process>.svg`` (py-spy's flame graphs, one per
process) and ``docs/profiles/<label>.json`` (samples per category, CPU per
thread, turns), and prints the Markdown table of CPU ms per turn by category.

How the table is computed. CPU ms per turn of each process comes from /proc
(user + system time of all its threads over the level, divided by the turns),
as bench/load.py measures it. py-spy only sees threads that run Python code:
TensorFlow's own thread pools (inter-op and intra-op kernels of DIET and TED)
are not sampled, so their CPU is read per thread from /proc/<pid>/task (the
threads ``py-spy dump`` does not list) and shown as its own row. py-spy samples
only the thread holding the GIL, without pausing the process (``--gil
--nonblocking``: pausing a process for every sample slowed its turns fourfold,
and without the pause py-spy cannot tell idle threads from busy ones). The CPU
of the Python threads is split by the share of those samples in each category
(``classify``: the innermost frame that belongs to a known module decides, so
``json.dumps`` called by aiohttp counts as JSON; helpers such as TensorFlow or
SQLAlchemy count for the caller found further out). Time a thread spends
holding the GIL while it waits for the disk counts as if it were CPU.

--rescan sorts the samples of existing flame graphs into the categories again;
--table prints saved profiles side by side.

--stock profiles the stock assistant of bench/stock/ the same way (memory
tracker store), with the same knowledge texts, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import drive, load, mixes, procstat, stock_model
from bench.ports import free_port
from bench.stacks import our_stack, spawn, stop, wait_ready
from bot.settings import PROJECT_ROOT

PROFILES = PROJECT_ROOT / "docs" / "profiles"
PROCESSES = ("rasa", "actions", "web")

# --- reading py-spy's flame graph ------------------------------------------------------

_FRAME = re.compile(
    r'<g><title>(?P<title>[^<]*)</title><rect x="[^"]*" y="(?P<y>[\d.]+)"[^>]*?'
    r'fg:x="(?P<x>\d+)" fg:w="(?P<w>\d+)"'
)
_SAMPLES = re.compile(r" \([\d,]+ samples?, [\d.]+%\)$")


@dataclass
class Frame:
    name: str  # "function (path/file.py)" or "function (path/file.py:line)"
    depth: int
    x: int
    w: int
    children: list[Frame] = field(default_factory=list)

    @property
    def self_samples(self) -> int:
        return self.w - sum(c.w for c in self.children)


def parse_flamegraph(svg: str) -> Frame | None:
    """The frame tree of an inferno/py-spy SVG (its ``fg:x``/``fg:w`` sample counts)."""
    frames = []
    for m in _FRAME.finditer(svg):
        title = _SAMPLES.sub("", html.unescape(m.group("title")))
        frames.append(Frame(title, int(float(m.group("y"))), int(m.group("x")), int(m.group("w"))))
    if not frames:
        return None
    ys = sorted({f.depth for f in frames})
    inverted = any(f.name == "all" and f.depth == ys[0] for f in frames)
    order = {y: i for i, y in enumerate(ys if inverted else reversed(ys))}
    for f in frames:
        f.depth = order[f.depth]
    by_depth: dict[int, list[Frame]] = {}
    for f in frames:
        by_depth.setdefault(f.depth, []).append(f)
    for depth, level in by_depth.items():
        parents = sorted(by_depth.get(depth - 1, []), key=lambda f: f.x)
        for f in level:
            for p in parents:
                if p.x <= f.x < p.x + p.w:
                    p.children.append(f)
                    break
    roots = by_depth.get(0, [])
    return roots[0] if len(roots) == 1 else Frame("all", 0, 0, sum(r.w for r in roots), roots)


def stacks(root: Frame) -> Iterable[tuple[tuple[str, ...], int]]:
    """(frames from the outermost in, samples spent in the innermost itself)."""
    todo: list[tuple[Frame, tuple[str, ...]]] = [(root, ())]
    while todo:
        frame, path = todo.pop()
        path = path + (frame.name,) if frame.name != "all" else path
        if frame.self_samples > 0 and path:
            yield path, frame.self_samples
        todo += [(c, path) for c in frame.children]


# --- categories -------------------------------------------------------------------------

# (category, patterns, helper). A pattern is searched in a frame, "function (path/file.py)".
# Walking a stack from the innermost frame out, the first frame that matches a
# category that is not a helper decides. Helpers (TensorFlow, SQLAlchemy, jieba,
# scikit-learn, …) serve several callers: their time goes to the caller that is
# found further out (DIET or TED; the tracker store or our channel; the NLU
# pipeline or the search), or, if there is none, to the helper's own category.
CATEGORIES: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    (
        "JSON (de)serialisation",
        (r"\((.*/)?json/", r"ujson", r"orjson", r"^load_json \(", r"^json_dumps \("),
        False,
    ),
    (
        "tracker store (SQL, events to and from rows)",
        (r"rasa/core/tracker_store\.py", r"bot/channels/tracker_store\.py"),
        False,
    ),
    (
        "our channel (checks, verdicts owed, rollback)",
        (
            r"bot/channels/rest\.py",
            r"bot/channels/turn\.py",
            r"bot/channels/services\.py",
            r"bot/channels/rollback\.py",
            r"bot/rumors/delivery\.py",
            r"bot/text/inbound\.py",
        ),
        False,
    ),
    ("SQL (SQLAlchemy, sqlite3)", (r"sqlalchemy/", r"sqlite3/"), True),
    ("database driver (aiosqlite threads)", (r"aiosqlite/", r"asyncpg/", r"bot/storage/"), True),
    ("DIET inference (Python side of TF)", (r"rasa/nlu/classifiers/diet_classifier\.py",), False),
    ("TED inference (Python side of TF)", (r"rasa/core/policies/ted_policy\.py",), False),
    (
        "TensorFlow (caller not identified)",
        (r"tensorflow/", r"keras/", r"rasa/utils/tensorflow/"),
        True,
    ),
    (
        "text processing (jieba, pinyin, normaliser, scikit-learn)",
        (r"jieba/", r"bot/text/", r"sklearn/", r"scipy/", r"numpy/", r"pypinyin/"),
        True,
    ),
    ("NLU components (normaliser, jieba, featurizers, gates)", (r"rasa/nlu/", r"bot/nlu/"), False),
    (
        "policies and tracker featurisation (rule, memo, states)",
        (r"rasa/core/policies/", r"rasa/core/featurizers/", r"rasa/shared/core/slots\.py"),
        False,
    ),
    ("Rasa graph runner", (r"rasa/engine/", r"dask/"), False),
    (
        "events and tracker objects",
        (
            r"rasa/shared/core/events\.py",
            r"rasa/shared/core/trackers\.py",
            r"rasa_sdk/events",
            r"rasa_sdk/interfaces\.py",
        ),
        False,
    ),
    ("domain", (r"rasa/shared/core/domain\.py",), False),
    (
        "action server call (Rasa's HTTP client)",
        (
            r"aiohttp/",
            r"rasa/utils/endpoints\.py",
            r"rasa/core/actions/action\.py",
            r"^(_request|_shared_session) \(bot/channels/speedups\.py",
            r"yarl/",
            r"multidict/",
        ),
        False,
    ),
    (
        "response schema check",
        (r"jsonschema/", r"^_validate_action_result \(bot/channels/speedups\.py"),
        False,
    ),
    (
        "search and understanding",
        (r"bot/knowledge/", r"bot/understanding/", r"bot/fraud/", r"bot/rumors/"),
        False,
    ),
    ("reply rendering", (r"actions/render\.py", r"actions/common\.py"), False),
    ("actions (our code)", (r"actions/",), False),
    ("action server framework (rasa_sdk)", (r"rasa_sdk/",), False),
    ("HTTP server (Sanic)", (r"sanic/", r"sanic_routing/", r"httptools", r"uvloop"), False),
    (
        "Rasa message processing",
        (
            r"rasa/core/processor\.py",
            r"rasa/core/agent\.py",
            r"rasa/core/channels/",
            r"rasa/core/lock",
        ),
        False,
    ),
    ("logging", (r"logging/", r"structlog/"), False),
)
OTHER = "other Python (event loop, runtime)"
NATIVE_THREADS = "threads without Python (TensorFlow's pools: DIET and TED kernels)"
GIL_RELEASED = "Python threads, GIL released (SQLite engine, socket system calls, TF calls)"

_COMPILED = [(name, [re.compile(p) for p in pats], helper) for name, pats, helper in CATEGORIES]


def classify(stack: Sequence[str]) -> str:
    """The category of a stack (outermost frame first)."""
    helper = None
    for frame in reversed(stack):
        for name, patterns, is_helper in _COMPILED:
            if any(p.search(frame) for p in patterns):
                if not is_helper:
                    return name
                helper = helper or name
                break
    return helper or OTHER


def categorize(root: Frame | None) -> dict[str, int]:
    out: dict[str, int] = {}
    if root is None:
        return out
    for path, n in stacks(root):
        cat = classify(path)
        out[cat] = out.get(cat, 0) + n
    return out


# --- CPU per thread ---------------------------------------------------------------------


def thread_ticks(
    pids: Iterable[int], proc: Path = Path("/proc")
) -> dict[tuple[int, int], tuple[str, int]]:
    """(pid, tid) -> (thread name, utime + stime ticks) for every thread of ``pids``."""
    out = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            for task in (proc / str(pid) / "task").iterdir():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    text = (task / "stat").read_text()
                    head, _, rest = text.rpartition(")")
                    name = head.split("(", 1)[1]
                    f = rest.split()
                    out[(pid, int(task.name))] = (name, int(f[11]) + int(f[12]))
    return out


_THREAD = re.compile(r"^Thread (\d+) ", re.M)


def python_threads(pid: int) -> set[int]:
    """OS thread ids of the threads of ``pid`` that run Python (``py-spy dump``)."""
    try:
        out = subprocess.run(
            [py_spy(), "dump", "--pid", str(pid)],  # pausing once: OS thread ids
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {pid}
    return {int(m.group(1)) for m in _THREAD.finditer(out)} | {pid}


# --- processes of a stack ---------------------------------------------------------------


def processes(roots: Sequence[int]) -> dict[str, int]:
    """role -> pid of the stack's Python processes (bench.procstat.role)."""
    stats = procstat.read_stats()
    _, pids = procstat.tree_ticks(stats, roots)
    out: dict[str, int] = {}
    for pid in sorted(pids):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        name = procstat.role(cmd)
        if name in PROCESSES and name not in out:
            out[name] = pid
    return out


@dataclass
class ProcessProfile:
    role: str
    pid: int
    cpu_ms_per_turn: float  # the whole process, from /proc
    native_ms_per_turn: float  # its threads that run no Python (TensorFlow's pools)
    gil_ms_per_turn: float  # time a Python thread held the GIL (py-spy samples / rate)
    samples: dict[str, int]  # GIL-holding samples per category
    threads: dict[str, float]  # "python" / "native" -> CPU ms per turn

    def rows(self) -> dict[str, float]:
        """CPU ms per turn by category.

        Python threads: the time they held the GIL (never more than their CPU),
        split by category in proportion to the samples; what is left of their
        CPU ran with the GIL released. Threads without Python: their own row.
        """
        python_ms = max(self.cpu_ms_per_turn - self.native_ms_per_turn, 0.0)
        held = min(self.gil_ms_per_turn, python_ms)
        total = sum(self.samples.values())
        out = {k: held * n / total for k, n in self.samples.items()} if total else {}
        out[GIL_RELEASED] = python_ms - (held if total else 0.0)
        out[NATIVE_THREADS] = self.native_ms_per_turn
        return {k: v for k, v in out.items() if v > 0.0}


@dataclass
class Profile:
    label: str
    stack: str
    users: int
    seconds: float
    turns: int
    throughput: float
    p50_ms: float
    p95_ms: float
    processes: list[ProcessProfile]

    @property
    def cpu_ms_per_turn(self) -> float:
        return sum(p.cpu_ms_per_turn for p in self.processes)

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "stack": self.stack,
            "users": self.users,
            "seconds": self.seconds,
            "turns": self.turns,
            "throughput": round(self.throughput, 2),
            "p50_ms": round(self.p50_ms, 1),
            "p95_ms": round(self.p95_ms, 1),
            "cpu_ms_per_turn": round(self.cpu_ms_per_turn, 2),
            "processes": {
                p.role: {
                    "pid": p.pid,
                    "cpu_ms_per_turn": round(p.cpu_ms_per_turn, 2),
                    "native_threads_ms_per_turn": round(p.native_ms_per_turn, 2),
                    "gil_held_ms_per_turn": round(p.gil_ms_per_turn, 2),
                    "samples": dict(sorted(p.samples.items(), key=lambda x: -x[1])),
                    "ms_per_turn": {
                        k: round(v, 2) for k, v in sorted(p.rows().items(), key=lambda x: -x[1])
                    },
                    "threads_ms_per_turn": p.threads,
                }
                for p in self.processes
            },
        }


def table(profiles: Sequence[dict[str, Any]]) -> list[str]:
    """Markdown: CPU ms per turn by process and category, one column per profile."""
    labels = [p["label"] for p in profiles]
    out = [
        "| process | where the CPU goes | " + " | ".join(labels) + " |",
        "|---|---|" + "---:|" * len(labels),
    ]
    for role in PROCESSES:
        cats: dict[str, float] = {}
        for p in profiles:
            for k, v in p["processes"].get(role, {}).get("ms_per_turn", {}).items():
                cats[k] = max(cats.get(k, 0.0), v)
        if not cats:
            continue
        for cat in sorted(cats, key=lambda k: -cats[k]):
            if cats[cat] < 0.1:
                continue
            vals = [p["processes"].get(role, {}).get("ms_per_turn", {}).get(cat) for p in profiles]
            out.append(
                f"| {role} | {cat} | "
                + " | ".join("–" if v is None else f"{v:.1f}" for v in vals)
                + " |"
            )
        totals = [p["processes"].get(role, {}).get("cpu_ms_per_turn") for p in profiles]
        out.append(
            f"| {role} | **all of {role}** | "
            + " | ".join("–" if v is None else f"**{v:.1f}**" for v in totals)
            + " |"
        )
    out.append(
        "| all | **CPU ms per turn** | "
        + " | ".join(f"**{p['cpu_ms_per_turn']:.1f}**" for p in profiles)
        + " |"
    )
    out.append(
        "| all | turns/s (under the profiler) | "
        + " | ".join(f"{p['throughput']:.1f}" for p in profiles)
        + " |"
    )
    return out


# --- the run ----------------------------------------------------------------------------


def py_spy() -> str:
    exe = Path(sys.executable).with_name("py-spy")
    found = str(exe) if exe.exists() else shutil.which("py-spy")
    if not found:
        sys.exit("py-spy is not installed: .venv/bin/pip install py-spy")
    return found


@contextlib.asynccontextmanager
async def stock_stack(
    args: argparse.Namespace, session: Any
) -> AsyncIterator[tuple[str, list[int]]]:
    """The stock assistant of bench/stock/ (memory tracker store), ready; (base URL, roots)."""
    model = stock_model.ensure_stock_model()
    rasa_port, actions_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="kepu-profile-stock-") as tmp:
        tmpdir = Path(tmp)
        (tmpdir / "endpoints.yml").write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        )
        (tmpdir / "credentials.yml").write_text("rest:\n")
        env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SANIC_HOST": "127.0.0.1",
            "PYTHONPATH": str(PROJECT_ROOT),
            **dict(args.env),
        }
        log = tmpdir / "stock.log"
        py = sys.executable
        actions = spawn(
            [py, "-m", "rasa_sdk", "--actions", "bench.stock.actions", "--port", str(actions_port)],
            env,
            PROJECT_ROOT,
            log,
        )
        rasa = spawn(
            [
                py,
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
            ],
            env,
            tmpdir,
            log,
        )
        base = f"http://127.0.0.1:{rasa_port}"
        try:
            await wait_ready(
                session,
                [f"http://127.0.0.1:{actions_port}/health", f"{base}/"],
                [actions, rasa],
                timeout=args.start_timeout,
            )
            yield base, [rasa.pid, actions.pid]
        finally:
            await stop(rasa)
            await stop(actions)


async def profile_level(
    args: argparse.Namespace, session: Any, mix: mixes.Mix, base: str, roots: list[int], stack: str
) -> Profile:
    send = drive.rest_sender(session, f"{base}/webhooks/rest/webhook")
    await drive.drive(send, mix, 2, 120, 20, f"{stack}-warmup", mix_name="knowledge")
    procs = processes(roots)
    print(f"[profile] {stack} processes: {procs}", flush=True)
    PROFILES.mkdir(parents=True, exist_ok=True)
    svg_dir = Path(tempfile.mkdtemp(prefix="kepu-profile-"))
    spies = {}
    duration = int(args.seconds + 3)
    for name, pid in procs.items():
        out = svg_dir / f"{name}.svg"
        argv = [
            py_spy(),
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(args.rate),
            "--duration",
            str(duration),
            "--nolineno",
            # Pausing every thread of a process for each sample slows the turns it
            # measures several-fold, and py-spy's idle detection fails without the
            # pause: sample without pausing, and only the thread holding the GIL.
            "--nonblocking",
            "--gil",
            "--format",
            "flamegraph",
            "--output",
            str(out),
        ]
        spies[name] = (
            subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE),
            out,
        )
    await asyncio.sleep(1.0)  # py-spy attached
    pids = list(procs.values())
    threads0 = thread_ticks(pids)
    cpu0 = {name: procstat.tree_cpu_seconds([pid]) for name, pid in procs.items()}
    samples, wall = await drive.drive(
        send, mix, args.users, args.seconds, 10**6, f"{stack}-profile", mix_name="knowledge"
    )
    await asyncio.sleep(0.5)
    cpu1 = {name: procstat.tree_cpu_seconds([pid]) for name, pid in procs.items()}
    threads1 = thread_ticks(pids)
    for name, (spy, _) in spies.items():
        _, err = await asyncio.to_thread(spy.communicate)
        if spy.returncode != 0:
            print(f"[profile] py-spy on {name} failed: {err.decode(errors='replace')}", flush=True)
    turns = len(samples)
    hz = os.sysconf("SC_CLK_TCK")
    result = []
    for name, pid in procs.items():
        python = python_threads(pid)
        per_kind = {"python": 0.0, "native": 0.0}
        for (p, tid), (tname, ticks) in threads1.items():
            if p == pid:
                ms = (ticks - threads0.get((p, tid), (tname, 0))[1]) / hz * 1000 / max(turns, 1)
                per_kind["python" if tid in python else "native"] += ms
        _, svg = spies[name]
        root = parse_flamegraph(svg.read_text()) if svg.exists() else None
        if root is not None and not args.no_svg:  # a process with no samples: no graph
            shutil.copyfile(svg, PROFILES / f"{args.label}-{stack}-{name}.svg")
        held = root.w if root is not None else 0
        result.append(
            ProcessProfile(
                role=name,
                pid=pid,
                cpu_ms_per_turn=(cpu1[name] - cpu0[name]) * 1000 / max(turns, 1),
                native_ms_per_turn=per_kind["native"],
                gil_ms_per_turn=held / args.rate * 1000 / max(turns, 1),
                samples=categorize(root),
                threads={k: round(v, 2) for k, v in per_kind.items()},
            )
        )
    shutil.rmtree(svg_dir, ignore_errors=True)
    ok = [s.seconds for s in samples if s.ok]
    errors = sum(not s.ok for s in samples)
    if errors:
        print(f"[profile] {errors} of {turns} turns failed", flush=True)
    return Profile(
        label=args.label,
        stack=stack,
        users=args.users,
        seconds=round(wall, 1),
        turns=turns,
        throughput=turns / wall if wall else 0.0,
        p50_ms=drive.percentile(ok, 50) * 1000,
        p95_ms=drive.percentile(ok, 95) * 1000,
        processes=result,
    )


async def amain(args: argparse.Namespace) -> list[Profile]:
    import aiohttp

    mix, _ = mixes.load_mix()
    out = []
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=0)
    ) as session:
        model = Path(args.model) if args.model else stock_model.current_model()
        async with our_stack(args, session, model, dict(args.env)) as stack:
            out.append(await profile_level(args, session, mix, stack.rasa, stack.roots, "kepu"))
        if args.stock:
            async with stock_stack(args, session) as (base, roots):
                out.append(await profile_level(args, session, mix, base, roots, "stock"))
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--label", default="before", help="name of this profile (file names, column)")
    p.add_argument("--users", type=int, default=10)
    p.add_argument("--seconds", type=float, default=40.0)
    p.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    p.add_argument("--stock", action="store_true", help="profile the stock assistant too")
    p.add_argument("--model", help="our model (default: the one for the current inputs)")
    p.add_argument("--cache-dir", type=Path, default=PROJECT_ROOT / "var" / "cache")
    p.add_argument("--start-timeout", type=float, default=300.0)
    p.add_argument("--keep-logs", help="copy the stack's log into this folder")
    p.add_argument("--env", type=load.parse_env, action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--no-svg", action="store_true", help="do not write the flame graphs")
    p.add_argument(
        "--rescan",
        metavar="NAME,NAME",
        help="only sort the samples of docs/profiles/<NAME>-<process>.svg into the "
        "categories again and rewrite <NAME>.json (after the categories changed)",
    )
    p.add_argument(
        "--table",
        metavar="NAME,NAME",
        help="only print the table of docs/profiles/<NAME>.json files side by side "
        "(e.g. before-kepu,after-kepu,before-stock)",
    )
    args = p.parse_args(argv)
    if not re.fullmatch(r"[a-z0-9-]{1,40}", args.label):
        p.error("--label: lower-case letters, digits and dashes")
    if not 1 <= args.users <= 200 or not 0 < args.seconds <= 600 or not 1 <= args.rate <= 1000:
        p.error("--users 1..200, --seconds (0, 600], --rate 1..1000")
    return args


def rescan(name: str) -> None:
    """Categories of ``docs/profiles/<name>.json`` again, from its flame graphs."""
    path = PROFILES / f"{name}.json"
    data = json.loads(path.read_text())
    for role, proc in data["processes"].items():
        svg = PROFILES / f"{name}-{role}.svg"
        root = parse_flamegraph(svg.read_text()) if svg.exists() else None
        prof = ProcessProfile(
            role=role,
            pid=proc["pid"],
            cpu_ms_per_turn=proc["cpu_ms_per_turn"],
            native_ms_per_turn=proc["native_threads_ms_per_turn"],
            gil_ms_per_turn=proc["gil_held_ms_per_turn"],
            samples=categorize(root),
            threads=proc["threads_ms_per_turn"],
        )
        proc["samples"] = dict(sorted(prof.samples.items(), key=lambda x: -x[1]))
        proc["ms_per_turn"] = {
            k: round(v, 2) for k, v in sorted(prof.rows().items(), key=lambda x: -x[1])
        }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.rescan:
        for name in args.rescan.split(","):
            rescan(name.strip())
        return
    if args.table:
        profiles = []
        for name in args.table.split(","):
            data = json.loads((PROFILES / f"{name.strip()}.json").read_text())
            profiles.append({**data, "label": name.strip()})
        print("\n".join(table(profiles)))
        return
    started = time.monotonic()
    profiles = asyncio.run(amain(args))
    for prof in profiles:
        data = prof.to_json()
        name = f"{args.label}-{prof.stack}.json"
        (PROFILES / name).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        print(
            f"\n[profile] {prof.stack}: {prof.turns} turns in {prof.seconds} s "
            f"({prof.throughput:.1f}/s, p50 {prof.p50_ms:.0f} ms, p95 {prof.p95_ms:.0f} ms), "
            f"{prof.cpu_ms_per_turn:.1f} CPU ms/turn; wrote docs/profiles/{name}"
        )
        print("\n".join(table([data])))
    print(f"[profile] done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
