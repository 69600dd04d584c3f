"""Write console-published entries back to ``knowledge/`` as YAML files.

Debunks published in the moderator console live in the database (origin
"console"). Exporting them puts them under review like every curated entry:
one file per entry, in the same shape and field order as the hand-written
ones, so ``kepu kb validate`` and a code review read them. The console row
keeps precedence over a file of the same id, so exporting changes nothing
that is served.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.knowledge.schema import Entry
from bot.knowledge.store import served_entries
from bot.storage.db import Database

# Longer texts are written as folded blocks (">-"), as in the curated files.
_FOLD_AT = 40


@dataclass
class ExportReport:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = ">" if len(value) > _FOLD_AT and "\n" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def entry_yaml(entry: Entry) -> str:
    """The entry as a curated file would hold it (fields in schema order, no empty ones)."""
    data = json.loads(entry.json(exclude_none=True))
    data = {k: v for k, v in data.items() if v not in ([], "")}
    data["reviewed_on"] = dt.date.fromisoformat(data["reviewed_on"])
    return yaml.dump(
        data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000, indent=2
    )


async def export_console_entries(db: Database, knowledge_dir: Path) -> ExportReport:
    """Write every served console entry to ``<knowledge_dir>/<topic>/<id>.yml``."""
    report = ExportReport()
    for entry in await served_entries(db, origin="console"):
        path = knowledge_dir / entry.topic / f"{entry.id}.yml"
        text = entry_yaml(entry)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            report.unchanged.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".yml.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        report.written.append(path)
    return report
