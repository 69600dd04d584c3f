"""Hybrid search over the knowledge entries.

Signals, each in [0, 1], over normalised text:

- lexical, per entry: TF-IDF cosine of the query's content words (function
  words removed) against the whole entry (title, phrasings, tags, answer,
  steps), in three views: jieba words with the project dictionary (keeps
  二化螟 whole), character 2-3-grams (robust to segmentation and typos), and
  pinyin syllables with Chongqing/Sichuan sound merges folded (a homophone
  error such as 二化名 keeps its sound; 砸骗 sounds like 诈骗 there);
- lexical, per phrasing: the best match among the entry's own questions;
- dense: the best cosine between the query's content words and the entry's
  title and phrasings under multilingual-e5-small (``bot.knowledge.dense``),
  mixed with the cosine to the centroid of those phrasings (the entry's gist),
  for paraphrases that share no words; the query side is E5's static
  distillation, so no transformer runs per search. Cosines crowd into
  0.8-0.95, so they are rescaled before mixing.

Weights were tuned on half of the dev set (bench/kb_eval.py) and reported on
all of it; the combined score is scaled to [0, 1].
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.knowledge.dense import DIM, Array, DenseEncoder, QueryEncoder
from bot.knowledge.entities import FARMING_KINDS, Things
from bot.knowledge.schema import Entry
from bot.text.homophone import HomophoneCorrector
from bot.text.normalize import normalize
from bot.text.pinyin import fuzzy_pinyin
from bot.text.segment import is_dictionary_word, known_words, user_dictionary_words, word_tokens
from bot.text.stopwords import CONTEXT_WORDS, content_words

VIEW_WEIGHTS = {"word": 0.3, "char": 0.4, "pinyin": 0.3}
ENTRY_WEIGHT = 0.85  # whole-entry lexical vs best single phrasing
DENSE_WEIGHT = 1.0
DENSE_FLOOR, DENSE_SPAN = 0.85, 0.15
CENTROID_WEIGHT = 0.4  # dense: best phrasing vs centroid of all phrasings
# Sentence vectors are compared only for the entries that lead on the lexical
# signals: scanning every vector of a 10,000-entry index reads 80 MB per query
# (~9 ms, more when another process shares the memory bus); below this size
# every entry is compared.
SHORTLIST = 256
# Two entries whose phrasing centroids are this close say the same thing (e.g. a
# food-safety entry and the debunk of the rumour about it): search returns the
# better-scoring one only, so a near-duplicate never forces a choice. The closest
# neighbour of 99% of entries is below it (0.988 at 327 entries).
TWIN_COSINE = 0.985
# An entry about one app, crop, animal or card (its title names it) answers a
# question that names none of that kind less often than a general entry does:
# "手机字太小了" means the phone's font size, not 微信's. When a general entry
# comes this close to such an entry, the scoped one's score is lowered by as much.
SCOPE_PENALTY = 0.05
# A two-character word that this many phrasings and tags use is a term the
# homophone corrector restores (洪包 → 红包); rarer ones are left alone.
TWO_CHAR_TERM_MIN = 3


@functools.lru_cache(maxsize=1)
def _single_threaded_blas() -> None:
    """Our matrix products are small; a second BLAS thread only adds waiting when the
    other core is busy (p95 at 10,000 entries 16 ms with two threads, 7 ms with one,
    measured while another process kept one core busy). Process-wide, set once."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


