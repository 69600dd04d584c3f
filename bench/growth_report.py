"""The report of the growth benches: the Markdown table of their rows (growth per
10× the size), the query plans, and what their machine line adds."""

from __future__ import annotations

import math
import sqlite3

# What the growth benches add to the machine line (bench.machine.machine_now).
SQLITE = f"SQLite {sqlite3.sqlite_version}"


def fmt(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if value >= 100:
        return f"{value:,.0f}{unit}"
    if value >= 10:
        return f"{value:.1f}{unit}"
    return f"{value:.2f}{unit}"


def table(rows: list[dict]) -> str:
    """Markdown: growth is p50 (and build) over the same operation 10× smaller."""
    key = {(r.get("group", r["operation"]), r["size"]): r for r in rows}
    lines = [
        "| size | operation | p50 (ms) | p95 (ms) | build (s) | memory (MiB) "
        "| p50 growth per 10× | build growth per 10× | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['size']:,} | {r['operation']} | failed ({r['error']}) |||||||")
            continue
        smaller = key.get((r.get("group", r["operation"]), r["size"] // 10))
        growth = build_growth = "—"
        if smaller and "error" not in smaller and smaller.get("p50"):
            growth = f"{r['p50'] / smaller['p50']:.1f}×"
            if smaller.get("build_s") and r.get("build_s"):
                build_growth = f"{r['build_s'] / smaller['build_s']:.1f}×"
        lines.append(
            f"| {r['size']:,} | {r['operation']} | {fmt(r.get('p50'))} | {fmt(r.get('p95'))} "
            f"| {fmt(r.get('build_s'))} | {fmt(r.get('memory_mib'))} | {growth} "
            f"| {build_growth} | {r['load']:.2f} |"
        )
    return "\n".join(lines)


def report(rows: list[dict]) -> None:
    print(table(rows))
    plans = [(r["operation"], r["size"], r["plans"]) for r in rows if r.get("plans")]
    if plans:
        print("\nQuery plans at the largest size (one line per statement):\n")
        largest = max(size for _, size, _ in plans)
        for operation, size, statements in plans:
            if size == largest:
                print(f"- {operation}:")
                for plan in statements:
                    print(f"  - `{plan[:300]}`")
