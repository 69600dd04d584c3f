"""Sender-sticky routing in front of several Rasa processes (bot/router.py)."""

from __future__ import annotations

import json

from aiohttp import web

from bot.router import INSTANCE_HEADER, create_router, ranked, sender_of


def test_the_sender_is_read_from_each_kind_of_request() -> None:
    rest = json.dumps({"sender": "u1", "message": "你好"}).encode()
    assert sender_of("/webhooks/rest/webhook", {}, rest) == "u1"
    assert sender_of("/webhooks/rest/webhook", {}, b"not json") is None
    assert sender_of("/webhooks/wechat/webhook", {"openid": "oX"}, b"<xml/>") == "oX"
    plain = b"<xml><FromUserName><![CDATA[oPlain]]></FromUserName></xml>"
    assert sender_of("/webhooks/wechat/webhook", {}, plain) == "oPlain"
    assert sender_of("/conversations/u%202/tracker", {}, b"") == "u 2"
    assert sender_of("/webhooks/wecom/webhook", {}, b"<xml><Encrypt>..</Encrypt></xml>") is None


def test_rendezvous_hashing_moves_only_the_senders_of_a_lost_instance() -> None:
    backends = ["http://a", "http://b", "http://c"]
    senders = [f"user-{n}" for n in range(300)]
    before = {s: ranked(s, backends)[0] for s in senders}
    after = {s: ranked(s, backends[:2])[0] for s in senders}
    moved = [s for s in senders if before[s] != after[s]]
    assert moved and all(before[s] == "http://c" for s in moved)
    assert {before[s] for s in senders} == set(backends)  # all of them take senders


async def test_requests_go_to_the_senders_instance_and_fail_over(aiohttp_client) -> None:
    seen: list[tuple[str, str]] = []

    def backend(name: str) -> web.Application:
        async def webhook(request: web.Request) -> web.Response:
            body = await request.json()
            seen.append((name, body["sender"]))
            return web.json_response([{"text": f"{name}:{body['message']}"}])

        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", webhook)
        return app

    one = await aiohttp_client(backend("one"))
    two = await aiohttp_client(backend("two"))
    urls = [str(one.make_url("")).rstrip("/"), str(two.make_url("")).rstrip("/")]
    client = await aiohttp_client(create_router(urls, 65536))

    async def say(sender: str) -> tuple[str, str]:
        resp = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "hi"})
        assert resp.status == 200
        return (await resp.json())[0]["text"], resp.headers[INSTANCE_HEADER]

    # The test servers' ports are random, so is the hashing: take the first
    # three senders each instance owns, so that both are seen to take senders.
    owner = {s: ranked(s, urls)[0] for s in (f"user-{n}" for n in range(200))}
    owned = {url: [s for s in owner if owner[s] == url][:3] for url in urls}
    senders = owned[urls[0]] + owned[urls[1]]
    for sender in senders:
        first = await say(sender)
        assert await say(sender) == first  # sticky
        assert first[0] == ("one:hi" if owner[sender] == urls[0] else "two:hi")
    assert {name for name, _ in seen} == {"one", "two"}

    await two.close()  # an instance goes away: its senders are served by the other
    for sender in senders:
        text, instance = await say(sender)
        assert text == "one:hi" and instance == "1"
    await one.close()
    resp = await client.post("/webhooks/rest/webhook", json={"sender": "a", "message": "hi"})
    assert resp.status == 200 and "系统正忙" in (await resp.json())[0]["text"]


async def test_the_router_is_ready_when_every_instance_is(aiohttp_client) -> None:
    warm = {"one": True, "two": False}

    def backend(name: str) -> web.Application:
        async def root(request: web.Request) -> web.Response:
            return web.Response(text="ok") if warm[name] else web.Response(status=503)

        async def webhook(request: web.Request) -> web.Response:
            return web.json_response([{"text": name}])

        app = web.Application()
        app.router.add_get("/", root)
        app.router.add_post("/webhooks/rest/webhook", webhook)
        return app

    one = await aiohttp_client(backend("one"))
    two = await aiohttp_client(backend("two"))
    urls = [str(c.make_url("")).rstrip("/") for c in (one, two)]
    client = await aiohttp_client(create_router(urls, 65536))
    resp = await client.get("/")
    assert (resp.status, await resp.text()) == (503, "waiting for instance 2")
    # Still a proxy for everything else, the webhooks on "/…" included.
    resp = await client.post("/webhooks/rest/webhook", json={"sender": "a", "message": "hi"})
    assert resp.status == 200
    warm["two"] = True
    resp = await client.get("/")
    assert (resp.status, await resp.text()) == (200, "ok")
    assert (await client.head("/")).status == 200
    await two.close()
    assert (await client.get("/")).status == 503
