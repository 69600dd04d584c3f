"""Forwarded-message fraud check: recall, false alarms, type, speed.

Usage: .venv/bin/python -m bench.fraud_eval

Data, none of it used in training (the classifier learns from
bot/fraud/data/training.tsv only):
- ../shared/eval/fraud_sms/telecom_fraud_texts_sample.csv: 4 fraud classes and
  a normal class, 100 each (evaluation-only licence, read in place). Its fraud
  texts are long call-script narratives and its normal texts short SMS, so the
  same numbers are also given on a length-matched subset.
- bench/data/fraud_genuine.tsv: genuine notices that look like scams (bank,
  courier, hospital, government, operator, anti-fraud warnings, codes, bills).
- bench/data/fraud_elder_scams.tsv: scams aimed at older people.
"flagged" means 中风险 or 高风险. Prints Markdown.
"""

from __future__ import annotations

import csv
import statistics
import time
from collections import defaultdict
from pathlib import Path

from bot.fraud.checker import MEDIUM_POINTS, TRAINING, FraudChecker, Verdict
from bot.fraud.signals import FRAUD_TYPES
from bot.settings import PROJECT_ROOT

SHARED = PROJECT_ROOT.parent / "shared" / "eval" / "fraud_sms" / "telecom_fraud_texts_sample.csv"
GENUINE = PROJECT_ROOT / "bench" / "data" / "fraud_genuine.tsv"
ELDER = PROJECT_ROOT / "bench" / "data" / "fraud_elder_scams.tsv"
# The shared set's classes, in our type names (its loan class mixes loans and credit cards).
SHARED_TYPES = {
    "leader_acquaintance_impersonation": {"impersonate_acquaintance"},
    "customer_service_impersonation": {"fake_customer_service"},
    "loan_credit_card": {"fake_loan", "fake_credit"},
    "police_impersonation": {"impersonate_police"},
}


