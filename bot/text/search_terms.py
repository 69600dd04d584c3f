"""Search terms of Chinese text: jieba words, single characters and pinyin.

A moderator who types 井水 should find "老井的水", and one who types the pinyin
(jingshui, jing shui) or a sound-alike (经水) should too. A text is indexed as a
set of terms: its jieba words (search mode, so 老井水 also gives 井水), each Han
character on its own, the fuzzy pinyin of each word written together (laojing)
and of each character (lao, jing). A query is compiled into groups that must all
match; each group is one query word, matched by the word itself, by its pinyin,
or by all of its characters (in any order, anywhere in the text).

Pinyin is folded as the voice search folds it (``bot.text.pinyin``): zh/z, n/l,
eng/en... are one sound, so a Sichuan-accented transcript is found too.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from bot.text.normalize import normalize
from bot.text.pinyin import fuzzy_pinyin, fuzzy_syllable
from bot.text.segment import tokenizer
from bot.text.stopwords import FUNCTION_WORDS

# Letters and digits of any script: what both full-text engines keep as one token.
_PIECE = re.compile(r"[^\W_]+")
_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[a-z]+")
MAX_QUERY_WORDS = 8  # a pasted paragraph is cut to its first words
LONGEST_SYLLABLE = 6  # "zhuang", "chuang", "shuang"


@dataclass(frozen=True)
class SearchQuery:
    """Groups that must all match; a group matches when any one of its
    alternatives does, an alternative when all of its terms are in the text."""

    groups: tuple[tuple[tuple[str, ...], ...], ...]

    def __bool__(self) -> bool:
        return bool(self.groups)


@functools.lru_cache(maxsize=65536)
def _piece_terms(piece: str) -> tuple[str, ...]:
    han = _HAN.findall(piece)
    if not han:
        return (piece,)
    syllables = fuzzy_pinyin(piece)
    joined = ("".join(syllables),) if syllables else ()
    return (piece, *han, *joined, *syllables)


def text_terms(text: str) -> set[str]:
    """Every term a search can find ``text`` by (see the module docstring)."""
    found: set[str] = set()
    for word in tokenizer().lcut_for_search(normalize(text), HMM=False):
        for piece in _PIECE.findall(word):
            found.update(_piece_terms(piece))
    return found


@functools.lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    """Every toneless pinyin syllable of the common Han characters."""
    from pypinyin import Style, lazy_pinyin

    chars = "".join(chr(c) for c in range(0x4E00, 0x9FA6))
    return frozenset(s for s in lazy_pinyin(chars, style=Style.NORMAL, errors="ignore"))


def split_pinyin(letters: str) -> list[str] | None:
    """``jingshui`` -> ``["jing", "shui"]``; ``None`` when it is no run of syllables.

    The split with the fewest syllables, so "xian" stays one and "xi'an" is typed
    as two words.
    """
    known = _syllables()
    best: list[list[str] | None] = [[]] + [None] * len(letters)
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - LONGEST_SYLLABLE), end):
            head = best[start]
            if head is not None and letters[start:end] in known:
                candidate = [*head, letters[start:end]]
                if best[end] is None or len(candidate) < len(best[end] or []):
                    best[end] = candidate
    return best[-1]


def _alternatives(piece: str) -> tuple[tuple[str, ...], ...]:
    if _HAN.search(piece):
        syllables = fuzzy_pinyin(piece)
        options: list[tuple[str, ...]] = [(piece,)]
        if syllables:
            options.append(("".join(syllables),))
        han = tuple(dict.fromkeys(_HAN.findall(piece)))
        if len(han) > 1 or (han and han[0] != piece):
            options.append(han)
        return tuple(options)
    if _LATIN.fullmatch(piece):
        split = split_pinyin(piece)
        if split:
            # Typed together, the syllables are one word's (jingshui: 井水, 经水);
            # typed apart (jing shui), each is a query word of its own.
            folded = "".join(fuzzy_syllable(s) for s in split)
            return tuple(dict.fromkeys([(piece,), (folded,)]))
    return ((piece,),)


def compile_query(text: str) -> SearchQuery:
    """The search a moderator typed, as groups of alternatives (module docstring).

    Function words (的, 了, 吗) are left out unless the query is nothing else.
    """
    pieces = [
        piece
        for word in tokenizer().lcut(normalize(text), HMM=False)
        for piece in _PIECE.findall(word)
    ]
    content = [p for p in pieces if p not in FUNCTION_WORDS] or pieces
    unique = list(dict.fromkeys(content))[:MAX_QUERY_WORDS]
    return SearchQuery(tuple(_alternatives(p) for p in unique))
