"""Finding 10: no version banners, the same security headers on every response (the
router's 404/405 and error pages included), cookies Secure when the public URL is https."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from bench.ports import free_port
from bot.fraud.checker import default_checker
from bot.knowledge.service import KnowledgeService
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.middlewares import SECURITY_HEADERS
from tests.bot.web.console_support import CSRF_FIELD, login


def assert_safe_headers(resp, where: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        if name == "Content-Security-Policy" and where.startswith("/console/evidence/"):
            continue  # pictures carry a stricter one of their own
        assert resp.headers.get(name) == value, (where, resp.status, name)
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    server = resp.headers.get("Server", "")
    assert server == "kepu", (where, server)


async def test_every_kind_of_response_carries_the_headers(make_client, fake_rasa) -> None:
    client = await make_client(rasa_url=fake_rasa)
    bearer = {"Authorization": f"Bearer {client.staff['admin'].token}"}
    cases = [
        ("GET", "/", {}, 200),
        ("GET", "/healthz", {}, 200),
        ("GET", "/readyz", {}, 200),
        ("GET", "/static/chat.css", {}, 200),
        ("GET", "/no-such-page", {}, 404),
        ("GET", "/static/no-such-file.css", {}, 404),
        ("GET", "/api/v1/no-such-thing", {}, 404),
        ("PUT", "/healthz", {}, 405),
        ("DELETE", "/api/v1/ask", {}, 405),
        ("GET", "/api/v1/claims", {}, 401),
        ("GET", "/api/v1/claims/1", bearer, 404),
        ("GET", "/api/v1/claims/99999999999999999999", bearer, 400),
        ("GET", "/console/", {}, 303),
        ("GET", "/console/login", {}, 200),
        ("POST", "/console/login", {}, 403),
        ("POST", "/console/claims/1/status", {}, 403),
    ]
    for method, path, headers, status in cases:
        resp = await client.request(method, path, headers=headers, allow_redirects=False)
        await resp.read()
        assert resp.status == status, (method, path, resp.status)
        assert_safe_headers(resp, path)
    resp = await client.post("/api/v1/ask", data=b"x" * 70_000)
    assert resp.status == 413 and "太长" in (await resp.json())["error"]
    assert_safe_headers(resp, "/api/v1/ask")
    resp = await client.delete("/api/v1/ask")
    assert resp.headers["Allow"] == "POST" and "不支持" in (await resp.json())["error"]

    await login(client, client.staff["admin"])
    for path, status in (("/console/no-such-page", 404), ("/console/claims/12345", 404)):
        resp = await client.get(path)
        body = await resp.text()
        assert resp.status == status and "操作没有完成" in body, path
        assert resp.headers["Cache-Control"] == "no-store"
        assert_safe_headers(resp, path)
    resp = await client.put("/console/users")
    assert resp.status == 405 and "不支持这种请求方式" in await resp.text()
    assert resp.headers["Allow"] in ("GET,HEAD,POST", "POST,GET,HEAD", "GET,POST,HEAD")
    assert_safe_headers(resp, "/console/users")


async def test_an_unexpected_error_is_a_short_page_with_the_headers(
    aiohttp_client, tmp_path: Path
) -> None:
    (tmp_path / "kb").mkdir()
    settings = Settings(var_dir=tmp_path, rasa_url=f"http://127.0.0.1:{free_port()}")
    app = create_app(settings, knowledge=KnowledgeService(tmp_path / "kb"), fraud=default_checker())

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("secret detail /srv/kepu/bot/web/views.py line 12")

    app.router.add_get("/api/v1/broken", broken)
    app.router.add_get("/broken", broken)
    client = await aiohttp_client(app)
    for path in ("/api/v1/broken", "/broken"):
        resp = await client.get(path)
        body = await resp.text()
        assert resp.status == 500 and "secret" not in body and "Traceback" not in body
        assert (await resp.json())["error"] == "系统出了点问题，请稍后再试。"
        assert_safe_headers(resp, path)


async def test_a_malformed_request_names_no_software(console_client) -> None:
    reader, writer = await asyncio.open_connection(
        console_client.server.host, console_client.server.port
    )
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
    await writer.drain()
    head = (await asyncio.wait_for(reader.read(4096), 5)).decode("latin-1")
    writer.close()
    assert head.startswith("HTTP/1.") and " 400 " in head.split("\r\n", 1)[0]
    assert "Server: kepu\r\n" in head
    assert "aiohttp" not in head and "Python" not in head


async def cookies_after_chat_and_sign_in(client, headers: dict[str, str] | None = None):
    """(chat cookie, login-form cookie, console session cookie) as the app set them."""
    headers = headers or {}
    chat = await client.post("/api/v1/chat", json={"message": "你好"}, headers=headers)
    assert chat.status == 200
    page = await client.get("/console/login", headers=headers)
    token = CSRF_FIELD.search(await page.text()).group(1)
    form_cookie = page.cookies["kepu_login_csrf"]
    admin = client.staff["admin"]
    # By hand: a browser (and the test's cookie jar) keeps Secure cookies off plain http.
    resp = await client.post(
        "/console/login",
        data={"csrf": token, "name": admin.name, "password": admin.password},
        headers={**headers, "Cookie": f"kepu_login_csrf={form_cookie.value}"},
        allow_redirects=False,
    )
    assert resp.status == 303
    return chat.cookies["kepu_sid"], form_cookie, resp.cookies["kepu_console"]


async def test_cookies_are_secure_when_the_public_url_is_https(make_client, fake_rasa) -> None:
    client = await make_client(rasa_url=fake_rasa, public_url="https://kepu.example.cn")
    chat, form, console = await cookies_after_chat_and_sign_in(client)
    for cookie in (chat, form, console):
        assert cookie["secure"], cookie.key
        assert cookie["httponly"]
    assert chat["samesite"] == "Lax" and console["samesite"] == "Strict"


async def test_cookies_over_plain_http_are_not_secure(make_client, fake_rasa) -> None:
    client = await make_client(rasa_url=fake_rasa, public_url="http://192.0.2.1:8000")
    for cookie in await cookies_after_chat_and_sign_in(client):
        assert not cookie["secure"], cookie.key


async def test_a_trusted_proxy_that_saw_https_makes_cookies_secure(make_client, fake_rasa) -> None:
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.5"}
    client = await make_client(rasa_url=fake_rasa, trusted_proxies="127.0.0.1")
    for cookie in await cookies_after_chat_and_sign_in(client, https):
        assert cookie["secure"], cookie.key
    # The same header from anyone else is ignored.
    client = await make_client(rasa_url=fake_rasa)
    for cookie in await cookies_after_chat_and_sign_in(client, https):
        assert not cookie["secure"], cookie.key
