"""Curators edit knowledge files while the service runs: no restart, no force."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.knowledge.service import KnowledgeService
from bot.settings import PROJECT_ROOT

KEPT = ("farming/farm-rice-stem-borer.yml", "farming/farm-agri-insurance.yml")


def _copy(root: Path) -> None:
    for name in KEPT:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_ROOT / "knowledge" / name, root / name)


async def test_an_edited_file_is_served_at_the_next_check(tmp_path: Path) -> None:
    _copy(tmp_path)
    service = KnowledgeService(tmp_path, check_interval=0.0)
    assert (await service.ask("二化螟怎么防治")).best.entry.id == "farm-rice-stem-borer"

    path = tmp_path / KEPT[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("二化螟是钻进水稻茎秆里吃的害虫。", "二化螟是钻心虫。"), "utf-8")
    entry = await service.get("farm-rice-stem-borer")  # no force=True
    assert entry is not None and entry.answer.startswith("二化螟是钻心虫。")


async def test_a_new_file_is_found_and_a_removed_one_is_gone(tmp_path: Path) -> None:
    _copy(tmp_path)
    service = KnowledgeService(tmp_path, check_interval=0.0)
    assert service.size == 0 and (await service.get("farm-agri-insurance")) is not None
    (tmp_path / KEPT[1]).unlink()
    assert await service.get("farm-agri-insurance") is None
    shutil.copy(
        PROJECT_ROOT / "knowledge" / "farming" / "farm-12316-hotline.yml",
        tmp_path / "farming" / "farm-12316-hotline.yml",
    )
    assert await service.get("farm-12316-hotline") is not None


async def test_checks_are_spaced_by_the_interval(tmp_path: Path) -> None:
    _copy(tmp_path)
    service = KnowledgeService(tmp_path, check_interval=3600.0)
    await service.refresh(force=True)
    (tmp_path / KEPT[1]).unlink()
    # Within the interval the service keeps serving what it has (no disk scan per turn).
    assert await service.get("farm-agri-insurance") is not None
    await service.refresh(force=True)
    assert await service.get("farm-agri-insurance") is None


async def test_an_edited_file_reaches_the_database_and_is_served_without_force(
    tmp_path: Path, migrated_db
) -> None:
    """As the running service does it: files imported into the database by content
    hash, and what the database serves is what is answered."""
    from sqlalchemy import select

    from bot.storage.models import KnowledgeRecord

    _copy(tmp_path)
    service = KnowledgeService(tmp_path, db=migrated_db, check_interval=0.0)
    before = await service.get("farm-rice-stem-borer")
    assert before is not None and before.answer.startswith("二化螟是钻进水稻茎秆里吃的害虫。")

    path = tmp_path / KEPT[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("二化螟是钻进水稻茎秆里吃的害虫。", "二化螟是钻心虫。"), "utf-8")
    entry = await service.get("farm-rice-stem-borer")  # no force=True
    assert entry is not None and entry.answer.startswith("二化螟是钻心虫。")
    async with migrated_db.session() as session:
        stored = (
            await session.execute(
                select(KnowledgeRecord).where(KnowledgeRecord.id == "farm-rice-stem-borer")
            )
        ).scalar_one()
    assert stored.origin == "file" and stored.data["answer"].startswith("二化螟是钻心虫。")
