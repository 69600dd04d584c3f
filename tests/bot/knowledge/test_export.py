"""``kepu kb export``: console-published debunks written back as curated YAML files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.knowledge.export import export_console_entries
from bot.knowledge.loader import load_entries
from bot.knowledge.schema import Entry
from bot.knowledge.store import retire_console_entry, upsert_console_entry
from bot.run.cli import main
from bot.settings import PROJECT_ROOT
from bot.storage.db import Database

CURATED = PROJECT_ROOT / "knowledge"


def console_entry(entry_id: str, **changes) -> Entry:
    """A debunk as the console publishes it: a curated one under a console id."""
    base = next(e for e in load_entries(CURATED).entries if e.id == "rumor-5g-cancer")
    return base.copy(update={"id": entry_id, **changes})


async def publish(db: Database, *entries: Entry) -> None:
    async with db.session() as session:
        for entry in entries:
            await upsert_console_entry(session, db, entry)


async def test_exported_files_load_back_as_the_same_entries(migrated_db, tmp_path: Path) -> None:
    db = migrated_db
    first = console_entry("rumor-claim-7")
    second = console_entry(
        "rumor-claim-9",
        title="喝醋能软化血管吗",
        explanation="醋是调味品。\n它不能软化血管，喝多了伤胃。",  # a line break survives
        steps=[],
    )
    await publish(db, first, second)
    report = await export_console_entries(db, tmp_path)
    assert sorted(p.name for p in report.written) == ["rumor-claim-7.yml", "rumor-claim-9.yml"]
    loaded = load_entries(tmp_path)
    assert loaded.errors == []
    assert {e.id: e for e in loaded.entries} == {first.id: first, second.id: second}
    text = (tmp_path / "rumor" / "rumor-claim-7.yml").read_text(encoding="utf-8")
    assert text.startswith("id: rumor-claim-7\ntopic: rumor\n")
    assert "reviewed_on: 20" in text and "answer: >-" in text  # shaped like curated files


async def test_a_second_export_changes_nothing_and_retired_entries_stay_out(
    migrated_db, tmp_path: Path
) -> None:
    db = migrated_db
    await publish(db, console_entry("rumor-claim-1"), console_entry("rumor-claim-2"))
    async with db.session() as session:
        await retire_console_entry(session, "rumor-claim-2")
    assert len((await export_console_entries(db, tmp_path)).written) == 1
    again = await export_console_entries(db, tmp_path)
    assert again.written == [] and len(again.unchanged) == 1
    assert not (tmp_path / "rumor" / "rumor-claim-2.yml").exists()


async def test_curated_file_entries_are_not_exported(migrated_db, tmp_path: Path) -> None:
    db = migrated_db
    from bot.knowledge.store import import_files

    await import_files(db, load_entries(CURATED))
    assert (await export_console_entries(db, tmp_path)).written == []


def test_cli_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("KEPU_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("KEPU_DATABASE_URL", raising=False)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'kepu.db'}")

    async def setup() -> None:
        await db.migrate()
        await publish(db, console_entry("rumor-claim-3"))
        await db.close()

    asyncio.run(setup())
    out = tmp_path / "kb"
    assert main(["kb", "export", "--out", str(out)]) == 0
    assert "1 written, 0 unchanged" in capsys.readouterr().out
    assert load_entries(out).entries[0].id == "rumor-claim-3"
