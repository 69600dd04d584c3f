"""The text NLU and search work on: canonical Mandarin from what people type or dictate.

``canonical`` keeps the message readable (punctuation, digits, URLs and phone
numbers stay as they are) and:

1. full-width → half-width and other compatibility forms (NFKC);
2. traditional → simplified characters;
3. drops leading slashes (never a Rasa "/intent" command), removes
   hesitation sounds (嗯, 呃; standalone 额/唔) and stutters
   ("我我我想问" → "我想问", "那个那个" → "那个");
4. writes Chinese numerals before a unit as digits where that is safe
   ("六十五岁" → "65岁", "两百块" → "200块"; "三高" stays);
5. maps Chongqing/Sichuan words to Mandarin from one table,
   ``bot/text/data/dialect_lexicon.tsv`` (咋个 → 怎么, 包谷 → 玉米).

``normalize`` is ``canonical`` plus lower-case with punctuation as spaces,
the form search indexes. Both are idempotent and never raise.

A message is made canonical once: ``canonical`` returns a ``Canonical``
string, and given one it returns it as it is, so the form the NLU computed
(carried to the action server as ``text_canonical``) flows through the
understanding step, search and claim matching without being worked out again.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from pathlib import Path
from typing import Any

LEXICON = Path(__file__).parent / "data" / "dialect_lexicon.tsv"
# The parse result's key for the canonical form (set by ``bot.nlu.normalizer``).
CANONICAL_KEY = "text_canonical"

_PUNCT = re.compile(
    r"[\s\u3000\u00a0!-/:-@\[-`{-~，。！？、；：“”‘’（）【】《》〈〉「」『』…—·～]+"
)
_HESITATION = re.compile(r"[嗯呃]+|(?:(?<=^)|(?<=[\s，。,.!?！？]))[额唔]+(?=$|[\s，。,.!?！？])")
_STUTTER_CHAR = re.compile(r"([\u4e00-\u9fff])\1{2,}")
_STUTTER_FILLER = re.compile(r"(那个|就是|然后|这个)(?:\s*\1)+")
_CN_NUMBER = "零〇一二两三四五六七八九十百千万"
_UNITS = (
    "岁",
    "块",
    "元",
    "斤",
    "公斤",
    "亩",
    "天",
    "周",
    "个月",
    "年",
    "次",
    "小时",
    "分钟",
    "毫升",
    "克",
    "度",
    "层",
    "楼",
)
_NUMERAL_BEFORE_UNIT = re.compile(
    rf"(?<![{_CN_NUMBER}\u4e00-\u9fff])([{_CN_NUMBER}]{{2,}}|[二两三四五六七八九十])"
    rf"(?=(?:{'|'.join(_UNITS)}))"
)
_SPACES = re.compile(r"[ \t]{2,}")
_LEADING_SLASH = re.compile(r"^[\s/\u200b-\u200f\u2060\ufeff]+")


@functools.lru_cache(maxsize=1)
def _t2s() -> Any:  # opencc's converter takes ~0.2 s to build: only when first needed
    import opencc

    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=1)
def dialect_table() -> dict[str, str]:
    """Dialect word → Mandarin, for the rows marked ``replace = yes``.

    Rows marked ``no`` stay in the table for people and tests but are not
    rewritten blindly: single characters (着, 遭, 整 mean too many things),
    words that are also ordinary Mandarin (哪个医院, 好多人, 鸡爪子, 广场上),
    and words whose Mandarin contains them (电筒 → 手电筒 would grow forever).
    Other entries that overlap them still apply (遭骗 → 被骗, 屋头 → 家里).
    """
    if not LEXICON.exists():
        return {}
    with LEXICON.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return {r["dialect"]: r["mandarin"] for r in rows if r["replace"] == "yes"}


@functools.lru_cache(maxsize=1)
def _dialect_pattern() -> re.Pattern[str] | None:
    table = dialect_table()
    if not table:
        return None
    # Longest first, so 晓不得 wins over 晓得 and 今天晚黑 over 晚黑.
    words = sorted(table, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words))


def _numeral(match: re.Match[str]) -> str:
    import cn2an

    try:
        return str(cn2an.cn2an(match.group(1), "smart"))
    except (ValueError, KeyError):
        return match.group(1)


class Canonical(str):
    """Text that is already ``canonical``: the mark that lets it be carried along.

    Anything derived from it (a slice, ``lower()``, a substitution) is a plain
    ``str`` again, so a changed text is never mistaken for a canonical one.
    """

    __slots__ = ()


def canonical(text: str) -> Canonical:
    """Canonical Mandarin for NLU; readable, punctuation kept."""
    if isinstance(text, Canonical):
        return text
    if not isinstance(text, str) or not text:
        return Canonical()
    text = unicodedata.normalize("NFKC", text)
    # NFKC turns the channels' "／" back into "/": Rasa's RegexMessageHandler,
    # the last node of the NLU graph, would then read "/intent{...}" as a
    # command. A leading slash means nothing in a question: drop it.
    text = _LEADING_SLASH.sub("", text)
    text = _t2s().convert(text)
    text = _HESITATION.sub("", text)
    text = _STUTTER_FILLER.sub(r"\1", text)
    text = _STUTTER_CHAR.sub(r"\1", text)
    text = _NUMERAL_BEFORE_UNIT.sub(_numeral, text)
    pattern = _dialect_pattern()
    if pattern is not None:
        table = dialect_table()
        text = pattern.sub(lambda m: table[m.group(0)], text)
    # Removing fillers may bring a slash to the front again ("嗯/restart"): the
    # final text never starts with one, whatever came before it.
    return Canonical(drop_leading_slashes(_SPACES.sub(" ", text).strip()))


def drop_leading_slashes(text: str) -> str:
    """``text`` without the slashes, spaces and invisible characters in front of it."""
    previous = None
    while text != previous:
        previous = text
        text = _LEADING_SLASH.sub("", text)
    return text


def normalize(text: str) -> str:
    """``canonical`` text, lower-cased, punctuation turned into spaces (for search)."""
    return _PUNCT.sub(" ", canonical(text).lower()).strip()
