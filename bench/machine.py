"""The machine a bench runs on: the description a run keeps with its results, and the
line the reports print from it."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    """Cores, CPU model, RAM, Python and kernel of this machine."""
    model = platform.processor() or platform.machine() or "unknown"
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


def machine_text(m: Mapping[str, Any], *also: str) -> str:
    """``m`` (from ``machine``) in words, then ``also``: "2 cores (AMD EPYC), 23.5 GiB
    RAM, Python 3.10.13, rasa 3.6.21"."""
    said = [f"{m['nproc']} cores ({m['cpu']})", f"{m['ram_gib']} GiB RAM", f"Python {m['python']}"]
    return ", ".join([*said, *also])


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages now: "0.77 / 0.78 / 1.37"."""
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_now(*also: str) -> str:
    """The line of a bench that prints as it goes: this machine (``machine_text``), the
    minute it starts, and the load average then."""
    started = datetime.now().strftime("%Y-%m-%d %H:%M")
    return f"{machine_text(machine(), *also)}; {started}; load average at start {load_average()}"
