"""Answerability: how likely the top hit answers the question, from everything search saw.

Thresholds on score, coverage and margin (``bot.knowledge.service``) cannot tell
"this entry answers the question" from "this entry is on the same subject". The
gate reads more of the evidence at once: the three hits' scores, coverage and
margins, how the top score came about (whole-entry and best-phrasing lexical
scores, dense cosines), whether the hits agree on a topic, how closely the
question repeats one of the entry's own phrasings, how much of it no entry
knows, its length and voice/dialect signs, and what kind of answer it asks for
(a price, a time, a place, a phone number, a way to do something) against what
the entry's answer holds. Small boosted trees over those features give the
probability that the top entry is right; ``bot.knowledge.service.decide``
answers when it reaches the threshold stored with them.

The weights (``gate.json`` beside this file, a few KB) are trained by
``bench.gate_cv --write`` on the ten read first-reply sets
(``bench/data/e2e_dev.tsv``, ``e2e_holdout.tsv``, ``e2e_holdout2..9.tsv``; never
``e2e_holdout10.tsv``), each set's own messages left out of the entries'
``asked`` (``bench.gate_data``); the target is "the top hit is an entry the
row's label accepts"; the file's ``trained_on`` says the same with the counts.
Retrain them when search or the knowledge base changes much: the features are
search's scores. Without the file, ``decide`` keeps to the hand-set rule.

Features are computed from the hits alone (``Hit.signals`` carries the
question as search heard it), in well under a millisecond.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.knowledge.schema import TOPICS, Entry
from bot.knowledge.search import Hit

WEIGHTS = Path(__file__).with_name("gate.json")

# What kind of answer the question asks for, and whether an entry's text gives it.
ASKS = {
    "price": re.compile(
        r"多少钱|好多钱|价格|价钱|费用|收费|收不收费|要钱|花钱|几块|多少块|贵不贵|贵"
    ),
    "time": re.compile(r"几点|什么时候|啥时候|哪天|几号|多久|多长时间|好久|几天|几年|几月|时间"),
    "place": re.compile(r"哪里|哪儿|在哪|哪点|哪个地方|什么地方|啥地方|去哪|地址|哪家"),
    "phone": re.compile(r"电话|号码|热线|拨打|打几|打哪个"),
    "howto": re.compile(r"怎么|咋|如何|怎样|啷个|办法|步骤|方法"),
    "why": re.compile(r"为什么|为啥|咋个会|怎么会|原因"),
    "whether": re.compile(
        r"能不能|可不可以|可以吗|行不行|是不是|会不会|要不要|有没有|吗|不[？?]?$"
    ),
    "true": re.compile(r"真的|是真|谣言|听说|靠谱|可信|骗人"),
    "amount": re.compile(r"多少|几[个次斤两克片粒颗瓶]|多大|多高|多低|剂量|用量"),
}
GIVES = {
    "price": re.compile(r"\d+\s*(元|块|角)|免费|收费|费用|不要钱|价格|报销"),
    "time": re.compile(
        r"\d+\s*(点|天|小时|分钟|周|个月|月|年|号)|[一二三四五六七八九十两半]+(天|小时|分钟|周|个月|年)|时间|春|夏|秋|冬|早|晚"
    ),
    "place": re.compile(
        r"医院|卫生院|营业厅|窗口|网点|派出所|村委|社区|服务中心|站|所|局|APP|小程序|公众号|设置|首页|页面|右上角|点开|打开"
    ),
    "phone": re.compile(r"\d{3,}|电话|热线"),
    "amount": re.compile(
        r"\d|[一二三四五六七八九十两半几]+(个|次|斤|两|克|片|粒|颗|瓶|毫升|升|亩|倍)|多少"
    ),
}
# Sounds of spoken Chongqing/Sichuan speech and of a voice transcript.
DIALECT = re.compile(
    r"咋|啥子|莫得|没得|晓得|啷个|噻|嘛|喃|嗦|哈|得行|巴适|脑壳|屋头|遭|恼火|安逸|老汉|娃儿|要得|咋个|哪点|好多"
)
FILLER = re.compile(r"那个|这个|就是|然后|嗯|呃|啊|喂")


def _base(hits: Sequence[Hit]) -> list[float]:
    """Scores, coverage, margins and topic agreement of the first three hits."""
    get = [hits[i] if i < len(hits) else None for i in range(3)]
    s = [h.score if h else 0.0 for h in get]
    c = [h.coverage if h else 0.0 for h in get]
    top, second = get[0], get[1]
    assert top is not None
    sig, sig2 = top.signals, second.signals if second else None
    return [
        s[0],
        s[1],
        s[2],
        s[0] - s[1],
        s[0] - s[2],
        c[0],
        c[1],
        c[0] - c[1],
        float(top.conflict),
        float(bool(second and second.conflict)),
        sig.lexical,
        sig.phrase,
        sig.cosine,
        sig.centroid,
        sig.phrase - (sig2.phrase if sig2 else 0.0),
        sig.cosine - (sig2.cosine if sig2 else 0.0),
        float(bool(second and second.entry.topic == top.entry.topic)),
        float(bool(get[2] and get[2].entry.topic == top.entry.topic)),
    ]


def _entry_text(entry: Entry) -> str:
    return " ".join([entry.title, entry.answer, *entry.steps, entry.explanation or ""])


def _question(hits: Sequence[Hit]) -> list[float]:
    """The question: how much of it no entry knows, its length and its sounds."""
    sig = hits[0].signals
    heard = sig.heard
    chars = sum("\u4e00" <= ch <= "\u9fff" for ch in heard)
    return [
        sig.unknown,
        math.log1p(sig.words),
        math.log1p(chars),
        float(sig.corrected),
        float(len(DIALECT.findall(heard))),
        float(len(FILLER.findall(heard))),
    ]


_NOT_HAN = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+")


def _bigrams(text: str) -> set[str]:
    text = _NOT_HAN.sub("", text)
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _overlap(hits: Sequence[Hit]) -> list[float]:
    """How closely the question repeats one of the top entry's own phrasings (its
    title and questions, never the ``asked`` messages), by character pairs: the
    share of the best phrasing found in the question, and of the question found
    in it; the same for the runner-up, and the title alone."""
    heard = _bigrams(hits[0].signals.heard)
    out: list[float] = []
    for hit in (hits[0], hits[1] if len(hits) > 1 else None):
        recall = precision = 0.0
        if hit is not None and heard:
            for text in hit.entry.search_texts():
                grams = _bigrams(text)
                if grams:
                    common = len(grams & heard)
                    recall = max(recall, common / len(grams))
                    precision = max(precision, common / len(heard))
        out += [recall, precision]
    title = _bigrams(hits[0].entry.title)
    out.append(len(title & heard) / len(title) if title else 0.0)
    return out


def _kind(hits: Sequence[Hit]) -> list[float]:
    """What the question asks for, and whether the top entry's answer gives that."""
    heard = hits[0].signals.heard
    text = _entry_text(hits[0].entry)
    out: list[float] = []
    for name, pattern in ASKS.items():
        asked = bool(pattern.search(heard))
        out.append(float(asked))
        if name in GIVES:
            out.append(float(asked and not GIVES[name].search(text)))
    top = hits[0].entry
    out += [float(top.topic == t) for t in TOPICS]
    out.append(float(bool(top.steps)))
    return out