# A run of spoken digits is a number (九六一一零 → 96110, 幺二三零六 → 12306): voice
# transcripts spell out hotlines and ticket numbers. Runs of three or four need a
# 幺 or 零 so that 三五天 or 一二三四 stay words.
_SPOKEN_DIGITS = str.maketrans("零〇一二三四五六七八九幺", "001234567891")
_DIGIT = "[零〇一二三四五六七八九幺]"
_SPOKEN_NUMBER = re.compile(rf"{_DIGIT}{{5,}}|{_DIGIT}*[幺零〇]{_DIGIT}*")
_HAS_MEANING = re.compile(r"[\w\u4e00-\u9fff]")
# A question asked as "A 不 A" ("会不会扣钱", "靠不靠谱", "要不要紧", "有没有用") is
# about A: the negated half is not a word of the question ("不会" would be).
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")
# "手机好卡" is a phone that lags, not a card (银行卡, 手机卡 for a SIM): 卡 after a
# degree word, or before 死/住/得, is 卡顿.
_LAG = re.compile(
    r"(?<=好|很|太|直|是|点|些|别|越|常|又|老)卡(?![号片包套里上内费顿])|卡(?=死|住|得很|得要命)"
)
# "微信头", "钱包头", "猪圈头": Chongqing/Sichuan says 头 for 里 after a thing that
# holds something (屋头, 田头 and the like are in the dialect table). Left as it is,
# 头 reads as a head, and 钱包头 as 钱 + 包头 (a city).
_IN = re.compile(
    r"(微信|手机|钱包|零钱|荷包|包包|相册|群|社保卡|医保卡|银行卡|存折|账户|支付宝|抖音|快手"
    r"|猪圈|鸡圈|圈圈|鱼塘|堰塘|塘|秧田|柜子|冰箱|箱子|袋袋|兜兜|碗|盆|桶)头(?![痛疼晕昏发上])"
)


# "那个体检查出来胆固醇高": jieba reads 那 个体 检查; a voice transcript's filler
# 那个/这个 ends a word wherever it stands (segmentation only, not the heard text).
_DEMONSTRATIVE = re.compile(r"(那个|这个)(?=[\u4e00-\u9fff])")
# Openings and particles of speech ("喂 你好 我想问一下…", "…在哪点下喃"): a word no
# entry holds would count as the most specific part of the question.
_SPOKEN = frozenset("你好 您好 就是说 喃 嗦 哟 噢".split())


def _as_meant(text: str) -> str:
    """``text`` with 卡 for lag read as 卡顿 and dialect 头 after a container as 里."""
    return _IN.sub(r"\1里", _LAG.sub("卡顿", text))


# An amount, a count or a measure ("500", "八千", "两碗", "好几只", "一百六"): what
# the asker has, not what the question is about; no entry is expected to repeat it.
_QUANTITY = re.compile(
    r"[\d.,]+[万千百十]?|[零〇一二两三四五六七八九十百千万几好]+"
    r"[个只根道块碗顿天次回斤两亩元钱岁年月号头条棵株瓶片粒包袋遍趟]*钱?|块钱"
)


def _spoken_number(match: re.Match[str]) -> str:
    run = match.group(0)
    return run.translate(_SPOKEN_DIGITS) if len(run) >= 3 else run


def _terms(text: str) -> list[str]:
    """Words of normalised ``text``. jieba guesses unknown words by its HMM and so
    glues particles to content ("防嘛", "水好", "人拉黑"); a guessed word is split
    again by the dictionaries alone, and a token without a letter (an emoji) is dropped."""
    words: list[str] = []
    text = _A_NOT_A.sub(r"\1", _SPOKEN_NUMBER.sub(_spoken_number, text))
    text = _DEMONSTRATIVE.sub(r"\1 ", _as_meant(text))
    for token in word_tokens(text):
        if not _HAS_MEANING.search(token):
            continue
        if len(token) > 1 and not token.isascii() and not is_dictionary_word(token):
            words += [w for w in known_words(token) if w.strip()]
        else:
            words.append(token)
    return words


def content_text(text: str) -> str:
    """Normalised text with function words removed, words space-separated."""
    return " ".join(content_words(_terms(normalize(text))))


def _words(text: str) -> list[str]:
    return text.split()


def _chars(text: str) -> list[str]:
    out = []
    for word in text.split():
        out += [word[i : i + n] for n in (2, 3) for i in range(len(word) - n + 1)]
        if len(word) == 1:
            out.append(word)
    return out


