"""Knowledge gaps: the questions we could not answer, grouped, most people first.

Every question the understanding step could not answer is kept, redacted, in
``unanswered_questions`` (``bot.knowledge.service.record_unanswered``) for
``report_retention_days``. Curators need them as gaps, not as a list of
thousands: questions that ask the same thing are grouped, and the groups
ranked by how many different people asked.

Grouping is greedy ("leader" clustering): questions newest first; each joins
the group whose first question is most similar, if similar enough, else
starts a group. Similarity is the cosine of the sentence vectors search uses
for queries (``KnowledgeService.sentence_vectors``: jieba's words, homophones
put right, mapped into multilingual E5's space, ~0.1 ms a question), so
"二化名咋个治" meets "二化螟怎么防治" (0.97) and stays apart from "手机流量不够用"
(0.85). Without them (no index yet), tf-idf over jieba's words and character
pairs, with a threshold of its own.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa

from bot.storage.db import Database
from bot.storage.models import UnansweredQuestion
from bot.text.normalize import canonical

# Questions this similar (cosine) ask the same thing: sentence vectors (same
# questions 0.92-0.98 and different ones up to 0.88 on a hand-checked sample of
# residents' questions), and the tf-idf fallback.
SAME_QUESTION = 0.91
SAME_QUESTION_LEXICAL = 0.4
MAX_QUESTIONS = 5000  # the newest this many of a period are grouped
_HAN_OR_WORD = re.compile(r"[\u4e00-\u9fff]|[A-Za-z0-9]+")
_PLACEHOLDER = re.compile(r"\[[^\]]{1,12}\]")  # redacted spans, e.g. [手机号]


class Vectors(Protocol):
    def __call__(self, texts: list[str]) -> npt.NDArray[Any] | None: ...


@dataclass
class Gap:
    """Questions that ask the same thing."""

    texts: list[str] = field(default_factory=list)  # redacted, newest first
    senders: set[str] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)
    best_entry_ids: list[str] = field(default_factory=list)
    last_asked: datetime | None = None

    @property
    def people(self) -> int:
        """How many different people asked."""
        return len(self.senders)

    @property
    def example(self) -> str:
        """The first question of the group (empty if none)."""
        return self.texts[0] if self.texts else ""

    @property
    def nearest_entry(self) -> str | None:
        """The entry search found closest most often (a curator may extend it)."""
        if not self.best_entry_ids:
            return None
        return max(set(self.best_entry_ids), key=self.best_entry_ids.count)


def _features(text: str) -> list[str]:
    import jieba

    text = canonical(_PLACEHOLDER.sub(" ", text))  # dialect and script folded (咋办 → 怎么办)
    words = [w for w in jieba.lcut(text) if _HAN_OR_WORD.search(w)]
    chars = _HAN_OR_WORD.findall(text)
    pairs = [a + b for a, b in zip(chars, chars[1:], strict=False)]
    return words + pairs


def _lexical(texts: Sequence[str]) -> Any:
    """L2-normalised tf-idf rows (sparse) of the texts, or None when no text has words."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        return TfidfVectorizer(analyzer=_features, sublinear_tf=True).fit_transform(texts)
    except ValueError:  # nothing but placeholders and punctuation
        return None


def group(rows: Sequence[Any], vectors: Vectors | None = None) -> list[Gap]:
    """Rows (``text``, ``sender_hash``, ``channel``, ``best_entry_id``,
    ``created_at``), newest first, grouped; most people first."""
    rows = list(rows)[:MAX_QUESTIONS]
    if not rows:
        return []
    texts = [row.text for row in rows]
    dense = vectors(texts) if vectors is not None else None
    lexical = _lexical(texts) if dense is None else None
    threshold = SAME_QUESTION if dense is not None else SAME_QUESTION_LEXICAL
    leaders: list[int] = []
    gaps: list[Gap] = []
    for i, row in enumerate(rows):
        best = -1
        if leaders:
            if dense is not None:
                sims = dense[leaders] @ dense[i]
            elif lexical is not None:
                sims = (lexical[leaders] @ lexical[i].T).toarray().ravel()
            else:
                sims = np.zeros(len(leaders))
            top = int(np.argmax(sims))
            if sims[top] >= threshold:
                best = top
        if best < 0:
            leaders.append(i)
            gaps.append(Gap(last_asked=row.created_at))
            best = len(gaps) - 1
        gap = gaps[best]
        gap.texts.append(row.text)
        gap.senders.add(row.sender_hash)
        gap.channels.add(row.channel)
        if row.best_entry_id:
            gap.best_entry_ids.append(row.best_entry_id)
    gaps.sort(key=lambda g: (-g.people, -len(g.texts), g.example))
    return gaps


async def filled_by(gap: Gap, knowledge: Any) -> str | None:
    """The title of the entry that answers the gap's question now (its group
    closes), or None; ``knowledge`` is a ``KnowledgeService`` (None: unknown)."""
    if knowledge is None:
        return None
    result = await knowledge.ask(gap.example)
    if result.kind == "answer" and result.best is not None:
        return str(result.best.entry.title)
    return None


async def knowledge_gaps(
    db: Database,
    since: datetime,
    until: datetime,
    *,
    vectors: Vectors | None = None,
    channel: str | None = None,
) -> list[Gap]:
    """The period's unanswered questions, grouped, most people first."""
    query = (
        sa.select(
            UnansweredQuestion.text,
            UnansweredQuestion.sender_hash,
            UnansweredQuestion.channel,
            UnansweredQuestion.best_entry_id,
            UnansweredQuestion.created_at,
        )
        .where(UnansweredQuestion.created_at >= since, UnansweredQuestion.created_at < until)
        .order_by(UnansweredQuestion.created_at.desc(), UnansweredQuestion.id.desc())
        .limit(MAX_QUESTIONS)
    )
    if channel is not None:
        query = query.where(UnansweredQuestion.channel == channel)
    async with db.session() as session:
        rows = (await session.execute(query)).all()
    return await asyncio.to_thread(group, rows, vectors)
