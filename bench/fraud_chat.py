"""Scams typed into the chat: does the first reply judge them?

Usage: .venv/bin/python -m bench.fraud_chat

``bench.fraud_eval`` measures the checker itself (what ``POST
/api/v1/fraud/check`` and menu 5 return). A message typed into the chat without
asking for a check first goes through the understanding step
(``bot.understanding.decide``), which may read a scam retold as hearsay as a
rumour, or one with a question in it as a question. Here each message of the
fraud sets is decided as the first message of a conversation, on the real
knowledge base and checker (no Rasa: the step is plain Python):

- a scam is judged when the reply is a 高风险 verdict, the knowledge entry on
  that kind of scam, or the "already scammed: 110 first" answer;
- a genuine message is misjudged when it gets a 高风险 verdict.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from bench import fraud_eval
from bot.settings import PROJECT_ROOT

DATA = PROJECT_ROOT / "bench" / "data"
SETS = (
    ("held-out 4", "fraud_holdout4_scams.tsv", "fraud_holdout4_genuine.tsv"),
    ("held-out 3", "fraud_holdout3_scams.tsv", "fraud_holdout3_genuine.tsv"),
    ("held-out 2", "fraud_holdout2_scams.tsv", "fraud_holdout2_genuine.tsv"),
    ("ours", "fraud_elder_scams.tsv", "fraud_genuine.tsv"),
)


def read(path: Path) -> list[str]:
    return [row["text"] for row in fraud_eval.read(path, "\t")]


async def run() -> list[str]:
    from bot.fraud.checker import FraudChecker
    from bot.knowledge.dense import DenseEncoder
    from bot.knowledge.service import KnowledgeService
    from bot.settings import Settings
    from bot.understanding.decide import Understanding

    settings = Settings.from_env()
    knowledge = KnowledgeService(PROJECT_ROOT / "knowledge", DenseEncoder(settings.vector_cache))
    await knowledge.refresh(force=True)
    understanding = Understanding(knowledge, FraudChecker(cache_dir=settings.cache_dir))
    lines = [
        "| set | scams judged | scams: other first replies | genuine given 高风险 |",
        "|---|---|---|---|",
    ]
    for name, scams_file, genuine_file in SETS:
        judged, other = 0, Counter()
        scams = read(DATA / scams_file)
        for text in scams:
            decision = await understanding.decide(text)
            high = decision.kind == "fraud_verdict" and decision.verdict.risk == "high"
            on_fraud = decision.entry is not None and decision.entry.topic == "fraud"
            if high or on_fraud:
                judged += 1
            else:
                other[decision.kind] += 1
        genuine = read(DATA / genuine_file)
        misjudged = 0
        for text in genuine:
            decision = await understanding.decide(text)
            misjudged += decision.kind == "fraud_verdict" and decision.verdict.risk == "high"
        others = ", ".join(f"{k} {n}" for k, n in other.most_common())
        lines.append(
            f"| {name} | {judged / len(scams):.1%} ({judged}/{len(scams)}) | {others or '-'} "
            f"| {misjudged / len(genuine):.1%} ({misjudged}/{len(genuine)}) |"
        )
    return lines


def main() -> None:
    print("\n".join(asyncio.run(run())))


if __name__ == "__main__":
    main()
