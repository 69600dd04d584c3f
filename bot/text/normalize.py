"""Canonical text for matching: simplified, half-width, lower-case, no punctuation.

Issue 4 grows this into the full voice/dialect normaliser; everything that
matches text (NLU, knowledge search) goes through ``normalize``.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_PUNCT = re.compile(
    r"[\s\u3000\u00a0!-/:-@\[-`{-~，。！？、；：“”‘’（）【】《》〈〉「」『』…—·～]+"
)


@functools.lru_cache(maxsize=1)
def _t2s():  # opencc's converter takes ~0.2 s to build: only when first needed
    import opencc

    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """Full-width → half-width, traditional → simplified, lower-case, punctuation → space."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _t2s().convert(text).lower()
    return _PUNCT.sub(" ", text).strip()
