"""Read and validate the curated entries under ``knowledge/``."""

from __future__ import annotations

import hashlib
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
    """Load every entry; collect every problem instead of stopping at the first."""
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
    return result


def snapshot(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap fingerprint (name, size, mtime) used to notice edited files."""
    out = []
    for p in entry_files(root):
        st = p.stat()
        out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)
