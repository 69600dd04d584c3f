"""The understanding step alone, in seconds: a fast companion to ``bench.e2e_eval``.

Usage:
    .venv/bin/python -m bench.decide_eval [--half all|even|odd] [--show-misses 40]

Runs ``Understanding.decide`` in this process (knowledge index from the files,
the fraud checker) on the free-text rows of ``bench/data/e2e_dev.tsv`` — the
rows Rasa would hand to the understanding action — and grades each decision
with the same rules as the end-to-end evaluation. It skips the channel, the
NLU and the dialogue, so it is for iterating on search and decision rules;
the figures we report come from ``bench.e2e_eval`` through the running stack.

Direct answers are decided as the service decides them: by the trained gate
(``bot/knowledge/gate.json``) when its weights are there, by the hand-set
thresholds with ``--rules`` or without the file.

The messages of the sets that were read are filed under their entries as
``asked`` (``knowledge/*/*.yml``), so on those sets search would find each
message itself: ``--unasked`` leaves the set's own messages out of the index,
which makes the figures on a read set out-of-fold (what a new message gets).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

from bench.e2e_eval import DATA, Reply, Row, correct, load_rows, misroute, pct, report, select
from bot.settings import PROJECT_ROOT

# Rows Rasa answers itself (a move or a command), not the understanding step.
NOT_FREE_TEXT = frozenset({"chitchat", "command", "form_reply"})


def as_reply(decision: Any, seconds: float) -> Reply:
    """The tags the actions would put on the messages that render ``decision``."""
    tags: list[dict[str, Any]] = []
    kind = decision.kind
    if kind in ("answer", "debunk", "fraud_aftermath") and decision.entry is not None:
        if decision.verdict is not None:
            tags.append({"decision": "fraud_verdict"})
        tags.append({"decision": kind, "entry_id": decision.entry.id})
    elif kind == "choices":
        tags.append({"decision": "choices", "choices": "|".join(h.entry.id for h in decision.hits)})
    elif kind == "none" and decision.related:
        tags.append({"decision": "none", "related": "|".join(h.entry.id for h in decision.related)})
    elif kind == "emergency":
        tags.append({"decision": "handoff"})
    else:
        tags.append({"decision": kind})
    if kind == "about_service":  # rendered with the main menu
        from bot.menu.pages import menu_text

        return Reply([menu_text()], tags, seconds)
    return Reply([], tags, seconds)


def without_asked(texts: list[str]):
    """A loader of the knowledge files that leaves ``texts`` out of every entry's
    ``asked`` messages (compared as the near-duplicate check compares phrasings)."""
    from bot.knowledge.loader import load_entries, normalise_question

    left_out = {normalise_question(t) for t in texts}

    def load(root: Path):
        result = load_entries(root)
        result.entries = [
            e.copy(update={"asked": [t for t in e.asked if normalise_question(t) not in left_out]})
            for e in result.entries
        ]
        return result

    return load


async def run(
    rows: list[Row], unasked: bool = False, rules: bool = False
) -> list[tuple[Row, Reply]]:
    from bot.fraud.checker import FraudChecker
    from bot.knowledge import gate as answerability
    from bot.knowledge.dense import DenseEncoder
    from bot.knowledge.loader import load_entries
    from bot.knowledge.service import KnowledgeService
    from bot.settings import Settings
    from bot.understanding.decide import Understanding

    settings = Settings.from_env()
    knowledge = KnowledgeService(
        PROJECT_ROOT / "knowledge",
        DenseEncoder(settings.vector_cache),
        load=without_asked([r.text for r in rows]) if unasked else load_entries,
        gate_path=None if rules else answerability.WEIGHTS,
    )
    await knowledge.refresh(force=True)
    understanding = Understanding(knowledge, FraudChecker())
    results = []
    for row in rows:
        started = time.perf_counter()
        decision = await understanding.decide(row.text)
        results.append((row, as_reply(decision, time.perf_counter() - started)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--half", choices=("all", "even", "odd"), default="all")
    parser.add_argument("--show-misses", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--unasked",
        action="store_true",
        help="leave the set's own messages out of the entries' asked messages (out-of-fold)",
    )
    parser.add_argument(
        "--rules",
        action="store_true",
        help="decide direct answers by the hand-set thresholds, not the trained gate",
    )
    args = parser.parse_args()
    rows = [r for r in select(load_rows(args.data), args.half) if r.move not in NOT_FREE_TEXT]
    results = asyncio.run(run(rows, args.unasked, args.rules))
    print("\n".join(report(results, f"### understanding step only, {len(rows)} free-text rows")))
    misses = [(r, rep) for r, rep in results if not correct(r, rep)]
    routes = sum(bool(misroute(r, rep)) for r, rep in results)
    print(f"\nwrong {pct(len(misses), len(results))}; misroutes {routes}")
    for r, rep in misses[: args.show_misses]:
        got = ",".join(sorted(rep.decisions)) + ":" + ",".join(rep.served or rep.offered)
        print(f"- {r.id} [{r.style}] {r.text!r} want={r.label} got={got}")


if __name__ == "__main__":
    main()
