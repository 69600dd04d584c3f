"""The nginx configuration `kepu run` and `kepu proxy` write (bot/run/nginx.py), run by the
real nginx in front of small stand-in backends that say which one answered."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web

from bench.ports import free_port
from bot.menu.pages import BUSY_REPLY
from bot.run import nginx
from bot.run.cli import rasa_specs
from bot.settings import Settings
from tests.conftest import port_open, service_absent

PRODUCTION = {
    "KEPU_TRACKER_URL": "postgresql://kepu@127.0.0.1:5432/kepu",
    "KEPU_REDIS_URL": "redis://127.0.0.1:6379/0",
}


def settings(**env: str) -> Settings:
    return Settings.from_env({"KEPU_RASA_PORT": "5005", **env})


def test_one_rasa_process_has_no_proxy_and_keeps_the_rasa_port(tmp_path: Path) -> None:
    plain = settings(KEPU_VAR_DIR=str(tmp_path))
    assert not nginx.proxied(plain)
    specs = rasa_specs(plain, "model.tar.gz", tmp_path / "c.yml", tmp_path / "e.yml", {})
    assert [s.name for s in specs] == ["rasa"]
    assert specs[0].argv[specs[0].argv.index("--port") + 1] == "5005"
    assert not (tmp_path / "nginx").exists()


def test_several_processes_get_nginx_on_the_rasa_port(tmp_path: Path) -> None:
    if not shutil_nginx():
        service_absent("nginx is not installed (scripts/install-nginx.sh installs it)")
    many = settings(KEPU_VAR_DIR=str(tmp_path), KEPU_RASA_INSTANCES="3", **PRODUCTION)
    specs = rasa_specs(many, "model.tar.gz", tmp_path / "c.yml", tmp_path / "e.yml", {})
    assert [s.name for s in specs] == ["rasa-1", "rasa-2", "rasa-3", "nginx"]
    ports = [s.argv[s.argv.index("--port") + 1] for s in specs[:3]]
    assert ports == ["5006", "5007", "5008"]
    conf = (tmp_path / "nginx" / "nginx.conf").read_text()
    assert "listen 127.0.0.1:5005;" in conf
    assert "hash $arg_openid consistent;" in conf
    for port in ports:
        assert f"server 127.0.0.1:{port} " in conf


def test_behind_another_hosts_nginx_the_processes_start_at_the_rasa_port(tmp_path: Path) -> None:
    far = settings(
        KEPU_VAR_DIR=str(tmp_path),
        KEPU_HOST="127.0.0.2",
        KEPU_RASA_INSTANCES="2",
        KEPU_RASA_PROXY="none",
        **PRODUCTION,
    )
    specs = rasa_specs(far, "model.tar.gz", tmp_path / "c.yml", tmp_path / "e.yml", {})
    assert [s.name for s in specs] == ["rasa-1", "rasa-2"]
    assert [s.ready_url for s in specs] == ["http://127.0.0.2:5005/", "http://127.0.0.2:5006/"]


def test_an_ipv6_host_is_written_in_brackets(tmp_path: Path) -> None:
    six = settings(KEPU_HOST="::1", KEPU_RASA_INSTANCES="2", **PRODUCTION)
    conf = nginx.render(nginx.local_sites(six), tmp_path, 65536, None)
    assert "listen [::1]:5005;" in conf and "server [::1]:5006 " in conf
    assert "\\[::1\\]:5006$" in conf  # the instance number of an IPv6 server too


def test_an_unknown_proxy_is_refused() -> None:
    from bot.settings import SettingsError

    with pytest.raises(SettingsError, match="rasa_proxy"):
        settings(KEPU_RASA_PROXY="haproxy")


def test_the_busy_reply_in_the_configuration_reads_back_as_the_reply() -> None:
    # nginx unescapes the quoted string once: what it sends must be the JSON of the reply.
    site = nginx.rasa_site("127.0.0.1:1", ["127.0.0.1:2"])
    conf = nginx.render([site], Path("/tmp/x"), 65536, None)
    line = next(x for x in conf.splitlines() if "return 200 '[" in x)
    quoted = line.split("return 200 ", 1)[1].rstrip(";")
    sent = quoted[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    assert json.loads(sent) == [{"text": BUSY_REPLY}]


def shutil_nginx() -> str | None:
    try:
        return nginx.find_nginx()
    except nginx.NginxMissing:
        return None


class Backends:
    """Stand-in Rasa processes on free ports, each answering with its own name."""

    def __init__(self, count: int) -> None:
        self.ports = [free_port() for _ in range(count)]
        self.runners: dict[int, web.AppRunner] = {}
        self.seen: Counter[tuple[int, str]] = Counter()

    async def start(self, port: int) -> None:
        async def answer(request: web.Request) -> web.Response:
            await request.read()
            self.seen[(port, request.query.get("openid", ""))] += 1
            forwarded = request.headers.get("X-Forwarded-For", "")
            return web.json_response([{"text": f"{port}", "forwarded": forwarded}])

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", answer)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        self.runners[port] = runner

    async def stop(self, port: int) -> None:
        await self.runners.pop(port).cleanup()


def post(url: str, path: str, query: str = "") -> tuple[int, str, str]:
    req = urllib.request.Request(url + path + query, b'{"sender": "s", "message": "m"}')
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode(), resp.headers.get(nginx.INSTANCE_HEADER, "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers.get(nginx.INSTANCE_HEADER, "")


@pytest.fixture
async def running(tmp_path: Path):
    """nginx in front of two stand-in backends, both up."""
    binary = shutil_nginx()
    if binary is None:
        service_absent("nginx is not installed (scripts/install-nginx.sh installs it)")
    port = free_port()
    backends = Backends(2)
    site = nginx.rasa_site(f"127.0.0.1:{port}", [f"127.0.0.1:{p}" for p in backends.ports])
    env = Settings.from_env({"KEPU_VAR_DIR": str(tmp_path)})
    prefix, conf = nginx.write_config(env, [site])
    log = (tmp_path / "nginx.log").open("wb")
    proc = subprocess.Popen(
        nginx.nginx_argv(binary, prefix, conf), stderr=log, start_new_session=True
    )
    deadline = time.monotonic() + 20
    while not port_open("127.0.0.1", port, 0.2):
        assert proc.poll() is None, (tmp_path / "nginx.log").read_text()
        assert time.monotonic() < deadline, "nginx did not listen"
        await asyncio.sleep(0.1)
    try:
        for backend in backends.ports:
            await backends.start(backend)
        yield f"http://127.0.0.1:{port}", backends
    finally:
        for backend in list(backends.runners):
            await backends.stop(backend)
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        log.close()


async def test_nginx_spreads_rest_round_robin_and_keeps_an_openid_on_one_process(
    running,
) -> None:
    url, backends = running
    answered = [(await _in_thread(post, url, "/webhooks/rest/webhook"))[2] for _ in range(4)]
    assert sorted(answered) == ["1", "1", "2", "2"], answered
    placed: dict[str, set[str]] = {}
    for n in range(12):
        openid = f"o-{n}"
        for _ in range(3):
            status, _, instance = await _in_thread(
                post, url, "/webhooks/wechat/webhook", f"?openid={openid}&signature=x"
            )
            assert status == 200
            placed.setdefault(openid, set()).add(instance)
    assert all(len(where) == 1 for where in placed.values()), placed
    # 12 users all hashed onto one of two processes would be a 1 in 2,048 chance.
    assert {next(iter(where)) for where in placed.values()} == {"1", "2"}, placed
    status, body, _ = await _in_thread(post, url, "/webhooks/rest/webhook")
    assert json.loads(body)[0]["forwarded"] == "127.0.0.1"  # nginx names its client


async def test_a_stopped_process_is_skipped_and_none_answering_gets_the_busy_reply(
    running,
) -> None:
    url, backends = running
    await backends.stop(backends.ports[1])
    for openid in ("a", "b", "c", "d"):
        status, body, instance = await _in_thread(
            post, url, "/webhooks/wechat/webhook", f"?openid={openid}"
        )
        assert (status, instance) == (200, "1"), body
    await backends.stop(backends.ports[0])
    status, body, _ = await _in_thread(post, url, "/webhooks/rest/webhook")
    assert status == 200 and json.loads(body) == [{"text": BUSY_REPLY}]
    status, body, _ = await _in_thread(post, url, "/webhooks/wechat/webhook", "?openid=a")
    assert status == 503 and "rasa" in json.loads(body)["error"]


async def _in_thread(func, *args):
    return await asyncio.to_thread(func, *args)


def test_kepu_proxy_prints_the_front_configuration_for_other_hosts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.run.cli import main

    monkeypatch.setenv("KEPU_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("KEPU_RASA_PORT", "6005")
    monkeypatch.setenv("KEPU_WEB_PORT", "6000")
    rasa = "127.0.0.2:6005,127.0.0.3:6005"
    assert main(["proxy", "--rasa", rasa, "--web", "127.0.0.2:6000", "--print-config"]) == 0
    conf = capsys.readouterr().out
    assert "listen 127.0.0.1:6005;" in conf and "listen 127.0.0.1:6000;" in conf
    assert conf.count("server 127.0.0.3:6005 ") == 2  # the sticky and the round-robin pool
    assert "hash $cookie_kepu_sid consistent;" in conf
    with pytest.raises(SystemExit, match="HOST:PORT"):
        main(["proxy", "--rasa", "127.0.0.2", "--print-config"])


def test_kepu_run_refuses_several_processes_without_nginx_and_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.run.cli import main

    monkeypatch.setattr(nginx.shutil, "which", lambda name: None)
    monkeypatch.setattr(nginx, "NGINX_PATHS", ())
    monkeypatch.setenv("KEPU_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("KEPU_RASA_INSTANCES", "2")
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    assert main(["run"]) == 2
    assert "scripts/install-nginx.sh" in capsys.readouterr().err
    assert not (tmp_path / "var").exists()  # refused before anything was prepared
