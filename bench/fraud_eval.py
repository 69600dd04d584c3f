"""Forwarded-message fraud check: 高风险 recall, false 高风险, type, speed.

Usage: .venv/bin/python -m bench.fraud_eval

Data, none of it used in training (the classifier learns from
bot/fraud/data/training.tsv only):
- ../shared/eval/fraud_sms/telecom_fraud_texts_sample.csv: 4 fraud classes and
  a normal class, 100 each (evaluation-only licence, read in place). Its fraud
  texts are long call-script narratives and its normal texts short SMS, so the
  same numbers are also given on a length-matched subset.
- bench/data/fraud_elder_scams.tsv: scams aimed at older people, pasted and
  told in the victim's words (must be 高风险).
- bench/data/fraud_genuine.tsv: genuine notices and situations that look like
  scams (bank, courier, hospital, government, operator, family, anti-fraud
  warnings, codes, bills); must not be 高风险.
- bench/data/fraud_holdout_scams.tsv and fraud_holdout_genuine.tsv: an
  independent held-out set (195 elder-targeted scams, pasted and told; 195
  genuine look-alikes) written by someone who never read bot/fraud. The rules
  were revised while reading the misses of its EVEN rows only (h002, n002, …),
  so the ODD rows are the honest held-out figure; both halves and all are shown.
- bench/data/fraud_holdout2_scams.tsv and fraud_holdout2_genuine.tsv: a second
  independent held-out set (session 7; 191 elder-targeted scams, 188 genuine
  look-alikes, ids s001…/g001…) by another writer who never read bot/fraud,
  measured before any change (scams 高风险 88.0%, genuine 0.5%); then the
  rules were revised reading the misses of its EVEN rows only, as above.
A scam counts as caught only when rated 高风险: 中风险 ("有可疑的地方") does
not protect anyone from a textbook scam. Prints Markdown.
"""

from __future__ import annotations

import csv
import statistics
import time
from collections import defaultdict
from pathlib import Path

from bot.fraud.checker import (
    CLASSIFIER_FROM,
    CLASSIFIER_POINTS,
    CLASSIFIER_SCRIPT,
    TRAINING,
    FraudChecker,
    Verdict,
)
from bot.fraud.signals import FRAUD_TYPES
from bot.settings import PROJECT_ROOT

SHARED = PROJECT_ROOT.parent / "shared" / "eval" / "fraud_sms" / "telecom_fraud_texts_sample.csv"
GENUINE = PROJECT_ROOT / "bench" / "data" / "fraud_genuine.tsv"
ELDER = PROJECT_ROOT / "bench" / "data" / "fraud_elder_scams.tsv"
HOLDOUT_SCAMS = PROJECT_ROOT / "bench" / "data" / "fraud_holdout_scams.tsv"
HOLDOUT_GENUINE = PROJECT_ROOT / "bench" / "data" / "fraud_holdout_genuine.tsv"
# The held-out sets: (name, scams, genuine, status). Each was measured before any
# change made for it; sets 1 and 2, and the even rows of set 3, have since been
# read while revising the rules and are in the classifier's training examples
# (bot/fraud/data/training.tsv). The odd rows of set 3 and all of set 4 are unseen.
HOLDOUTS = (
    ("held-out", HOLDOUT_SCAMS, HOLDOUT_GENUINE, "trained"),
    (
        "held-out 2",
        PROJECT_ROOT / "bench" / "data" / "fraud_holdout2_scams.tsv",
        PROJECT_ROOT / "bench" / "data" / "fraud_holdout2_genuine.tsv",
        "trained",
    ),
    (
        "held-out 3",
        PROJECT_ROOT / "bench" / "data" / "fraud_holdout3_scams.tsv",
        PROJECT_ROOT / "bench" / "data" / "fraud_holdout3_genuine.tsv",
        "odd unseen",
    ),
    (
        "held-out 4",
        PROJECT_ROOT / "bench" / "data" / "fraud_holdout4_scams.tsv",
        PROJECT_ROOT / "bench" / "data" / "fraud_holdout4_genuine.tsv",
        "unseen",
    ),
)
# Halves of a held-out set by the number in its ids.
HALVES = (
    ("odd", lambda n: n % 2 == 1),
    ("even", lambda n: n % 2 == 0),
    ("all", lambda n: True),
)
# What each half of a set is now, by its status.
HALF_STATUS = {
    "trained": {"odd": "trained on", "even": "trained on", "all": "trained on"},
    "odd unseen": {"odd": "never read", "even": "trained on", "all": "half trained on"},
    "unseen": {"odd": "never read", "even": "never read", "all": "never read"},
}

