"""The report of the load bench: its Markdown tables, the targets' verdicts, the
machine and load it ran on, and the section of docs/benchmarks.md it rewrites."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from typing import Any

from bench.drive import Level
from bench.machine import machine_text
from bench.mixes import KNOWLEDGE_TURNS
from bench.stock_model import RASA_VERSION
from bot.settings import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "benchmarks.md"
SECTION = "## Load test (issue 8)"
SECTION_KNOWLEDGE = "## Turn cost, knowledge mix (issue 19)"
SECTION_SCALE = "## Scale-out: Rasa processes behind nginx (issue 19)"

# Targets of issue 8 (2 cores).
TARGET_COST_RATIO = 1.3
TARGET_P95_AT_10 = 0.5
TARGET_WECHAT_SECONDS = 4.5

# A 1-minute load average above this before the run: other jobs share the cores.
BUSY_LOAD = 1.5

# Targets of issue 19 on the knowledge mix (2 cores).
TARGET_KNOWLEDGE_COST_RATIO = 1.0
TARGET_KNOWLEDGE_P95_AT_10 = 0.3
TARGET_KNOWLEDGE_TURNS_PER_S = 25.0


@dataclass
class Run:
    levels: list[Level] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    idle_cpu: dict[str, float] = field(default_factory=dict)  # CPU s per s while idle
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)  # per stack, warm-up


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


@dataclass(frozen=True)
class Targets:
    """One issue's targets on one mix, each with the words its verdict says it in."""

    cost_ratio: float  # CPU per turn over the stock custom-action turn's
    cost_text: str
    p95_at_10: float  # seconds, our REST p95 at 10 users
    p95_text: str
    turns_per_s: float | None = None  # our best REST level's throughput, if a target
    wechat: bool = False  # each WeChat level's slowest answer within the 4.5 s budget


REALISTIC_TARGETS = Targets(  # issue 8
    cost_ratio=TARGET_COST_RATIO,
    cost_text=f"cost per turn ≤ {TARGET_COST_RATIO}× the stock custom-action turn",
    p95_at_10=TARGET_P95_AT_10,
    p95_text=f"p95 ≤ {TARGET_P95_AT_10 * 1000:.0f} ms at 10 users",
    wechat=True,
)
KNOWLEDGE_TARGETS = Targets(  # issue 19
    cost_ratio=TARGET_KNOWLEDGE_COST_RATIO,
    cost_text=f"CPU per turn ≤ {TARGET_KNOWLEDGE_COST_RATIO:.1f}× the stock custom-action "
    "turn on the same mix",
    p95_at_10=TARGET_KNOWLEDGE_P95_AT_10,
    p95_text=f"p95 ≤ {TARGET_KNOWLEDGE_P95_AT_10 * 1000:.0f} ms at 10 clients without think time",
    turns_per_s=TARGET_KNOWLEDGE_TURNS_PER_S,
)


def verdicts(levels: list[Level], targets: Targets) -> list[str]:
    """``targets`` met or missed by ``levels`` (one mix): the cost ratio, our throughput
    at saturation (if a target), our REST p95 at 10 users, and (if a target) each WeChat
    level's slowest answer against the 4.5 s budget."""
    out = []
    ratio = overall_cost_ratio(levels)
    if not math.isnan(ratio):
        mark = "met" if ratio <= targets.cost_ratio else "**missed**"
        out.append(f"- {targets.cost_text}: {ratio:.2f}× — {mark}")
    ours = [lv for lv in levels if lv.stack == "kepu" and lv.channel == "rest"]
    if ours and targets.turns_per_s is not None:
        best = max(lv.throughput for lv in ours)
        mark = "met" if best >= targets.turns_per_s else "**missed**"
        out.append(
            f"- ≥ {targets.turns_per_s:g} turns/s at saturation: {best:.1f} turns/s "
            f"(best level) — {mark}"
        )
    at10 = [lv for lv in ours if lv.users == 10]
    if at10:
        p95 = at10[0].latency(95)
        mark = "met" if p95 <= targets.p95_at_10 else "**missed**"
        out.append(f"- {targets.p95_text}: {p95 * 1000:.0f} ms — {mark}")
    for lv in levels:
        if targets.wechat and lv.channel == "wechat":
            worst = lv.latency(100)
            ok = worst <= TARGET_WECHAT_SECONDS and lv.errors == 0
            mark = "met" if ok else "**missed**"
            out.append(
                f"- WeChat webhook answers ≤ 4.5 s at {lv.users} users: max {worst:.2f} s, "
                f"{lv.extra.get('over_budget', 0)} of {lv.turns} over 4.5 s, "
                f"{lv.extra.get('late_success', 0)} answered \"success\" and pushed later — {mark}"
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
    return (
        f"Machine: {machine_text(meta['machine'], f'rasa {RASA_VERSION}')}. "
        f"Measured {meta['date']}; "
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
                *verdicts([lv for lv in levels if lv.channel == "rest"], KNOWLEDGE_TARGETS),
            ]
        else:
            lines += [
                *(["Realistic mix (issue 8):", ""] if len(mixes) > 1 else []),
                *verdicts(levels, REALISTIC_TARGETS),
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
