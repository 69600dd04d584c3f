from pathlib import Path

import pytest
from sqlalchemy import select

from bot.handoff.hotlines import handoff_reply, record_request
from bot.storage.db import Database
from bot.storage.models import HandoffRequest


async def test_migrations_are_idempotent_and_requests_are_redacted(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    await db.migrate()
    await db.migrate()
    _, hotlines = handoff_reply("我被骗了 我电话13812345678")
    await record_request(db, "wechat-user-1", "rest", "我被骗了 我电话13812345678", hotlines)
    async with db.session() as session:
        rows = (await session.execute(select(HandoffRequest))).scalars().all()
    await db.close()
    assert len(rows) == 1
    row = rows[0]
    assert "13812345678" not in row.text and "[手机号]" in row.text
    assert row.sender_hash != "wechat-user-1" and len(row.sender_hash) == 64
    assert row.hotlines.startswith("110")


def test_an_existing_database_file_is_never_opened_to_make_it_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing any descriptor of a SQLite file drops the process's POSIX locks on
    it, those of its open connections too: a second Database made in a process
    (the WeChat channel's, at its first message) left the analytics writer's
    commits invisible to every other process (tests/test_channels_stack.py)."""
    import os

    from bot.storage.db import make_private

    path = tmp_path / "private" / "kepu.db"
    make_private(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert (path.parent.stat().st_mode & 0o777) == 0o700
    opened: list[str] = []
    real_open = os.open

    def recording_open(name, *args, **kwargs):  # a descriptor that really opened
        fd = real_open(name, *args, **kwargs)
        opened.append(str(name))
        return fd

    monkeypatch.setattr(os, "open", recording_open)
    os.chmod(path, 0o644)
    make_private(path)
    assert opened == [] and path.stat().st_mode & 0o777 == 0o600
