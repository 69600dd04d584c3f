"""Console users: passwords, API tokens and browser sessions.

Passwords are hashed with scrypt (random salt, compared in constant time).
API tokens and session ids are random and stored only as their SHA-256: a
copy of the database lets nobody sign in. Deactivating a user ends their
sessions and tokens at once, as both are checked against ``active``.

Changing one's password ends every session of one's own (the console starts a
new one for the browser that changed it); an admin's reset also revokes all
of the user's API tokens. Tokens have a name and expire (``TOKEN_DAYS`` unless
told otherwise); admins list and revoke them (``kepu tokens``, the console).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from bot.accounts.access import ROLES, Actor, require
from bot.accounts.audit import record
from bot.accounts.errors import InvalidInput, NotFound, clip
from bot.storage.db import Database, rowcount
from bot.storage.models import ApiToken, ConsoleSession, ConsoleUser, aware, utcnow

# scrypt cost: about 50 ms and 16 MiB per hash, as OWASP suggests for scrypt.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SESSION_HOURS = 12
MIN_PASSWORD_CHARS = 10
TOKEN_PREFIX = "kepu_"
TOKEN_DAYS = 90  # default lifetime of an API token
MAX_TOKEN_DAYS = 365
MAX_TOKEN_NAME_CHARS = 64
_NAME = re.compile(r"^[\w.-]{2,32}$")
# Verified when the user does not exist, so that timing does not tell names apart.
_DUMMY_HASH = (
    "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)


@dataclass(frozen=True)
class UserView:
    id: int
    name: str
    role: str
    active: bool
    created_at: datetime

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


@dataclass(frozen=True)
class SessionInfo:
    actor: Actor
    csrf_token: str


@dataclass(frozen=True)
class TokenView:
    id: int
    user: str
    name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    now: datetime

    @property
    def live(self) -> bool:
        return self.revoked_at is None and self.expires_at > self.now

    @property
    def state(self) -> str:
        """``live``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        return "live" if self.expires_at > self.now else "expired"

    @property
    def state_label(self) -> str:
        return TOKEN_STATES[self.state]


TOKEN_STATES = {"live": "有效", "expired": "已过期", "revoked": "已吊销"}


def hash_password(password: str) -> str:
    """A salted scrypt hash, stored as ``scrypt$N$r$p$salt$digest`` (base64)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (a ``hash_password`` string); False if malformed."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:  # malformed hash: never a match
        return False
    return scheme == "scrypt" and hmac.compare_digest(actual, expected)


def new_password() -> str:
    return secrets.token_urlsafe(12)


def digest(secret: str) -> str:
    """SHA-256 hex of a secret (token, cookie): what the tables keep instead of it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _check_name_and_role(name: str, role: str) -> None:
    if not _NAME.match(name):
        raise InvalidInput("用户名要 2 到 32 个字符：字母、数字、汉字、点、横线或下划线")
    if role not in ROLES:
        raise InvalidInput(f"没有这个角色：{clip(role)}（可选 {', '.join(ROLES)}）")


async def add_user(db: Database, name: str, role: str, *, by: str = "cli") -> str:
    """Create a user; returns the one-time random password (shown once, stored hashed)."""
    _check_name_and_role(name, role)
    password = new_password()
    hashed = await asyncio.to_thread(hash_password, password)
    async with db.session() as session:
        taken = (
            await session.execute(select(ConsoleUser.id).where(ConsoleUser.name == name))
        ).first()
        if taken:
            raise InvalidInput(f"用户 {name} 已经存在")
        session.add(ConsoleUser(name=name, password_hash=hashed, role=role, active=True))
        record(session, by, "user_add", f"user:{name}", role=role)
    return password


async def authenticate(db: Database, name: str, password: str) -> Actor | None:
    """The active user with this name and password, else None (same cost either way)."""
    async with db.session() as session:
        user = (
            await session.execute(select(ConsoleUser).where(ConsoleUser.name == name))
        ).scalar_one_or_none()
    stored = user.password_hash if user is not None else _DUMMY_HASH
    ok = await asyncio.to_thread(verify_password, password, stored)
    if not ok or user is None or not user.active:
        return None
    return Actor(user.id, user.name, user.role)


