"""Finding 3: console sign-in throttling that cannot lock the real user out, and the
real client address behind trusted proxies for every limiter."""

from __future__ import annotations

import pytest

from bot.net.proxies import client_of
from bot.settings import Settings, SettingsError, parse_networks
from bot.web import keys
from bot.web.login_throttle import CLIENT_GRACE, FREE_FAILURES, MAX_PAUSE, LoginThrottle
from tests.bot.web.console_support import CSRF_FIELD
from tests.security.conftest import Clock

ATTACKER = "203.0.113.7"
ADMIN_HOME = "198.51.100.20"
OTHER = "192.0.2.9"


async def attempt(client, name: str, password: str, address: str | None = None):
    """One sign-in through the form (a fresh browser), as ``address`` via the proxy."""
    headers = {"X-Forwarded-For": address} if address else {}
    client.session.cookie_jar.clear()
    page = await client.get("/console/login", headers=headers)
    token = CSRF_FIELD.search(await page.text()).group(1)
    resp = await client.post(
        "/console/login",
        data={"csrf": token, "name": name, "password": password},
        headers=headers,
        allow_redirects=False,
    )
    await resp.read()
    return resp


async def test_posts_that_fail_the_csrf_check_cost_nobody_an_attempt(make_client) -> None:
    client = await make_client()
    admin = client.staff["admin"]
    for _ in range(3):
        for data in ({}, {"csrf": ""}, {"csrf": "forged", "name": "admin", "password": "x"}):
            resp = await client.post("/console/login", data=data, allow_redirects=False)
            assert resp.status == 403
    throttle = client.app[keys.LOGIN_THROTTLE]
    assert throttle.clients.count("127.0.0.1") == 0 and throttle.accounts.count("admin") == 0
    resp = await attempt(client, "admin", admin.password)
    assert resp.status == 303 and resp.headers["Location"] == "/console/"


async def test_a_flood_of_guesses_cannot_lock_the_admin_out_from_elsewhere(
    make_client, clock: Clock
) -> None:
    client = await make_client(trusted_proxies="127.0.0.1")
    admin, mod = client.staff["admin"], client.staff["moderator"]
    throttle = client.app[keys.LOGIN_THROTTLE]
    statuses = [(await attempt(client, "admin", f"guess-{i}", ATTACKER)).status for i in range(6)]
    assert statuses == [401] * 5 + [429]
    # The attacker keeps at it for an hour, one guess a minute.
    for i in range(60):
        clock.now += 60
        resp = await attempt(client, "admin", f"guess-{i}", ATTACKER)
        assert resp.status in (401, 429)
        if resp.status == 429:
            assert 1 <= int(resp.headers["Retry-After"]) <= MAX_PAUSE
    assert throttle.accounts.count("admin") >= 10 and throttle.accounts.pause("admin") > 60
    assert (await attempt(client, "admin", admin.password, ATTACKER)).status == 429

    # The real admin, from home, signs in at once.
    resp = await attempt(client, "admin", admin.password, ADMIN_HOME)
    assert resp.status == 303 and "kepu_console" in resp.cookies
    assert throttle.accounts.count("admin") == 0  # a correct password clears the count

    # A flood from many addresses (each pauses only itself after FREE_FAILURES):
    # an address that has failed CLIENT_GRACE times now waits for the account ...
    bots = [f"203.0.113.{100 + n}" for n in range(8)]
    for bot in bots:
        for i in range(CLIENT_GRACE):
            assert (await attempt(client, "admin", f"bot-{i}", bot)).status == 401
    assert (await attempt(client, "admin", "one-more", bots[0])).status == 429
    for i in range(CLIENT_GRACE):
        assert (await attempt(client, "nobody", f"x{i}", OTHER)).status == 401
    resp = await attempt(client, "admin", admin.password, OTHER)
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    assert "尝试次数太多" in await resp.text()
    # ... but the lock is the account's: that client signs in to another account.
    assert (await attempt(client, "mod", mod.password, OTHER)).status == 303