def _names() -> list[str]:
    base = [
        "score1", "score2", "score3", "margin12", "margin13",
        "coverage1", "coverage2", "coverage_gain", "conflict1", "conflict2",
        "lexical1", "phrase1", "cosine1", "centroid1", "phrase_margin", "cosine_margin",
        "topic_agrees2", "topic_agrees3",
    ]  # fmt: skip
    question = ["unknown", "log_words", "log_chars", "corrected", "dialect", "filler"]
    overlap = ["recall1", "precision1", "recall2", "precision2", "title_recall"]
    kind: list[str] = []
    for name in ASKS:
        kind.append(f"asks_{name}")
        if name in GIVES:
            kind.append(f"asks_{name}_not_given")
    kind += [f"topic_{t}" for t in TOPICS] + ["has_steps"]
    return base + question + overlap + kind


FEATURES = tuple(_names())


def features(hits: Sequence[Hit]) -> list[float]:
    """The gate's features of a non-empty list of hits, in ``FEATURES`` order."""
    if not hits:
        raise ValueError("no hits")
    return _base(hits) + _question(hits) + _overlap(hits) + _kind(hits)


# A split node: (feature index, threshold, left child, right child); a leaf: (value,).
Node = tuple[float, ...]


@dataclass(frozen=True)
class Gate:
    """Boosted regression trees over ``features``: P(the top hit is right).

    The log-odds are ``prior`` plus ``rate`` times the leaf each tree sends the
    features to (a feature at or below a split's threshold goes left), as
    scikit-learn's ``GradientBoostingClassifier`` computes them: features are
    compared in single precision, as it compares them.
    """

    prior: float
    rate: float
    trees: tuple[tuple[Node, ...], ...]
    threshold: float
    trained_on: str = ""

    def probability(self, hits: Sequence[Hit]) -> float:
        return self.probability_of(features(hits))

    def probability_of(self, x: Sequence[float]) -> float:
        single = [float(v) for v in np.asarray(x, dtype=np.float32)]
        z = self.prior
        for tree in self.trees:
            node = tree[0]
            while len(node) == 4:
                node = tree[int(node[2] if single[int(node[0])] <= node[1] else node[3])]
            z += self.rate * node[0]
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict[str, object]:
        return {
            "model": "gradient-boosted regression trees (log-loss), bot.knowledge.gate.Gate",
            "trained_on": self.trained_on,
            "features": list(FEATURES),
            "threshold": self.threshold,
            "prior": self.prior,
            "rate": self.rate,
            "trees": [[list(node) for node in tree] for tree in self.trees],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Gate:
        if data.get("features") != list(FEATURES):
            raise ValueError("the gate's weights were trained on other features")
        trees = tuple(
            tuple(tuple(float(v) for v in node) for node in tree) for tree in data["trees"]
        )
        for tree in trees:
            for node in tree:
                if len(node) not in (1, 4) or (
                    len(node) == 4
                    and not (0 <= node[0] < len(FEATURES) and max(node[2], node[3]) < len(tree))
                ):
                    raise ValueError(f"not a tree node: {node}")
        return cls(
            float(data["prior"]),
            float(data["rate"]),
            trees,
            float(data["threshold"]),
            str(data.get("trained_on", "")),
        )


def load(path: Path = WEIGHTS) -> Gate | None:
    """The gate whose weights are in ``path``, or None when there is no such file
    (``decide`` then keeps to the hand-set thresholds)."""
    if not path.exists():
        return None
    return Gate.from_json(json.loads(path.read_text(encoding="utf-8")))