def _pinyin(text: str) -> list[str]:
    out = []
    for word in text.split():
        syl = fuzzy_pinyin(word)
        out += syl + [f"{a}_{b}" for a, b in zip(syl, syl[1:], strict=False)]
    return out


VIEWS = {"word": _words, "char": _chars, "pinyin": _pinyin}


def _with_neighbours(words: list[str]) -> dict[int, list[str]]:
    """The sounds of each one-character word with the word before it and with the one
    after it. A recogniser writes a one-character term with another character of its
    sound (多少言 for 多少盐, 被色咬 for 被蛇咬, 越来越受 for 越来越瘦); no character
    alone can be put right, but with its neighbour the sound is a term's."""
    sounds: dict[int, list[str]] = {}
    for k, word in enumerate(words):
        if len(word) != 1 or not "\u4e00" <= word <= "\u9fff":
            continue
        pairs = [words[k - 1] + word] if k else []
        if k + 1 < len(words):
            pairs.append(word + words[k + 1])
        sounds[k] = [" ".join(fuzzy_pinyin(pair)) for pair in pairs]
    return sounds


@dataclass(frozen=True)
class Signals:
    """How one hit's score came about, and the question as search read it: what the
    answerability gate (``bot.knowledge.gate``) weighs besides score and coverage."""

    # The normalised question with misheard terms put right (``_heard``).
    heard: str = ""
    # The corrector changed a term of the question (a voice transcript's 打农要).
    corrected: bool = False
    # Idf-weighted share of the question's topical words that no entry uses.
    unknown: float = 0.0
    # Content words of the question.
    words: int = 0
    # Lexical score against the whole entry and against its best single phrasing.
    lexical: float = 0.0
    phrase: float = 0.0
    # Dense cosines (before rescaling): best phrasing, and the phrasings' centroid;
    # 0 when the entry was not on the shortlist or there is no encoder.
    cosine: float = 0.0
    centroid: float = 0.0


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float
    # Share of the query's content (idf-weighted words) that the entry's own text
    # contains, by word or by sound: an entry about blood pressure scores well
    # for "血糖多少算高" yet covers half of it. Decides direct answers with the score.
    coverage: float = 1.0
    # The question names an app, crop, animal or card the entry never names while
    # the entry names another of that kind (``bot.knowledge.entities``).
    conflict: bool = False
    signals: Signals = Signals()


def _entry_document(entry: Entry) -> str:
    parts = [*entry.matched_texts(), " ".join(entry.tags), entry.answer, *entry.steps]
    if entry.explanation:
        parts.append(entry.explanation)
    return " ".join(parts)


def _rescale(cosine: Array) -> Array:
    return np.clip((cosine - DENSE_FLOOR) / DENSE_SPAN, 0.0, 1.0)


def _entry_sentences(entry: Entry) -> list[str]:
    """Sentences of an entry that teach the query encoder E5's sentence space (not
    the messages residents asked: with them the held-out sets ranked no better)."""
    answer = [s for s in re.split(r"[。！？；\n]", entry.answer) if len(s) >= 4]
    return [*entry.search_texts(), *answer, *entry.steps]