async def create_token(
    db: Database,
    name: str,
    *,
    label: str = "",
    days: int = TOKEN_DAYS,
    by: str = "cli",
) -> str:
    """A new API token for an active user, named ``label`` and valid for ``days``;
    only its SHA-256 is kept."""
    label = " ".join(label.split()) or f"令牌 {utcnow():%Y-%m-%d}"
    if len(label) > MAX_TOKEN_NAME_CHARS:
        raise InvalidInput(f"令牌名称最多 {MAX_TOKEN_NAME_CHARS} 个字符")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidInput(f"有效期要在 1 到 {MAX_TOKEN_DAYS} 天之间")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    async with db.session() as session:
        user = await _active_user(session, name)
        session.add(
            ApiToken(
                user_id=user.id,
                name=label,
                token_hash=digest(token),
                created_at=now,
                expires_at=now + timedelta(days=days),
            )
        )
        record(session, by, "token_create", f"user:{name}", token=label, days=days)
    return token


async def list_tokens(db: Database, actor: Actor) -> list[TokenView]:
    """Every API token, live ones first, newest first."""
    require(actor, "manage_users")
    now = utcnow()
    async with db.session() as session:
        rows = (
            await session.execute(
                select(ApiToken, ConsoleUser.name)
                .join(ConsoleUser, ConsoleUser.id == ApiToken.user_id)
                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
            )
        ).all()
    views = [_token_view(token, user, now) for token, user in rows]
    return sorted(views, key=lambda t: not t.live)  # stable: newest first within each


async def revoke_token(db: Database, actor: Actor, token_id: int) -> TokenView:
    """Revoke one token at once (revoking a revoked token changes nothing)."""
    require(actor, "manage_users")
    now = utcnow()
    async with db.session() as session:
        row = (
            await session.execute(
                select(ApiToken, ConsoleUser.name)
                .join(ConsoleUser, ConsoleUser.id == ApiToken.user_id)
                .where(ApiToken.id == token_id)
            )
        ).first()
        if row is None:
            raise NotFound(f"没有编号为 {token_id} 的令牌")
        token, user = row
        if token.revoked_at is None:
            token.revoked_at = now
            record(session, actor.name, "token_revoke", f"user:{user}", token=token.name)
    return _token_view(token, user, now)


def _token_view(token: ApiToken, user: str, now: datetime) -> TokenView:
    return TokenView(
        id=token.id,
        user=user,
        name=token.name,
        created_at=aware(token.created_at),
        expires_at=aware(token.expires_at),
        revoked_at=aware(token.revoked_at) if token.revoked_at else None,
        last_used_at=aware(token.last_used_at) if token.last_used_at else None,
        now=now,
    )


async def actor_for_token(db: Database, token: str) -> Actor | None:
    """The user of a live API token of an active user, or None; notes its use (once a minute)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    now = utcnow()
    async with db.session() as session:
        row = (
            await session.execute(
                select(ApiToken, ConsoleUser)
                .join(ConsoleUser, ConsoleUser.id == ApiToken.user_id)
                .where(
                    ApiToken.token_hash == digest(token),
                    ApiToken.revoked_at.is_(None),
                    ApiToken.expires_at > now,
                    ConsoleUser.active.is_(True),
                )
            )
        ).first()
        if row is None:
            return None
        api_token, user = row
        last = api_token.last_used_at
        # Written at most once a minute: a busy client must not turn reads into writes.
        if last is None or now - aware(last) > timedelta(minutes=1):
            api_token.last_used_at = now
    return Actor(user.id, user.name, user.role)


async def start_session(db: Database, actor: Actor, *, renewal: bool = False) -> tuple[str, str]:
    """A new session: (cookie value, CSRF token). Expired sessions are cleared on the way.
    ``renewal``: the browser was signed in already (after a password change): no "login"."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    async with db.session() as session:
        await session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
        session.add(
            ConsoleSession(
                id_hash=digest(cookie),
                user_id=actor.user_id,
                csrf_token=csrf,
                expires_at=now + timedelta(hours=SESSION_HOURS),
            )
        )
        if not renewal:
            record(session, actor.name, "login", f"user:{actor.name}")
    return cookie, csrf


async def session_for(db: Database, cookie: str) -> SessionInfo | None:
    """The signed-in user and CSRF token of an unexpired session cookie, or None."""
    return (await session_with(db, cookie))[0]


