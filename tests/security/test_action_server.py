"""Finding 7: the action server answers Rasa only, and reads bounded bodies.

The real action server, started with the argv and environment `kepu run` gives
it (bot/run/cli.py), on a free port with a private var/ folder. Rasa's side (the
header on every call) is exercised by tests/security/test_tracker_privacy.py,
whose conversation runs actions through the whole stack.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.ports import free_port
from bot.run.cli import _rasa_env, action_server_argv
from bot.settings import ACTION_SECRET_HEADER, ACTION_SERVER_MAX_BODY, PROJECT_ROOT, Settings
from tests.conftest import SHARED_CACHE

pytestmark = pytest.mark.stack


class ActionServer:
    def __init__(self, var: Path) -> None:
        env = {
            **os.environ,
            "KEPU_VAR_DIR": str(var),
            "KEPU_CACHE_DIR": str(SHARED_CACHE),
            "KEPU_ACTIONS_PORT": str(free_port()),
        }
        env.pop("KEPU_DATABASE_URL", None)
        self.settings = Settings.from_env(env)
        self.env = {**env, **_rasa_env(self.settings), "PYTHONPATH": str(PROJECT_ROOT)}
        self.var = var
        self.base = f"http://127.0.0.1:{self.settings.actions_port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        # As `kepu run` does first: schema, knowledge import, vectors.
        subprocess.run(
            [sys.executable, "-m", "bot.run.cli", "kb", "import"],
            cwd=PROJECT_ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        log = open(self.var / "actions.log", "w")  # noqa: SIM115 (the child keeps it)
        self.proc = subprocess.Popen(
            action_server_argv(self.settings),
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.health_seen = self._watch_health(timeout=120)

    def _watch_health(self, timeout: float) -> list[tuple[int, str, bool]]:
        """Poll ``/health`` until it says ok: each answer's status, its body's
        "status", and whether the log said "action services ready" by then."""
        seen: list[tuple[int, str, bool]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, "the server exited"
            try:
                with urllib.request.urlopen(f"{self.base}/health", timeout=2) as resp:
                    status, body = resp.status, resp.read()
            except urllib.error.HTTPError as err:
                status, body = err.code, err.read()
            except OSError:  # not listening yet
                time.sleep(0.05)
                continue
            ready = "action services ready" in (self.var / "actions.log").read_text("utf-8")
            seen.append((status, json.loads(body).get("status", ""), ready))
            if status == 200:
                return seen
            time.sleep(0.05)
        raise TimeoutError(f"{self.base}/health not ok after {timeout:.0f}s: {seen[-3:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    @property
    def secret(self) -> str:
        return (self.var / "action_secret").read_text(encoding="utf-8").strip()

    def call(
        self, body: bytes | dict, headers: dict[str, str] | None = None, path: str = "/webhook"
    ) -> tuple[int, bytes]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.base}{path}",
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            # The first report loads the text models: slow on a busy machine.
            with urllib.request.urlopen(req, timeout=180) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()
        except ConnectionError:  # the server closed a refused upload mid-way
            return 0, b""

    def reports(self) -> list[tuple[str, str]]:
        with sqlite3.connect(self.var / "kepu.db") as conn:
            return list(conn.execute("SELECT sender_hash, text FROM rumor_reports"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionServer]:
    svc = ActionServer(tmp_path_factory.mktemp("actions-var"))
    try:
        svc.start()
        yield svc
    finally:
        svc.stop()


def forged_report(claim: str = "听说喝醋能软化血管，打13812345678报名") -> dict:
    """A call as an attacker on the machine would send it: a report with a forged sender."""
    sender = "forged-sender"
    events = [
        {"event": "action", "name": "action_listen", "timestamp": 1.0},
        {
            "event": "user",
            "timestamp": 2.0,
            "text": claim,
            "parse_data": {"intent": {"name": "free_text", "confidence": 1.0}, "text": claim},
            "input_channel": "wechat",
            "message_id": "m-1",
        },
    ]
    return {
        "next_action": "action_report_rumor",
        "sender_id": sender,
        "tracker": {
            "sender_id": sender,
            "slots": {"rumor_claim": claim, "rumor_where": "wechat_group"},
            "latest_message": events[1] | {"intent": {"name": "free_text"}},
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
            "latest_input_channel": "wechat",
        },
        "domain": {},
        "version": "3.6.2",
    }


def menu_call(padding_events: int = 0) -> dict:
    body = forged_report()
    body["next_action"] = "action_show_menu"
    pad = {"event": "bot", "timestamp": 1.5, "text": "说" * 1000}
    body["tracker"]["events"] = [pad] * padding_events + body["tracker"]["events"]
    return body


def test_health_says_ok_only_once_the_services_are_built(server: ActionServer) -> None:
    """The supervisor (and a test restarting the server) waits for ``/health``;
    it must not see "ok" while the index and the classifier are still loading,
    or the first turn after a restart waits for the whole build."""
    *starting, (status, said, ready) = server.health_seen
    assert (status, said, ready) == (200, "ok", True)
    assert all(seen[:2] == (503, "starting") for seen in starting), starting


def test_calls_without_the_secret_are_refused_and_run_nothing(server: ActionServer) -> None:
    wrong = "x" * len(server.secret)
    for headers in ({}, {ACTION_SECRET_HEADER: wrong}, {ACTION_SECRET_HEADER: ""}):
        status, body = server.call(forged_report(), headers)
        assert status == 403, (headers, status, body)
        assert json.loads(body) == {"error": "forbidden"}
    # Another header name, the secret as a query parameter: still no.
    assert server.call(forged_report(), {"Authorization": f"Bearer {server.secret}"})[0] == 403
    assert server.call(forged_report(), path=f"/webhook?token={server.secret}")[0] == 403
    assert server.reports() == []
    # Listing the actions needs it too; only the readiness check is open.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{server.base}/actions", timeout=10)
    assert refused.value.code == 403
    with urllib.request.urlopen(f"{server.base}/health", timeout=10) as resp:
        assert resp.status == 200


def test_the_secret_is_what_lets_a_call_through(server: ActionServer) -> None:
    status, body = server.call(forged_report(), {ACTION_SECRET_HEADER: server.secret})
    assert status == 200, body
    assert "已收到" in json.loads(body)["responses"][0]["text"]
    [(_, text)] = server.reports()
    assert "13812345678" not in text  # stored, and redacted as every report is


def test_bodies_over_the_cap_are_refused(server: ActionServer) -> None:
    secret = {ACTION_SECRET_HEADER: server.secret}
    big = json.dumps(menu_call()).encode()
    oversized = big[:-1] + b" " * (ACTION_SERVER_MAX_BODY + 1 - len(big)) + b"}"
    assert len(oversized) == ACTION_SERVER_MAX_BODY + 1
    status, _ = server.call(oversized, secret)
    assert status == 413
    # Without the secret it is refused as well (too big or forbidden), never run.
    assert server.call(oversized)[0] in (0, 403, 413)
    # A compressed body (inflated without a limit by rasa_sdk) is refused outright.
    bomb = zlib.compress(b"{" + b" " * 50_000_000 + b"}")
    assert server.call(bomb, {**secret, "Content-Encoding": "deflate"})[0] == 415
    # The cap leaves room for a long conversation: ~1.8 MB of tracker goes through.
    long_call = json.dumps(menu_call(padding_events=300)).encode()
    assert 1_500_000 < len(long_call) < ACTION_SERVER_MAX_BODY
    status, body = server.call(long_call, secret)
    assert status == 200, body


def test_the_secret_is_private_and_on_no_command_line(server: ActionServer) -> None:
    path = server.var / "action_secret"
    assert path.stat().st_mode & 0o777 == 0o600
    assert server.proc is not None
    for name in ("cmdline", "environ"):
        assert server.secret.encode() not in Path(f"/proc/{server.proc.pid}/{name}").read_bytes()
