"""Sound-alike misspellings of the words the fraud signals look for, put right.

A voice transcript (or a senior typing by pinyin) writes the right sound with
the wrong characters: 一保局 for 医保局, 冻节 for 冻结, 验正码 for 验证码. Before
the signals are matched, a stretch of Han characters is rewritten to one of
``TERMS`` when all hold:

- it sounds like the term, tones ignored, any reading of a character counts
  (Chongqing/Sichuan merges such as z/zh, n/l, in/ing too, for terms of three
  characters or more: ``bot.text.pinyin.fuzzy_syllable``);
- at least half of the term's characters are already right (one of two, two
  of three) and at least one is not;
- for two-character terms, the stretch is not a word of its own in jieba's
  dictionary (克服 stays 克服; that is why 客服 is not a term at all).

The rewrite keeps the length, so reasons still quote the person's own words
(“一保局”). A small table and a per-character reading table: no segmentation,
well under a millisecond for a long message.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from bot.text.pinyin import fuzzy_syllable

# Words the signals key on whose misspelling would hide a scam. Not here: words
# whose sound-alikes are everyday words (客服/克服, 快递/快地, 补贴/不贴).
TERMS: tuple[str, ...] = (
    "医保局",
    "社保局",
    "医保卡",
    "社保卡",
    "医保中心",
    "社保中心",
    "公安局",
    "派出所",
    "检察院",
    "验证码",
    "身份证",
    "银行卡",
    "安全账户",
    "保证金",
    "手续费",
    "解冻费",
    "养老金",
    "洗钱",
    "冻结",
    "转账",
    "汇款",
    "密码",
    "医保",
    "社保",
    "涉案",
    "通缉",
    "逮捕",
    "征信",
    "刷脸",
    "屏幕共享",
    "共享屏幕",
    "转人工",
)
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def _plain(syllable: str) -> str:
    """Toneless pinyin: zhǎng → zhang, lǜ → lv."""
    s = unicodedata.normalize("NFD", syllable.replace("ü", "v"))
    return "".join(c for c in s if not unicodedata.combining(c)).replace("u\u0308", "v")


@functools.lru_cache(maxsize=8192)
def readings(char: str) -> frozenset[str]:
    """Every toneless reading of a Han character (empty if unknown)."""
    from pypinyin.pinyin_dict import pinyin_dict

    raw = pinyin_dict.get(ord(char), "")
    return frozenset(_plain(s) for s in raw.split(",") if s)


@functools.lru_cache(maxsize=1)
def _index() -> dict[str, list[tuple[str, tuple[str, ...], bool]]]:
    """First syllable → (term, syllables, fuzzy) for every term."""
    index: dict[str, list[tuple[str, tuple[str, ...], bool]]] = {}
    for term in TERMS:
        syllables = tuple(sorted(readings(c))[0] if len(readings(c)) == 1 else "" for c in term)
        if "" in syllables:  # a heteronym in a term: take the reading the term uses
            from pypinyin import Style, lazy_pinyin

            syllables = tuple(lazy_pinyin(term, style=Style.NORMAL))
        fuzzy = len(term) > 2
        key = tuple(fuzzy_syllable(s) for s in syllables) if fuzzy else syllables
        index.setdefault(key[0], []).append((term, key, fuzzy))
    return index


def _sounds_like(chars: str, key: tuple[str, ...], fuzzy: bool) -> bool:
    for char, wanted in zip(chars, key, strict=True):
        options = readings(char)
        if fuzzy:
            options = frozenset(fuzzy_syllable(s) for s in options)
        if wanted not in options:
            return False
    return True


def _is_word(stretch: str) -> bool:
    from bot.text.segment import is_dictionary_word

    return is_dictionary_word(stretch)


@functools.lru_cache(maxsize=8192)
def _candidates(char: str) -> tuple[tuple[str, tuple[str, ...], bool], ...]:
    """Terms that may start with ``char``'s sound, longest first."""
    index = _index()
    firsts = readings(char)
    keys = firsts | frozenset(fuzzy_syllable(s) for s in firsts)
    found = {c for k in keys for c in index.get(k, ())}
    return tuple(sorted(found, key=lambda c: (-len(c[0]), c[0])))


def _correct_run(run: str) -> str:
    out = list(run)
    i = 0
    while i < len(run):
        size = 0
        for term, key, fuzzy in _candidates(run[i]):
            stretch = run[i : i + len(term)]
            if len(stretch) < len(term) or stretch == term:
                if stretch == term:
                    size = len(term)
                    break
                continue
            wrong = sum(a != b for a, b in zip(stretch, term, strict=True))
            if wrong > len(term) // 2 or not _sounds_like(stretch, key, fuzzy):
                continue
            if len(term) == 2 and _is_word(stretch):
                continue
            out[i : i + len(term)] = term
            size = len(term)
            break
        i += size or 1
    return "".join(out)


def correct(text: str) -> str:
    """``text`` with sound-alike misspellings of ``TERMS`` rewritten (same length)."""
    return _HAN_RUN.sub(lambda m: _correct_run(m.group()), text)