# The shared set's classes, in our type names (its loan class mixes loans and credit cards).
SHARED_TYPES = {
    "leader_acquaintance_impersonation": {"impersonate_acquaintance"},
    "customer_service_impersonation": {"fake_customer_service"},
    "loan_credit_card": {"fake_loan", "fake_credit"},
    "police_impersonation": {"impersonate_police"},
}
TARGET_SHARED, TARGET_ELDER, TARGET_FALSE_HIGH, TARGET_P95_MS = 0.92, 0.95, 0.02, 20.0


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


def counts(verdicts: list[Verdict]) -> dict[str, int]:
    return {r: sum(v.risk == r for v in verdicts) for r in ("low", "medium", "high")}


def shared_table(
    rows: list[dict[str, str]], verdicts: dict[str, Verdict], title: str
) -> dict[str, float]:
    """Per class: 高风险 (recall for fraud classes, false alarms for normal)."""
    by_label: dict[str, list[Verdict]] = defaultdict(list)
    for row in rows:
        by_label[row["label"]].append(verdicts[row["id"]])
    lengths = {
        lab: statistics.median(len(r["text"]) for r in rows if r["label"] == lab)
        for lab in by_label
    }
    print(f"\n{title}\n")
    print("| class | n | median length | 高风险 | 中风险 | 低风险 | type right (of 高风险) |")
    print("|---|---|---|---|---|---|---|")
    high_share = {}
    for label, vs in sorted(by_label.items()):
        c = counts(vs)
        high = [v for v in vs if v.risk == "high"]
        if label == "normal":
            typed = "-"
        else:
            names = {FRAUD_TYPES[t] for t in SHARED_TYPES[label]}
            typed = share(
                sum(bool(v.fraud_types and v.fraud_types[0] in names) for v in high), len(high)
            )
        high_share[label] = c["high"] / len(vs)
        print(
            f"| {label} | {len(vs)} | {lengths[label]:.0f} | {share(c['high'], len(vs))} "
            f"| {share(c['medium'], len(vs))} | {share(c['low'], len(vs))} | {typed} |"
        )
    fraud = [v for lab, vs in by_label.items() if lab != "normal" for v in vs]
    normal = by_label["normal"]
    print(
        f"\n高风险 recall on all fraud rows {share(counts(fraud)['high'], len(fraud))}; "
        f"normal rows rated 高风险 {share(counts(normal)['high'], len(normal))}"
    )
    return high_share


def own_set(path: Path, column: str, checker: FraudChecker, title: str) -> list[Verdict]:
    rows = read(path, "\t")
    groups: dict[str, list[Verdict]] = defaultdict(list)
    for row in rows:
        groups[row[column]].append(checker.check(row["text"]))
    every = [v for vs in groups.values() for v in vs]
    print(f"\n{title} ({len(rows)} rows, last id {rows[-1]['id']})\n")
    print(f"| {column} | n | 低风险 | 中风险 | 高风险 |\n|---|---|---|---|---|")
    for key, vs in [*sorted(groups.items()), ("all", every)]:
        c = counts(vs)
        print(
            f"| {key} | {len(vs)} | {share(c['low'], len(vs))} "
            f"| {share(c['medium'], len(vs))} | {share(c['high'], len(vs))} |"
        )
    return every


