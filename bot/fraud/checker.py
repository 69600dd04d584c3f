"""Risk of a forwarded message or of a call told in the person's own words.

Risk criteria (what the three levels mean):

- 高风险: the message asks the reader for money (a transfer, a loan, a fee
  before a benefit), for a one-time code or password, for personal numbers
  (ID, bank card, balance), for a face scan, or to install or open an app that
  lets someone else see or control the phone (screen sharing, meeting and
  remote-control apps, an APK link), and the sender cannot be verified: a
  signature in 【】, a name or a number in the message proves nothing. Also
  高风险: a known scam script, even without a request yet (安全账户, 刷单返佣,
  a product that cures illness, guaranteed or N-fold returns, 注销校园贷, a
  call "transferred to the police", a look-alike or bare-IP link), or a script
  told by its ingredients (``bot.fraud.signals.SCRIPTS``: a lure, a request,
  pressure or secrecy; e.g. an odd link (.cc .top .xyz, brand letters plus
  extra tokens, a short link) plus "登录/认证/缴费"; free eggs plus a health
  product plus a price; an online sweetheart plus an investment platform;
  a claimed relative plus "莫告诉别人"), or several pretexts together (a body
  that "freezes" your social-security card and a link).
- 中风险: genuinely ambiguous: marketing, a claimed identity with no request
  yet ("妈，我换了新号"), one pretext alone, a relative asking back money they
  say they paid for you, or a text the classifier finds scam-like with
  nothing concrete to quote.
- 低风险: nothing of the above, or a genuine notice: one that warns about
  scams (96110's own texts, a bank's "绝不会索要验证码", anti-fraud publicity),
  a code that says 请勿泄露, a record of a payment, an unsubscribe line. A
  request that is negated ("不会索要", "切勿", "请勿转账") or named as the scam
  ("凡是要您转账到安全账户的都是诈骗") is not a request; a warning that asks for
  nothing is never 高风险, however many scripts it lists ("免费讲座送鸡蛋、
  高价回购收藏品……都是常见骗局").

How: the text is NFKC-normalised and sound-alike misspellings of key words
are put right (``bot.fraud.sounds``: 一保局 → 医保局, 冻节 → 冻结, for voice
transcripts); each signal found (``bot.fraud.signals``; links and numbers by
``bot.fraud.links``) adds its points once; asks and scripts weigh 5, enough for
高风险 alone. A logistic regression over character n-grams, trained at start
on ``bot/fraud/data/training.tsv`` (our own examples, and the independent
held-out sets once they had been measured: sets 1 and 2, the even rows of
set 3), adds up to ``CLASSIFIER_POINTS`` as its probability that the text is a
scam rises above ``CLASSIFIER_FROM`` (less for a text of a few words). When it
is at least ``CLASSIFIER_SCRIPT`` sure of a full-length text, it has recognised
a known script told in new words: that weighs like a script rule. 高风险 needs
``HIGH_POINTS`` and at least an ask, a script or two different pretexts;
中风险 needs ``MEDIUM_POINTS``. A call told in the person's words ("有人打电话
说我医保卡冻结了，要我按1转人工") is judged by the same signals: the requests
match "叫我/让我/要我" as well as "请您". Every verdict lists the signals
behind it with the words quoted, and says what to do now (``bot.fraud.advice``:
挂断, 不转账, 用官方电话回拨, 96110; 110 first when money is already gone).
Same text, same verdict: the rules are regular expressions and the classifier
is trained deterministically. Nothing here stores the text.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import os
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.fraud.advice import advice_for, situation
from bot.fraud.links import find_links, find_numbers
from bot.fraud.signals import FRAUD_TYPES, NEGATION_WINDOW, SCRIPTS, TEXT_SIGNALS, Signal
from bot.fraud.sounds import correct

TRAINING = Path(__file__).parent / "data" / "training.tsv"
NORMAL = "normal"
# The classifier's points: none up to CLASSIFIER_FROM, CLASSIFIER_POINTS at 1.0.
CLASSIFIER_POINTS = 4.0
CLASSIFIER_FROM = 0.5
# A few words say little: the classifier's points grow with the text up to this length.
CLASSIFIER_FULL_LENGTH = 20
# A full-length text the classifier is this sure of matches a known scam script
# although no rule names its words (a script told in new words): it counts as a
# script for 高风险. Chosen by cross-validation on the training examples
# (bench/fraud_eval.py prints the table): few normal texts reach it.
CLASSIFIER_SCRIPT = 0.9
SCRIPT_POINTS = 5.0
HIGH_POINTS, MEDIUM_POINTS = 5.0, 2.0
WARNING_WEIGHT = -4.0  # a genuine signal this strong: the text warns about scams
MAX_REASONS = 4
QUOTE_CHARS = 24  # longer matches are quoted by their two ends

RISK_LABELS = {"high": "高风险", "medium": "中风险", "low": "低风险"}
NO_SIGNAL_REASON = "没有发现要钱、要验证码、陌生链接这些常见的诈骗特征"

_NEGATION = re.compile(
    r"(?<!会)不会|(?<!要)不要|(?<!用)不用|无需|无须|(?<!需)不需要?|不必|请勿|切勿|勿|绝不|决不|不得|从不|从来不|严禁|禁止"
    r"|谨防|警惕|防止|提防|防范|千万别|别(?![人个的家处])|莫(?!名)|(?<!能)不能|(?<!可)不可|不准|不许|(?<!有)没有?(?!有)"
    r"|并未|未(?!来|成年)|不收|免收|拒绝|以免|避免|不存在"
)
# A request named as the scam: "凡是让您转账的都是诈骗", "要是有人叫你转钱的".
_WARNING_BEFORE = re.compile(
    r"凡是(?!年满|符合|参保|在)|凡(?=有人|要|让|叫|索要|以|自称|冒充|接到|收到)|一旦|(?:如果|要是|若|如|假如|万一)(?:有人|对方|接到|遇到|收到|他们|别人)|遇到(?:有人|这种|这类|此类|陌生)|任何(?:人|以)|谁(?:要|让|叫)"
    r"|网传|谣传|诱骗|诱导|骗取|为由|幌子|打着|不法分子冒充|诈骗分子|(?:诈骗|骗子)(?:团伙|会|常|经常|一般)|有人(?:自称|冒充|以)"
    r"|(?:老人|群众|市民|村民|居民|客户|用户|多人|多名[^。!?;\n]{0,4})(?:接到|收到)|有没有人|是否有人"
)
_WARNING_AFTER = re.compile(
    r"^[^。!?;\n]{0,30}?(?:的?(?:都|一律|全|均|肯定|就|统统)?(?:是|为|属于)(?:诈骗|骗子|骗局|假的|谣言)|一律(?:挂|删|是|不)"
    r"|的[^。!?;\n]{0,6}(?:直接挂|别理|莫理|不要理|不要信|别信|莫信|挂掉|挂了|挂断)"
    r"|的[^。!?;\n]{0,4}(?:先|要|请|一定)[^。!?;\n]{0,8}(?:核实|问一下|问问|报警|110|96110)"
    r"|^[^。!?;\n]{0,8}(?:会|将|可能|就会)(?:导致|造成|致使|被盗)|^[^。!?;,\n]{0,2}先[^。!?;\n]{0,8}核实|^[^。!?;\n]{0,30}?(?:一定|务必|千万)要?先[^。!?;\n]{0,12}(?:核实|问|打))"
)
_SPEECH_RESET = re.compile(r"说|但是?|可是|却|结果|然后|后来|又|还")
_CLAUSE_END = re.compile(r"[,.!?;。\n\s]")
_SENTENCE_END = re.compile(r"[.!?;。\n]")
_URL_OR_DIGITS = re.compile(r"https?://\S+|www\.\S+|\d+")


@dataclass(frozen=True)
class Finding:
    signal: Signal
    quote: str
    # A script made of ingredients quotes each ingredient's words: quote, then these.
    more: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        """The signal's reason followed by the quoted words that set it off."""
        return f"{self.signal.reason}：" + "、".join(f"“{q}”" for q in (self.quote, *self.more))


