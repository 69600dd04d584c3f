"""``kepu users add`` and ``kepu tokens create``: secrets printed once, last."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from bot.rumors.users import actor_for_token, authenticate
from bot.storage.db import Database


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEPU_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("KEPU_DATABASE_URL", raising=False)
    return tmp_path


def _check(var_dir: Path, password: str, token: str) -> tuple:
    async def check() -> tuple:
        db = Database(f"sqlite+aiosqlite:///{var_dir / 'kepu.db'}")
        try:
            return await authenticate(db, "alice", password), await actor_for_token(db, token)
        finally:
            await db.close()

    return asyncio.run(check())


def test_users_add_and_tokens_create(var_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["users", "add", "alice", "--role", "expert"]) == 0
    password = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["tokens", "create", "alice"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("kepu_") and len(token) > 40
    by_password, by_token = _check(var_dir, password, token)
    assert by_password.name == by_token.name == "alice" and by_token.role == "expert"
    assert main(["users", "list"]) == 0
    assert "alice" in capsys.readouterr().out
    db_bytes = (var_dir / "kepu.db").read_bytes()
    assert password.encode() not in db_bytes and token.encode() not in db_bytes


def test_refusals_are_printed_not_raised(var_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["users", "add", "bob", "--role", "moderator"]) == 0
    assert main(["users", "add", "bob", "--role", "moderator"]) == 1
    assert "已经存在" in capsys.readouterr().err
    assert main(["tokens", "create", "nobody"]) == 1
    assert "没有这个用户" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["users", "add", "carol", "--role", "root"])


def _write_entry(root: Path, entry_id: str, questions: list[str], **fields) -> None:
    import yaml

    data = {
        "id": entry_id,
        "topic": "health",
        "title": f"标题{entry_id}",
        "questions": questions,
        "answer": "一个回答。",
        "audience": ["all"],
        "source": {"organisation": "某机构", "title": "某文件"},
        "reviewed_on": "2026-11-29",
        **fields,
    }
    (root / "health").mkdir(parents=True, exist_ok=True)
    (root / "health" / f"{entry_id}.yml").write_text(
        yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
    )


@pytest.fixture
def kb_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "knowledge"
    monkeypatch.setenv("KEPU_KNOWLEDGE_DIR", str(root))
    _write_entry(root, "health-a", ["发芽的土豆能吃吗", "土豆发芽了咋个办", "龙葵素是啥子"])
    return root


def test_kb_validate_passes_distinct_entries(kb_dir: Path, capsys) -> None:
    _write_entry(kb_dir, "health-b", ["冬天烤火怎么防煤气中毒", "烤火咋个防中毒", "炭盆放哪里"])
    assert main(["kb", "validate"]) == 0
    assert "2 valid entries: health 2" in capsys.readouterr().out


def test_kb_validate_fails_on_near_identical_questions(kb_dir: Path, capsys) -> None:
    _write_entry(kb_dir, "health-b", ["发芽的土豆能吃吗？", "洋芋发芽了咋个办", "烤火咋个防"])
    assert main(["kb", "validate"]) == 1
    err = capsys.readouterr().err
    assert "health-a «发芽的土豆能吃吗» and health-b «发芽的土豆能吃吗？»" in err


def test_kb_validate_fails_on_an_alias_that_is_an_entry_id(kb_dir: Path, capsys) -> None:
    _write_entry(kb_dir, "health-b", ["冬天烤火怎么防煤气中毒", "烤火咋个防中毒", "炭盆放哪里"])
    # health-c claims health-b's id as an old id of its own
    questions = ["中暑了咋个办", "天热头昏咋个弄", "热射病是啥"]
    _write_entry(kb_dir, "health-c", questions, aliases=["health-b"])
    assert main(["kb", "validate"]) == 1
    assert "alias 'health-b' is the id of" in capsys.readouterr().err


def test_kb_validate_passes_the_curated_knowledge(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("KEPU_KNOWLEDGE_DIR", raising=False)
    assert main(["kb", "validate"]) == 0
    assert "ERROR" not in capsys.readouterr().err
