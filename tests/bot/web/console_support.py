"""Helpers of the console's web tests: signing in, posting forms, submitting reports."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiohttp.test_utils import TestClient

from bot.rumors.reports import ReportQueue
from bot.storage.db import Database
from bot.web import keys

XSS_SCRIPT = "<script>alert('xss')</script>听说喝醋能软化血管"
XSS_IMG = '<img src=x onerror="alert(1)">群里说喝醋能软化血管 是真的吗'
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


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
