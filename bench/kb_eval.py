"""Knowledge search accuracy and latency, next to a plain BM25 baseline.

Usage: .venv/bin/python -m bench.kb_eval [--seed 20251129] [--e2e bench/data/e2e_holdout5.tsv]

Dev set: bench/data/kb_dev.tsv (questions written independently of the
entries' own phrasings: plain, colloquial, dialect). Noisy copies replace
10% and 20% of characters with homophones (bench/noise.py). Prints Markdown.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi

from bench.noise import add_noise
from bot.knowledge.dense import DenseEncoder
from bot.knowledge.loader import load_entries
from bot.knowledge.schema import Entry
from bot.knowledge.search import SearchIndex
from bot.knowledge.service import decide
from bot.settings import PROJECT_ROOT
from bot.text.normalize import normalize
from bot.text.segment import word_tokens

DEV = PROJECT_ROOT / "bench" / "data" / "kb_dev.tsv"
NEGATIVES = PROJECT_ROOT / "bench" / "data" / "kb_negatives.tsv"  # out of scope
NOISE_LEVELS = (0.0, 0.1, 0.2, 0.3)


def read_dev(path: Path = DEV) -> list[dict[str, str]]:
    """The dev rows; an entry id that was since merged into another names the
    entry holding its content now (the knowledge files' ``aliases``)."""
    from bot.knowledge.loader import alias_map, load_entries

    aliases = alias_map(load_entries(PROJECT_ROOT / "knowledge").entries)
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    for row in rows:
        if "entry_id" in row:
            row["entry_id"] = aliases.get(row["entry_id"], row["entry_id"])
    return rows


class Bm25Baseline:
    """BM25 over jieba words of each entry's title, questions and tags."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        docs = [word_tokens(normalize(" ".join(e.search_texts() + e.tags))) for e in entries]
        self.bm25 = BM25Okapi(docs)

    def search(self, query: str, k: int = 3) -> list[str]:
        scores = self.bm25.get_scores(word_tokens(normalize(query)))
        return [self.entries[i].id for i in np.argsort(-scores)[:k]]


def evaluate(rows, search, seed: int) -> dict[tuple[float, str], list[int]]:
    """(noise, topic) -> [top1 hits, top3 hits, total]."""
    out: dict[tuple[float, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for level in NOISE_LEVELS:
        rng = random.Random(seed)
        for row in rows:
            question = add_noise(row["question"], level, rng) if level else row["question"]
            ids = search(question)
            topic = row["entry_id"].split("-")[0]
            for key in ((level, topic), (level, "all")):
                out[key][0] += int(bool(ids) and ids[0] == row["entry_id"])
                out[key][1] += int(row["entry_id"] in ids[:3])
                out[key][2] += 1
    return out


def latency(index: SearchIndex, queries: list[str], repeat: int = 3) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        for q in queries:
            t = time.perf_counter()
            index.search(q)
            samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def synthetic(entries: list[Entry], n: int, rng: random.Random) -> list[Entry]:
    """n entries made from the real ones with homophone-noised texts (for scale only)."""
    out = list(entries)
    while len(out) < n:
        e = rng.choice(entries)
        noisy = [add_noise(q, 0.3, rng) for q in e.questions]
        out.append(
            e.copy(
                update={
                    "id": f"{e.id}-syn{len(out)}",
                    "title": add_noise(e.title, 0.3, rng),
                    "questions": noisy,
                }
            )
        )
    return out


class SyntheticVectors(DenseEncoder):
    """Random unit vectors for synthetic entries (scale tests only).

    Encoding 50,000 synthetic phrasings and their noisy words would take many
    minutes and measure nothing about search latency, which depends only on the
    matrix sizes.
    """

    def __init__(self, seed: int) -> None:
        super().__init__(None)
        self.rng = np.random.default_rng(seed)

    def encode(self, texts: list[str]) -> np.ndarray:
        v = self.rng.standard_normal((len(texts), 384)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def decision_quality(rows, index: SearchIndex) -> dict[str, list[int]]:
    """How often each decision (answer / choices / none) is taken and is right."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        result = decide(index.search(row["question"], k=3))
        right = any(
            h.entry.id == row["entry_id"]
            for h in (result.hits[:1] if result.kind == "answer" else result.hits)
        )
        out[result.kind][0] += 1
        out[result.kind][1] += int(right)
    return out


def e2e_table(path: Path, index: SearchIndex, bm25: Bm25Baseline) -> None:
    """Top-1/top-3 of search alone on a first-reply set's rows that name entries: how
    far the ranking goes before the understanding step decides what to say."""
    from bench.e2e_eval import load_rows

    rows = [r for r in load_rows(path) if r.entries]
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for row in rows:
        ours = [h.entry.id for h in index.search(row.text, k=3)]
        base = bm25.search(row.text)[:3]
        for key in (row.style, "all"):
            c = counts[key]
            c[0] += bool(ours[:1]) and ours[0] in row.entries
            c[1] += bool(set(ours) & row.entries)
            c[2] += bool(base[:1]) and base[0] in row.entries
            c[3] += bool(set(base) & row.entries)
            c[4] += 1
    print(f"{path.name}: {len(rows)} rows whose label names entries\n")
    print("| style | n | ours top-1 | ours top-3 | BM25 top-1 | BM25 top-3 |")
    print("|---|---|---|---|---|---|")
    for key in sorted(counts, key=lambda k: (k == "all", k)):
        c = counts[key]
        n = c[4]
        print(
            f"| {key} | {n} | {c[0] / n:.1%} | {c[1] / n:.1%} | {c[2] / n:.1%} | {c[3] / n:.1%} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=20251129)
    parser.add_argument(
        "--no-dense",
        action="store_true",
        help="lexical signals only (to see what the sentence vectors add)",
    )
    parser.add_argument(
        "--latency-only", action="store_true", help="only the latency table (quick re-measure)"
    )
    parser.add_argument(
        "--e2e",
        type=Path,
        help="instead: search alone on the rows of a first-reply set (bench/data/e2e_*.tsv) "
        "whose label names entries",
    )
    args = parser.parse_args()
    entries = load_entries(PROJECT_ROOT / "knowledge").entries
    rows = read_dev()
    encoder = (
        None if args.no_dense else DenseEncoder(PROJECT_ROOT / "var" / "cache" / "kb_vectors.npz")
    )
    t = time.perf_counter()
    index = SearchIndex(entries, encoder)
    build_s = time.perf_counter() - t
    if args.latency_only:
        latency_table(entries, encoder, read_dev(), args.seed)
        return
    if args.e2e:
        e2e_table(args.e2e, index, Bm25Baseline(entries))
        return
    bm25 = Bm25Baseline(entries)
    ours = evaluate(rows, lambda q: [h.entry.id for h in index.search(q, k=3)], args.seed)
    base = evaluate(rows, bm25.search, args.seed)

    topics = ["all", "phone", "health", "fraud", "farm", "rumor"]
    print(
        f"entries: {len(entries)}; dev questions: {len(rows)}; "
        f"index build {build_s:.2f} s (vectors cached in var/cache)\n"
    )
    print("| noise | topic | n | ours top-1 | ours top-3 | BM25 top-1 | BM25 top-3 |")
    print("|---|---|---|---|---|---|---|")
    for level in NOISE_LEVELS:
        for topic in topics:
            o, b = ours[(level, topic)], base[(level, topic)]
            if not o[2]:
                continue
            print(
                f"| {level:.0%} | {topic} | {o[2]} | {o[0] / o[2]:.1%} | {o[1] / o[2]:.1%} "
                f"| {b[0] / b[2]:.1%} | {b[1] / b[2]:.1%} |"
            )

    by_style: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        hits = index.search(row["question"], k=1)
        by_style[row["style"]][0] += int(bool(hits) and hits[0].entry.id == row["entry_id"])
        by_style[row["style"]][1] += 1
    print("\n| style (clean) | n | top-1 |\n|---|---|---|")
    for style, (right, n) in sorted(by_style.items()):
        print(f"| {style} | {n} | {right / n:.1%} |")

    print("\n| decision (clean) | share | correct | out-of-scope share |\n|---|---|---|---|")
    quality = decision_quality(rows, index)
    negatives = read_dev(NEGATIVES)
    off_topic = Counter(decide(index.search(r["question"], k=3)).kind for r in negatives)
    for kind in ("answer", "choices", "none"):
        n, right = quality.get(kind, [0, 0])
        print(
            f"| {kind} | {n / len(rows):.1%} | {right / n if n else 0:.1%} "
            f"| {off_topic[kind]}/{len(negatives)} |"
        )

    latency_table(entries, encoder, rows, args.seed)


def latency_table(entries: list[Entry], encoder: DenseEncoder | None, rows, seed: int) -> None:
    rng = random.Random(seed)
    queries = [r["question"] for r in rows]
    print("\n| entries | index build (s) | search p50 (ms) | search p95 (ms) |\n|---|---|---|---|")
    for size in (len(entries), 10_000):
        corpus = entries if size == len(entries) else synthetic(entries, size, rng)
        t = time.perf_counter()
        vectors = encoder if size == len(entries) or encoder is None else SyntheticVectors(seed)
        idx = SearchIndex(corpus, vectors)
        build = time.perf_counter() - t
        p50, p95 = latency(idx, queries[:200])
        print(f"| {size} | {build:.1f} | {p50:.2f} | {p95:.2f} |")


if __name__ == "__main__":
    main()
