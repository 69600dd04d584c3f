"""Finding 6: sessions end on password change and reset; API tokens are named, expire,
are listed and revoked (CLI and console) and die with a password reset."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import select, update

from bot.accounts.errors import InvalidInput
from bot.accounts.users import actor_for_token, authenticate, create_token, digest
from bot.run.cli import main
from bot.storage.db import MIGRATIONS, Database
from bot.storage.models import ApiToken, AuditEntry, ConsoleSession, ConsoleUser, utcnow
from tests.bot.storage_backends import database_url  # noqa: F401  (fixture)
from tests.bot.web.console_support import Staff, database, login, post_form

COOKIE = "kepu_console"
NEW_PASSWORD = "a-much-better-password-2025"


def aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


async def sign_in(client, who: Staff) -> tuple[str, str]:
    """A fresh browser signs in: (its session cookie, its CSRF token)."""
    client.session.cookie_jar.clear()
    csrf = await login(client, who)
    cookie = next(c.value for c in client.session.cookie_jar if c.key == COOKIE)
    return cookie, csrf


def use(client, cookie: str) -> None:
    """Make the test client that browser."""
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({COOKIE: cookie})


async def signed_in(client, cookie: str) -> bool:
    use(client, cookie)
    resp = await client.get("/console/", allow_redirects=False)
    return resp.status == 200


async def api_status(client, token: str) -> int:
    resp = await client.get("/api/v1/claims", headers={"Authorization": f"Bearer {token}"})
    return resp.status


async def sessions_of(client, name: str) -> list[str]:
    async with database(client).session() as session:
        rows = await session.execute(
            select(ConsoleSession.id_hash)
            .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
            .where(ConsoleUser.name == name)
        )
        return list(rows.scalars())


async def test_changing_ones_password_ends_every_other_session(console_client, staff) -> None:
    mod = staff["moderator"]
    first, _ = await sign_in(console_client, mod)
    second, csrf = await sign_in(console_client, mod)
    assert len(await sessions_of(console_client, "mod")) == 2
    use(console_client, second)
    resp = await console_client.post(
        "/console/password",
        data={"csrf": csrf, "current": mod.password, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD},
        allow_redirects=False,
    )
    assert resp.status == 200 and "已修改" in await resp.text()
    renewed = resp.cookies[COOKIE].value
    assert renewed not in (first, second)
    # Only the renewed session is left, stored as its hash; the other browser is out.
    assert await sessions_of(console_client, "mod") == [
        hashlib.sha256(renewed.encode()).hexdigest()
    ]
    assert not await signed_in(console_client, first)
    assert not await signed_in(console_client, second)
    assert await signed_in(console_client, renewed)
    db = database(console_client)
    assert await authenticate(db, "mod", mod.password) is None
    assert (await authenticate(db, "mod", NEW_PASSWORD)).name == "mod"
    async with db.session() as session:
        actions = list((await session.execute(select(AuditEntry.action))).scalars())
    assert actions.count("password_change") == 1 and actions.count("login") == 2
    assert await api_status(console_client, mod.token) == 200  # one's own change keeps tokens


async def test_a_wrong_current_password_changes_nothing(console_client, staff) -> None:
    mod = staff["moderator"]
    first, _ = await sign_in(console_client, mod)
    second, csrf = await sign_in(console_client, mod)
    status, _, body = await post_form(
        console_client,
        "/console/password",
        csrf,
        current="wrong",
        new=NEW_PASSWORD,
        repeat=NEW_PASSWORD,
    )
    assert status == 400 and "当前密码不对" in body
    assert await signed_in(console_client, first) and await signed_in(console_client, second)


async def test_a_password_reset_ends_sessions_and_revokes_tokens(console_client, staff) -> None:
    mod, expert = staff["moderator"], staff["expert"]
    db = database(console_client)
    second_token = await create_token(db, "mod", label="第二个")
    mod_cookie, _ = await sign_in(console_client, mod)
    assert await api_status(console_client, mod.token) == 200
    admin_cookie, csrf = await sign_in(console_client, staff["admin"])
    status, _, body = await post_form(console_client, "/console/users/password", csrf, name="mod")
    assert status == 200
    fresh = re.search(r'id="one-time-password">([^<]+)<', body).group(1)

    assert not await signed_in(console_client, mod_cookie)
    assert await sessions_of(console_client, "mod") == []
    assert await api_status(console_client, mod.token) == 401
    assert await api_status(console_client, second_token) == 401
    async with db.session() as session:
        rows = (
            await session.execute(
                select(ApiToken.revoked_at, ConsoleUser.name).join(
                    ConsoleUser, ConsoleUser.id == ApiToken.user_id
                )
            )
        ).all()
        reset = (
            await session.execute(
                select(AuditEntry).where(AuditEntry.action == "user_password_reset")
            )
        ).scalar_one()
    assert all(revoked is not None for revoked, name in rows if name == "mod")
    assert all(revoked is None for revoked, name in rows if name != "mod")
    assert reset.actor == "admin" and reset.details == {"tokens": 2}
    # Nobody else is touched; the new password works.
    assert await api_status(console_client, expert.token) == 200
    assert await signed_in(console_client, admin_cookie)
    assert (await authenticate(db, "mod", fresh)).name == "mod"


async def test_an_admin_resetting_their_own_password_stays_signed_in(console_client, staff) -> None:
    admin = staff["admin"]
    old_cookie, csrf = await sign_in(console_client, admin)
    use(console_client, old_cookie)
    resp = await console_client.post(
        "/console/users/password", data={"csrf": csrf, "name": "admin"}, allow_redirects=False
    )
    assert resp.status == 200
    renewed = resp.cookies[COOKIE].value
    assert not await signed_in(console_client, old_cookie)
    assert await signed_in(console_client, renewed)
    assert await api_status(console_client, admin.token) == 401


async def test_tokens_have_a_name_and_expire(console_client, staff) -> None:
    db = database(console_client)
    token = await create_token(db, "expert", label="  导出  脚本 ", days=30)
    async with db.session() as session:
        rows = {r.token_hash: r for r in (await session.execute(select(ApiToken))).scalars().all()}
    mine, default = rows[digest(token)], rows[digest(staff["expert"].token)]
    assert mine.name == "导出 脚本"
    assert aware(mine.expires_at) - aware(mine.created_at) == dt.timedelta(days=30)
    assert aware(default.expires_at) - aware(default.created_at) == dt.timedelta(days=90)
    assert default.name.startswith("令牌 ") and default.revoked_at is None
    assert await api_status(console_client, token) == 200
    async with db.session() as session:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.id == mine.id)
            .values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
    assert await api_status(console_client, token) == 401
    assert await actor_for_token(db, token) is None
    for label, days in (("x" * 65, 30), ("ok", 0), ("ok", 366)):
        with pytest.raises(InvalidInput):
            await create_token(db, "expert", label=label, days=days)


async def test_admins_list_and_revoke_tokens_in_the_console(console_client, staff) -> None:
    db = database(console_client)
    named = await create_token(db, "expert", label="<b>夜间导出</b>")
    _, csrf = await sign_in(console_client, staff["moderator"])
    assert (await console_client.get("/console/tokens")).status == 403
    status, _, _ = await post_form(console_client, "/console/tokens/revoke", csrf, id="1")
    assert status == 403
    _, csrf = await sign_in(console_client, staff["admin"])
    page = await console_client.get("/console/tokens")
    body = await page.text()
    assert page.status == 200 and "&lt;b&gt;夜间导出&lt;/b&gt;" in body and "<b>夜间" not in body
    assert body.count('action="/console/tokens/revoke"') == 4
    async with db.session() as session:
        token_id = (
            await session.execute(select(ApiToken.id).where(ApiToken.token_hash == digest(named)))
        ).scalar_one()
    status, _, _ = await post_form(console_client, "/console/tokens/revoke", None, id=str(token_id))
    assert status == 403  # no CSRF token
    assert await api_status(console_client, named) == 200
    status, location, _ = await post_form(
        console_client, "/console/tokens/revoke", csrf, id=str(token_id)
    )
    assert status == 303 and location == "/console/tokens?done=1"
    assert await api_status(console_client, named) == 401
    assert await api_status(console_client, staff["expert"].token) == 200
    async with db.session() as session:
        row = await session.get(ApiToken, token_id)
        audit = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "token_revoke"))
        ).scalar_one()
    assert row.revoked_at is not None
    assert audit.actor == "admin" and audit.target == "user:expert"
    body = await (await console_client.get("/console/tokens?done=1")).text()
    assert "已吊销" in body and body.count('action="/console/tokens/revoke"') == 3
    for bad, expected in (("99999", 404), ("1e20", 400), ("99999999999999999999", 400)):
        status, _, _ = await post_form(console_client, "/console/tokens/revoke", csrf, id=bad)
        assert status == expected


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEPU_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("KEPU_DATABASE_URL", raising=False)
    return tmp_path


def test_kepu_tokens_list_and_revoke(var_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["users", "add", "alice", "--role", "expert"]) == 0
    assert main(["tokens", "create", "alice", "--name", "ci-export", "--days", "7"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    token = out[-1]
    assert "7 天后过期" in out[-2]
    assert main(["tokens", "list"]) == 0
    listing = capsys.readouterr().out
    line = next(line for line in listing.splitlines() if "ci-export" in line)
    token_id = int(line.split()[0])
    assert "alice" in line and "有效" in line and token not in listing
    assert main(["tokens", "revoke", str(token_id)]) == 0
    assert f"已吊销令牌 {token_id}" in capsys.readouterr().out
    assert main(["tokens", "list"]) == 0
    assert "ci-export" not in capsys.readouterr().out
    assert main(["tokens", "list", "--all"]) == 0
    assert "已吊销" in capsys.readouterr().out
    assert main(["tokens", "revoke", "999"]) == 1
    assert "没有编号为 999 的令牌" in capsys.readouterr().err
    assert main(["tokens", "create", "alice", "--days", "0"]) == 1

    async def check() -> object:
        db = Database(f"sqlite+aiosqlite:///{var_dir / 'kepu.db'}")
        try:
            return await actor_for_token(db, token)
        finally:
            await db.close()

    assert asyncio.run(check()) is None


def _upgrade_to(revision: str):
    def run(connection: object) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    return run


async def test_tokens_made_before_the_migration_get_a_name_and_an_expiry(
    database_url: str,  # noqa: F811
) -> None:
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(_upgrade_to("0008"))
        now = utcnow()
        users = sa.table(
            "console_users",
            *(
                sa.column(c)
                for c in ("id", "name", "password_hash", "role", "active", "created_at")
            ),
        )
        tokens = sa.table(
            "api_tokens", *(sa.column(c) for c in ("id", "user_id", "token_hash", "created_at"))
        )
        async with db.engine.begin() as conn:
            await conn.execute(
                users.insert().values(
                    id=1, name="old", password_hash="x", role="expert", active=True, created_at=now
                )
            )
            await conn.execute(
                tokens.insert(),
                [
                    {
                        "id": 1,
                        "user_id": 1,
                        "token_hash": digest("kepu_ancient"),
                        "created_at": now - dt.timedelta(days=400),
                    },
                    {
                        "id": 2,
                        "user_id": 1,
                        "token_hash": digest("kepu_recent"),
                        "created_at": now - dt.timedelta(days=10),
                    },
                ],
            )
        await db.migrate()
        async with db.session() as session:
            rows = (await session.execute(select(ApiToken).order_by(ApiToken.id))).scalars().all()
        assert [r.name for r in rows] == ["旧令牌 1", "旧令牌 2"]
        ancient, recent = (aware(r.expires_at) for r in rows)
        # Old tokens get 30 days' notice; newer ones keep 90 days from when they were made.
        assert dt.timedelta(days=29) < ancient - now <= dt.timedelta(days=30, minutes=1)
        assert abs(recent - (now + dt.timedelta(days=80))) < dt.timedelta(minutes=1)
        assert all(r.revoked_at is None for r in rows)
        assert (await actor_for_token(db, "kepu_ancient")).name == "old"
    finally:
        await db.close()
