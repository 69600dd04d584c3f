"""The production profile for real: two Rasa processes behind the real nginx
(Debian's package; `kepu run` writes its configuration), conversations in
PostgreSQL, locks in Redis (127.0.0.1 on CI).

Started once for this module with ``kepu run`` (``KEPU_RASA_INSTANCES=2``),
with Redis reached through a proxy the tests can take down, and the WeChat
channel in plain mode so that WeChat's ``openid`` reaches nginx.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from bench.ports import free_port
from bench.wechat_platform import WeChatSigner
from bot.menu.pages import BUSY_REPLY
from bot.run import nginx
from bot.settings import Settings
from tests.bot.outage import ThreadedTcpProxy
from tests.conftest import SHARED_CACHE, port_open, service_absent
from tests.test_stack import start_stack, wait_for_stack

pytestmark = pytest.mark.stack
PG_ADMIN = os.environ.get("KEPU_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = ("127.0.0.1", 6379)
RECEIPT = "已收到，编号 R-"
ASK_WHERE = "1 微信群"
TRACKER_PASSWORD = "kepu-test-s3cret"


def _pg_admin():
    import psycopg2

    conn = psycopg2.connect(PG_ADMIN, connect_timeout=3)
    conn.autocommit = True
    return conn


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis(*REDIS, socket_connect_timeout=2).ping())
    except redis.exceptions.ConnectionError:
        return False


WECHAT_TOKEN = "kepuprodtoken"


def say(url: str, sender: str, text: str, timeout: float = 60) -> tuple[str, str]:
    """One REST turn: the reply text and the Rasa instance that answered."""
    body = json.dumps({"sender": sender, "message": text}).encode()
    req = urllib.request.Request(
        url + "/webhooks/rest/webhook", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        assert resp.status == 200
        messages = json.loads(resp.read())
        instance = resp.headers.get(nginx.INSTANCE_HEADER, "")
    return "\n".join(m.get("text") or "" for m in messages), instance


def wechat_say(url: str, signer: WeChatSigner, openid: str, text: str) -> tuple[bytes, str]:
    """One signed plain-mode WeChat message: the passive reply and the instance."""
    query, body = signer.request(openid, text)
    req = urllib.request.Request(
        f"{url}/webhooks/wechat/webhook?{urllib.parse.urlencode(query)}",
        body,
        {"Content-Type": "text/xml"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert resp.status == 200
        return resp.read(), resp.headers.get(nginx.INSTANCE_HEADER, "")


@pytest.fixture(scope="module")
def production(model_path: Path, tmp_path_factory: pytest.TempPathFactory):
    # Only an unreachable server skips (and fails under CI=true); a wrong password,
    # a missing database or a missing driver is an error of the test run.
    if not port_open("127.0.0.1", 5432):
        service_absent(f"PostgreSQL is not running at {PG_ADMIN}")
    if not _redis_answers():
        service_absent(f"Redis is not running at {REDIS[0]}:{REDIS[1]}")
    try:
        nginx.find_nginx()
    except nginx.NginxMissing as exc:
        service_absent(str(exc))
    admin = _pg_admin()
    name = f"kepu_prod_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    redis_proxy = ThreadedTcpProxy(*REDIS)
    redis_proxy.up()
    var = tmp_path_factory.mktemp("production-var")
    rasa_port = free_port()
    server = PG_ADMIN.rsplit("/", 1)[0]
    # A password in the tracker's URL (trust auth ignores it) must reach Rasa
    # through the environment only, never the endpoints file.
    tracker_server = server.replace("://postgres@", f"://postgres:{TRACKER_PASSWORD}@", 1)
    env = {
        **os.environ,
        "KEPU_VAR_DIR": str(var),
        "KEPU_CACHE_DIR": str(SHARED_CACHE),
        "KEPU_RASA_PORT": str(rasa_port),
        "KEPU_ACTIONS_PORT": str(free_port()),
        "KEPU_WEB_PORT": str(free_port()),
        "KEPU_RASA_INSTANCES": "2",
        "KEPU_TRACKER_URL": f"{tracker_server}/{name}",
        "KEPU_DATABASE_URL": f"{server}/{name}".replace("postgresql://", "postgresql+asyncpg://"),
        "KEPU_REDIS_URL": f"redis://127.0.0.1:{redis_proxy.port}/0",
        # Plain mode answers within the reply budget in the HTTP reply itself; the
        # message API (for late answers only) points at a closed port.
        "KEPU_WECHAT_TOKEN": WECHAT_TOKEN,
        "KEPU_WECHAT_APPID": "wxkepuprod",
        "KEPU_WECHAT_APPSECRET": "kepuprodsecret",
        "KEPU_WECHAT_MODE": "plain",
        "KEPU_WECHAT_API_BASE": f"http://127.0.0.1:{free_port()}",
    }
    proc, log = start_stack(model_path, env, var)
    proxy = f"http://127.0.0.1:{rasa_port}"
    try:
        wait_for_stack(proc, var, lambda: "科普助手已启动" in (var / "stack.log").read_text())
        # Each instance's first turns build its model's graphs: on a loaded machine
        # they can outlast Rasa's 60 s conversation lock. The tests are about what
        # warm instances do, so each answers a question and opens a form first.
        for i in (1, 2):
            url = f"http://127.0.0.1:{rasa_port + i}"
            warm = f"warm-{i}-{uuid.uuid4().hex[:6]}"
            for text in ("二化螟咋个防", "举报谣言", "菜单"):
                say(url, warm, text, timeout=300)
        yield {
            "proxy": proxy,
            "env": env,
            "admin": admin,
            "instances": [f"http://127.0.0.1:{rasa_port + i}" for i in (1, 2)],
            "redis": redis_proxy,
            "database": name,
            "var": var,
        }
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        log.close()
        redis_proxy.close()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_the_endpoints_keep_passwords_out_and_pools_small(production) -> None:
    written = (production["var"] / "endpoints.yml").read_text()
    assert "WindowedSQLTrackerStore" in written and "dialect: postgresql" in written
    assert "type: bot.channels.locks.AtomicRedisLockStore" in written
    assert TRACKER_PASSWORD in production["env"]["KEPU_TRACKER_URL"]
    assert TRACKER_PASSWORD not in written and "${KEPU_TRACKER_PASSWORD}" in written
    # After real turns, the connections the whole stack holds to its database
    # stay within the budget the profile checks against max_connections.
    for n in range(5):
        say(production["proxy"], f"pool-{n}-{uuid.uuid4().hex[:6]}", "二化螟咋个防")
    with production["admin"].cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (production["database"],)
        )
        (held,) = cur.fetchone()
    budget = Settings.from_env(production["env"]).connections_needed()
    assert 0 < held <= budget, (held, budget)


def test_a_form_spread_over_both_instances_keeps_its_state(production) -> None:
    first, second = production["instances"]
    sender = f"prod-{uuid.uuid4().hex}"
    assert "说法" in say(first, sender, "举报谣言")[0]
    assert ASK_WHERE in say(second, sender, "听说七星村下个月要拆迁 每家赔十万")[0]
    receipt, _ = say(first, sender, "4")
    assert RECEIPT in receipt, receipt
    import psycopg2

    dsn = PG_ADMIN.rsplit("/", 1)[0] + "/" + production["database"]
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*), min(seen_where) FROM rumor_reports")
        assert cur.fetchone() == (1, "village")
        cur.execute("SELECT count(*) FROM events WHERE sender_id = %s", (sender,))
        assert cur.fetchone()[0] > 6  # the conversation lives in PostgreSQL


def test_nginx_spreads_rest_turns_and_keeps_a_wechat_user_on_one_instance(production) -> None:
    conf = (production["var"] / "nginx" / "nginx.conf").read_text()
    assert "hash $arg_openid consistent;" in conf  # the file `kepu run` wrote is the one in use
    # REST requests carry no openid: round robin, so four in a row reach both instances.
    answered = [say(production["proxy"], f"rr-{uuid.uuid4().hex[:8]}", "你好") for _ in range(4)]
    assert sorted(instance for _, instance in answered) == ["1", "1", "2", "2"], answered
    assert all("1 手机使用" in reply for reply, _ in answered), answered
    # A WeChat user (nginx hashes the openid WeChat puts in the URL) stays on one
    # instance; 8 users all on one of two instances would be a 1 in 128 chance.
    signer = WeChatSigner(WECHAT_TOKEN)
    placed: dict[str, set[str]] = {}
    for n in range(8):
        openid = f"oProd{n}{uuid.uuid4().hex[:10]}"
        for text in ("你好", "2"):
            reply, instance = wechat_say(production["proxy"], signer, openid, text)
            assert b"<Content>" in reply, reply
            placed.setdefault(openid, set()).add(instance)
    log = (production["var"] / "stack.log").read_text(errors="replace")[-2000:]
    assert all(len(where) == 1 for where in placed.values()), (placed, log)
    assert {next(iter(w)) for w in placed.values()} == {"1", "2"}, (placed, log)


def test_two_concurrent_messages_of_one_sender_are_handled_in_order(production) -> None:
    first, second = production["instances"]
    sender = f"order-{uuid.uuid4().hex}"
    replies: dict[str, str] = {}

    def send(name: str, url: str, text: str) -> None:
        replies[name] = say(url, sender, text)[0]

    start = threading.Thread(target=send, args=("start", first, "举报谣言"))
    claim = threading.Thread(target=send, args=("claim", second, "听说明天全镇停电一整天"))
    start.start()
    time.sleep(0.05)  # the second arrives while the first is being handled elsewhere
    claim.start()
    start.join(60)
    claim.join(60)
    log = (production["var"] / "stack.log").read_text(errors="replace")[-3000:]
    assert "说法" in replies["start"], (replies, log)
    # Handled after the first (the Redis lock), so it is the claim the form asked for.
    assert ASK_WHERE in replies["claim"], (replies, log)


def test_with_redis_down_users_get_a_polite_reply_and_it_recovers(production) -> None:
    sender = f"redis-{uuid.uuid4().hex}"
    production["redis"].down()
    try:
        reply, _ = say(production["proxy"], sender, "你好")
        assert reply.startswith(BUSY_REPLY.split("\n")[0]), reply
    finally:
        production["redis"].up()
    reply, _ = say(production["proxy"], sender, "你好")
    assert "1 手机使用" in reply and "系统正忙" not in reply, reply
