"""Fixtures of the security tests: the web app from its factory, configured as a test
needs it (trusted proxies, public URL, a clock), and one console user per role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bench.ports import free_port
from bot.accounts.users import add_user, create_token
from bot.fraud.checker import default_checker
from bot.knowledge.service import KnowledgeService
from bot.settings import Settings
from bot.web import keys
from bot.web.app import create_app
from bot.web.login_throttle import LoginThrottle
from tests.bot.web.conftest import console_client, staff  # noqa: F401  (fixtures)
from tests.bot.web.console_support import Staff, database

MakeClient = Callable[..., Awaitable[TestClient]]


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_client(aiohttp_client, tmp_path: Path, clock: Clock) -> MakeClient:
    """``await make_client(**settings)``: the app with these settings (Rasa nowhere
    unless ``rasa_url`` says), the sign-in throttle on ``clock``; console users
    ``mod``, ``expert`` and ``admin`` exist (``client.staff``)."""

    made = 0

    async def make(**overrides: Any) -> TestClient:
        nonlocal made
        made += 1
        var_dir = tmp_path / f"app-{made}"  # each app its own database
        kb = tmp_path / "empty-kb"
        kb.mkdir(exist_ok=True)
        settings = Settings(
            **{"var_dir": var_dir, "rasa_url": f"http://127.0.0.1:{free_port()}", **overrides}
        )
        app = create_app(settings, knowledge=KnowledgeService(kb), fraud=default_checker())
        app[keys.LOGIN_THROTTLE] = LoginThrottle(clock=clock)
        client = await aiohttp_client(app)
        db = database(client)
        client.staff = {}  # type: ignore[attr-defined]
        for name, role in (("mod", "moderator"), ("expert", "expert"), ("admin", "admin")):
            password = await add_user(db, name, role)
            client.staff[role] = Staff(name, role, password, await create_token(db, name))  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
async def fake_rasa(aiohttp_server) -> str:
    """A stand-in Rasa that answers every message (its URL)."""

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response([{"recipient_id": body["sender"], "text": "收到"}])

    async def root(request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa")

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/", root)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")
