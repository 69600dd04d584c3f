"""Does the way a question is said change its first reply? Clean, dialect and voice twins.

Usage:
    .venv/bin/python -m bench.twin_eval [--data bench/data/style_twins.tsv] [--show 20]

Each row of ``bench/data/style_twins.tsv`` is one message in three versions that
mean the same (clean Mandarin, Chongqing/Sichuan dialect, a Sichuan-accented
speech-to-text transcript). ``Understanding.decide`` runs in this process on all
three (knowledge index from the files, the trained gate, the fraud checker), as
``bench.decide_eval`` runs it. The set has no labels: a dialect or voice version
agrees when its reply is the clean twin's (the same entry answered, or the same
kind of reply when no entry is answered). Whatever the clean reply is worth, a
person who speaks dialect or dictates should get the same one.

Reported per style: agreement, and the ways the replies differ (e.g. the clean
twin answered and the voice one said "not yet"); with ``--show``, the differing
rows with the question as search heard it.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.machine import machine_now
from bot.settings import PROJECT_ROOT

DATA = PROJECT_ROOT / "bench" / "data" / "style_twins.tsv"
STYLES = ("dialect", "voice")


@dataclass(frozen=True)
class Reply:
    kind: str  # the decision's kind
    entry: str | None  # the entry answered, if any
    heard: str  # the text as search heard it

    @property
    def outcome(self) -> str:
        """What the person gets: the entry answered, or the kind of reply."""
        return self.entry or self.kind


def load(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


async def run(rows: list[dict[str, str]]) -> list[dict[str, Reply]]:
    from bot.fraud.checker import FraudChecker
    from bot.knowledge import gate as answerability
    from bot.knowledge.dense import DenseEncoder
    from bot.knowledge.service import KnowledgeService
    from bot.settings import Settings
    from bot.understanding.decide import Understanding

    settings = Settings.from_env()
    knowledge = KnowledgeService(
        PROJECT_ROOT / "knowledge",
        DenseEncoder(settings.vector_cache),
        gate_path=answerability.WEIGHTS,
    )
    await knowledge.refresh(force=True)
    understanding = Understanding(knowledge, FraudChecker())
    results = []
    for row in rows:
        replies = {}
        for style in ("clean", *STYLES):
            decision = await understanding.decide(row[style])
            answered = decision.kind in ("answer", "debunk") and decision.entry is not None
            replies[style] = Reply(
                decision.kind,
                decision.entry.id if answered and decision.entry else None,
                await knowledge.heard(row[style]),
            )
        results.append(replies)
    return results


def report(rows: list[dict[str, str]], results: list[dict[str, Reply]], show: int) -> list[str]:
    lines = [
        f"machine: {machine_now()}",
        "",
        "| style | twins | same first reply as the clean twin |",
        "|---|---|---|",
    ]
    ways: dict[str, Counter[str]] = {style: Counter() for style in STYLES}
    differing: list[tuple[str, dict[str, str], dict[str, Reply]]] = []
    for row, replies in zip(rows, results, strict=True):
        clean = replies["clean"]
        for style in STYLES:
            other = replies[style]
            if other.outcome == clean.outcome:
                ways[style]["same"] += 1
                continue
            kinds = f"{clean.kind} → {other.kind}"
            if clean.entry and other.entry:
                kinds += " (another entry)"
            ways[style][kinds] += 1
            differing.append((style, row, replies))
    total = len(rows)
    for style in STYLES:
        same = ways[style]["same"]
        lines.append(f"| {style} | {total} | {100 * same / max(total, 1):.1f}% ({same}) |")
    lines += ["", "| style | how the reply differs | twins |", "|---|---|---|"]
    for style in STYLES:
        for way, count in ways[style].most_common():
            if way != "same":
                lines.append(f"| {style} | {way} | {count} |")
    for style, row, replies in differing[:show]:
        clean, other = replies["clean"], replies[style]
        lines += [
            "",
            f"- {row['id']} {style}: clean {clean.outcome}, {style} {other.outcome}",
            f"  - clean: {row['clean']}",
            f"  - {style}: {row[style]} (heard: {other.heard})",
        ]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--show", type=int, default=0, help="differing rows to print")
    args = parser.parse_args(argv)
    rows = load(args.data)
    results = asyncio.run(run(rows))
    print("\n".join(report(rows, results, args.show)))


if __name__ == "__main__":
    main()
