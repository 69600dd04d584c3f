"""Claim matching: re-worded rumours against known claims, and false matches.

Usage: .venv/bin/python -m bench.rumor_eval

Data (evaluation-only, read in place): ../shared/eval/rumors/. Every cluster's
anchor in ced_rumor_variant_clusters.jsonl is indexed as a published debunk;
its variants are sent as reports (recall@1/@5 and how many reach the
auto-match threshold). Rumours of ced_weibo_rumor_sample.jsonl that belong to
no cluster, and its non-rumours, are sent as new reports: none should be
auto-matched. The clusters were built by character-trigram Jaccard, so this
measures recovery of re-worded and re-posted text, not of paraphrase. Also
times matching against 10,000 and 100,000 synthetic claims.
"""

from __future__ import annotations

import json
import random
import statistics
import time

from bot.settings import PROJECT_ROOT
from bot.text.matching import ASK_MATCH, AUTO_MATCH, ClaimIndex

EVAL = PROJECT_ROOT.parent / "shared" / "eval" / "rumors"


def read_jsonl(name: str) -> list[dict]:
    with (EVAL / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def main() -> None:
    clusters = read_jsonl("ced_rumor_variant_clusters.jsonl")
    sample = read_jsonl("ced_weibo_rumor_sample.jsonl")
    index = ClaimIndex((str(c["cluster_id"]), c["anchor"]) for c in clusters)
    clustered = {c["anchor"] for c in clusters} | {v for c in clusters for v in c["variants"]}

    n = at1 = at5 = auto = ask = 0
    for cluster in clusters:
        for variant in cluster["variants"]:
            matches = index.best(variant, 5)
            n += 1
            right = [m for m in matches if m.key == str(cluster["cluster_id"])]
            at5 += bool(right)
            if matches and matches[0].key == str(cluster["cluster_id"]):
                at1 += 1
                auto += matches[0].score >= AUTO_MATCH
                ask += ASK_MATCH <= matches[0].score < AUTO_MATCH
    print(f"known claims: {len(index)}; thresholds: auto {AUTO_MATCH}, ask {ASK_MATCH}\n")
    print("| variants sent | recall@1 | recall@5 | right and auto-matched | right, asked |")
    print("|---|---|---|---|---|")
    print(f"| {n} | {at1 / n:.1%} | {at5 / n:.1%} | {auto / n:.1%} | {ask / n:.1%} |")

    print(
        "\n| new reports (no known claim) | n | auto-matched (wrong) | asked |\n|---|---|---|---|"
    )
    total = [0, 0, 0]  # texts, wrongly auto-matched, asked
    for label in ("rumor", "non-rumor"):
        texts = [s["text"] for s in sample if s["label"] == label and s["text"] not in clustered]
        scores = [(index.best(t) or [None])[0] for t in texts]
        wrong = sum(bool(m and m.score >= AUTO_MATCH) for m in scores)
        asked = sum(bool(m and ASK_MATCH <= m.score < AUTO_MATCH) for m in scores)
        total = [total[0] + len(texts), total[1] + wrong, total[2] + asked]
        print(f"| {label} | {len(texts)} | {wrong / len(texts):.1%} | {asked / len(texts):.1%} |")
    n_all, wrong, asked = total
    print(f"| both | {n_all} | {wrong / n_all:.1%} | {asked / n_all:.1%} |")

    rng = random.Random(20251129)
    pool = [s["text"] for s in sample] + [v for c in clusters for v in c["variants"]]
    queries = [c["anchor"] for c in clusters][:100]
    print(
        "\n| known claims | index build (s) | match p50 (ms) | match p95 (ms) |\n|---|---|---|---|"
    )
    for size in (10_000, 100_000):
        claims = [(str(i), "".join(rng.choices(rng.choice(pool), k=30))) for i in range(size)]
        t = time.perf_counter()
        big = ClaimIndex(claims)
        build = time.perf_counter() - t
        samples = []
        for q in queries:
            t = time.perf_counter()
            big.best(q)
            samples.append((time.perf_counter() - t) * 1000)
        samples.sort()
        p95 = samples[int(0.95 * (len(samples) - 1))]
        print(f"| {size:,} | {build:.1f} | {statistics.median(samples):.2f} | {p95:.2f} |")


if __name__ == "__main__":
    main()