async def session_with(
    db: Database, cookie: str, also: ScalarSelect | None = None
) -> tuple[SessionInfo | None, Any]:
    """``session_for``, and the value of ``also`` read in the same statement (a
    console page's session and the count its banner shows: one round trip to the
    database instead of two). The value is None without a session."""
    if not cookie:
        return None, None
    columns: list[Any] = [ConsoleSession, ConsoleUser]
    if also is not None:
        columns.append(also)
    async with db.session() as session:
        row = (
            await session.execute(
                select(*columns)
                .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
                .where(ConsoleSession.id_hash == digest(cookie), ConsoleUser.active.is_(True))
            )
        ).first()
    if row is None or aware(row[0].expires_at) <= utcnow():
        return None, None
    stored, user = row[0], row[1]
    info = SessionInfo(Actor(user.id, user.name, user.role), stored.csrf_token)
    return info, row[2] if also is not None else None


async def end_session(db: Database, cookie: str) -> None:
    async with db.session() as session:
        await session.execute(
            delete(ConsoleSession).where(ConsoleSession.id_hash == digest(cookie))
        )


async def list_users(db: Database, actor: Actor) -> list[UserView]:
    require(actor, "manage_users")
    async with db.session() as session:
        rows = (await session.execute(select(ConsoleUser).order_by(ConsoleUser.name))).scalars()
        return [UserView(u.id, u.name, u.role, u.active, aware(u.created_at)) for u in rows]


async def active_names(db: Database) -> list[str]:
    """Who a claim can be assigned to."""
    async with db.session() as session:
        rows = await session.execute(
            select(ConsoleUser.name).where(ConsoleUser.active.is_(True)).order_by(ConsoleUser.name)
        )
        return list(rows.scalars())


async def add_user_as(db: Database, actor: Actor, name: str, role: str) -> str:
    """``add_user`` for an admin in the console."""
    require(actor, "manage_users")
    return await add_user(db, name, role, by=actor.name)


async def set_role(db: Database, actor: Actor, name: str, role: str) -> None:
    require(actor, "manage_users")
    _check_name_and_role(name, role)
    async with db.session() as session:
        user = await _user(session, name)
        if user.role != role:
            before, user.role = user.role, role
            record(session, actor.name, "user_role", f"user:{name}", before=before, after=role)


async def set_active(db: Database, actor: Actor, name: str, active: bool) -> None:
    """Switch a user on or off; switching off ends their sessions (not oneself)."""
    require(actor, "manage_users")
    if name == actor.name and not active:
        raise InvalidInput("不能停用自己的账号")
    async with db.session() as session:
        user = await _user(session, name)
        if user.active != active:
            user.active = active
            if not active:
                await session.execute(
                    delete(ConsoleSession).where(ConsoleSession.user_id == user.id)
                )
            record(session, actor.name, "user_active", f"user:{name}", active=active)


async def reset_password(db: Database, actor: Actor, name: str) -> str:
    """A new one-time password for ``name``; their open sessions end and their API
    tokens are revoked (whoever had the old password may have made or seen them)."""
    require(actor, "manage_users")
    password = new_password()
    hashed = await asyncio.to_thread(hash_password, password)
    async with db.session() as session:
        user = await _user(session, name)
        user.password_hash = hashed
        await session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
        revoked = await session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        record(session, actor.name, "user_password_reset", f"user:{name}", tokens=rowcount(revoked))
    return password


async def change_password(db: Database, actor: Actor, current: str, new: str) -> bool:
    """Change one's own password; False when ``current`` is wrong. Every session of
    the user ends, the caller's too: the console starts a new one for the caller."""
    if len(new) < MIN_PASSWORD_CHARS:
        raise InvalidInput(f"新密码至少 {MIN_PASSWORD_CHARS} 个字符")
    if await authenticate(db, actor.name, current) is None:
        return False
    hashed = await asyncio.to_thread(hash_password, new)
    async with db.session() as session:
        user = await _user(session, actor.name)
        user.password_hash = hashed
        await session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
        record(session, actor.name, "password_change", f"user:{actor.name}")
    return True


async def _user(session: AsyncSession, name: str) -> ConsoleUser:
    user: ConsoleUser | None = (
        await session.execute(select(ConsoleUser).where(ConsoleUser.name == name))
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"没有这个用户：{clip(name)}")
    return user


async def _active_user(session: AsyncSession, name: str) -> ConsoleUser:
    user = await _user(session, name)
    if not user.active:
        raise InvalidInput(f"用户 {name} 已停用")
    return user
