"""The local engine's model: which files it needs, and checking them against
the SHA-256 list kept in ``bot/voice/models.json``.

For each role (tokens, encoder, decoder, joiner) the list names the file
variants in order of preference (int8 first where it is as good); the first
one present in the model directory is used.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODELS_FILE = Path(__file__).with_name("models.json")
ROLES = ("tokens", "encoder", "decoder", "joiner")


def model_spec() -> dict[str, Any]:
    """The model's name, licence, download places and file hashes, from ``models.json``."""
    spec: dict[str, Any] = json.loads(MODELS_FILE.read_text(encoding="utf-8"))
    return spec


@dataclass(frozen=True)
class FileCheck:
    """One role's file in the model directory, and how its hash compared."""

    role: str
    name: str
    status: str  # "ok" | "hash unknown" | "mismatch" | "missing"
    detail: str = ""

    @property
    def failed(self) -> bool:
        """Whether this file leaves the model unusable: missing, or a hash none of the published."""
        return self.status in ("mismatch", "missing")


def model_files(model_dir: Path, spec: dict[str, Any] | None = None) -> dict[str, Path]:
    """role → the file used for it; roles with no file present are left out."""
    spec = spec or model_spec()
    found: dict[str, Path] = {}
    for role in ROLES:
        for name in spec["roles"][role]:
            path = model_dir / name
            if path.is_file():
                found[role] = path
                break
    return found


def missing_roles(model_dir: Path, spec: dict[str, Any] | None = None) -> list[str]:
    """The roles with no file present, each named with its preferred file."""
    spec = spec or model_spec()
    present = model_files(model_dir, spec)
    return [f"{role} ({spec['roles'][role][0]})" for role in ROLES if role not in present]


def sha256_file(path: Path) -> str:
    """The file's SHA-256 as hex, read 1 MiB at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_model(model_dir: Path, spec: dict[str, Any] | None = None) -> list[FileCheck]:
    """One result per role: the file used, and whether its hash is a published one."""
    spec = spec or model_spec()
    present = model_files(model_dir, spec)
    results = []
    for role in ROLES:
        path = present.get(role)
        if path is None:
            wanted = " or ".join(spec["roles"][role])
            results.append(FileCheck(role, wanted, "missing"))
            continue
        known: dict[str, str] = spec["sha256"].get(path.name, {})
        actual = sha256_file(path)
        if not known:
            results.append(FileCheck(role, path.name, "hash unknown", actual))
        elif actual in known:
            results.append(FileCheck(role, path.name, "ok", known[actual]))
        else:
            results.append(FileCheck(role, path.name, "mismatch", actual))
    return results