@dataclass(frozen=True)
class Verdict:
    risk: str  # "high" | "medium" | "low"
    points: float
    probability: float  # the classifier's probability that the text is a scam
    fraud_types: list[str] = field(default_factory=list)  # Chinese names, likeliest first
    findings: list[Finding] = field(default_factory=list)
    classifier_type: str | None = None
    # What has happened already (bot.fraud.advice.situation): pasted | told |
    # money_sent | data_given. Decides the advice, never stored.
    situation: str = "pasted"

    @property
    def risk_label(self) -> str:
        return RISK_LABELS[self.risk]

    @property
    def advice(self) -> str:
        return advice_for(self.risk, self.situation)

    @property
    def asks(self) -> list[Finding]:
        """What the message asks for (money, codes, numbers, control of the phone)."""
        return [f for f in self.findings if f.signal.family == "ask"]

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


@functools.lru_cache(maxsize=32)  # one check prepares its text three times
def _prepare(text: str) -> str:
    """NFKC (full-width to ASCII), sound-alike misspellings put right (same length)."""
    return correct(unicodedata.normalize("NFKC", text))


def _negated(text: str, match: re.Match[str], starts_negated: bool = False) -> bool:
    """A negation just before the match in its clause, or inside it; or the
    sentence names the request as the scam it warns about."""
    window = text[max(0, match.start() - NEGATION_WINDOW) : match.start()]
    clause = _SPEECH_RESET.split(_CLAUSE_END.split(window)[-1])[-1]
    # Before the match (无需 may straddle its start) or inside it ("叫我们不要给他转钱"),
    # but not the match's own first word ("不要吃西药" is the claim itself).
    # Inside the match only near its start or its end: a long match spans clauses.
    inside = len(clause) + (1 if starts_negated else 0)
    negations = [
        n
        for n in _NEGATION.finditer(clause + match.group())
        if n.start() < len(clause)
        or inside <= n.start() <= len(clause) + 6
        or n.start() >= inside
        and n.end() >= len(clause) + len(match.group()) - 6
    ]
    # "你别问了先转过来": the negation's own verb ended with 了; it does not reach the request.
    # Nor does a condition ("你要是没去过外地的话我给你转到公安局": unpunctuated speech),
    # nor a purpose before a plea ("为避免停机请回复验证码": 请 starts the request).
    if negations and not re.search(r"了|的话|请", clause[negations[-1].end() :]):
        return True
    sentence_start = max(
        (m.end() for m in _SENTENCE_END.finditer(text, 0, match.start())), default=0
    )
    before = text[sentence_start : match.start()]
    if _WARNING_BEFORE.search(before) or _WARNING_AFTER.search(text[match.end() :]):
        return True
    # Quoted words after a negation: 莫听别人说“先交保证金就高价收”.
    quote = before.rfind("“")
    if quote >= 0 and "”" not in before[quote:]:
        lead = _CLAUSE_END.split(before[:quote])[-1]
        return bool(_NEGATION.search(lead))
    return False


