"""Sound-alike misspellings of the bot's own terms, put right.

A voice transcript writes the right sound with the wrong characters: 二化名
for 二化螟, 心机梗塞 for 心肌梗塞, 养老金认正 for 养老金认证, 挂好 for 挂号.
``HomophoneCorrector`` learns its terms from the bot's own texts (knowledge
entries, or the NLU examples) and the jieba user dictionary, so it grows with
the content, and rewrites a stretch of the text to a term only when all hold:

- the term is a domain term: two-character terms come from our user
  dictionary only (老是 must never become 老师); longer ones are words of the
  content that a dictionary knows (words jieba merely guessed, such as 药下,
  are not terms) or two such words that stand together in the content
  (养老金认证, 心肌梗塞);
- the stretch sounds like the term, tones ignored (ASR errors often change
  the tone: 挂好 for 挂号), or differs by a Chongqing/Sichuan sound merge
  (z/zh, n/l, in/ing, f/hu…: 龙药 for 农药, 发肥 for 化肥); a two-character
  stretch with such a merge holds no modal verb (电会不会 is no 电费);
- the stretch starts on a word boundary of the dictionary segmentation and,
  when shorter than four characters, ends on one (so 坐火车回 never yields 撤回),
  and is not itself a dictionary word (化名 and 心机 are words and stay; inside
  二化名 and 心机梗塞 they do not);
- at least half of the term's characters are kept (one of two, two of four),
  or one of a term of three or more characters whose sound the stretch has
  exactly (胆故纯 for 胆固醇), and a two-character stretch holds no particle
  (多少油才合适 is not 油菜).

Longer stretches are tried first, left to right. Only runs of Han characters
are touched: digits, Latin letters, URLs and phone numbers pass unchanged.
Search also matches on fuzzy pinyin directly (bot.knowledge.search), which
covers two-character merges such as 砸骗 for 诈骗 without rewriting anything.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

from bot.text.pinyin import fuzzy_syllable
from bot.text.segment import dictionary_frequency, is_dictionary_word, known_words, word_tokens
from bot.text.stopwords import FUNCTION_WORDS

MIN_TERM, MAX_TERM = 2, 6
# jieba's general dictionary also lists fragments such as 赚了钱 (frequency 3).
MIN_FREQUENCY = 10
# Two-character words learned from the content (``learn(two_char_min=…)``) are
# domain words (红包 171, 设置 4230, 医生 4263 in jieba's dictionary); words as
# common as 起来 (39788) or 时候 are grammar, and a stretch that sounds like them
# (喘不过气来) is not a misspelling.
MAX_LEARNED_PAIR_FREQUENCY = 10000
# Grammatical characters that stand alone next to any word; a two-character
# stretch containing one is a coincidence of sound, not a misspelt term.
PARTICLES = frozenset("了的地得着过才就都也还又很在是吗呢吧嘛和跟与把被给让我你他她它这那上下里")
# Verbs that stand before any other verb: with a sound merge they would be heard as
# a term's character (电会不会 is no 电费, 要 no 药 when the sound is only alike).
MODALS = frozenset("会要能想该可敢肯")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_HAN_WORD = re.compile(r"^[\u4e00-\u9fff]{%d,%d}$" % (MIN_TERM, MAX_TERM))


def _each_char(chars: str) -> list[str]:
    """Characters pypinyin has no reading for stand for themselves, one key each."""
    return list(chars)


def plain_syllables(run: str) -> list[str]:
    """One toneless pinyin syllable per character of a Han run (the character if unknown)."""
    from pypinyin import Style, lazy_pinyin

    # pypinyin's stub says the ``errors`` callback returns a str; a list is documented too.
    keys = lazy_pinyin(run, style=Style.NORMAL, errors=_each_char)  # type: ignore[arg-type]
    if len(keys) != len(run):  # keep alignment whatever pypinyin does with odd input
        keys = [
            (lazy_pinyin(c, style=Style.NORMAL, errors=_each_char) or [c])[0]  # type: ignore[arg-type]
            for c in run
        ]
    return keys


def _key(syllables: list[str], fuzzy: bool) -> str:
    return " ".join(fuzzy_syllable(s) for s in syllables) if fuzzy else " ".join(syllables)


class HomophoneCorrector:
    """Rewrites sound-alike misspellings of known terms (see the module docstring)."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        """``counts``: each term and how often the content uses it (see ``learn``)."""
        self.counts = dict(counts)
        self.terms = frozenset(counts)
        groups: dict[str, list[str]] = {}
        pairs: dict[str, list[str]] = {}
        for term in counts:
            syllables = plain_syllables(term)
            groups.setdefault(_key(syllables, fuzzy=False), []).append(term)
            merged = groups if len(term) > 2 else pairs
            merged.setdefault(_key(syllables, fuzzy=True), []).append(term)

        # Several terms may share a sound: the most frequent wins, ties alphabetically.
        def most_used(by: dict[str, list[str]]) -> dict[str, str]:
            return {key: min(group, key=lambda t: (-counts[t], t)) for key, group in by.items()}

        self._by_key = most_used(groups)
        # Two-character terms by their Chongqing/Sichuan sound: 龙药 is said as 农药.
        self._pairs_by_sound = most_used(pairs)

    @classmethod
    def learn(
        cls,
        texts: Iterable[str],
        user_words: Iterable[str] = (),
        two_char_min: int = 0,
        keywords: Iterable[str] = (),
    ) -> HomophoneCorrector:
        """Terms of ``texts`` (normalised) and of the user dictionary's ``user_words``.

        ``keywords`` are curated key words (an entry's ``tags``): one of three or
        more Han characters is a term as it stands, although jieba's dictionary
        may not know it (百草枯, 带状疱疹, 小龙虾 are split by it, so they would never
        be learnt from ``texts``). Shorter keywords count as texts only.

        With ``two_char_min``, a two-character dictionary word that many of the
        texts use (红包, 设置, 便秘, 抑郁) is a term too: voice transcripts miswrite
        exactly these (洪包, 社置, 变秘, 一郁). Only a stretch that is no word
        itself is rewritten, so 老是 never becomes 老师.
        """
        user = {w for w in user_words if _HAN_WORD.match(w)}

        def known(word: str) -> bool:
            if word in FUNCTION_WORDS:  # 怎么 + 采收 is no term
                return False
            return word in user or dictionary_frequency(word) >= MIN_FREQUENCY

        counts: Counter[str] = Counter(user)
        keywords = [k for k in keywords if _HAN_WORD.match(k)]
        counts.update(k for k in keywords if len(k) > 2)
        texts = [*texts, *(k for k in keywords if len(k) == 2)]
        pairs: Counter[str] = Counter()
        for text in texts:
            words = word_tokens(text)
            if two_char_min:
                pairs.update(
                    {
                        w
                        for w in words
                        if len(w) == 2
                        and _HAN_WORD.match(w)
                        and w not in user
                        and known(w)
                        and dictionary_frequency(w) <= MAX_LEARNED_PAIR_FREQUENCY
                    }
                )
            counts.update(w for w in words if len(w) > 2 and _HAN_WORD.match(w) and known(w))
            counts.update(
                a + b
                for a, b in zip(words, words[1:], strict=False)
                if min(len(a), len(b)) > 1 and _HAN_WORD.match(a + b) and known(a) and known(b)
            )
        if two_char_min:
            counts.update({w: n for w, n in pairs.items() if n >= two_char_min})
        return cls(counts)

    def __len__(self) -> int:
        return len(self.terms)

    def correct(self, text: str) -> str:
        """``text`` with each Han run's sound-alike misspellings of our terms replaced."""
        if not self._by_key:
            return text
        return _HAN_RUN.sub(lambda m: self._correct_run(m.group()), text)

    __call__ = correct

    def _correct_run(self, run: str) -> str:
        syllables = plain_syllables(run)
        boundaries, position = {0}, 0
        for word in known_words(run):
            position += len(word)
            boundaries.add(position)
        out: list[str] = []
        i = 0
        while i < len(run):
            size = 1
            if i in boundaries:
                size = self._match(run, syllables, boundaries, i, out) or 1
                if size > 1 and out[-1] == run[i : i + size]:
                    # A term already right may end inside a misheard one (微信付款 in
                    # 微信付款马): keep only its words before where that one starts.
                    inner = self._misheard_across(run, syllables, boundaries, i, i + size)
                    if inner:
                        out.pop()
                        size = inner - i
                        if size > 1:  # (a single character is appended below)
                            out.append(run[i:inner])
            if size == 1:
                out.append(run[i])
            i += size
        return "".join(out)

    def _misheard_across(
        self, run: str, syllables: list[str], boundaries: set[int], start: int, end: int
    ) -> int:
        """Where, inside ``run[start:end]``, a misheard term starts that runs past
        ``end``; 0 if none does."""
        for j in sorted(b for b in boundaries if start < b < end):
            found: list[str] = []
            size = self._match(run, syllables, boundaries, j, found)
            if size and j + size > end and found[0] != run[j : j + size]:
                return j
        return 0

    def _changes_a_term(self, run: str, boundaries: set[int], i: int, term: str) -> bool:
        """Whether rewriting ``run[i:]`` to ``term`` would change a word that is itself
        one of our terms: 身份证正反面 keeps its 身份证 although one question wrote
        身分证正反面 (a recogniser's slip is no term of ours: 心机梗塞 is put right)."""
        cuts = sorted(b for b in boundaries if i <= b <= i + len(term))
        return any(
            b - a > 1 and run[a:b] in self.terms and run[a:b] != term[a - i : b - i]
            for a, b in zip(cuts, cuts[1:], strict=False)
        )

    def _match(
        self, run: str, syllables: list[str], boundaries: set[int], i: int, out: list[str]
    ) -> int:
        """Length of the term stretch at ``i`` (appended to ``out``), or 0."""
        for size in range(min(MAX_TERM, len(run) - i), MIN_TERM - 1, -1):
            if size < 4 and i + size not in boundaries:
                continue
            stretch = run[i : i + size]
            if stretch in self.terms:
                out.append(stretch)  # already right: keep it whole
                return size
            if is_dictionary_word(stretch) or (size == 2 and PARTICLES & set(stretch)):
                continue
            sounds = syllables[i : i + size]
            term = self._by_key.get(_key(sounds, fuzzy=False))
            exact = term is not None
            if term is None and size > 2:
                term = self._by_key.get(_key(sounds, fuzzy=True))
            elif term is None and not MODALS & set(stretch):
                term = self._pairs_by_sound.get(_key(sounds, fuzzy=True))
            if (
                term is not None
                and _keeps_enough(stretch, term, exact)
                and not (size > 2 and _changes_a_grammar_word(run, boundaries, i, term))
                and not self._changes_a_term(run, boundaries, i, term)
            ):
                out.append(term)
                return size
        return 0


# Degree words that stand next to any adjective or verb: 手机好卡 is not 手机号卡.
DEGREE = frozenset("好很太真挺蛮更最")


def _changes_a_grammar_word(run: str, boundaries: set[int], i: int, term: str) -> bool:
    """Whether rewriting ``run[i:]`` to ``term`` changes a degree word that stands as
    a word of its own (a particle may be a misheard 码: 收款吗 is 收款码)."""
    return any(
        a != b and a in DEGREE and p in boundaries and p + 1 in boundaries
        for p, (a, b) in enumerate(zip(run[i:], term, strict=False), start=i)
    )


def _keeps_enough(stretch: str, term: str, exact: bool) -> bool:
    """Whether ``stretch`` keeps enough of ``term`` to be read as it: half of its
    characters, as a rule. A recogniser that hears a word right often writes most
    of its characters wrong (胆故纯 for 胆固醇, 红知珠 for 红蜘蛛), so a stretch that
    sounds ``exact``-ly like a term of three or more characters may keep just one.
    (Two characters that keep none are left alone: 冲点 is no 充电.)"""
    differing = sum(a != b for a, b in zip(stretch, term, strict=True))
    if not differing:
        return False
    return differing <= len(term) // 2 or (exact and len(term) > 2 and differing < len(term))
