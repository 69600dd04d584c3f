"""Timing a call and the memory of this process: the samples of a measurement,
their p50/p95, and the row a bench reports them in."""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quantiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def timed(call: Callable[[], Any], repeat: int = 1) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        call()
        out.append((time.perf_counter() - t) * 1000)
    return out


async def timed_async(call: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        await call()
        out.append((time.perf_counter() - t) * 1000)
    return out


def row(size: int, operation: str, samples: list[float] | None = None, **extra: Any) -> dict:
    out: dict[str, Any] = {"size": size, "operation": operation, "load": os.getloadavg()[0]}
    if samples:
        out["p50"], out["p95"] = quantiles(samples)
        out["n"] = len(samples)
    out.update(extra)
    return out