def _in_sentence(text: str, match: re.Match[str], words: re.Pattern[str]) -> bool:
    """``words`` in the match's sentence ("带身份证到村委会": in person, not sent)."""
    starts = [m.end() for m in _SENTENCE_END.finditer(text, 0, match.start())]
    end = _SENTENCE_END.search(text, match.end())
    sentence = text[starts[-1] if starts else 0 : end.start() if end else len(text)]
    return bool(words.search(sentence))


def _voided(text: str, match: re.Match[str], before: re.Pattern[str]) -> bool:
    """``before`` in the match's clause, up to and inside the match."""
    window = text[max(0, match.start() - NEGATION_WINDOW) : match.end()]
    return bool(before.search(_CLAUSE_END.split(window)[-1]))


def _quote(original: str, text: str, match: re.Match[str]) -> str:
    """The person's own words for ``match`` (cut in the middle when long)."""
    words = original[match.start() : match.end()] if len(original) == len(text) else match.group()
    return words if len(words) <= QUOTE_CHARS else f"{words[:11]}…{words[-11:]}"


def find_signals(text: str) -> list[Finding]:
    """Each signal found in ``text`` once, with the words that matched first."""
    original, text = text, _prepare(text)
    findings: list[Finding] = []
    for signal in TEXT_SIGNALS:
        for match in signal.pattern.finditer(text):
            if signal.negatable and _negated(text, match, signal.starts_negated):
                continue
            if signal.void_in_sentence and _in_sentence(text, match, signal.void_in_sentence):
                continue
            if signal.void_before and _voided(text, match, signal.void_before):
                continue
            findings.append(Finding(signal, _quote(original, text, match)))
            break
    seen: set[str] = set()
    for link in find_links(text):
        if link.signal.id not in seen:
            seen.add(link.signal.id)
            quote = link.text if len(link.text) <= 40 else link.text[:37] + "…"
            findings.append(Finding(link.signal, quote))
    findings += [Finding(n.signal, n.text) for n in find_numbers(text)]
    findings += _scripts(findings)
    # Ingredients say nothing alone: they only make up scripts.
    findings = [f for f in findings if f.signal.family != "ingredient"]
    return sorted(findings, key=lambda f: -f.signal.weight)


