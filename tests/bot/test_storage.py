from pathlib import Path

from sqlalchemy import select

from bot.handoff import handoff_reply, record_request
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
