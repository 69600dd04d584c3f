"""Finding 9: bad numbers, ids, pages, offsets and JSON documents get a short 400/404,
never a 500; CR/LF in ``next=`` redirects to a safe default. The fuzz test walks
every route of the app's router."""

from __future__ import annotations

import itertools
import re
from urllib.parse import quote

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.storage.models import ConsoleUser
from bot.web.views.console_claims import ACTIONS
from tests.bot.web.console_support import CSRF_FIELD, database, login, submit

HUGE = "9" * 4400
DEEP = "[" * 30000 + "]" * 30000
BAD_VALUES = [
    "99999999999999999999",
    "9" * 24,
    "1e20",
    "-1",
    "0",
    "-99999999999999999999",
    "NaN",
    "0x1f",
    "1_000",
    "١٢",
    HUGE,
    "",
    "\r\nX-Injected: 1",
    "/console/\r\nSet-Cookie: x=1",
    "../../etc/passwd",
    "' OR 1=1 --",
    "\u202e\x00",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+14:00",
]
QUERY_NAMES = (
    "id page offset limit claim_id since next status harm verdict assignee q target done"
).split()
FORM_NAMES = (
    "id name role active current new repeat assignee status target report verdict title "
    "explanation next password source_organisation_1 source_title_1 source_url_1"
).split()
# Values of the path parameters that reach the handlers' own checks.
GOOD_PATH = {"id": ["1"], "action": sorted(ACTIONS), "change": ["role", "active", "password"]}
BAD_BODIES = [
    ("application/json", HUGE),
    ("application/json", '{"text": ' + HUGE + "}"),
    ("application/json", '{"message": ' + HUGE + "}"),
    ("application/json", DEEP),
    ("application/json", '{"text": ' + DEEP + "}"),
    ("application/json", '{"text": 1e999, "status": [], "sources": [[[]]]}'),
    ("application/json; charset=no-such-charset", '{"text": "你好"}'),
    ("application/json", b"\xff\xfe{"),
    ("application/x-www-form-urlencoded", "csrf=%zz&name=%ff%fe&id=" + HUGE),
    ("multipart/form-data; boundary=x", "--x\r\ngarbage\r\n--x--"),
    ("multipart/form-data", "no boundary"),
    ("text/plain", "page=1e20"),
]


def short_json_error(body: bytes) -> bool:
    text = body.decode("utf-8")
    return text.startswith('{"error": ') and len(text) < 300


@pytest.fixture
async def admin(console_client, staff):
    """The console client signed in as admin: (its CSRF token, bearer headers)."""
    await submit(console_client, "听说喝醋能软化血管", "u1")  # claim 1 exists
    csrf = await login(console_client, staff["admin"])
    return csrf, {"Authorization": f"Bearer {staff['admin'].token}"}


@pytest.fixture
async def fuzzed(make_client, fake_rasa):
    """An app whose Rasa answers, signed in as admin: (client, CSRF token, bearer headers)."""
    client = await make_client(rasa_url=fake_rasa)
    await submit(client, "听说喝醋能软化血管", "u1")  # claim 1 exists
    admin = client.staff["admin"]
    csrf = await login(client, admin)
    return client, csrf, {"Authorization": f"Bearer {admin.token}"}


async def test_the_reported_cases(console_client, admin) -> None:
    _, bearer = admin
    for path in (
        "/api/v1/claims/99999999999999999999",
        "/api/v1/claims?offset=" + "9" * 24,
        "/api/v1/claims?limit=" + "9" * 24,
        "/api/v1/reports?claim_id=" + "9" * 24,
        "/api/v1/reports?since=0001-01-01T00:00:00%2B14:00",
    ):
        resp = await console_client.get(path, headers=bearer)
        assert resp.status == 400, path
        assert short_json_error(await resp.read()), path
    resp = await console_client.get("/api/v1/claims/12345", headers=bearer)
    assert resp.status == 404 and short_json_error(await resp.read())
    for page in ("1e20", "99999999999999999999", HUGE, "-1"):
        resp = await console_client.get("/console/", params={"page": page})
        body = await resp.text()
        assert resp.status == 400 and "页码" in body and "Traceback" not in body
    for path in ("/api/v1/ask", "/api/v1/fraud/check", "/api/v1/chat"):
        for body in ('{"text": ' + HUGE + "}", '{"message": ' + HUGE + "}", DEEP):
            resp = await console_client.post(
                path, data=body, headers={"Content-Type": "application/json"}
            )
            assert resp.status == 400, (path, body[:20])
            assert short_json_error(await resp.read())


