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