def read(path: Path, delimiter: str) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def length_matched(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Every normal text, and for each the unused fraud text closest in length."""
    normal = [r for r in rows if r["label"] == "normal"]
    pool = sorted((r for r in rows if r["label"] != "normal"), key=lambda r: len(r["text"]))
    chosen = []
    for row in sorted(normal, key=lambda r: len(r["text"])):
        best = min(pool, key=lambda r: abs(len(r["text"]) - len(row["text"])))
        pool.remove(best)
        chosen.append(best)
    return normal + chosen


def share(n: int, total: int) -> str:
    return f"{n / total:.1%}" if total else "-"


def shared_table(rows: list[dict[str, str]], verdicts: dict[str, Verdict], title: str) -> None:
    by_label: dict[str, list[Verdict]] = defaultdict(list)
    for row in rows:
        by_label[row["label"]].append(verdicts[row["id"]])
    lengths = {
        lab: statistics.median(len(r["text"]) for r in rows if r["label"] == lab)
        for lab in by_label
    }
    print(f"\n{title}\n")
    print("| class | n | median length | flagged | 高风险 | type right (of flagged) |")
    print("|---|---|---|---|---|---|")
    flagged_fraud = flagged_all = fraud_n = 0
    for label, vs in sorted(by_label.items()):
        flagged = [v for v in vs if v.risk != "low"]
        high = sum(v.risk == "high" for v in vs)
        if label == "normal":
            typed = "-"
        else:
            names = {FRAUD_TYPES[t] for t in SHARED_TYPES[label]}
            typed = share(
                sum(bool(v.fraud_types and v.fraud_types[0] in names) for v in flagged),
                len(flagged),
            )
            flagged_fraud += len(flagged)
            fraud_n += len(vs)
        flagged_all += len(flagged)
        print(
            f"| {label} | {len(vs)} | {lengths[label]:.0f} | {share(len(flagged), len(vs))} "
            f"| {share(high, len(vs))} | {typed} |"
        )
    print(
        f"\nfraud recall (flagged) {share(flagged_fraud, fraud_n)}; "
        f"precision of flagged {share(flagged_fraud, flagged_all)}"
    )


def own_set(path: Path, column: str, checker: FraudChecker, title: str) -> list[Verdict]:
    rows = read(path, "\t")
    groups: dict[str, list[Verdict]] = defaultdict(list)
    for row in rows:
        groups[row[column]].append(checker.check(row["text"]))
    print(f"\n{title}\n")
    print(f"| {column} | n | 低风险 | 中风险 | 高风险 |\n|---|---|---|---|---|")
    every = []
    for key, vs in sorted(groups.items()):
        every += vs
        counts = {r: sum(v.risk == r for v in vs) for r in ("low", "medium", "high")}
        print(
            f"| {key} | {len(vs)} | {share(counts['low'], len(vs))} "
            f"| {share(counts['medium'], len(vs))} | {share(counts['high'], len(vs))} |"
        )
    counts = {r: sum(v.risk == r for v in every) for r in ("low", "medium", "high")}
    print(
        f"| all | {len(every)} | {share(counts['low'], len(every))} "
        f"| {share(counts['medium'], len(every))} | {share(counts['high'], len(every))} |"
    )
    return every


def cross_validation(folds: int = 5) -> None:
    """Flag rate of held-out training examples at several thresholds (how MEDIUM was chosen)."""
    import tempfile

    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    with TRAINING.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    labels = [r["label"] for r in rows]
    points, scam = [], []
    with tempfile.TemporaryDirectory() as tmp:
        split = StratifiedKFold(folds, shuffle=True, random_state=20251129).split(rows, labels)
        for fold, (train, test) in enumerate(split):
            path = Path(tmp) / f"fold{fold}.tsv"
            path.write_text(
                "label\ttext\n" + "".join(f"{labels[i]}\t{rows[i]['text']}\n" for i in train),
                encoding="utf-8",
            )
            checker = FraudChecker(path)
            for i in test:
                points.append(checker.check(rows[i]["text"]).points)
                scam.append(labels[i] != "normal")
    pts, is_scam = np.array(points), np.array(scam)
    print(f"\nThreshold choice: {folds}-fold cross-validation on the training examples\n")
    print("| 中风险 from (points) | scams flagged | normal flagged |\n|---|---|---|")
    for threshold in (1.5, 2.0, 2.5, 3.0):
        mark = " (used)" if threshold == MEDIUM_POINTS else ""
        print(
            f"| {threshold}{mark} | {(pts[is_scam] >= threshold).mean():.1%} "
            f"| {(pts[~is_scam] >= threshold).mean():.1%} |"
        )


def main() -> None:
    t = time.perf_counter()
    checker = FraudChecker()
    print(f"classifier trained in {time.perf_counter() - t:.1f} s\n")

    if SHARED.exists():
        rows = read(SHARED, ",")
        verdicts = {r["id"]: checker.check(r["text"]) for r in rows}
        shared_table(rows, verdicts, "Shared telecom-fraud sample (all 500)")
        shared_table(
            length_matched(rows),
            verdicts,
            "Length-matched subset (each normal text + the closest-length fraud text)",
        )
    else:
        print(f"(shared sample not found at {SHARED}: skipped)")

    genuine = own_set(GENUINE, "kind", checker, "Genuine look-alike notices (must not be 高风险)")
    scams = own_set(ELDER, "type", checker, "Scams aimed at older people (must be flagged)")
    high_false = sum(v.risk == "high" for v in genuine) / len(genuine)
    recall = sum(v.risk != "low" for v in scams) / len(scams)
    print(
        f"\nTargets: elder-scam recall {recall:.1%} (≥ 95%); "
        f"高风险 false alarms on genuine notices {high_false:.1%} (≤ 3%)"
    )

    cross_validation()

    texts = [r["text"] for r in read(ELDER, "\t") + read(GENUINE, "\t")]
    samples = []
    for _ in range(5):
        for text in texts:
            t = time.perf_counter()
            checker.check(text)
            samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    print(
        f"\ncheck latency over {len(samples)} calls: p50 {statistics.median(samples):.2f} ms, "
        f"p95 {samples[int(0.95 * (len(samples) - 1))]:.2f} ms"
    )


if __name__ == "__main__":
    main()
