"""Finding 10, Rasa's side: no Rasa version on the Rasa port.

Rasa answers ``/`` with "Hello from Rasa: 3.6.x", ``/version`` with its version,
and every API error (a request without the token among them) with ``"version"``
and a rasa.com link. The Rasa port is reached from outside through the proxy
that carries the WeChat callbacks. Rasa's own app (``rasa.server.create_app``, the
one ``rasa run`` serves) is started here as ``bot.run.rasa_entry`` configures it, and
``bot.run.rasa_entry.serve`` is checked to configure it so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import rasa
import rasa.core.run
import rasa.server
from sanic import Sanic

from bench.ports import free_port
from bot.run import rasa_entry
from tests.bot.channels.assistant import serving

TOKEN = "a-test-token-" + "x" * 32
# Addresses anyone may try, and the status Rasa answers them with.
PROBES = [
    ("GET", "/", 200),
    ("HEAD", "/", 200),
    ("GET", "/version", 404),
    ("GET", "/version/", 404),
    ("GET", "/status", 401),
    ("GET", "/conversations/someone/tracker", 401),
    ("POST", "/model/parse", 401),
    ("GET", "/domain", 401),
    ("GET", "/no-such-thing", 404),
    ("POST", "/", 405),
]


def names_rasa(text: str, headers: Any) -> list[str]:
    found = [word for word in (rasa.__version__, "Rasa", "rasa.com") if word in text]
    server = headers.get("Server", "")
    return found + ([f"Server: {server}"] if server else [])


async def probe(base: str) -> list[tuple[str, str, int, list[str]]]:
    answers = []
    async with aiohttp.ClientSession() as session:
        for method, path, _ in PROBES:
            async with session.request(method, base + path) as resp:
                text = await resp.text()
                answers.append((method, path, resp.status, names_rasa(text, resp.headers)))
    return answers


async def test_rasa_as_started_by_us_names_no_version() -> None:
    Sanic.test_mode = True
    app = rasa.server.create_app(auth_token=TOKEN)
    rasa_entry.hide_version(app)
    async with serving(app) as base:
        answers = await probe(base)
        async with aiohttp.ClientSession() as session:
            async with session.get(base + "/") as resp:
                assert (resp.status, await resp.text()) == (200, "ok")
            async with session.get(base + "/status") as resp:  # still refused, still JSON
                body = await resp.json()
                assert body["reason"] == "NotAuthenticated" and "version" not in body
    assert [(m, p, s) for m, p, s, _ in answers] == PROBES
    assert [(m, p, leaks) for m, p, _, leaks in answers if leaks] == []


async def test_the_check_sees_rasas_own_banners() -> None:
    """Without ``hide_version`` the same probes find the version: the test above can fail."""
    Sanic.test_mode = True
    async with serving(rasa.server.create_app(auth_token=TOKEN)) as base:
        answers = await probe(base)
    leaking = {(m, p) for m, p, _, leaks in answers if rasa.__version__ in leaks}
    assert {("GET", "/"), ("GET", "/version"), ("GET", "/status")} <= leaking


def test_serve_configures_rasas_app_without_the_version(tmp_path: Path, monkeypatch) -> None:
    """``bot.run.rasa_entry.serve`` (what `kepu run` starts) hands Rasa's server an app
    that hides the version: Rasa's ``serve_application`` is replaced by one that only
    builds the app, as the real one does, and keeps it."""
    built: list[Sanic] = []

    def build_only(model_path: Any, **kwargs: Any) -> None:
        built.append(
            rasa.core.run.configure_app(
                None, auth_token=kwargs["auth_token"], enable_api=True, port=kwargs.get("port")
            )
        )

    monkeypatch.setattr(rasa.core.run, "serve_application", build_only)
    Sanic.test_mode = True
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("action_endpoint:\n  url: http://127.0.0.1:5055/webhook\n")
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("rest:\n")
    args = ["--model", str(model), "--endpoints", str(endpoints), "--credentials", str(credentials)]
    original = rasa.core.run.configure_app
    try:
        rasa_entry.serve([*args, "--enable-api", "--port", str(free_port())], TOKEN, "s" * 40)
    finally:
        rasa.core.run.configure_app = original
    (app,) = built
    paths = {route.path for route in app.router.routes}
    assert "version" in paths  # Rasa's route is there; the middleware answers for it
    names = [m.__name__ for m in app.request_middleware] + [
        m.__name__ for m in app.response_middleware
    ]
    assert {"no_version_route", "no_version_in_errors"} <= set(names)
