"""Hybrid search over the knowledge entries.

Three views of the same normalised text, each a TF-IDF space, are combined:

- character 1-3-grams: robust to segmentation and to most typos;
- jieba words with the project dictionary: keeps 二化螟 or 医保电子凭证 whole;
- pinyin syllables (1-2-grams): a homophone error (二化名 for 二化螟) keeps
  its sound, so it still matches.

An entry scores the best cosine of any of its texts (title, phrasings,
claim). Scores are in [0, 1]; the thresholds that turn them into "answer",
"offer choices" or "no match" live in ``bot.knowledge.service``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.knowledge.schema import Entry
from bot.settings import PROJECT_ROOT
from bot.text.normalize import normalize

JIEBA_DICT = PROJECT_ROOT / "nlu_data" / "jieba" / "userdict.txt"
WEIGHTS = {"char": 0.4, "word": 0.3, "pinyin": 0.3}


@functools.lru_cache(maxsize=1)
def _jieba():
    import jieba

    tokenizer = jieba.Tokenizer()
    if JIEBA_DICT.exists():
        tokenizer.load_userdict(str(JIEBA_DICT))
    return tokenizer


def char_tokens(text: str) -> list[str]:
    chars = text.replace(" ", "")
    return [chars[i:i + n] for n in (1, 2, 3) for i in range(len(chars) - n + 1)]


def word_tokens(text: str) -> list[str]:
    return [w for w in _jieba().lcut(text) if w.strip()]


def pinyin_tokens(text: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    syllables = [s for s in lazy_pinyin(text.replace(" ", ""), style=Style.NORMAL) if s.strip()]
    return syllables + [f"{a}_{b}" for a, b in zip(syllables, syllables[1:])]


ANALYZERS = {"char": char_tokens, "word": word_tokens, "pinyin": pinyin_tokens}


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float


class SearchIndex:
    """An immutable index over a list of entries."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        texts: list[str] = []
        owners: list[int] = []
        for i, entry in enumerate(entries):
            for t in entry.search_texts():
                texts.append(normalize(t))
                owners.append(i)
            if entry.tags:
                texts.append(normalize(" ".join(entry.tags)))
                owners.append(i)
        self._owners = np.asarray(owners, dtype=np.int64)
        self._vectorizers: dict[str, TfidfVectorizer] = {}
        self._matrices = {}
        if not texts:
            return
        for name, analyzer in ANALYZERS.items():
            vec = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, norm="l2")
            self._matrices[name] = vec.fit_transform(texts).T.tocsr()  # (features, rows)
            self._vectorizers[name] = vec

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """Best ``k`` entries for the query, highest score first."""
        text = normalize(query)
        if not text or not self.entries:
            return []
        combined = np.zeros(len(self._owners))
        for name, weight in WEIGHTS.items():
            q = self._vectorizers[name].transform([text])
            combined += weight * (q @ self._matrices[name]).toarray().ravel()
        best = np.zeros(len(self.entries))
        np.maximum.at(best, self._owners, combined)
        top = np.argsort(-best, kind="stable")[:k]
        return [Hit(self.entries[i], float(best[i])) for i in top if best[i] > 0]


def build_index(entries: list[Entry]) -> SearchIndex:
    return SearchIndex(entries)


def index_for_dir(root: Path) -> SearchIndex:
    from bot.knowledge.loader import load_entries

    return SearchIndex(load_entries(root).entries)
