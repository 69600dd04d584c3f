"""Which known claim a report repeats, on text with places, dates and numbers masked.

Rumours recycle: "梁平区明天停水" becomes "万州区后天停水", "5G基站" rumours
come back with another town's name. Claims are compared on normalised text in
which place names, dates and numbers are masked, by the cosine of character
2-4-gram TF-IDF vectors (robust to re-wording and to typos). Used both to
match a report against published debunks and to group reports into claims.

``ClaimIndex`` scores exactly as scikit-learn's ``TfidfVectorizer(analyzer="char",
ngram_range=(2, 4), sublinear_tf=True)`` fitted on the texts it holds now, but
claims can be added and dropped one at a time, and a query with a minimum score
reads only the claims that share a rare enough n-gram with it (an inverted
index), not every claim.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.text.normalize import normalize
from bot.text.segment import word_tokens
from bot.text.stopwords import content_words

Array = npt.NDArray[Any]

# Masks, applied in order. Place names: two or three Han characters before an
# administrative or settlement suffix (重庆市, 梁平区, 屏锦镇, 七星村). Common
# words that end the same way (城市, 小区) are masked too, on both sides alike.
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"(?:\d{2,4}年)?\d{1,2}月\d{1,2}[日号]|\d{4}年|\d{1,2}月(?:份)?|\d{1,2}[日号]"
            r"|今天|明天|后天|昨天|前天|今晚|明晚|今年|明年|去年|下周|本周|这周|下个月|上个月"
            r"|星期[一二三四五六日天]|周[一二三四五六日]"
        ),
        "◆",
    ),
    (
        re.compile(
            r"(?:(?![说讲听传在到去从是的了里把被让给和跟向往])[\u4e00-\u9fff]){2,3}?"
            r"(?:省|自治区|市|自治州|区|县|镇|乡|街道|村|社区|屯|寨)"
        ),
        "▲",
    ),
    (re.compile(r"\d+(?:\.\d+)?"), "●"),
    (re.compile(r"([▲◆●])(?:\s*\1)+"), r"\1"),  # 重庆市梁平区 is one place
)
# Before normalisation, which would take a link apart: links and @handles.
_LINKS = re.compile(r"https?://\S+|www\.\S+|(?<![\w.])[a-z0-9-]+(?:\.[a-z0-9-]+)+/\S*", re.I)
_HANDLES = re.compile(r"@\S+")
_SPACES = re.compile(r"\s+")

# Calibrated with bench/rumor_eval.py (re-worded Weibo rumours against their
# anchors; unrelated rumours and non-rumours as the negatives): at or above
# AUTO_MATCH a report is the known claim (99% of variants, 3% of unrelated
# posts); between ASK_MATCH and AUTO_MATCH we ask "是不是这条？".
AUTO_MATCH = 0.6
ASK_MATCH = 0.4


def masked(text: str) -> str:
    """Normalised content words, with links, dates, places and numbers replaced by tags
    (one character each, so that they weigh little in a short text)."""
    text = normalize(_HANDLES.sub(" ", _LINKS.sub(" 链接 ", text)))
    for pattern, tag in _MASKS:
        text = pattern.sub(tag, text)
    return "".join(content_words(word_tokens(_SPACES.sub("", text))))


@dataclass(frozen=True)
class Match:
    key: str
    score: float


_RUNS_OF_SPACE = re.compile(r"\s\s+")
NGRAM_SIZES = (2, 3, 4)
# Recent additions are kept apart (their n-grams in a dict) and merged into the
# compacted arrays once they outnumber an eighth of them, or once a quarter of
# the compacted rows are dropped claims: a merge costs O(size), so each addition
# pays a constant share of it on average.
MIN_RECENT = 256
RECENT_SHARE = 8
DEAD_SHARE = 4


def ngram_counts(text: str) -> tuple[Array, Array]:
    """The distinct character 2-4-grams of ``text``, as 64-bit hashes, and their counts.

    Cut as scikit-learn's char analyzer cuts them (lower-cased, runs of white space
    as one space). The hashes are Python's string hashes: they differ between
    processes, so an index never leaves the process that built it.
    """
    text = _RUNS_OF_SPACE.sub(" ", text.lower())
    grams = [text[i : i + n] for n in NGRAM_SIZES for i in range(len(text) - n + 1)]
    hashes = np.fromiter(map(hash, grams), dtype=np.int64, count=len(grams))
    return np.unique(hashes, return_counts=True)


def _sublinear(counts: Array) -> Array:
    return (1.0 + np.log(counts)).astype(np.float32)


class ClaimIndex:
    """Claims searchable by similarity of their masked text; claims come and go.

    ``claims`` holds ``(key, text)`` pairs; a key may come with several texts
    (a debunk's claim, title and phrasings) and scores its best one. Texts are
    masked here unless ``premasked`` (e.g. ``RumorClaim.match_text``).

    Scores are the cosines a ``TfidfVectorizer(analyzer="char", ngram_range=(2, 4),
    sublinear_tf=True)`` fitted on the texts held now would give: document
    frequencies are counted as texts are added and dropped, and idf is applied
    at query time. Storage: a compacted segment (rows × n-grams in CSR form, and
    its transpose as postings lists; n-grams as sorted hashes, no strings) and
    the recent additions (postings in a dict), merged now and then. Methods are
    thread-safe, so that callers can run them off the event loop.
    """

    def __init__(self, claims: Iterable[tuple[str, str]] = (), *, premasked: bool = False) -> None:
        self._lock = threading.RLock()
        keys: list[str] = []
        hashes: list[Array] = []
        tfs: list[Array] = []
        for key, text in claims:
            grams, counts = ngram_counts(text if premasked else masked(text))
            keys.append(key)
            hashes.append(grams)
            tfs.append(_sublinear(counts))
        lengths = np.fromiter(map(len, hashes), dtype=np.int64, count=len(hashes))
        flat = np.concatenate(hashes) if hashes else np.zeros(0, np.int64)
        del hashes  # the per-text arrays, before the build's own temporaries
        self._build(keys, lengths, flat, np.concatenate(tfs) if tfs else np.zeros(0, np.float32))

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def add(self, key: str, text: str, *, premasked: bool = False) -> None:
        """Index one more text under ``key`` (a key may hold several)."""
        self.update([(key, text)], premasked=premasked)

    def update(
        self,
        add: Iterable[tuple[str, str]] = (),
        drop: Iterable[str] = (),
        *,
        premasked: bool = False,
    ) -> None:
        """Drop every text of the keys in ``drop``, then add the texts in ``add``."""
        docs = [(key, *ngram_counts(text if premasked else masked(text))) for key, text in add]
        with self._lock:
            for key in drop:
                self._discard(key)
            for key, hashes, counts in docs:
                self._add(key, hashes, counts)
            self._maybe_compact()

    def discard(self, key: str) -> bool:
        """Forget every text of ``key``; False if it was not there."""
        with self._lock:
            return self._discard(key)

    def best(self, text: str, k: int = 1, min_score: float = 0.0) -> list[Match]:
        """The ``k`` most similar keys, most similar first (cosine in [0, 1]).

        With ``min_score``, only keys scoring at least that are returned, and
        claims that share with ``text`` only n-grams too common to reach it are
        never read.
        """
        return self.best_masked(masked(text), k, min_score)

    def best_masked(self, text: str, k: int = 1, min_score: float = 0.0) -> list[Match]:
        """``best`` for a text that is already masked."""
        hashes, counts = ngram_counts(text)
        with self._lock:
            return self._best(hashes, counts, k, min_score)

    # Internals; callers hold the lock. ----------------------------------------------

    def _build(self, keys: list[str], lengths: Array, hashes: Array, tf: Array) -> None:
        """One compacted segment of ``keys``' rows (row i: ``lengths[i]`` n-grams)."""
        # One sort of all n-gram occurrences gives the vocabulary (sorted hashes), each
        # occurrence's term id and, read in that order, the postings lists.
        order = np.argsort(hashes)
        ordered = hashes[order]
        first = np.empty(len(hashes), dtype=bool)
        first[:1] = True
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        self._terms = ordered[first]
        del ordered
        self._indices = np.empty(len(hashes), dtype=np.int32)
        self._indices[order] = np.cumsum(first, dtype=np.int32) - 1
        self._indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self._tf = tf.astype(np.float32)
        self._df = np.bincount(self._indices, minlength=len(self._terms)).astype(np.int32)
        owners = np.repeat(np.arange(len(keys), dtype=np.int32), lengths)
        self._postings = owners[order]
        self._postings_ptr = np.concatenate([[0], np.cumsum(self._df)]).astype(np.int64)
        self._keys = list(keys)
        self._rows: dict[str, list[int]] = {}
        for row, key in enumerate(self._keys):
            self._rows.setdefault(key, []).append(row)
        self._alive = np.ones(len(keys), dtype=bool)
        self._live = len(keys)
        self._base = len(keys)  # rows below this are compacted
        self._dead_base = 0
        self._new_terms: dict[int, int] = {}  # hash -> term id, for n-grams new since
        self._recent: list[tuple[Array, Array]] = []  # (term ids, tf) per row
        self._recent_postings: dict[int, list[int]] = {}

    def _compact(self) -> None:
        hashes = np.concatenate(
            [self._terms, np.fromiter(self._new_terms, dtype=np.int64, count=len(self._new_terms))]
        )
        lengths = np.diff(self._indptr)
        live = self._alive[: self._base]
        kept = np.repeat(live, lengths)
        parts_h, parts_tf = [hashes[self._indices[kept]]], [self._tf[kept]]
        parts_len, keys = [lengths[live]], [self._keys[i] for i in np.flatnonzero(live)]
        for offset, (terms, tf) in enumerate(self._recent):
            row = self._base + offset
            if self._alive[row]:
                parts_h.append(hashes[terms])
                parts_tf.append(tf)
                parts_len.append(np.array([len(terms)]))
                keys.append(self._keys[row])
        self._build(
            keys,
            np.concatenate(parts_len),
            np.concatenate(parts_h),
            np.concatenate(parts_tf),
        )

    def _maybe_compact(self) -> None:
        recent = len(self._keys) - self._base
        if recent > max(MIN_RECENT, self._base // RECENT_SHARE) or self._dead_base > max(
            MIN_RECENT, self._base // DEAD_SHARE
        ):
            self._compact()

    def _term_ids(self, hashes: Array, create: bool) -> Array:
        """Term ids of n-gram hashes; -1 for those never seen (unless ``create``)."""
        ids = np.full(len(hashes), -1, dtype=np.int64)
        if len(self._terms):
            at = np.minimum(np.searchsorted(self._terms, hashes), len(self._terms) - 1)
            found = self._terms[at] == hashes
            ids[found] = at[found]
        for i in np.flatnonzero(ids < 0).tolist():
            h = int(hashes[i])
            term = self._new_terms.get(h)
            if term is None and create:
                term = self._new_terms[h] = len(self._terms) + len(self._new_terms)
            if term is not None:
                ids[i] = term
        return ids

    def _row_terms(self, row: int) -> Array:
        if row < self._base:
            return self._indices[self._indptr[row] : self._indptr[row + 1]]
        return self._recent[row - self._base][0]

    def _add(self, key: str, hashes: Array, counts: Array) -> None:
        terms = self._term_ids(hashes, create=True)
        n_terms = len(self._terms) + len(self._new_terms)
        if n_terms > len(self._df):
            self._df = np.concatenate([self._df, np.zeros(max(n_terms, 1024), np.int32)])
        self._df[terms] += 1
        row = len(self._keys)
        if row >= len(self._alive):
            self._alive = np.concatenate([self._alive, np.zeros(max(row, 256), dtype=bool)])
        self._alive[row] = True
        self._keys.append(key)
        self._rows.setdefault(key, []).append(row)
        self._live += 1
        self._recent.append((terms.astype(np.int32), _sublinear(counts)))
        for term in terms.tolist():
            self._recent_postings.setdefault(term, []).append(row)

    def _discard(self, key: str) -> bool:
        rows = self._rows.pop(key, None)
        if not rows:
            return False
        for row in rows:
            self._alive[row] = False
            self._df[self._row_terms(row)] -= 1
            self._live -= 1
            self._dead_base += row < self._base
        return True

    def _best(self, hashes: Array, counts: Array, k: int, min_score: float) -> list[Match]:
        if not self._live or not len(hashes):
            return []
        terms = self._term_ids(hashes, create=False)
        known = terms >= 0
        terms, counts = terms[known], counts[known]
        df = self._df[terms]
        held = df > 0  # n-grams of dropped texts only are unknown, as after a refit
        terms, counts, df = terms[held], counts[held], df[held]
        if not len(terms):
            return []
        n = self._live
        weights = _sublinear(counts) * (np.log((1.0 + n) / (1.0 + df)) + 1.0)
        weights = weights / np.linalg.norm(weights)
        # A claim's cosine with the query's commonest n-grams is at most the norm of
        # that part of the query: while it stays below min_score, their (long)
        # postings lists need not be read; claims sharing only them cannot qualify.
        order = np.argsort(-df, kind="stable")
        skip = 0
        if min_score > 0:
            cumulative = np.cumsum(weights[order] ** 2)
            skip = int(np.searchsorted(cumulative, min_score**2 * (1 - 1e-9)))
        rows = self._candidates(terms[order[skip:]])
        if not len(rows):
            return []
        scores = self._scores(rows, terms, weights, n)
        out: list[Match] = []
        for i in np.lexsort((rows, -scores)).tolist():  # best first, then oldest row
            score = float(scores[i])
            if score <= 0 or score < min_score or len(out) == k:
                break
            key = self._keys[rows[i]]
            if all(m.key != key for m in out):
                out.append(Match(key, score))
        return out

    def _candidates(self, terms: Array) -> Array:
        """Live rows holding any of ``terms``, ascending."""
        parts = [
            self._postings[self._postings_ptr[t] : self._postings_ptr[t + 1]]
            for t in terms[terms < len(self._terms)].tolist()
        ]
        for t in terms.tolist():
            recent = self._recent_postings.get(t)
            if recent:
                parts.append(np.asarray(recent, dtype=np.int32))
        if not parts:
            return np.zeros(0, np.int64)
        rows = np.unique(np.concatenate(parts)).astype(np.int64)
        live: Array = rows[self._alive[rows]]
        return live

    def _scores(self, rows: Array, q_terms: Array, q_weights: Array, n: int) -> Array:
        """Cosine of each row (ascending, each with n-grams) with the query."""
        base = rows[rows < self._base]
        starts = self._indptr[base]
        lengths = self._indptr[base + 1] - starts
        at = np.arange(lengths.sum()) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        terms, tfs, sizes = [self._indices[at]], [self._tf[at]], [lengths]
        for row in rows[len(base) :].tolist():
            row_terms, row_tf = self._recent[row - self._base]
            terms.append(row_terms)
            tfs.append(row_tf)
            sizes.append(np.array([len(row_terms)]))
        flat = np.concatenate(terms)
        size = np.concatenate(sizes)
        weight = np.concatenate(tfs) * (np.log((1.0 + n) / (1.0 + self._df[flat])) + 1.0)
        order = np.argsort(q_terms)
        q_sorted, q_sorted_weights = q_terms[order], q_weights[order]
        at = np.minimum(np.searchsorted(q_sorted, flat), len(q_sorted) - 1)
        shared = np.where(q_sorted[at] == flat, q_sorted_weights[at], 0.0)
        first = np.cumsum(size) - size
        dots = np.add.reduceat(weight * shared, first)
        norms = np.sqrt(np.add.reduceat(weight * weight, first))
        cosines: Array = dots / norms
        return cosines
