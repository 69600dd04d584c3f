"""Read and validate the curated entries under ``knowledge/``."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.knowledge.schema import Entry


@dataclass
class LoadResult:
    entries: list[Entry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)  # id -> content hash


def entry_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/*.yml") if not p.name.startswith("_"))


def load_entries(root: Path) -> LoadResult:
    """Load every entry; collect every problem instead of stopping at the first.

    An entry whose alias is another entry's id, or an alias an earlier entry
    already claims, is rejected: an old id must lead to exactly one entry.
    """
    result = LoadResult()
    seen: dict[str, Path] = {}
    for path in entry_files(root):
        rel = path.relative_to(root)
        raw = path.read_bytes()
        try:
            data = yaml.safe_load(raw)
            entry = Entry.parse_obj(data)
        except (yaml.YAMLError, ValidationError, TypeError) as exc:
            result.errors.append(f"{rel}: {exc}")
            continue
        if entry.id != path.stem:
            result.errors.append(f"{rel}: id {entry.id!r} differs from the file name")
            continue
        if entry.topic != path.parent.name:
            result.errors.append(f"{rel}: topic {entry.topic!r} differs from its folder")
            continue
        if entry.id in seen:
            result.errors.append(f"{rel}: duplicate id, also in {seen[entry.id]}")
            continue
        seen[entry.id] = rel
        result.entries.append(entry)
        result.hashes[entry.id] = hashlib.sha256(raw).hexdigest()
    _reject_alias_collisions(result, seen)
    return result


def _reject_alias_collisions(result: LoadResult, paths: dict[str, Path]) -> None:
    claimed: dict[str, str] = {}  # alias -> id of the entry that holds it
    kept = []
    for entry in result.entries:
        problems = []
        for alias in entry.aliases:
            if alias in paths:
                problems.append(f"alias {alias!r} is the id of {paths[alias]}")
            elif alias in claimed:
                problems.append(f"alias {alias!r} is also an alias of {claimed[alias]!r}")
        if problems:
            result.errors.extend(f"{paths[entry.id]}: {p}" for p in problems)
            result.hashes.pop(entry.id, None)
            continue
        claimed.update(dict.fromkeys(entry.aliases, entry.id))
        kept.append(entry)
    result.entries = kept


def alias_map(entries: Iterable[Entry]) -> dict[str, str]:
    """Old id -> id of the entry it was merged into."""
    return {alias: e.id for e in entries for alias in e.aliases}


# Two entries answering the same question make the bot choose between them
# (or answer one of them at random): phrasings of different entries must not
# be near-identical.
NEAR_DUPLICATE_JACCARD = 0.9
_NOT_WORD = re.compile(r"[\W_]+")


def normalise_question(text: str) -> str:
    """Full-width folded, lower-cased, without punctuation and spaces."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1)) or frozenset([text])


@dataclass(frozen=True)
class NearDuplicate:
    first_id: str
    first: str
    second_id: str
    second: str
    similarity: float

    def __str__(self) -> str:
        return (
            f"{self.first_id} «{self.first}» and {self.second_id} «{self.second}» "
            f"are near-identical (bigram Jaccard {self.similarity:.2f})"
        )


def near_duplicate_questions(
    entries: Iterable[Entry], threshold: float = NEAR_DUPLICATE_JACCARD
) -> list[NearDuplicate]:
    """Pairs of phrasings (title or question) of different entries whose normalised
    texts are equal or share at least ``threshold`` of their character bigrams.

    Prefix filtering keeps this fast at 10,000 entries: two sets with Jaccard >= t
    share at least one of their rarest ``len - ceil(t * len) + 1`` bigrams.
    """
    texts: list[tuple[str, str, str, frozenset[str]]] = []
    for e in entries:
        for original in dict.fromkeys([e.title, *e.questions]):
            norm = normalise_question(original)
            if norm:
                texts.append((e.id, original, norm, _bigrams(norm)))
    frequency = Counter(g for *_, grams in texts for g in grams)
    index: dict[str, list[int]] = defaultdict(list)
    found: dict[tuple[str, str, str, str], NearDuplicate] = {}
    for i, (entry_id, original, norm, grams) in enumerate(texts):
        ordered = sorted(grams, key=lambda g: (frequency[g], g))
        prefix = ordered[: len(ordered) - math.ceil(threshold * len(ordered)) + 1]
        candidates = {j for g in prefix for j in index[g]}
        for j in sorted(candidates):
            other_id, other, other_norm, other_grams = texts[j]
            if other_id == entry_id:
                continue
            if norm == other_norm:
                similarity = 1.0
            else:
                similarity = len(grams & other_grams) / len(grams | other_grams)
            if similarity >= threshold:
                key = (other_id, other, entry_id, original)
                found.setdefault(
                    key, NearDuplicate(other_id, other, entry_id, original, similarity)
                )
        for g in prefix:
            index[g].append(i)
    return list(found.values())


def snapshot(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap fingerprint (name, size, mtime) used to notice edited files."""
    out = []
    for p in entry_files(root):
        st = p.stat()
        out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)
