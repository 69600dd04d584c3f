"""What the orders' web and browser tests share: one verified volunteer."""

from __future__ import annotations

from bot.accounts.users import add_user
from bot.orders.service import add_volunteer
from bot.storage.db import Database


async def register_wang(db: Database) -> str:
    """王小红 (LP-001): phone help in 礼让镇, identity checked, console account
    "wang"; returns the account's password."""
    password = await add_user(db, "wang", "volunteer")
    await add_volunteer(
        db,
        "王小红",
        code="LP-001",
        skills=["phone_help"],
        towns=["礼让镇"],
        console_user="wang",
        checked_document="身份证",
        checked_by="张主任",
    )
    return password
