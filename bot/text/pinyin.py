"""Pinyin keys that survive homophone errors and Chongqing/Sichuan sound merges.

A voice transcript writes the right sound with the wrong character (二化名
for 二化螟); Chongqing/Sichuan speakers also merge sounds Mandarin keeps apart,
so the transcript may even get the sound "wrong" (砸骗 for 诈骗: za for zha).
``fuzzy_syllable`` folds each such pair onto one key.
"""

from __future__ import annotations

import functools

# Initials and finals Chongqing/Sichuan speech merges (one table, used by search and tests).
FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("f", "h"))
FUZZY_FINALS = (("eng", "en"), ("ing", "in"))
# Syllables Chongqing/Sichuan speech says alike beyond the initials: "hu" before
# another vowel is said "f" (化肥 fa fei, 火车 fo che, 黄 fang, 会 fei, 换 fan), so
# with f folded onto h both lose the u; 风 and 蜂 are said fong (中风 and 马蜂 sound
# like 中哄 and 马哄, 洪水 like 逢水); ü is said u (绿豆 lu dou).
_HU_BEFORE_VOWEL = ("hua", "huo", "hui", "hun")
_SAID_AS = {"feng": "hong", "lv": "lu", "nv": "lu"}


@functools.lru_cache(maxsize=8192)
def fuzzy_syllable(syllable: str) -> str:
    """Fold a toneless pinyin syllable onto its Chongqing/Sichuan-merged key."""
    s = _SAID_AS.get(syllable, syllable)
    for full, merged in FUZZY_INITIALS:
        if s.startswith(full) and not (full == "n" and s.startswith("ng")):
            s = merged + s[len(full) :]
            break
    if s.startswith(_HU_BEFORE_VOWEL):
        # hui and hun are h-u-ei and h-u-en: 会 is said as 费 (fei), 婚 as 分 (fen).
        s = {"hui": "hei", "hun": "hen"}.get(s, "h" + s[2:])
    for full, merged in FUZZY_FINALS:
        if s.endswith(full) and len(s) > len(full):
            s = s[: -len(full)] + merged
            break
    return s


def fuzzy_pinyin(text: str) -> list[str]:
    """Fuzzy pinyin keys of the Han characters in ``text`` (other characters dropped)."""
    from pypinyin import Style, lazy_pinyin

    return [fuzzy_syllable(s) for s in lazy_pinyin(text, style=Style.NORMAL, errors="ignore")]