def holdout(
    path: Path, column: str, checker: FraudChecker, title: str, scams: bool
) -> dict[str, list[Verdict]]:
    """Per type (scams: 高风险 recall) or kind (genuine: rated 高风险), for each half."""
    rows = read(path, "\t")
    verdicts = [(row, checker.check(row["text"])) for row in rows]
    halves = {
        name: [(row, v) for row, v in verdicts if keep(int(row["id"][1:]))] for name, keep in HALVES
    }
    measure = "高风险 recall" if scams else "rated 高风险"
    print(f"\n{title} ({len(rows)} rows; {measure}, n in brackets)\n")
    print(f"| {column} | " + " | ".join(name for name, _ in HALVES) + " |")
    print("|---|" + "---|" * len(HALVES))
    keys = sorted({row[column] for row in rows})
    for key in [*keys, "all"]:
        cells = []
        for name, _ in HALVES:
            vs = [v for row, v in halves[name] if key in ("all", row[column])]
            cells.append(f"{share(counts(vs)['high'], len(vs))} ({len(vs)})")
        print(f"| {key} | " + " | ".join(cells) + " |")
    if scams:
        print(
            "\nNot 高风险, by level: "
            + "; ".join(
                f"{name} {counts([v for _, v in halves[name]])['medium']} 中风险, "
                f"{counts([v for _, v in halves[name]])['low']} 低风险"
                for name, _ in HALVES
            )
        )
    return {name: [v for _, v in pairs] for name, pairs in halves.items()}


# The classifier's weight: (points at probability 1.0, probability where points start).
# (points, from, script): the classifier's graded points, where they start, and the
# probability from which it recognises a script on its own (above 1: never).
CLASSIFIER_CHOICES = (
    (CLASSIFIER_POINTS, CLASSIFIER_FROM, 1.01),
    (CLASSIFIER_POINTS, CLASSIFIER_FROM, 0.95),
    (CLASSIFIER_POINTS, CLASSIFIER_FROM, CLASSIFIER_SCRIPT),
    (CLASSIFIER_POINTS, CLASSIFIER_FROM, 0.85),
    (CLASSIFIER_POINTS, CLASSIFIER_FROM, 0.8),
    (3.0, 0.5, CLASSIFIER_SCRIPT),
    (5.0, 0.5, CLASSIFIER_SCRIPT),
)


def cross_validation(folds: int = 5) -> None:
    """Held-out training examples: 高风险 and 中风险 of scams and normal messages, for
    several weights of the classifier (how CLASSIFIER_POINTS, CLASSIFIER_FROM and
    CLASSIFIER_SCRIPT were chosen)."""
    import tempfile

    from sklearn.model_selection import StratifiedKFold

    with TRAINING.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    labels = [r["label"] for r in rows]
    held: dict[tuple[float, float], dict[str, list[Verdict]]] = {
        choice: {"scams": [], "normal": []} for choice in CLASSIFIER_CHOICES
    }
    with tempfile.TemporaryDirectory() as tmp:
        split = StratifiedKFold(folds, shuffle=True, random_state=20251129).split(rows, labels)
        for fold, (train, test) in enumerate(split):
            path = Path(tmp) / f"fold{fold}.tsv"
            path.write_text(
                "label\ttext\n" + "".join(f"{labels[i]}\t{rows[i]['text']}\n" for i in train),
                encoding="utf-8",
            )
            checker = FraudChecker(path)
            for choice in CLASSIFIER_CHOICES:
                (
                    checker.classifier_points,
                    checker.classifier_from,
                    checker.classifier_script,
                ) = choice
                for i in test:
                    group = "normal" if labels[i] == "normal" else "scams"
                    held[choice][group].append(checker.check(rows[i]["text"]))
    print(f"\n{folds}-fold cross-validation on the training examples ({len(rows)})\n")
    print(
        "| classifier points (from p), script | scams 高风险 | scams 中风险 "
        "| normal 高风险 | normal 中风险 |"
    )
    print("|---|---|---|---|---|")
    for choice, groups in held.items():
        used = (CLASSIFIER_POINTS, CLASSIFIER_FROM, CLASSIFIER_SCRIPT)
        mark = " (used)" if choice == used else ""
        scam, normal = counts(groups["scams"]), counts(groups["normal"])
        ns, nn = len(groups["scams"]), len(groups["normal"])
        print(
            f"| {choice[0]:g} (p > {choice[1]:g}), script p ≥ {choice[2]:g}{mark} "
            f"| {share(scam['high'], ns)} | {share(scam['medium'], ns)} "
            f"| {share(normal['high'], nn)} "
            f"| {share(normal['medium'], nn)} |"
        )


