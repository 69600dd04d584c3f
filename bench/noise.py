"""Homophone noise like a voice transcript's, from pycorrector's same-pinyin table.

The table is read from ../shared/eval at run time (evaluation-only licence).
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path

from bot.settings import PROJECT_ROOT

EVAL = PROJECT_ROOT.parent / "shared" / "eval"
SAME_PINYIN = EVAL / "voice_asr" / "same_pinyin.txt"
_HAN = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def same_pinyin(path: Path = SAME_PINYIN) -> dict[str, tuple[str, ...]]:
    """char -> homophones, same tone first."""
    table: dict[str, tuple[str, ...]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        same_tone = list(parts[1]) if len(parts) > 1 else []
        other_tone = list(parts[2]) if len(parts) > 2 else []
        candidates = tuple(c for c in same_tone + other_tone if c != parts[0])
        if candidates:
            table[parts[0]] = candidates
    return table


def add_noise(text: str, rate: float, rng: random.Random) -> str:
    """Replace ``rate`` of the Han characters that have homophones with one."""
    table = same_pinyin()
    positions = [i for i, c in enumerate(text) if _HAN.match(c) and c in table]
    han_total = len(_HAN.findall(text))
    k = min(len(positions), round(rate * han_total))
    chars = list(text)
    for i in rng.sample(positions, k):
        options = table[chars[i]]
        # Prefer same-tone homophones (the first group), as ASR errors do.
        chars[i] = rng.choice(options[: max(1, min(len(options), 4))])
    return "".join(chars)