def _scripts(findings: list[Finding]) -> list[Finding]:
    """Known scripts whose ingredients are all here, quoting one of each."""
    found = {f.signal.id: f for f in findings if f.signal.weight >= 0}
    present = {f.signal.id for f in findings}
    scripts = []
    for script in SCRIPTS:
        if script.unless & present:
            continue
        parts = [next((found[i] for i in found if i in group), None) for group in script.needs]
        if all(parts):
            quotes = list(dict.fromkeys(p.quote for p in parts if p))
            scripts.append(Finding(script.signal, quotes[0], tuple(quotes[1:])))
    return scripts


def _classifier_text(text: str) -> str:
    return _URL_OR_DIGITS.sub(lambda m: "链接" if not m.group().isdigit() else "0", _prepare(text))


def classifier_points(
    probability: float,
    text: str,
    points: float = CLASSIFIER_POINTS,
    start: float = CLASSIFIER_FROM,
) -> float:
    """Points for the classifier's probability: none up to ``start``, ``points`` at 1.0."""
    evidence = min(1.0, len(text.strip()) / CLASSIFIER_FULL_LENGTH)
    rise = max(0.0, (probability - start) / (1.0 - start))
    return points * rise * evidence


def _long_enough(text: str) -> bool:
    return len(_URL_OR_DIGITS.sub("", text)) >= CLASSIFIER_FULL_LENGTH


def rate(findings: list[Finding], points: float, scripted: bool = False) -> str:
    """The risk level for these findings and points (the criteria above).

    ``scripted``: the classifier recognises a known scam script in the whole text.
    """
    asks = any(f.signal.family == "ask" and f.signal.weight > 0 for f in findings)
    scripts = any(f.signal.family == "script" and f.signal.weight > 0 for f in findings)
    decisive = asks or scripted or scripts
    # Anti-fraud publicity lists the scripts it warns about: a warning that asks
    # for nothing is never 高风险 ("免费讲座送鸡蛋、高价回购收藏品……都是常见骗局").
    warning = any(f.signal.weight <= WARNING_WEIGHT for f in findings)
    if warning and not asks:
        return "medium" if points >= MEDIUM_POINTS else "low"
    pretexts = {
        f.signal.id for f in findings if f.signal.family == "context" and f.signal.weight > 0
    }
    if points >= HIGH_POINTS and (decisive or len(pretexts) >= 2):
        return "high"
    return "medium" if points >= MEDIUM_POINTS else "low"