def main() -> None:
    t = time.perf_counter()
    checker = FraudChecker()
    print(f"classifier trained in {time.perf_counter() - t:.1f} s")
    print(f"(classifier: up to {CLASSIFIER_POINTS} points above p = {CLASSIFIER_FROM})")

    results: list[tuple[str, float, float, str]] = []  # name, value, target, direction
    texts: list[str] = []
    if SHARED.exists():
        rows = read(SHARED, ",")
        texts += [r["text"] for r in rows]
        verdicts = {r["id"]: checker.check(r["text"]) for r in rows}
        high = shared_table(rows, verdicts, "Shared telecom-fraud sample (all 500)")
        shared_table(
            length_matched(rows),
            verdicts,
            "Length-matched subset (each normal text + the closest-length fraud text)",
        )
        results += [
            (f"shared {label} 高风险 recall", value, TARGET_SHARED, ">=")
            for label, value in high.items()
            if label != "normal"
        ]
        results.append(("shared normal rated 高风险 (reported)", high["normal"], 1.0, "<="))
    else:
        print(f"(shared sample not found at {SHARED}: skipped)")

    scams = own_set(ELDER, "type", checker, "Scams aimed at older people (must be 高风险)")
    genuine = own_set(GENUINE, "kind", checker, "Genuine look-alikes (must not be 高风险)")
    texts += [r["text"] for r in read(ELDER, "\t") + read(GENUINE, "\t")]
    results.append(
        ("elder scams 高风险 recall", counts(scams)["high"] / len(scams), TARGET_ELDER, ">=")
    )
    results.append(
        (
            "genuine look-alikes rated 高风险",
            counts(genuine)["high"] / len(genuine),
            TARGET_FALSE_HIGH,
            "<=",
        )
    )

    for set_name, scams_path, genuine_path, status in HOLDOUTS:
        set_name = f"{set_name} [{status}]"
        held_scams = holdout(
            scams_path, "type", checker, f"{set_name}: elder-targeted scams (must be 高风险)", True
        )
        held_genuine = holdout(
            genuine_path,
            "kind",
            checker,
            f"{set_name}: genuine look-alikes (must not be 高风险)",
            False,
        )
        texts += [r["text"] for r in read(scams_path, "\t") + read(genuine_path, "\t")]
        for name, _ in HALVES:
            vs, gs = held_scams[name], held_genuine[name]
            name = f"{name} ({HALF_STATUS[status][name]})"
            results.append(
                (
                    f"{set_name} scams {name} 高风险 recall",
                    counts(vs)["high"] / len(vs),
                    TARGET_ELDER,
                    ">=",
                )
            )
            results.append(
                (
                    f"{set_name} genuine {name} rated 高风险",
                    counts(gs)["high"] / len(gs),
                    TARGET_FALSE_HIGH,
                    "<=",
                )
            )

    cross_validation()

    samples = []
    for _ in range(3):
        for text in texts:
            t = time.perf_counter()
            checker.check(text)
            samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    p95 = samples[int(0.95 * (len(samples) - 1))]
    print(
        f"\ncheck latency over {len(samples)} calls (every text above, 3 times): "
        f"p50 {statistics.median(samples):.2f} ms, p95 {p95:.2f} ms"
    )

    print("\nTargets\n\n| measure | value | target | met |\n|---|---|---|---|")
    for name, value, target, direction in results:
        if "reported" in name:
            print(f"| {name} | {value:.1%} | - | - |")
            continue
        met = value >= target if direction == ">=" else value <= target
        print(f"| {name} | {value:.1%} | {direction} {target:.0%} | {'yes' if met else 'NO'} |")
    print(
        f"| p95 of a check | {p95:.2f} ms | <= {TARGET_P95_MS:.0f} ms "
        f"| {'yes' if p95 <= TARGET_P95_MS else 'NO'} |"
    )


if __name__ == "__main__":
    main()
