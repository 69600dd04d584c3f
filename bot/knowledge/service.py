"""Answering from the knowledge base: thresholds, and picking up edited files.

Content changes never need retraining or a restart: the directory is checked
for edits at most every few seconds, and a changed file rebuilds the index
off the event loop.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.knowledge.loader import load_entries, snapshot
from bot.knowledge.schema import Entry
from bot.knowledge.search import Hit, SearchIndex
from bot.storage.db import Database, sender_hash
from bot.storage.models import UnansweredQuestion
from bot.text.redact import redact

# Calibrated on the dev set (docs/benchmarks.md): above ANSWER the top entry is
# answered directly; between CHOICES and ANSWER the top three are offered.
ANSWER_THRESHOLD = 0.5
ANSWER_MARGIN = 0.08
CHOICES_THRESHOLD = 0.25


@dataclass
class AskResult:
    kind: str  # "answer" | "choices" | "none"
    hits: list[Hit] = field(default_factory=list)

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


def decide(hits: list[Hit]) -> AskResult:
    if not hits or hits[0].score < CHOICES_THRESHOLD:
        return AskResult("none", hits)
    top = hits[0].score
    runner_up = hits[1].score if len(hits) > 1 else 0.0
    if top >= ANSWER_THRESHOLD and (top - runner_up >= ANSWER_MARGIN or top >= 0.8):
        return AskResult("answer", hits)
    return AskResult("choices", [h for h in hits if h.score >= CHOICES_THRESHOLD])


class KnowledgeService:
    """The entries on disk, their index, and the ask/lookup operations."""

    def __init__(self, root: Path, check_interval: float = 5.0) -> None:
        self.root = root
        self.check_interval = check_interval
        self._index = SearchIndex([])
        self._by_id: dict[str, Entry] = {}
        self._snapshot: tuple = ()
        self._checked = 0.0
        self._lock = asyncio.Lock()
        self.errors: list[str] = []

    async def refresh(self, force: bool = False) -> None:
        """Rebuild the index if any entry file changed since the last look."""
        now = time.monotonic()
        if not force and now - self._checked < self.check_interval:
            return
        async with self._lock:
            self._checked = time.monotonic()
            loop = asyncio.get_running_loop()
            snap = await loop.run_in_executor(None, snapshot, self.root)
            if snap == self._snapshot and not force:
                return
            result = await loop.run_in_executor(None, load_entries, self.root)
            index = await loop.run_in_executor(None, SearchIndex, result.entries)
            self._index, self._snapshot, self.errors = index, snap, result.errors
            self._by_id = {e.id: e for e in result.entries}

    async def ask(self, text: str, k: int = 3) -> AskResult:
        await self.refresh()
        return decide(self._index.search(text, k=k))

    async def get(self, entry_id: str) -> Entry | None:
        await self.refresh()
        return self._by_id.get(entry_id)

    @property
    def size(self) -> int:
        return len(self._by_id)


async def record_unanswered(db: Database, sender_id: str, channel: str, text: str,
                            best: Hit | None) -> None:
    """Keep a question we could not answer (redacted) for the curators."""
    async with db.session() as session:
        session.add(UnansweredQuestion(
            sender_hash=sender_hash(sender_id),
            channel=channel[:32],
            text=redact(text)[:2000],
            best_entry_id=best.entry.id if best else None,
            best_score=round(best.score, 4) if best else None,
        ))
