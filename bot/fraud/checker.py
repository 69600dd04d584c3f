"""Risk of a forwarded message: rule signals plus a small text classifier.

Each signal found (``bot.fraud.signals``, ``bot.fraud.links``) adds its
points once; a logistic regression over character n-grams, trained at start
on ``bot/fraud/data/training.tsv`` (our own examples), adds up to
``CLASSIFIER_POINTS`` by its probability that the text is a scam (less for a
text of a few words, which gives it little to go on). The total
decides 高风险 / 中风险 / 低风险. Every verdict lists the signals behind it,
with the words quoted. Same text, same verdict: the rules are regular
expressions and the classifier is trained deterministically.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.fraud.links import find_links
from bot.fraud.signals import FRAUD_TYPES, NEGATION_WINDOW, TEXT_SIGNALS, Signal

TRAINING = Path(__file__).parent / "data" / "training.tsv"
NORMAL = "normal"
CLASSIFIER_POINTS = 3.0
# A few words say little: the classifier's points grow with the text up to this length.
CLASSIFIER_FULL_LENGTH = 20
# Chosen by 5-fold cross-validation on the training examples (bench/fraud_eval.py
# prints it): at 2.0 points 99% of held-out scams are flagged, 12% of normal
# messages get 中风险; no genuine notice we hold reaches 5.0.
HIGH_POINTS, MEDIUM_POINTS = 5.0, 2.0
MAX_REASONS = 4

RISK_LABELS = {"high": "高风险", "medium": "中风险", "low": "低风险"}
ADVICE = {
    "high": (
        "这很可能是诈骗，请这样做：\n"
        "1. 不点链接，不回电话，不下载对方让装的软件\n"
        "2. 不转账，不说验证码和密码\n"
        "3. 拿不准就拨打 96110 问一问\n"
        "4. 已经转了钱，马上拨打 110 报警，再打银行客服电话请求止付"
    ),
    "medium": (
        "这条消息有可疑的地方，先别照着做：\n"
        "1. 不点链接，不转账，不说验证码\n"
        "2. 用您自己存的号码或官方电话去核实\n"
        "3. 拿不准就拨打 96110 问一问"
    ),
    "low": (
        "暂时没看出明显的诈骗特征。\n"
        "不过只要有人要钱、要验证码、让您点链接，都先停一停，拨打 96110 问一问。"
    ),
}
NO_SIGNAL_REASON = "没有发现要钱、要验证码、陌生链接这些常见的诈骗特征"

_NEGATION = re.compile(
    r"不会|不要|不用|无需|请勿|切勿|勿|绝不|不得|从不|严禁|谨防|警惕|防止|提防|千万别"
)
_CLAUSE_END = re.compile(r"[，。！？,.!?；;\n]")
_URL_OR_DIGITS = re.compile(r"https?://\S+|www\.\S+|\d+")


@dataclass(frozen=True)
class Finding:
    signal: Signal
    quote: str

    @property
    def reason(self) -> str:
        return f"{self.signal.reason}：“{self.quote}”"


@dataclass(frozen=True)
class Verdict:
    risk: str  # "high" | "medium" | "low"
    points: float
    probability: float  # the classifier's probability that the text is a scam
    fraud_types: list[str] = field(default_factory=list)  # Chinese names, likeliest first
    findings: list[Finding] = field(default_factory=list)
    classifier_type: str | None = None

    @property
    def risk_label(self) -> str:
        return RISK_LABELS[self.risk]

    @property
    def advice(self) -> str:
        return ADVICE[self.risk]

    @property
    def reasons(self) -> list[str]:
        """Two to four plain reasons (fewer only when nothing more can be said)."""
        if self.risk == "low":
            genuine = [f.reason for f in self.findings if f.signal.weight < 0]
            warnings = [f.reason for f in self.findings if f.signal.weight > 0]
            return (genuine + warnings or [NO_SIGNAL_REASON])[:MAX_REASONS]
        reasons = [f.reason for f in self.findings if f.signal.weight > 0][:MAX_REASONS]
        if len(reasons) < 2 and self.classifier_type:
            reasons.append(f"整条消息的说法和常见的“{self.classifier_type}”骗局很像")
        return reasons

    def as_text(self) -> str:
        """The chat reply: verdict, reasons, what to do."""
        kind = f"，像是“{self.fraud_types[0]}”类诈骗" if self.fraud_types else ""
        lines = [f"检查结果：{self.risk_label}{kind}", "原因："]
        lines += [f"{i}. {r}" for i, r in enumerate(self.reasons, 1)]
        return "\n".join(lines) + "\n" + self.advice


def _prepare(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _negated(text: str, match: re.Match[str]) -> bool:
    """A negation in the same clause just before the match, or inside it."""
    window = text[max(0, match.start() - NEGATION_WINDOW) : match.start()]
    clause = _CLAUSE_END.split(window)[-1]
    return bool(_NEGATION.search(clause + match.group()))  # 无需 may straddle the start


def find_signals(text: str) -> list[Finding]:
    """Each signal found in ``text`` once, with the words that matched first."""
    text = _prepare(text)
    findings: list[Finding] = []
    for signal in TEXT_SIGNALS:
        for match in signal.pattern.finditer(text):
            if signal.negatable and _negated(text, match):
                continue
            findings.append(Finding(signal, match.group()[:24]))
            break
    seen: set[str] = set()
    for link in find_links(text):
        if link.signal.id not in seen:
            seen.add(link.signal.id)
            quote = link.text if len(link.text) <= 40 else link.text[:37] + "…"
            findings.append(Finding(link.signal, quote))
    return sorted(findings, key=lambda f: -f.signal.weight)


def _classifier_text(text: str) -> str:
    return _URL_OR_DIGITS.sub(lambda m: "链接" if not m.group().isdigit() else "0", _prepare(text))


class FraudChecker:
    """Loads and trains once (about a second); ``check`` is pure and fast."""

    def __init__(self, training: Path = TRAINING) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        labels, texts = [], []
        with training.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                labels.append(row["label"])
                texts.append(_classifier_text(row["text"]))
        self.model = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
            LogisticRegression(C=10.0, max_iter=5000, class_weight="balanced"),
        )
        self.model.fit(texts, labels)
        self._classes = list(self.model.classes_)

    def classify(self, text: str) -> tuple[float, str | None]:
        """Probability that ``text`` is a scam, and the likeliest scam type id."""
        probs = self.model.predict_proba([_classifier_text(text)])[0]
        by_label = dict(zip(self._classes, probs, strict=True))
        fraud = {k: v for k, v in by_label.items() if k != NORMAL}
        return 1.0 - by_label.get(NORMAL, 0.0), max(fraud, key=fraud.get) if fraud else None

    def check(self, text: str) -> Verdict:
        findings = find_signals(text)
        probability, likeliest = self.classify(text)
        evidence = min(1.0, len(text.strip()) / CLASSIFIER_FULL_LENGTH)
        points = sum(f.signal.weight for f in findings) + CLASSIFIER_POINTS * probability * evidence
        risk = "high" if points >= HIGH_POINTS else "medium" if points >= MEDIUM_POINTS else "low"
        votes: dict[str, float] = defaultdict(float)
        for f in findings:
            if f.signal.fraud_type and f.signal.weight > 0:
                votes[f.signal.fraud_type] += f.signal.weight
        if likeliest and probability >= 0.5:
            votes[likeliest] += CLASSIFIER_POINTS * probability
        types = sorted(votes, key=lambda t: (-votes[t], t))[:2] if risk != "low" else []
        return Verdict(
            risk=risk,
            points=round(points, 2),
            probability=round(probability, 3),
            fraud_types=[FRAUD_TYPES[t] for t in types],
            findings=findings,
            classifier_type=FRAUD_TYPES[likeliest]
            if likeliest and probability >= 0.5 and risk != "low"
            else None,
        )


@functools.lru_cache(maxsize=1)
def default_checker() -> FraudChecker:
    return FraudChecker()
