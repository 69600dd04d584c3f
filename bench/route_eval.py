"""Routes of real questions: how many public questions the understanding step sends
anywhere but an answer.

Usage:
    .venv/bin/python -m bench.route_eval [--show 5]

Every text here is a question someone asked on a public forum (nobody on our
team wrote them): the titles and descriptions of an internal-medicine Q&A site,
medical queries with typing errors, agricultural exam questions, and general
questions from three question-matching sets (``../shared/eval/``, read at run
time, never copied). Whatever the knowledge base holds, the right route for
each is a question route: an answer, numbered choices, or an honest "not yet".
A rumour-report offer, a fraud verdict, a help request or an emergency
hand-off is a misroute (the issue's "question → form / fraud check / help").
The long descriptions are machine-rewritten consultations (the set's README),
wordier than our users; they are reported, not targeted.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
from collections import Counter, defaultdict
from collections.abc import Iterator

from bot.settings import PROJECT_ROOT

EVAL = PROJECT_ROOT.parent / "shared" / "eval"
QUESTION_ROUTES = frozenset({"answer", "debunk", "choices", "none"})


def sources() -> Iterator[tuple[str, list[str]]]:
    with (EVAL / "health_qa" / "toyhom_internal_medicine_sample.csv").open(encoding="utf-8") as fh:
        health = list(csv.DictReader(fh))
    yield "health Q&A titles", [r["title"] for r in health]
    yield "health Q&A descriptions", [r["ask"][:200] for r in health]
    with (EVAL / "voice_asr" / "mcsc_medical_query_typos_sample.tsv").open(encoding="utf-8") as fh:
        yield "medical queries with typos", [r["noisy"] for r in csv.DictReader(fh, delimiter="\t")]
    with (EVAL / "agri_qa" / "agrieval_openqa_sample.jsonl").open(encoding="utf-8") as fh:
        farming = [json.loads(line)["question"] for line in fh if line.strip()]
    yield "agricultural questions", farming
    with (EVAL / "question_matching" / "question_pairs_sample.tsv").open(encoding="utf-8") as fh:
        pairs = list(csv.DictReader(fh, delimiter="\t"))
    yield "general questions", [r["text_a"] for r in pairs] + [r["text_b"] for r in pairs]


async def run(show: int) -> None:
    from bot.fraud.checker import FraudChecker
    from bot.knowledge.dense import DenseEncoder
    from bot.knowledge.service import KnowledgeService
    from bot.settings import Settings
    from bot.understanding.decide import Understanding

    settings = Settings.from_env()
    knowledge = KnowledgeService(PROJECT_ROOT / "knowledge", DenseEncoder(settings.vector_cache))
    await knowledge.refresh(force=True)
    understanding = Understanding(knowledge, FraudChecker())
    print("| source | questions | misrouted | report offer | fraud verdict | help | emergency |")
    print("|---|---|---|---|---|---|---|")
    examples: dict[str, list[str]] = defaultdict(list)
    for name, texts in sources():
        kinds: Counter[str] = Counter()
        for text in texts:
            decision = await understanding.decide(text)
            kinds[decision.kind] += 1
            if decision.kind not in QUESTION_ROUTES:
                examples[f"{name} → {decision.kind}"].append(text)
        wrong = sum(n for kind, n in kinds.items() if kind not in QUESTION_ROUTES)
        print(
            f"| {name} | {len(texts)} | {wrong} ({wrong / len(texts):.1%}) "
            f"| {kinds['report_offer']} | {kinds['fraud_verdict']} "
            f"| {kinds['handoff']} | {kinds['emergency'] + kinds['fraud_aftermath']} |"
        )
    for key, texts in examples.items():
        for text in texts[:show]:
            print(f"- {key}: {text[:80]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show", type=int, default=0, help="misrouted examples per kind")
    args = parser.parse_args()
    if not EVAL.exists():
        raise SystemExit(f"the public evaluation data is not here: {EVAL}")
    asyncio.run(run(args.show))


if __name__ == "__main__":
    main()