class SearchIndex:
    """An immutable index over a list of entries."""

    def __init__(self, entries: list[Entry], encoder: DenseEncoder | None = None) -> None:
        _single_threaded_blas()
        self.entries = entries
        phrasings: list[str] = []
        owners: list[int] = []
        for i, entry in enumerate(entries):
            for text in entry.matched_texts():
                phrasings.append(text)
                owners.append(i)
        self._owners = np.asarray(owners, dtype=np.int64)
        # Phrasings are stored entry by entry: the first row of each entry lets
        # np.maximum.reduceat take per-entry maxima in one pass (ufunc.at is slow).
        empty = np.zeros(0, dtype=np.int64)
        self._starts = np.flatnonzero(np.r_[True, np.diff(self._owners) != 0]) if owners else empty
        self._lengths = np.diff(np.r_[self._starts, len(owners)]) if owners else empty
        self._views: dict[str, tuple[TfidfVectorizer, sparse.csr_matrix, sparse.csr_matrix]] = {}
        self._dense: Array | None = None
        self._queries: QueryEncoder | None = None
        self._centroids: Array | None = None
        # Terms are learnt from the curated texts only: a word a resident's voice
        # message misheard (``asked``) must not become a term.
        self.corrector = HomophoneCorrector.learn(
            [normalize(t) for e in entries for t in e.search_texts()],
            user_dictionary_words(),
            two_char_min=TWO_CHAR_TERM_MIN,
            keywords=[normalize(t) for e in entries for t in e.tags],
        )
        self._docs: list[str] = []
        self._doc_sounds: list[str] = []
        if not entries:
            return
        docs = [content_text(_entry_document(e)) for e in entries]
        self._docs = [d.replace(" ", "") for d in docs]
        self._doc_sounds = [" ".join(fuzzy_pinyin(d)) for d in self._docs]
        self._things = Things()
        self._entry_things = [self._named_in_entry(e) for e in entries]
        # Entries whose title is about one thing of a kind (微信的字体, 柚子裂果): kind →
        # a mask over the entries.
        self._scoped: dict[str, Array] = {}
        for i, entry in enumerate(entries):
            for kind in self._scope(entry):
                self._scoped.setdefault(kind, np.zeros(len(entries), dtype=bool))[i] = True
        phrases = [content_text(t) for t in phrasings]
        for name, analyzer in VIEWS.items():
            vec = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True)
            vec.fit(docs)
            self._views[name] = (
                vec,
                vec.transform(docs).T.tocsr(),
                vec.transform(phrases).T.tocsr(),
            )
        if encoder is not None:
            self._dense = encoder.encode([p.replace(" ", "") for p in phrases])
            sums = np.add.reduceat(self._dense, self._starts, axis=0)
            self._centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)
            sentences = [content_text(s) for e in entries for s in _entry_sentences(e)]
            self._queries = QueryEncoder(encoder, docs, sentences)

    def sentence_vectors(self, texts: list[str]) -> Array | None:
        """Unit sentence vectors of ``texts`` (rows) in E5's space, made the cheap
        way queries are (``QueryEncoder``); None without an encoder."""
        if self._queries is None:
            return None
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([self._queries.vector(self._query_text(t)) for t in texts])

    def scores(self, query: str) -> Array:
        """Score of every entry for ``query``, in [0, 1]."""
        return self._scores(self._query_text(query))

    def _scores(self, text: str) -> Array:
        """``scores`` of the query's content text (``_query_text``)."""
        return self._parts(text)[0]

    def _parts(self, text: str) -> tuple[Array, dict[str, Array]]:
        """``_scores``, and the signals it was made of, entry by entry."""
        n = len(self.entries)
        if not n:
            return np.zeros(0), {}
        entry_lex = np.zeros(n)
        phrase_lex = np.zeros(len(self._owners))
        if text:
            for name, weight in VIEW_WEIGHTS.items():
                vec, docs, phrases = self._views[name]
                q = vec.transform([text])
                entry_lex += weight * (q @ docs).toarray().ravel()
                phrase_lex += weight * (q @ phrases).toarray().ravel()
        best_phrase = np.maximum.reduceat(phrase_lex, self._starts)
        score = ENTRY_WEIGHT * entry_lex + (1 - ENTRY_WEIGHT) * best_phrase
        parts = {"lexical": entry_lex, "phrase": best_phrase}
        total = 1.0
        if self._dense is not None and self._centroids is not None and self._queries is not None:
            # Sentence vectors are compared only for the entries that lead on the
            # lexical signals (all of them below SHORTLIST entries).
            vector = self._queries.vector(text)
            shortlist = np.arange(n)
            if n > SHORTLIST:
                shortlist = np.sort(np.argpartition(-score, SHORTLIST - 1)[:SHORTLIST])
            centroid = self._centroids[shortlist] @ vector
            best = self._best_phrasing(shortlist, vector)
            mixed = (1 - CENTROID_WEIGHT) * best + CENTROID_WEIGHT * centroid
            score[shortlist] += DENSE_WEIGHT * _rescale(mixed)
            total += DENSE_WEIGHT
            parts["cosine"] = np.zeros(n)
            parts["cosine"][shortlist] = best
            parts["centroid"] = np.zeros(n)
            parts["centroid"][shortlist] = centroid
        return score / total, parts

    def _best_phrasing(self, entries: Array, vector: Array) -> Array:
        """Best cosine among each listed entry's phrasings (entries ascending)."""
        assert self._dense is not None  # called with an encoder only
        lengths = self._lengths[entries]
        offsets = np.r_[0, np.cumsum(lengths)[:-1]]
        rows = np.arange(lengths.sum()) + np.repeat(self._starts[entries] - offsets, lengths)
        return np.maximum.reduceat(self._dense[rows] @ vector, offsets)

    def coverage(self, query: str, i: int) -> float:
        """Idf-weighted share of the query's content words found in entry ``i``'s text
        (the word itself, or a word that sounds the same: 二化名 for 二化螟)."""
        words = self._query_words(query)
        return self._coverage(words, i, _with_neighbours(words))

    def _heard(self, query: str) -> str:
        """The normalised query as meant: misheard terms put right. 卡 is read before
        the homophone corrector, which would hear 好卡 as 号卡."""
        return self.corrector(_as_meant(normalize(query)))

    def _query_text(self, query: str) -> str:
        return content_text(self._heard(query))

    def _query_words(self, query: str) -> list[str]:
        return self._query_text(query).split()

    @staticmethod
    def _topical(words: list[str]) -> list[str]:
        """The words that say what a question is about (no context words, openings of
        speech or quantities)."""
        return [
            w
            for w in words
            if w not in CONTEXT_WORDS and w not in _SPOKEN and not _QUANTITY.fullmatch(w)
        ]

    def _coverage(self, words: list[str], i: int, heard_in_context: dict[int, list[str]]) -> float:
        """``coverage`` of the query's content ``words``, given their
        ``_with_neighbours`` sounds (worked out once for all the hits)."""
        sounds = f" {self._doc_sounds[i]} "  # whole syllables: yan is not the start of yang
        return self._share(
            words,
            lambda word, k: float(
                self._found(word, i)
                or any(f" {sound} " in sounds for sound in heard_in_context.get(k, ()))
            ),
        )

    def _share(self, words: list[str], has: Callable[[str, int], float]) -> float:
        """Idf-weighted share of the query's topical words for which ``has`` (given the
        word and its place in ``words``) holds (a word no entry uses weighs as the
        rarest word)."""
        topical = set(self._topical(words))
        if not topical:
            return 0.0
        vec = self._views["word"][0]
        vocabulary, idf = vec.vocabulary_, vec.idf_
        unseen = float(idf.max()) if len(idf) else 1.0
        total = found = 0.0
        for k, word in enumerate(words):
            if word not in topical:
                continue
            weight = float(idf[vocabulary[word]]) if word in vocabulary else unseen
            total += weight
            found += weight * has(word, k)
        return found / total

    def _found(self, word: str, i: int) -> float:
        """1 if entry ``i`` has ``word`` (or a word that sounds the same), or has all of
        a compound but one character as dictionary words ("冒充客服" as 冒充 + 客服,
        "稻瘟病" as 稻瘟, "传染给" as 传染); "手写输入法" needs 手写 too."""
        if self._has(word, i):
            return 1.0
        if len(word) < 3:
            return 0.0
        covered = [False] * len(word)
        for start in range(len(word) - 1):
            for end in range(len(word), start + 1, -1):
                part = word[start:end]
                if (
                    (end - start) < len(word)
                    and (end - start >= 3 or is_dictionary_word(part))
                    and self._has(part, i)
                ):
                    covered[start:end] = [True] * (end - start)
                    break
        return 1.0 if sum(covered) >= len(word) - 1 else 0.0

    def _has(self, word: str, i: int) -> bool:
        return word in self._docs[i] or (
            len(word) >= 2 and " ".join(fuzzy_pinyin(word)) in self._doc_sounds[i]
        )

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """Best ``k`` entries for the query, highest score first."""
        if not normalize(query) or not self.entries:
            return []
        # The corrector reads every sound of the query: once per search.
        meant = _as_meant(normalize(query))
        heard = self.corrector(meant)  # ``_heard``, keeping the text before correction
        text = content_text(heard)
        score, parts = self._parts(text)
        named = self._things.named(heard)
        self._prefer_general(score, named)
        wanted = min(k + 2, len(score))  # room for twins that are dropped
        top = np.argpartition(-score, wanted - 1)[:wanted]
        top = top[np.argsort(-score[top], kind="stable")]
        kept: list[int] = []
        for i in top:
            if score[i] <= 0 or len(kept) == k:
                break
            if self._centroids is not None and any(
                float(self._centroids[i] @ self._centroids[j]) >= TWIN_COSINE for j in kept
            ):
                continue
            kept.append(int(i))
        words = text.split()
        heard_in_context = _with_neighbours(words)
        corrected = heard != meant
        unknown = self._unknown(words)
        zeros = np.zeros(len(score))
        cosine, centroid = parts.get("cosine", zeros), parts.get("centroid", zeros)
        return [
            Hit(
                self.entries[i],
                float(score[i]),
                self._coverage(words, i, heard_in_context),
                self._things.conflicts(named, self._entry_things[i]),
                Signals(
                    heard,
                    corrected,
                    unknown,
                    len(words),
                    float(parts["lexical"][i]),
                    float(parts["phrase"][i]),
                    float(cosine[i]),
                    float(centroid[i]),
                ),
            )
            for i in kept
        ]

    def _unknown(self, words: list[str]) -> float:
        """Idf-weighted share of the query's topical words that no entry's text uses
        (by word or by sound), weighted as ``_coverage`` weighs them."""
        vocabulary = self._views["word"][0].vocabulary_
        return self._share(words, lambda w, _: float(w not in vocabulary and not self._anywhere(w)))

    def _anywhere(self, word: str) -> bool:
        """Some entry's text has ``word`` or a word that sounds the same."""
        sound = " ".join(fuzzy_pinyin(word)) if len(word) >= 2 else None
        return any(word in d for d in self._docs) or (
            sound is not None and any(sound in d for d in self._doc_sounds)
        )

    def _prefer_general(self, score: Array, named: dict[str, set[int]]) -> None:
        """Lower (in place) the score of an entry about one thing of a kind the question
        does not name when a general entry comes as close as ``SCOPE_PENALTY``."""
        scoped = np.zeros(len(score), dtype=bool)
        for kind, mask in self._scoped.items():
            if kind not in named:
                scoped |= mask
        if not scoped.any() or scoped.all():
            return
        best_general = float(score[~scoped].max())
        close = scoped & (score > 0) & (score - SCOPE_PENALTY <= best_general)
        score[close] -= SCOPE_PENALTY

    def _scope(self, entry: Entry) -> set[str]:
        """Kinds of which the entry's title names a thing: what the entry is about."""
        kinds = set(self._things.named(normalize(entry.title)))
        if entry.topic != "farming":
            kinds -= FARMING_KINDS
        return kinds

    def _named_in_entry(self, entry: Entry) -> dict[str, set[int]]:
        texts = [*entry.search_texts(), entry.answer, *entry.steps, " ".join(entry.tags)]
        named = self._things.named_in_all(texts)
        if entry.topic != "farming":
            named = {kind: things for kind, things in named.items() if kind not in FARMING_KINDS}
        if entry.topic == "fraud":
            # A scam works the same on QQ as on 微信: the apps an entry on a scam
            # names are examples, not its scope.
            named.pop("app", None)
        return named
