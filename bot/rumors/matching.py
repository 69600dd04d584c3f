"""Which known claim a report repeats, on text with places, dates and numbers masked.

Rumours recycle: "梁平区明天停水" becomes "万州区后天停水", "5G基站" rumours
come back with another town's name. Claims are compared on normalised text in
which place names, dates and numbers are masked, by the cosine of character
2-4-gram TF-IDF vectors (robust to re-wording and to typos). Used both to
match a report against published debunks and to group reports into claims.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.text.normalize import normalize
from bot.text.segment import word_tokens
from bot.text.stopwords import content_words

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


class ClaimIndex:
    """Claims searchable by similarity of their masked text.

    ``claims`` holds ``(key, text)`` pairs; a key may come with several texts
    (a debunk's claim, title and phrasings) and scores its best one.
    """

    def __init__(self, claims: Iterable[tuple[str, str]]) -> None:
        pairs = list(claims)
        self._keys = [key for key, _ in pairs]
        self._vectorizer = TfidfVectorizer(
            analyzer="char", ngram_range=(2, 4), sublinear_tf=True, min_df=1
        )
        texts = [masked(text) for _, text in pairs]
        self._matrix = self._vectorizer.fit_transform(texts) if texts else None

    def __len__(self) -> int:
        return len(set(self._keys))

    def best(self, text: str, k: int = 1) -> list[Match]:
        """The ``k`` most similar claims, most similar first (cosine in [0, 1])."""
        if self._matrix is None:
            return []
        query = self._vectorizer.transform([masked(text)])
        scores = (self._matrix @ query.T).toarray().ravel()
        shortlist = min(len(scores), 8 * k)  # enough rows to find k distinct keys
        top = np.argpartition(-scores, shortlist - 1)[:shortlist]
        out: list[Match] = []
        for i in top[np.argsort(-scores[top], kind="stable")]:
            if scores[i] <= 0 or len(out) == k:
                break
            if all(m.key != self._keys[i] for m in out):
                out.append(Match(self._keys[i], float(scores[i])))
        return out
