"""CPU accounting of a process tree from /proc: ticks per process, the tree under
some roots, the seconds per role (rasa, actions, web, supervisor, nginx, other)."""

from __future__ import annotations

import asyncio
import os
import resource
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


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


async def idle_rate(roots: list[int], seconds: float = 3.0) -> float:
    before = tree_cpu_seconds(roots)
    await asyncio.sleep(seconds)
    return (tree_cpu_seconds(roots) - before) / seconds
