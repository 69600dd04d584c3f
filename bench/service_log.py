"""ERROR lines a service wrote to its log during a level, counted per logger."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

_ERROR_LINE = re.compile(r"\bERROR\s+([\w.]+)")


def log_size(log: Path | None) -> int:
    try:
        return log.stat().st_size if log is not None else 0
    except OSError:
        return 0


def count_errors(lines: Iterable[str]) -> dict[str, int]:
    """ERROR log lines (Rasa's format: ``<date> <time> ERROR    <logger>  - …``) per logger."""
    out: dict[str, int] = {}
    for line in lines:
        m = _ERROR_LINE.search(line)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0) + 1
    return out


def logged_errors(log: Path | None, offset: int) -> dict[str, int]:
    if log is None:
        return {}
    try:
        with log.open("rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return {}
    return count_errors(text.splitlines())
