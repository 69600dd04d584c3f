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


async def _connections_opened(db: Database, sessions: int) -> int:
    from sqlalchemy import event, text

    opened = []
    event.listen(db.engine.sync_engine, "connect", lambda *_: opened.append(1))
    for _ in range(sessions):
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
    return len(opened)


async def test_a_kept_sqlite_file_connection_serves_every_session_and_closes(
    tmp_path: Path,
) -> None:
    """The web service keeps its SQLite connections (a console page took four
    sessions, each opening the file in a new thread); other owners open one per
    session, as before, so a Database nobody closes holds no thread open."""
    import threading

    url = f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"
    threads = threading.active_count()
    kept = Database(url, keep_connections=True)
    await kept.migrate()
    assert await _connections_opened(kept, 4) == 0  # migrate's connection, reused
    async with kept.session() as outer, kept.session() as inner:  # two at once
        await outer.execute(select(HandoffRequest.id))
        await inner.execute(select(HandoffRequest.id))
    await kept.close()
    assert await _threads_back_to(threads)  # close() ends the connections' threads

    plain = Database(url)
    assert await _connections_opened(plain, 3) == 3
    await plain.close()
    assert await _threads_back_to(threads)


async def _threads_back_to(count: int) -> bool:
    import asyncio
    import threading

    for _ in range(100):  # a closed connection's thread ends just after close()
        if threading.active_count() <= count:
            return True
        await asyncio.sleep(0.02)
    return False
