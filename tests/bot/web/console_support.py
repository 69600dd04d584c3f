"""Helpers of the console's web tests: signing in, posting forms, submitting reports."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp.test_utils import TestClient

from bench.ports import free_port
from bot.fraud.checker import default_checker
from bot.knowledge.service import KnowledgeService
from bot.rumors.reports import ReportQueue
from bot.settings import Settings
from bot.storage.db import Database
from bot.web import keys
from bot.web.app import create_app
from tests.bot.web.chat_support import serve_in_thread

XSS_SCRIPT = "<script>alert('xss')</script>听说喝醋能软化血管"
XSS_IMG = '<img src=x onerror="alert(1)">群里说喝醋能软化血管 是真的吗'
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
T = TypeVar("T")


@dataclass
class Staff:
    """One console user: the password they were given and an API token."""

    name: str
    role: str
    password: str
    token: str


def database(client: TestClient) -> Database:
    return client.app[keys.DATABASE]


async def submit(client: TestClient, text: str, sender: str, channel: str = "wechat") -> int:
    receipt = await ReportQueue(database(client)).submit(text, sender_id=sender, channel=channel)
    return receipt.claim_id


async def login(client: TestClient, who: Staff) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    page = await client.get("/console/login")
    token = CSRF_FIELD.search(await page.text()).group(1)
    resp = await client.post(
        "/console/login",
        data={"csrf": token, "name": who.name, "password": who.password},
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    queue = await client.get("/console/")
    return CSRF_FIELD.search(await queue.text()).group(1)


async def post_form(
    client: TestClient, path: str, csrf: str | None, **fields: str | list[str]
) -> tuple[int, str, str]:
    """(status, Location header, body) of a console form post."""
    data: list[tuple[str, str]] = [("csrf", csrf)] if csrf is not None else []
    for name, value in fields.items():
        for v in value if isinstance(value, list) else [value]:
            data.append((name, v))
    resp = await client.post(path, data=data, allow_redirects=False)
    return resp.status, resp.headers.get("Location", ""), await resp.text()


@dataclass
class Served:
    """The web service on a free loopback port, run by a thread of its own."""

    url: str
    db: Database
    loop: asyncio.AbstractEventLoop
    seeded: dict[str, Any] = field(default_factory=dict)  # what the seed returned

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the server's loop (where its database engine lives)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)


@contextlib.contextmanager
def serve_console(
    tmp_path: Path, seed: Callable[[Database], Awaitable[dict[str, Any]]]
) -> Iterator[Served]:
    """The app from the factory, seeded by ``seed``, served from its own event loop
    (so that Playwright's sync API can drive a browser from the test's thread)."""
    (tmp_path / "empty-kb").mkdir()
    port = free_port()
    settings = Settings(var_dir=tmp_path, web_port=port, rasa_url=f"http://127.0.0.1:{free_port()}")
    app = create_app(
        settings, knowledge=KnowledgeService(tmp_path / "empty-kb"), fraud=default_checker()
    )
    # The database exists once the app has started (its cleanup context).
    with serve_in_thread([(app, port)], "console-app", lambda: seed(app[keys.DATABASE])) as (
        loop,
        seeded,
    ):
        yield Served(f"http://127.0.0.1:{port}", app[keys.DATABASE], loop, seeded)