class FraudChecker:
    """Loads and trains once; ``check`` is pure and fast.

    Training takes several seconds on 1,800 examples (more on a busy machine);
    with ``cache_dir`` the fitted classifier is kept there, keyed by the
    training file, this module and scikit-learn's version, so a restart loads
    it instead. Training is deterministic: a cached model is the same model.
    """

    def __init__(
        self,
        training: Path = TRAINING,
        classifier_points: float = CLASSIFIER_POINTS,
        classifier_from: float = CLASSIFIER_FROM,
        classifier_script: float = CLASSIFIER_SCRIPT,
        cache_dir: Path | None = None,
    ) -> None:
        self.model = _cached_model(training, cache_dir) if cache_dir else _train(training)
        self._classes = list(self.model.classes_)
        self.classifier_points = classifier_points
        self.classifier_from = classifier_from
        self.classifier_script = classifier_script
        correct("冻节")  # loads the word list the sound-alike check consults

    def classify(self, text: str) -> tuple[float, str | None]:
        """Probability that ``text`` is a scam, and the likeliest scam type id."""
        probs = self.model.predict_proba([_classifier_text(text)])[0]
        by_label = dict(zip(self._classes, probs, strict=True))
        fraud = {k: v for k, v in by_label.items() if k != NORMAL}
        return 1.0 - by_label.get(NORMAL, 0.0), max(fraud, key=fraud.__getitem__) if fraud else None

    def check(self, text: str) -> Verdict:
        """The rules' findings and the classifier's judgement of ``text``, as one verdict."""
        findings = find_signals(text)
        probability, likeliest = self.classify(text)
        scripted = probability >= self.classifier_script and _long_enough(text)
        # A script recognised by the classifier weighs what a script rule weighs.
        learned = (
            SCRIPT_POINTS
            if scripted
            else classifier_points(probability, text, self.classifier_points, self.classifier_from)
        )
        points = sum(f.signal.weight for f in findings) + learned
        risk = rate(findings, points, scripted)
        votes: dict[str, float] = defaultdict(float)
        for f in findings:
            if f.signal.fraud_type and f.signal.weight > 0:
                votes[f.signal.fraud_type] += f.signal.weight
        if likeliest and probability >= 0.5:
            votes[likeliest] += 3.0 * probability
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
            situation=situation(_prepare(text)),
        )


@functools.lru_cache(maxsize=1)
def _train(training: Path) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    labels, texts = [], []
    with training.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            labels.append(row["label"])
            texts.append(_classifier_text(row["text"]))
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
        LogisticRegression(C=10.0, max_iter=5000, class_weight="balanced"),
    )
    model.fit(texts, labels)
    return model


def _cached_model(training: Path, cache_dir: Path) -> Any:
    """The classifier trained on ``training``, from ``cache_dir`` when it is there."""
    import joblib
    import sklearn

    key = hashlib.sha256()
    for part in (training.read_bytes(), Path(__file__).read_bytes(), sklearn.__version__.encode()):
        key.update(hashlib.sha256(part).digest())
    path = cache_dir / f"fraud-classifier-{key.hexdigest()[:16]}.joblib"
    if path.exists():
        try:
            return joblib.load(path)
        except Exception:  # a torn or foreign file: train again and replace it
            path.unlink(missing_ok=True)
    model = _train(training)
    cache_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    joblib.dump(model, temporary)
    os.chmod(temporary, 0o600)
    temporary.replace(path)  # atomic: two processes starting at once both end well
    return model


def default_checker() -> FraudChecker:
    return FraudChecker()
