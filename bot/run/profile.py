"""Embedded or production profile: where Rasa keeps conversations and locks.

Embedded (the default, ``make run``): ``bot/endpoints.yml`` — conversations in
SQLite under ``var/``, in-memory locks, one Rasa process.

Production: ``KEPU_TRACKER_URL`` (PostgreSQL) and ``KEPU_REDIS_URL`` (Redis).
``kepu run`` then writes ``<var>/endpoints.yml`` with the same action endpoint
and tracker store class, the PostgreSQL connection and a Redis lock store;
passwords stay in the environment (``${KEPU_TRACKER_PASSWORD}``,
``${KEPU_REDIS_PASSWORD}``, expanded by Rasa), never in the file. Pools are
sized by ``KEPU_DB_POOL_SIZE`` / ``KEPU_DB_MAX_OVERFLOW`` and their sum is
checked against the server's ``max_connections`` before anything starts.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from bot.settings import PROJECT_ROOT, Settings

DEFAULT_ENDPOINTS = PROJECT_ROOT / "bot" / "endpoints.yml"
# Connections PostgreSQL keeps for superusers, plus our own one-off commands.
RESERVED_CONNECTIONS = 5


def tracker_store_config(url: str, store_type: str) -> tuple[dict, dict[str, str]]:
    """Rasa's tracker store settings for a postgresql:// URL, and the env they reference."""
    parts = urlsplit(url)
    config: dict = {
        "type": store_type,
        "dialect": "postgresql",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "db": unquote(parts.path.lstrip("/")) or "kepu",
    }
    env: dict[str, str] = {}
    if parts.username:
        config["username"] = unquote(parts.username)
    if parts.password:
        config["password"] = "${KEPU_TRACKER_PASSWORD}"
        env["KEPU_TRACKER_PASSWORD"] = unquote(parts.password)
    return config, env


def lock_store_config(url: str) -> tuple[dict, dict[str, str]]:
    parts = urlsplit(url)
    db = parts.path.lstrip("/")
    config: dict = {
        # Rasa's Redis lock store, with its ticket changes made atomic (two instances
        # serving one sender could otherwise undo each other's changes).
        "type": "bot.channels.locks.AtomicRedisLockStore",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 6379,
        "db": int(db) if db.isdigit() else 0,
        "key_prefix": "kepu",
    }
    env: dict[str, str] = {}
    if parts.password:
        config["password"] = "${KEPU_REDIS_PASSWORD}"
        env["KEPU_REDIS_PASSWORD"] = unquote(parts.password)
    return config, env


def endpoints(settings: Settings) -> tuple[dict, dict[str, str]]:
    """The endpoints Rasa reads, and the variables they reference."""
    config = yaml.safe_load(DEFAULT_ENDPOINTS.read_text(encoding="utf-8"))
    env: dict[str, str] = {}
    if settings.tracker_url:
        store_type = config["tracker_store"]["type"]
        config["tracker_store"], more = tracker_store_config(settings.tracker_url, store_type)
        env.update(more)
    if settings.redis_url:
        config["lock_store"], more = lock_store_config(settings.redis_url)
        env.update(more)
    return config, env


def write_endpoints(settings: Settings) -> tuple[Path, dict[str, str]]:
    """The endpoints file for Rasa (the default one in the embedded profile)."""
    if not (settings.tracker_url or settings.redis_url):
        return DEFAULT_ENDPOINTS, {}
    config, env = endpoints(settings)
    source = "bot/endpoints.yml and KEPU_TRACKER_URL / KEPU_REDIS_URL"
    return write_rasa_file(settings, "endpoints.yml", source, config), env


def write_rasa_file(settings: Settings, name: str, source: str, data: dict) -> Path:
    """``<var>/<name>``: a file Rasa reads, generated from ``source`` by `kepu run`."""
    path = settings.var_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"# Written by `kepu run` from {source};\n"
        "# Rasa expands the ${...} references, so no secret is stored here.\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return path


def rasa_pool_env(settings: Settings) -> dict[str, str]:
    """Rasa sizes its PostgreSQL pool from these (its defaults, 50 + 100, exceed a server)."""
    return {
        "SQL_POOL_SIZE": str(settings.db_pool_size),
        "SQL_MAX_OVERFLOW": str(settings.db_max_overflow),
    }


async def check_connection_budget(settings: Settings) -> str | None:
    """A reason not to start if the pools could exceed the server's ``max_connections``."""
    needed = settings.connections_needed()
    url = settings.tracker_url or (
        settings.database_url if settings.database_url.startswith("postgresql") else ""
    )
    if not needed or not url:
        return None
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        limit = int(await conn.fetchval("SHOW max_connections"))
    finally:
        await conn.close()
    if needed + RESERVED_CONNECTIONS > limit:
        return (
            f"the connection pools may open {needed} PostgreSQL connections, but the server "
            f"allows {limit} ({RESERVED_CONNECTIONS} kept free): lower KEPU_DB_POOL_SIZE / "
            f"KEPU_DB_MAX_OVERFLOW / KEPU_RASA_INSTANCES or raise max_connections"
        )
    return None


def create_tracker_tables(settings: Settings) -> None:
    """Create the tracker store's tables once, before several Rasa processes start
    (each would otherwise race to create them)."""
    if not settings.tracker_url:
        return
    from bot.channels.tracker_store import WindowedSQLTrackerStore

    config, env = tracker_store_config(settings.tracker_url, "")
    config.pop("type")
    if "password" in config:
        config["password"] = env["KEPU_TRACKER_PASSWORD"]
    config["host"] = config.pop("url")
    store = WindowedSQLTrackerStore(None, **config)
    store.engine.dispose()