async def test_cr_lf_in_next_redirects_to_the_queue(console_client, staff) -> None:
    crlf = "/console/claims/1\r\nSet-Cookie: evil=1"
    page = await console_client.get("/console/login", params={"next": crlf})
    assert page.status == 200
    token = CSRF_FIELD.search(await page.text()).group(1)
    resp = await console_client.post(
        "/console/login",
        data={"csrf": token, "name": "admin", "password": staff["admin"].password, "next": crlf},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"] == "/console/"
    assert "evil" not in resp.cookies
    # Signed in, the login page sends one on: to the same safe default.
    for target in (crlf, "/console/\n", "/console/\u00e9", "/console/" + "a" * 3000):
        resp = await console_client.get(
            "/console/login", params={"next": target}, allow_redirects=False
        )
        assert resp.status == 303 and resp.headers["Location"] == "/console/"
    resp = await console_client.get(
        "/console/login", params={"next": "/console/claims/1?x=1"}, allow_redirects=False
    )
    assert resp.headers["Location"] == "/console/claims/1?x=1"


def route_paths(resource: web.AbstractResource) -> list[tuple[str, list[str]]]:
    """(path, values for its query and form) for ``resource``: each bad value in one
    path parameter at a time (the others good: a request line holds at most 8 KiB,
    and two 4,400-digit parameters would be refused by the HTTP parser before any
    handler runs), and the parameters' good values with every bad value in the
    query and form (so that the handler's checks run)."""
    info = resource.get_info()
    if "path" in info:
        return [(info["path"], BAD_VALUES)]
    if "prefix" in info:  # static files
        names = ("chat.css", "..%2f..%2fetc%2fpasswd", "x" * 300, HUGE)
        return [(info["prefix"] + "/" + quote(v, safe=""), [v]) for v in names]
    formatter = info["formatter"]
    names = re.findall(r"\{(\w+)\}", formatter)
    good = {n: GOOD_PATH.get(n, ["1"])[0] for n in names}
    paths = [
        (formatter.format(**{**good, bad: quote(v, safe="")}), [v])
        for bad in names
        for v in BAD_VALUES
    ]
    goods = itertools.product(*(GOOD_PATH.get(n, ["1"]) for n in names))
    return paths + [
        (formatter.format(**dict(zip(names, g, strict=True))), BAD_VALUES) for g in goods
    ]


async def test_no_route_answers_a_bad_parameter_with_a_5xx(fuzzed) -> None:
    console_client, csrf, bearer = fuzzed
    routes = [
        (route.method, resource)
        for resource in console_client.app.router.resources()
        for route in resource
        if route.method != "HEAD"
    ]
    assert len(routes) >= 25
    # Signing out last: the fuzz runs signed in.
    routes.sort(key=lambda r: r[1].get_info().get("path") == "/console/logout")
    seen: list[tuple[str, str, int]] = []
    for method, resource in routes:
        for path, values in route_paths(resource):
            for value in values:
                # A request line holds at most 8 KiB: the longest values go in one
                # parameter at a time, and only when the path is short.
                names = QUERY_NAMES if len(value) < 500 else QUERY_NAMES[len(seen) % 14 :][:1]
                names = names if len(path) + len(value) < 7000 else []
                query = {name: value for name in names}
                if method == "GET":
                    resp = await console_client.get(
                        path, params=query, headers=bearer, allow_redirects=False
                    )
                    seen.append((method, path, resp.status))
                    await check(resp, path)
                    continue
                form = [("csrf", csrf)] + [(n, value) for n in FORM_NAMES]
                json_body = {n: value for n in FORM_NAMES + ["text", "message", "sources"]}
                for kwargs in ({"data": form}, {"json": json_body}):
                    resp = await console_client.post(
                        path, params=query, headers=bearer, allow_redirects=False, **kwargs
                    )
                    seen.append((method, path, resp.status))
                    await check(resp, path)
            if method == "POST":
                for content_type, body in BAD_BODIES:
                    resp = await console_client.post(
                        path,
                        data=body,
                        headers={**bearer, "Content-Type": content_type},
                        allow_redirects=False,
                    )
                    seen.append((method, path, resp.status))
                    await check(resp, path)
    statuses = {status for _, _, status in seen}
    assert max(statuses) < 500, [s for s in seen if s[2] >= 500][:10]
    assert {400, 404} <= statuses  # the bad values were refused, not all redirected
    # Nothing the fuzz sent made a user.
    async with database(console_client).session() as session:
        users = (await session.execute(select(func.count(ConsoleUser.id)))).scalar_one()
    assert users == 3


async def check(resp, path: str) -> None:
    body = await resp.read()
    assert resp.status < 500, (path, resp.status, body[:300])
    assert b"Traceback" not in body
    if resp.status in (400, 404, 413) and path.startswith("/api/"):
        assert short_json_error(body), (path, body[:300])
    assert len(body) < 100_000 or resp.status == 200
