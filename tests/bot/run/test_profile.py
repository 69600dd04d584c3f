"""The production profile's endpoints and connection budget (bot/run/profile.py)."""

from __future__ import annotations

import pytest
import yaml

from bot.run.profile import check_connection_budget, endpoints, rasa_pool_env, write_endpoints
from bot.settings import Settings, SettingsError
from bot.storage.db import Database
from tests.conftest import service_absent

PRODUCTION = {
    "KEPU_TRACKER_URL": "postgresql://kepu:s3cret%21@db.internal:5433/conversations",
    "KEPU_REDIS_URL": "redis://:r3dis@cache.internal:6380/2",
    "KEPU_DATABASE_URL": "postgresql+asyncpg://kepu:s3cret%21@db.internal:5433/kepu",
    "KEPU_RASA_INSTANCES": "3",
}


def test_embedded_profile_uses_the_default_file(tmp_path) -> None:
    path, env = write_endpoints(Settings(var_dir=tmp_path))
    assert path.name == "endpoints.yml" and path.parent.name == "bot" and env == {}


def test_production_endpoints_name_servers_but_keep_passwords_in_the_environment(
    tmp_path,
) -> None:
    settings = Settings.from_env({**PRODUCTION, "KEPU_VAR_DIR": str(tmp_path)})
    path, env = write_endpoints(settings)
    text = path.read_text(encoding="utf-8")
    assert "s3cret" not in text and "r3dis" not in text
    config = yaml.safe_load(text)
    assert config["tracker_store"] == {
        "type": "bot.channels.tracker_store.WindowedSQLTrackerStore",
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 5433,
        "db": "conversations",
        "username": "kepu",
        "password": "${KEPU_TRACKER_PASSWORD}",
    }
    assert config["lock_store"] == {
        "type": "bot.channels.locks.AtomicRedisLockStore",
        "url": "cache.internal",
        "port": 6380,
        "db": 2,
        "key_prefix": "kepu",
        "password": "${KEPU_REDIS_PASSWORD}",
    }
    assert env == {"KEPU_TRACKER_PASSWORD": "s3cret!", "KEPU_REDIS_PASSWORD": "r3dis"}
    assert config["action_endpoint"] == endpoints(Settings())[0]["action_endpoint"]


async def test_pools_are_counted_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**PRODUCTION, "KEPU_DB_POOL_SIZE": "4", "KEPU_DB_MAX_OVERFLOW": "3"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env(env)
    # The pools the processes really build: our tables' engine (every process)…
    db = Database(env["KEPU_DATABASE_URL"])  # an engine connects on first use only
    try:
        ours = db.engine.pool.size() + db.engine.pool._max_overflow
    finally:
        await db.close()
    # …and Rasa's tracker-store pool, sized by the variables Rasa reads.
    rasa = rasa_pool_env(settings)
    tracker = int(rasa["SQL_POOL_SIZE"]) + int(rasa["SQL_MAX_OVERFLOW"])
    assert (ours, tracker) == (7, 7)
    # …and the analytics writer's single connection (bot.channels.analytics).
    writer = Database(env["KEPU_DATABASE_URL"], pool_size=1)
    try:
        single = writer.engine.pool.size() + writer.engine.pool._max_overflow
    finally:
        await writer.close()
    assert single == 1
    # KEPU_RASA_INSTANCES=3 Rasa processes (tracker store + our tables + the
    # analytics writer), the action server and the web service (our tables):
    # 8 pools of 4 + 3 and 3 single connections.
    assert settings.connections_needed() == 3 * (tracker + ours + single) + 2 * ours == 59
    assert Settings().connections_needed() == 0  # SQLite only: no server to connect to


def test_several_rasa_processes_need_shared_stores() -> None:
    with pytest.raises(SettingsError, match="KEPU_REDIS_URL"):
        Settings.from_env(
            {"KEPU_RASA_INSTANCES": "2", "KEPU_TRACKER_URL": PRODUCTION["KEPU_TRACKER_URL"]}
        )
    with pytest.raises(SettingsError, match="postgresql"):
        Settings.from_env({"KEPU_TRACKER_URL": "mysql://x@y/z"})


async def test_the_budget_is_checked_against_the_real_server() -> None:
    import asyncpg

    try:
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test", timeout=3)
    except OSError as exc:
        service_absent(f"PostgreSQL is not running at 127.0.0.1:5432: {exc}")
    limit = int(await conn.fetchval("SHOW max_connections"))
    await conn.close()
    url = "postgresql://postgres@127.0.0.1:5432/test"
    fits = Settings.from_env({"KEPU_TRACKER_URL": url, "KEPU_DB_POOL_SIZE": "2"})
    assert await check_connection_budget(fits) is None
    too_many = Settings.from_env(
        {"KEPU_TRACKER_URL": url, "KEPU_DB_POOL_SIZE": str(limit), "KEPU_DB_MAX_OVERFLOW": "0"}
    )
    refusal = await check_connection_budget(too_many)
    assert refusal and f"allows {limit}" in refusal
