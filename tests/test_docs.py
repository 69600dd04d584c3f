"""The repository stands alone: what a user reads points at nothing outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READ_BY_USERS = [ROOT / "README.md", ROOT / "config.yml", *sorted((ROOT / "docs").glob("*.md"))]


def test_nothing_points_outside_the_repository() -> None:
    outside = re.compile(r"\.\./shared|RASA_NOTES|DESIGN\.md|STYLE\.md")
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in READ_BY_USERS
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if outside.search(line)
    ]
    assert found == []


def test_the_files_the_readme_names_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(
        re.findall(r"`((?:docs|bot|actions|bench|tests|scripts|knowledge)/[\w./-]+)`", readme)
    )
    assert named  # the pattern finds the README's paths
    missing = sorted(p for p in named if "*" not in p and not (ROOT / p).exists())
    assert missing == []
