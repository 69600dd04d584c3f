"""Console users: scrypt passwords, hashed tokens and sessions (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from bot.accounts.access import Actor
from bot.accounts.errors import Forbidden, InvalidInput, NotFound
from bot.accounts.users import (
    actor_for_token,
    add_user,
    authenticate,
    create_token,
    digest,
    end_session,
    hash_password,
    list_users,
    reset_password,
    session_for,
    set_active,
    set_role,
    start_session,
    verify_password,
)
from bot.storage.db import Database
from bot.storage.models import ApiToken, AuditEntry, ConsoleSession, ConsoleUser, utcnow
from tests.bot.storage_backends import database_url  # noqa: F401  (fixture)

ADMIN = Actor(0, "boss", "admin")


@pytest.fixture
async def db(database_url: str):  # noqa: F811
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.close()


def test_passwords_are_salted_scrypt_hashes() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse", first) and verify_password("correct horse", second)
    assert not verify_password("correct horsf", first)
    assert not verify_password("x", "not-a-hash") and not verify_password("x", "a$b$c$d$e$f")


async def test_a_new_user_signs_in_with_the_one_time_password(db) -> None:
    password = await add_user(db, "mod", "moderator")
    assert len(password) >= 16
    actor = await authenticate(db, "mod", password)
    assert actor is not None and actor.name == "mod" and actor.role == "moderator"
    assert await authenticate(db, "mod", password + "x") is None
    assert await authenticate(db, "nobody", password) is None
    async with db.session() as session:
        stored = (await session.execute(select(ConsoleUser.password_hash))).scalar_one()
        audit = (await session.execute(select(AuditEntry.action, AuditEntry.actor))).all()
    assert password not in stored and [tuple(a) for a in audit] == [("user_add", "cli")]
    with pytest.raises(InvalidInput, match="已经存在"):
        await add_user(db, "mod", "expert")
    with pytest.raises(InvalidInput, match="角色"):
        await add_user(db, "eve", "root")
    with pytest.raises(InvalidInput, match="用户名"):
        await add_user(db, "a b", "expert")


async def test_tokens_are_stored_as_sha256_and_die_with_their_user(db) -> None:
    await add_user(db, "expert", "expert")
    token = await create_token(db, "expert")
    async with db.session() as session:
        stored = (await session.execute(select(ApiToken.token_hash))).scalar_one()
    assert stored == digest(token) and token not in stored
    actor = await actor_for_token(db, token)
    assert actor is not None and actor.role == "expert"
    assert await actor_for_token(db, token[:-1]) is None
    assert await actor_for_token(db, "") is None
    await set_active(db, ADMIN, "expert", False)
    assert await actor_for_token(db, token) is None
    with pytest.raises(InvalidInput, match="停用"):
        await create_token(db, "expert")
    with pytest.raises(NotFound):
        await create_token(db, "nobody")


async def test_sessions_last_twelve_hours_and_end_on_sign_out(db) -> None:
    await add_user(db, "mod", "moderator")
    actor = Actor(1, "mod", "moderator")
    cookie, csrf = await start_session(db, actor)
    info = await session_for(db, cookie)
    assert info is not None and info.actor.name == "mod" and info.csrf_token == csrf
    async with db.session() as session:
        row = (await session.execute(select(ConsoleSession))).scalar_one()
        expires = (
            row.expires_at
            if row.expires_at.tzinfo
            else row.expires_at.replace(tzinfo=dt.timezone.utc)
        )
    assert row.id_hash == digest(cookie)
    assert dt.timedelta(hours=11, minutes=59) < expires - utcnow() <= dt.timedelta(hours=12)
    await end_session(db, cookie)
    assert await session_for(db, cookie) is None
    cookie, _ = await start_session(db, actor)
    async with db.session() as session:
        await session.execute(update(ConsoleSession).values(expires_at=utcnow()))
    assert await session_for(db, cookie) is None
    await start_session(db, actor)  # clears the expired one on the way
    async with db.session() as session:
        assert len((await session.execute(select(ConsoleSession))).all()) == 1


async def test_only_admins_manage_users(db) -> None:
    await add_user(db, "mod", "moderator")
    password = await add_user(db, "lily", "expert")
    moderator = Actor(1, "mod", "moderator")
    for call in (
        list_users(db, moderator),
        set_role(db, moderator, "lily", "admin"),
        set_active(db, moderator, "lily", False),
        reset_password(db, moderator, "lily"),
    ):
        with pytest.raises(Forbidden):
            await call
    await set_role(db, ADMIN, "lily", "moderator")
    fresh = await reset_password(db, ADMIN, "lily")
    assert await authenticate(db, "lily", password) is None
    assert (await authenticate(db, "lily", fresh)).role == "moderator"
    assert [u.name for u in await list_users(db, ADMIN)] == ["lily", "mod"]
    with pytest.raises(InvalidInput, match="自己"):
        await set_active(db, Actor(2, "lily", "admin"), "lily", False)
