"""Audio of texts read aloud, kept on disk: keyed by a hash of (engine, text), capped in size.

A file is ``<sha256 of engine and text>-<milliseconds>.<format>`` in
``<KEPU_CACHE_DIR>/speech`` (the directory 0700, each file 0600, written to a
temporary name and renamed, so a reader never sees half a file). Reading a
file marks it used; when the files together exceed the cap, the least
recently used go first. Everything here can be deleted at any time: it is
made again when next asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path


def speech_key(engine: str, text: str) -> str:
    """SHA-256 hex of the engine and the text: the name a cached file starts with."""
    return hashlib.sha256(f"{engine}\0{text}".encode()).hexdigest()


@dataclass(frozen=True)
class Cached:
    """A cached file's audio and its playing time."""

    data: bytes
    milliseconds: int  # playing time


class SpeechCache:
    """The speech files in one directory, at most ``max_bytes`` together."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes

    def _ensure_dir(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)

    def _find(self, key: str, fmt: str) -> Path | None:
        if not self.directory.is_dir():
            return None
        for path in self.directory.glob(f"{key}-*.{fmt}"):
            return path
        return None

    def get(self, key: str, fmt: str) -> Cached | None:
        """The cached audio, marked used now; None if there is none or it cannot be read."""
        path = self._find(key, fmt)
        if path is None:
            return None
        try:
            data = path.read_bytes()
            os.utime(path)  # used now: the last to be pruned
        except OSError:
            return None
        milliseconds = int(path.stem.rsplit("-", 1)[1])
        return Cached(data, milliseconds)

    def put(self, key: str, fmt: str, data: bytes, milliseconds: int) -> Path:
        """Store audio (atomically, mode 0600), then prune to the cap; returns its path."""
        self._ensure_dir()
        path = self.directory / f"{key}-{milliseconds}.{fmt}"
        temporary = self.directory / f".{key}.{secrets.token_hex(4)}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        self.prune()
        return path

    def prune(self) -> int:
        """Delete the least recently used files until the rest fit the cap; how many went."""
        entries = []
        total = 0
        cutoff = time.time() - 3600  # a temporary file this old was left by a crash
        for path in self.directory.iterdir():
            try:
                stat = path.stat()
            except OSError:
                continue
            if path.name.startswith("."):
                if stat.st_mtime < cutoff:
                    with contextlib.suppress(OSError):
                        path.unlink()
                continue
            entries.append((stat.st_mtime, stat.st_size, path))
            total += stat.st_size
        removed = 0
        for _, size, path in sorted(entries, key=lambda e: e[0]):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size
                removed += 1
        return removed

    def size(self) -> int:
        """Bytes the cached files take (temporary files not counted)."""
        if not self.directory.is_dir():
            return 0
        return sum(p.stat().st_size for p in self.directory.iterdir() if not p.name.startswith("."))
