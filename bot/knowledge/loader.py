"""Read and validate the curated entries under ``knowledge/``."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from pydantic import ValidationError

from bot.knowledge.schema import Entry


@dataclass
class LoadResult:
    entries: list[Entry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)  # id -> content hash


def entry_files(root: Path) -> list[Path]:
    """The entry files under ``root`` (``<topic>/<id>.yml``; names starting with ``_`` left out)."""
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
# (or answer one of them at random): phrasings (title, questions, and the
# messages filed under ``asked``) of different entries must not be
# near-identical. Two measures, each with the threshold below which the
# knowledge base holds only pairs that really are different questions:
# - character bigrams of the normalised text (punctuation, spaces and width
#   gone): catches the same sentence with a particle or a character added;
# - the content words search sees (dialect read as Mandarin, question words,
#   particles and fillers dropped: ``bot.knowledge.search.content_text``):
#   "菜上有农药咋个洗得干净" and "菜的农药怎么洗干净" share few bigrams but the
#   same words. 0.85 means the same content words, or one word more on at least
#   six. At 0.8 (one word more on four) the knowledge base had three real
#   collisions, since resolved, and one pair that is not: "屏幕共享会不会把钱转走"
#   (before) and "我把屏幕共享开了他把我的钱转走了怎么办" (after a scam), both
#   residents' messages that cannot be reworded; at 0.75 "加别人微信" and
#   "让别个加我微信咋个弄" (one adds a friend, one shows one's own code) collide
#   too. Word order and pronouns are lost: 我加他 and 他加我 read the same.
NEAR_DUPLICATE_JACCARD = 0.9
NEAR_DUPLICATE_WORDS = 0.85
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
    measure: str = "bigram"

    def __str__(self) -> str:
        how = "bigram" if self.measure == "bigram" else "content-word"
        return (
            f"{self.first_id} «{self.first}» and {self.second_id} «{self.second}» "
            f"are near-identical ({how} Jaccard {self.similarity:.2f})"
        )


# (entry id, phrasing as written, its set of bigrams or content words)
_Item = tuple[str, str, frozenset[str]]


def _similar_pairs(items: list[_Item], threshold: float, measure: str) -> list[NearDuplicate]:
    """Pairs of items of different entries whose sets have Jaccard >= ``threshold``.

    Prefix filtering keeps this fast at 10,000 entries: two sets with Jaccard >= t
    share at least one of their rarest ``len - ceil(t * len) + 1`` elements.
    """
    frequency = Counter(g for *_, grams in items for g in grams)
    index: dict[str, list[int]] = defaultdict(list)
    found = []
    for i, (entry_id, original, grams) in enumerate(items):
        ordered = sorted(grams, key=lambda g: (frequency[g], g))
        prefix = ordered[: len(ordered) - math.ceil(threshold * len(ordered)) + 1]
        for j in sorted({j for g in prefix for j in index[g]}):
            other_id, other, other_grams = items[j]
            if other_id == entry_id:
                continue
            similarity = len(grams & other_grams) / len(grams | other_grams)
            if similarity >= threshold:
                found.append(
                    NearDuplicate(other_id, other, entry_id, original, similarity, measure)
                )
        for g in prefix:
            index[g].append(i)
    return found


def near_duplicate_questions(
    entries: Iterable[Entry],
    threshold: float = NEAR_DUPLICATE_JACCARD,
    word_threshold: float = NEAR_DUPLICATE_WORDS,
) -> list[NearDuplicate]:
    """Pairs of phrasings (title, question or asked message) of different entries
    that are equal once normalised, share at least ``threshold`` of their character
    bigrams, or at least ``word_threshold`` of their content words. One row per
    pair of phrasings, with the higher of the two measures."""
    from bot.knowledge.search import content_text  # jieba and the search tables

    by_bigram: list[_Item] = []
    by_word: list[_Item] = []
    for e in entries:
        seen: set[str] = set()
        for original in [e.title, *e.questions, *e.asked]:
            norm = normalise_question(original)
            if not norm or norm in seen:
                continue
            seen.add(norm)
            by_bigram.append((e.id, original, _bigrams(norm)))
            words = frozenset(content_text(original).split())
            if words:
                by_word.append((e.id, original, words))
    found: dict[tuple[str, str, str, str], NearDuplicate] = {}
    for pair in [
        *_similar_pairs(by_bigram, threshold, "bigram"),
        *_similar_pairs(by_word, word_threshold, "word"),
    ]:
        key = (pair.first_id, pair.first, pair.second_id, pair.second)
        if key not in found or pair.similarity > found[key].similarity:
            found[key] = pair
    return list(found.values())


# A review older than this is a warning (and a console reminder): guidelines,
# rules and apps change. Twelve months.
REVIEW_AFTER = dt.timedelta(days=365)
# Paths that are only a site's front page, not the document the entry cites.
_HOME_PATHS = frozenset({"", "/", "/index.html", "/index.htm", "/index.shtml", "/index.php"})


def is_home_page(url: str) -> bool:
    """True when ``url`` names only a site (``https://www.nhc.gov.cn/``)."""
    parts = urlsplit(url)
    return parts.path.lower() in _HOME_PATHS and not parts.query and not parts.fragment


def review_warnings(entries: Iterable[Entry], today: dt.date) -> list[str]:
    """What a curator should look at, without failing validation: entries last
    reviewed more than twelve months (``REVIEW_AFTER``) before ``today``, and
    sources whose link is only a site's home page."""
    warnings = []
    for e in entries:
        if today - e.reviewed_on > REVIEW_AFTER:
            warnings.append(f"{e.id}: reviewed_on {e.reviewed_on} is more than 12 months old")
        if e.source.url and is_home_page(e.source.url):
            warnings.append(f"{e.id}: source url {e.source.url} is only a home page")
    return warnings


def snapshot(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap fingerprint (name, size, mtime) used to notice edited files."""
    out = []
    for p in entry_files(root):
        st = p.stat()
        out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)
