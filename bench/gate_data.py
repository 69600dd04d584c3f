"""The evidence of every first reply of the read sets, recorded once and replayed.

Usage:
    .venv/bin/python -m bench.gate_data [--out var/gate] [--sets dev,holdout,...]

For each read first-reply set (never ``e2e_holdout10.tsv``, the unread final
test) the knowledge index is built without that set's own messages in the
entries' ``asked`` (``bench.decide_eval --unasked``: out of fold), and
``Understanding.decide`` runs over its free-text rows with a recorder between it
and the knowledge service and fraud checker: the hits of every search, the heard
text, the debunk matches, the tagged entries and the fraud verdicts are written
to ``<out>/<set>.pickle`` (a local cache of this machine, not kept in the repo).

``Replay`` answers ``Understanding.decide`` from such a file with any
``decide(hits)``, so that a decision rule or a trained gate is graded end to end
in a second per set, exactly as the live step would decide given the same hits.
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.decide_eval import NOT_FREE_TEXT, without_asked
from bench.e2e_eval import Row, load_rows
from bot.settings import PROJECT_ROOT

DATA_DIR = PROJECT_ROOT / "bench" / "data"
# The read sets, in the order they were written. e2e_holdout10.tsv is the unread
# final test and is never recorded here.
READ_SETS = ("dev", "holdout", *(f"holdout{i}" for i in range(2, 10)))
OUT = PROJECT_ROOT / "var" / "gate"


def set_path(name: str) -> Path:
    if name == "holdout10":
        raise ValueError("e2e_holdout10.tsv is the unread final test")
    return DATA_DIR / f"e2e_{name}.tsv"


def free_text_rows(name: str, aliases: dict[str, str] | None = None) -> list[Row]:
    return [r for r in load_rows(set_path(name), aliases) if r.move not in NOT_FREE_TEXT]


@dataclass
class Recording:
    """What the understanding step learnt from its services, by the text it asked."""

    hits: dict[str, list[Any]] = field(default_factory=dict)
    heard: dict[str, str] = field(default_factory=dict)
    debunks: dict[str, Any] = field(default_factory=dict)
    tagged: dict[str, list[Any]] = field(default_factory=dict)
    verdicts: dict[str, Any] = field(default_factory=dict)


class Recorder:
    """Stands between ``Understanding`` and the knowledge service, writing down."""

    def __init__(self, knowledge: Any, fraud: Any, recording: Recording) -> None:
        self.knowledge = knowledge
        self.fraud = fraud
        self.rec = recording

    async def ask(self, text: str, k: int = 3) -> Any:
        from bot.knowledge.service import decide

        await self.knowledge.refresh()
        hits = self.knowledge._index.search(text, k)
        self.rec.hits[text] = hits
        return decide(hits)

    async def heard(self, text: str) -> str:
        # Every message is matched against the debunks: another decision rule may
        # look for a claim where this one answered.
        self.rec.debunks[text] = await self.knowledge.match_debunk(text)
        self.rec.heard[text] = out = await self.knowledge.heard(text)
        return out

    async def match_debunk(self, text: str) -> Any:
        return self.rec.debunks[text]

    async def tagged(self, tag: str) -> list[Any]:
        self.rec.tagged[tag] = out = await self.knowledge.tagged(tag)
        return out

    def check(self, text: str) -> Any:
        self.rec.verdicts[text] = out = self.fraud.check(text)
        return out


class Replay:
    """A recorded set's services, deciding with ``decide`` (both ``Knowledge`` and
    the fraud checker for ``Understanding``)."""

    def __init__(self, rec: Recording, decide: Callable[[list[Any]], Any]) -> None:
        self.rec = rec
        self.decide = decide

    async def ask(self, text: str, k: int = 3) -> Any:
        return self.decide(self.rec.hits[text])

    async def heard(self, text: str) -> str:
        return self.rec.heard[text]

    async def match_debunk(self, text: str) -> Any:
        return self.rec.debunks[text]

    async def tagged(self, tag: str) -> list[Any]:
        return self.rec.tagged[tag]

    def check(self, text: str) -> Any:
        return self.rec.verdicts[text]


async def record(name: str) -> Recording:
    from bot.fraud.checker import FraudChecker
    from bot.knowledge.dense import DenseEncoder
    from bot.knowledge.service import KnowledgeService
    from bot.settings import Settings
    from bot.understanding.decide import Understanding

    rows = free_text_rows(name)
    settings = Settings.from_env()
    knowledge = KnowledgeService(
        PROJECT_ROOT / "knowledge",
        DenseEncoder(settings.vector_cache),
        load=without_asked([r.text for r in rows]),
    )
    await knowledge.refresh(force=True)
    rec = Recording()
    recorder = Recorder(knowledge, FraudChecker(), rec)
    understanding = Understanding(recorder, recorder)  # type: ignore[arg-type]
    for row in rows:
        await understanding.decide(row.text)
    return rec


class _Unpickler(pickle.Unpickler):
    """Finds ``Recording`` here when the file was written by ``python -m bench.gate_data``."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "__main__" and name == "Recording":
            return Recording
        return super().find_class(module, name)


def load_recording(name: str, out: Path = OUT) -> Recording:
    with (out / f"{name}.pickle").open("rb") as fh:
        rec: Recording = _Unpickler(fh).load()
    return rec


async def add_debunks(names: list[str], out: Path = OUT) -> None:
    """Match every recorded message against the debunks (recordings made before the
    recorder did so had only the messages the rule of the day looked up). Claims
    are matched against the debunks' claims, titles and questions, not ``asked``."""
    from bot.knowledge.service import KnowledgeService

    knowledge = KnowledgeService(PROJECT_ROOT / "knowledge")
    await knowledge.refresh(force=True)
    for name in names:
        rec = load_recording(name, out)
        for text in rec.heard:
            rec.debunks[text] = await knowledge.match_debunk(text)
        with (out / f"{name}.pickle").open("wb") as fh:
            pickle.dump(rec, fh)


async def replay(rows: list[Row], rec: Recording, decide: Callable[[list[Any]], Any]) -> list[Any]:
    """The decision for every row, given the recorded evidence and ``decide``."""
    from bot.understanding.decide import Understanding

    services = Replay(rec, decide)
    understanding = Understanding(services, services)  # type: ignore[arg-type]
    return [await understanding.decide(r.text) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--sets", default=",".join(READ_SETS))
    parser.add_argument("--add-debunks", action="store_true", help="complete old recordings")
    args = parser.parse_args()
    if args.add_debunks:
        asyncio.run(add_debunks(args.sets.split(","), args.out))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.sets.split(","):
        rec = asyncio.run(record(name))
        with (args.out / f"{name}.pickle").open("wb") as fh:
            pickle.dump(rec, fh)
        print(f"[gate_data] {name}: {len(rec.hits)} searches", flush=True)


if __name__ == "__main__":
    main()
