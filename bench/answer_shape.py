"""How long an answer is, over the whole knowledge base: as a chat channel says it
now (lead sentence, at most five steps, one-line source) and as it was said
before issue 15 (the whole answer, the explanation, every step, the full source).

Usage: .venv/bin/python -m bench.answer_shape

"Lines at 360 px" counts the lines a bubble needs at the web chat's default
22 px text, about 14 Chinese characters per line inside a bubble on a 360 px
wide screen; the web chat's own card shows the same lead and steps.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter

from bot.knowledge.feedback import PROMPT as FEEDBACK_PROMPT
from bot.knowledge.loader import load_entries
from bot.knowledge.reply import answer_messages, source_line
from bot.knowledge.schema import Entry
from bot.settings import PROJECT_ROOT

CHARS_PER_LINE = 14


def before(entry: Entry) -> str:
    first = f"【{entry.verdict}】{entry.answer}" if entry.verdict else entry.answer
    parts = [first]
    if entry.explanation and entry.explanation != entry.answer:
        parts.append(entry.explanation)
    parts += [f"{i}. {step}" for i, step in enumerate(entry.steps, start=1)]
    parts.append(f"{source_line(entry)}\n{FEEDBACK_PROMPT}")
    return "\n".join(parts)


def now(entry: Entry) -> str:
    return "\n".join(answer_messages(entry))


def lines(text: str) -> int:
    return sum(max(1, math.ceil(len(line) / CHARS_PER_LINE)) for line in text.split("\n"))


def quantile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    entries = load_entries(PROJECT_ROOT / "knowledge").entries
    print(f"entries: {len(entries)}\n")
    print("| said | chars p50 | p90 | max | lines at 360 px p50 | p90 | max |")
    print("|---|---|---|---|---|---|---|")
    for name, say in (("before issue 15", before), ("now", now)):
        chars = [len(say(e)) for e in entries]
        rows = [lines(say(e)) for e in entries]
        print(
            f"| {name} | {statistics.median(chars):.0f} | {quantile(chars, 0.9)} | {max(chars)} "
            f"| {statistics.median(rows):.0f} | {quantile(rows, 0.9)} | {max(rows)} |"
        )
    steps = Counter(len(e.steps) for e in entries)
    print("\nsteps per entry: " + ", ".join(f"{n}: {steps[n]}" for n in sorted(steps)))
    leads = [len(answer_messages(e)[0]) for e in entries if e.steps]
    print(
        f"lead sentence (entries with steps): p50 {statistics.median(leads):.0f}, "
        f"p90 {quantile(leads, 0.9)}, max {max(leads)} characters"
    )
    longest = sorted(entries, key=lambda e: -len(now(e)))[:3]
    print("longest now: " + ", ".join(f"{e.id} ({len(now(e))})" for e in longest))


if __name__ == "__main__":
    main()
