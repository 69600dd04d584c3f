"""Merged entries keep their old ids as aliases: every lookup of an old id finds
the entry it was merged into, and an alias can never point at two entries."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.knowledge.export import entry_yaml
from bot.knowledge.loader import alias_map, load_entries
from bot.knowledge.schema import Entry
from bot.knowledge.service import KnowledgeService
from bot.knowledge.store import import_files, resolve_entry_id, served_entry
from bot.settings import PROJECT_ROOT

CURATED = PROJECT_ROOT / "knowledge"

BASE = {
    "id": "phone-font-size",
    "topic": "smartphone",
    "title": "怎么把字调大",
    "questions": ["字太小", "怎么调大字体", "字咋个弄大点"],
    "answer": "打开设置，调大字体。",
    "audience": ["senior"],
    "source": {"organisation": "工业和信息化部", "title": "适老化规范"},
    "reviewed_on": "2026-11-29",
}

# Old id -> survivor, for the merges of issue 17 (one answer per question).
MERGED = {
    "health-sprouted-potato": "rumor-sprouted-potato",
    "health-cpr-hands-only": "health-cpr-steps",
    "health-co-prevention": "rumor-water-basin-co",
    "health-pesticide-hygiene": "farm-pesticide-protection",
    "farm-pesticide-storage": "farm-pesticide-protection",
    "health-hypertension-keep-medicine": "rumor-bp-meds-dependence",
    "health-dont-stop-medicine": "rumor-bp-meds-dependence",
    "fraud-baojianpin-baozhi-baibing": "rumor-supplements-replace-drugs",
    "phone-livestream-scam": "rumor-supplements-replace-drugs",
    "health-milk-calcium": "rumor-bone-soup-calcium",
    "health-rabies-vaccine": "rumor-rabies-24h",
    "health-wild-mushroom": "rumor-mushroom-test",
    "health-leftovers": "rumor-overnight-dishes",
    "fraud-kuaidi-diujian-lipei": "fraud-maochong-dianshang-kefu",
    "fraud-baiwan-baozhang": "fraud-maochong-dianshang-kefu",
    "fraud-huiyuan-zidong-koufei": "fraud-maochong-dianshang-kefu",
    "fraud-jia-lingdao-weixin": "fraud-maochong-lingdao-shuren",
    "fraud-anquan-zhanghu": "fraud-maochong-gongjianfa",
    "phone-sms-links": "fraud-duanlianjie-jiawangzhan",
    "phone-qrcode-safety": "fraud-duanlianjie-jiawangzhan",
    "phone-pension-auth-scam": "fraud-daiban-yanglao-baoxian",
    "phone-payment-code-scam": "phone-payment-code",
    "phone-fanzha-call-warning": "fraud-guojia-fanzha-app",
    "phone-wechat-voice-to-text": "phone-wechat-listen-voice",
}


def write_entry(root: Path, entry_id: str, topic: str = "smartphone", **fields) -> None:
    data = {**BASE, "id": entry_id, "topic": topic, **fields}
    folder = root / topic
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{entry_id}.yml").write_text(
        yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
    )


# --- schema -----------------------------------------------------------------


def test_aliases_default_to_none() -> None:
    assert Entry.parse_obj(BASE).aliases == []


@pytest.mark.parametrize(
    "aliases",
    [
        ["Old Id"],  # not an id
        ["phone-old", "phone-old"],  # twice
        ["phone-font-size"],  # itself
    ],
)
def test_bad_aliases_are_rejected(aliases: list[str]) -> None:
    with pytest.raises(ValidationError):
        Entry.parse_obj({**BASE, "aliases": aliases})


# --- loader -----------------------------------------------------------------


def test_an_alias_that_is_another_entrys_id_is_rejected(tmp_path: Path) -> None:
    write_entry(tmp_path, "phone-a", aliases=["phone-b"])
    write_entry(tmp_path, "phone-b", questions=["别的问题", "另一个问法", "咋个弄"])
    result = load_entries(tmp_path)
    assert [e.id for e in result.entries] == ["phone-b"]
    assert any("phone-a.yml" in err and "'phone-b'" in err for err in result.errors)


def test_an_alias_claimed_by_two_entries_is_rejected(tmp_path: Path) -> None:
    write_entry(tmp_path, "phone-a", aliases=["phone-old"])
    write_entry(tmp_path, "phone-b", aliases=["phone-old", "phone-older"])
    result = load_entries(tmp_path)
    assert [e.id for e in result.entries] == ["phone-a"]
    assert len(result.errors) == 1 and "phone-b.yml" in result.errors[0]
    assert alias_map(result.entries) == {"phone-old": "phone-a"}


def test_the_merged_ids_are_aliases_of_their_survivors() -> None:
    result = load_entries(CURATED)
    assert result.errors == []
    ids = {e.id for e in result.entries}
    aliases = alias_map(result.entries)
    for old, survivor in MERGED.items():
        assert old not in ids, f"{old} should have been merged into {survivor}"
        assert aliases.get(old) == survivor, old


# --- service, store, export ---------------------------------------------------


async def test_the_service_finds_an_entry_by_its_old_id(tmp_path: Path) -> None:
    write_entry(tmp_path, "phone-a", aliases=["phone-old"])
    service = KnowledgeService(tmp_path)
    assert (await service.get("phone-a")).id == "phone-a"
    assert (await service.get("phone-old")).id == "phone-a"
    assert await service.get("phone-unknown") is None


async def test_the_service_resolves_every_merged_curated_id() -> None:
    service = KnowledgeService(CURATED)
    for old, survivor in MERGED.items():
        entry = await service.get(old)
        assert entry is not None and entry.id == survivor, old


async def test_the_store_serves_an_entry_under_its_old_id(migrated_db, tmp_path: Path) -> None:
    db = migrated_db
    write_entry(tmp_path, "phone-old")
    await import_files(db, load_entries(tmp_path))
    assert await resolve_entry_id(db, "phone-old") == "phone-old"
    # The entry is merged: its file goes, the survivor names it as an alias.
    (tmp_path / "smartphone" / "phone-old.yml").unlink()
    write_entry(tmp_path, "phone-a", aliases=["phone-old", "phone-older"])
    write_entry(tmp_path, "phone-b", questions=["别的问题", "另一个问法", "咋个弄"])
    report = await import_files(db, load_entries(tmp_path))
    assert report.retired == 1
    assert (await served_entry(db, "phone-old")).id == "phone-a"
    assert await resolve_entry_id(db, "phone-older") == "phone-a"
    assert await resolve_entry_id(db, "phone-b") == "phone-b"
    assert await resolve_entry_id(db, "phone-ol") is None  # a prefix is not an alias
    assert await resolve_entry_id(db, "phone-unknown") is None


def test_exported_yaml_keeps_the_aliases(tmp_path: Path) -> None:
    entry = Entry.parse_obj({**BASE, "aliases": ["phone-old"]})
    text = entry_yaml(entry)
    assert text.startswith("id: phone-font-size\naliases:\n- phone-old\ntopic: smartphone\n")
    assert Entry.parse_obj(yaml.safe_load(text)) == entry