async def test_each_client_has_its_own_limit(make_client) -> None:
    client = await make_client(trusted_proxies="127.0.0.1")
    for i in range(5):
        assert (await attempt(client, "expert", f"guess-{i}", ATTACKER)).status == 401
    assert (await attempt(client, "expert", "guess", ATTACKER)).status == 429
    # Someone else's wrong password is answered, not throttled: per client.
    assert (await attempt(client, "mod", "typo", OTHER)).status == 401
    assert (await attempt(client, "mod", client.staff["moderator"].password, OTHER)).status == 303


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(make_client) -> None:
    client = await make_client()  # no trusted proxies: the peer is the client
    statuses = [
        (await attempt(client, "expert", "guess", f"198.51.100.{i}")).status for i in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    throttle = client.app[keys.LOGIN_THROTTLE]
    assert throttle.clients.count("127.0.0.1") == 5
    assert throttle.clients.count("198.51.100.1") == 0


async def test_every_limiter_sees_the_real_client(make_client) -> None:
    client = await make_client(trusted_proxies="127.0.0.1", api_rate_per_minute=3)  # bursts of 1

    async def check(address: str) -> int:
        resp = await client.post(
            "/api/v1/fraud/check",
            json={"text": "你好，明天一起吃饭"},
            headers={"X-Forwarded-For": f"6.6.6.6, {address}"},  # the left one is forged
        )
        return resp.status

    assert [await check("198.51.100.1"), await check("198.51.100.1")] == [200, 429]
    assert await check("198.51.100.2") == 200


async def test_without_trusted_proxies_the_api_limit_is_the_peers(make_client) -> None:
    client = await make_client(api_rate_per_minute=3)
    statuses = [
        (
            await client.post(
                "/api/v1/fraud/check",
                json={"text": "你好"},
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
            )
        ).status
        for i in range(2)
    ]
    assert statuses == [200, 429]


def test_the_client_is_the_right_most_untrusted_hop() -> None:
    nets = parse_networks("127.0.0.1, 10.0.0.0/8, ::1")
    assert client_of("127.0.0.1", ["6.6.6.6, 198.51.100.1"], nets) == "198.51.100.1"
    assert client_of("127.0.0.1", ["198.51.100.1, 10.0.0.5"], nets) == "198.51.100.1"
    assert client_of("127.0.0.1", ["6.6.6.6", "198.51.100.2"], nets) == "198.51.100.2"
    assert client_of("::1", ["[2001:db8::7]:443"], nets) == "2001:db8::7"
    assert client_of("::ffff:127.0.0.1", ["198.51.100.3:5050"], nets) == "198.51.100.3"
    # Untrusted peer: whatever it claims, it is the client.
    assert client_of("203.0.113.1", ["198.51.100.1"], nets) == "203.0.113.1"
    # A trusted peer without the header, or whose chain is all trusted or garbage.
    assert client_of("127.0.0.1", [], nets) == "127.0.0.1"
    assert client_of("127.0.0.1", ["10.1.1.1, 10.0.0.5"], nets) == "10.1.1.1"
    assert client_of("127.0.0.1", ["198.51.100.9, garbage, 10.0.0.5"], nets) == "10.0.0.5"


def test_a_bad_trusted_proxy_stops_the_start() -> None:
    for bad in ("10.0.0.0/33", "proxy.example", "1.2.3"):
        with pytest.raises(SettingsError, match="KEPU_TRUSTED_PROXIES"):
            Settings.from_env({"KEPU_TRUSTED_PROXIES": bad})
    assert (
        len(Settings.from_env({"KEPU_TRUSTED_PROXIES": "127.0.0.1,10.0.0.0/8"}).proxy_networks) == 2
    )


def test_the_pause_grows_is_capped_and_is_forgotten() -> None:
    clock = Clock()
    throttle = LoginThrottle(per_minute=10_000, burst=10_000, clock=clock)
    pauses = []
    for _ in range(FREE_FAILURES + 12):
        assert throttle.wait("c", "acct") == 0.0
        throttle.failed("c", "acct")
        pauses.append(throttle.clients.pause("c"))
        clock.now += pauses[-1]
    assert pauses[: FREE_FAILURES - 1] == [0.0] * (FREE_FAILURES - 1)
    assert pauses[FREE_FAILURES - 1 : FREE_FAILURES + 4] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert pauses[-1] == MAX_PAUSE
    assert throttle.wait("c", "acct") == 0.0 and throttle.wait("d", "acct") == 0.0
    throttle.failed("c", "acct")
    assert throttle.wait("c", "acct") == MAX_PAUSE
    assert throttle.wait("fresh", "acct") == 0.0  # a clean client tries the password
    clock.now += 3601
    assert throttle.clients.count("c") == 0 and throttle.accounts.count("acct") == 0
    throttle.failed("c", "acct")
    throttle.succeeded("c", "acct")
    assert throttle.clients.count("c") == 0 and throttle.accounts.count("acct") == 0
