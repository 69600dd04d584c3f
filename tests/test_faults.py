"""Faults of a running service: a process goes away, the users still get answers.

The action server and Rasa are started with the argv and environment `kepu
run` gives them (bot/run/cli.py), on free ports with a private var/ folder, but
each on its own, so that one of them can be stopped and started again while
the other keeps running. Started once for this module (Rasa takes ~30 s).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.ports import free_port
from bot.menu.pages import menu_text
from bot.run.cli import ACTION_SERVER_MAX_BODY, _rasa_env, action_server_argv, rasa_server_argv
from bot.settings import PROJECT_ROOT, Settings
from tests.conftest import SHARED_CACHE, wait_http
from tests.test_stack import STACK_START, _get, _post

pytestmark = pytest.mark.stack


class Service:
    """The action server and Rasa, each restartable, logging into var/."""

    def __init__(self, model: Path, var: Path) -> None:
        self.var = var
        env = {
            **os.environ,
            "KEPU_VAR_DIR": str(var),
            "KEPU_CACHE_DIR": str(SHARED_CACHE),
            "KEPU_RASA_PORT": str(free_port()),
            "KEPU_ACTIONS_PORT": str(free_port()),
        }
        self.settings = Settings.from_env(env)
        self.env = {**env, **_rasa_env(self.settings), "PYTHONPATH": str(PROJECT_ROOT)}
        self.argv = {
            "actions": action_server_argv(self.settings),
            "rasa": rasa_server_argv(self.settings, str(model)),
        }
        self.ready = {
            "actions": f"http://127.0.0.1:{self.settings.actions_port}/health",
            "rasa": f"http://127.0.0.1:{self.settings.rasa_port}/",
        }
        self.procs: dict[str, subprocess.Popen] = {}
        self.webhook = f"http://127.0.0.1:{self.settings.rasa_port}/webhooks/rest/webhook"

    def start(self, name: str) -> None:
        env = dict(self.env)
        if name == "actions":  # as `kepu run` sets it: trackers outgrow the public cap
            env["SANIC_REQUEST_MAX_SIZE"] = str(ACTION_SERVER_MAX_BODY)
        log = open(self.var / f"{name}.log", "a")  # noqa: SIM115 (the child keeps it)
        self.procs[name] = subprocess.Popen(
            self.argv[name], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        wait_http(self.ready[name], timeout=STACK_START, proc=self.procs[name])

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)

    def say(self, sender: str, text: str) -> list[str]:
        status, replies = _post(self.webhook, {"sender": sender, "message": text})
        assert status == 200, (status, text)
        assert isinstance(replies, list) and replies, text
        return [r["text"] for r in replies if r.get("text")]

    def tracker(self, sender: str) -> dict:
        token = self.settings.resolve_rasa_token()
        base = f"http://127.0.0.1:{self.settings.rasa_port}"
        status, tracker = _get(f"{base}/conversations/{sender}/tracker?token={token}")
        assert status == 200
        return tracker


@pytest.fixture(scope="module")
def service(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    var = tmp_path_factory.mktemp("faults-var")
    svc = Service(model_path, var)
    # As `kepu run` does first: schema, knowledge import, vectors.
    subprocess.run(
        [sys.executable, "-m", "bot.run.cli", "kb", "import"],
        cwd=PROJECT_ROOT,
        env=svc.env,
        check=True,
        capture_output=True,
    )
    try:
        svc.start("actions")
        svc.start("rasa")
        yield svc
    finally:
        for name in list(svc.procs):
            svc.stop(name)


def _sender(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}"


def test_action_server_down_gets_a_polite_busy_reply_then_recovers(service: Service) -> None:
    sender = _sender("busy")
    assert any("1 手机使用" in t for t in service.say(sender, "菜单"))
    service.stop("actions")
    try:
        for text in ("你好", "菜单", "2", "高血压平时要注意什么", "举报谣言", "再说一遍"):
            replies = "\n".join(service.say(sender, text))
            assert "系统正忙" in replies, (text, replies)
            assert menu_text() in replies, (text, replies)
    finally:
        service.start("actions")
    replies = "\n".join(service.say(sender, "菜单"))
    assert "1 手机使用" in replies and "系统正忙" not in replies
    replies = "\n".join(service.say(sender, "2"))
    assert "健康：" in replies and "系统正忙" not in replies


def test_a_rumour_report_continues_across_a_rasa_restart(service: Service) -> None:
    sender = _sender("restart")
    replies = "\n".join(service.say(sender, "举报谣言"))
    assert "您听到的说法" in replies
    service.stop("rasa")
    service.start("rasa")  # same tracker database
    # A claim no published debunk comes near: the form goes on where it was and
    # asks where it was seen.
    claim = "听说村口那口老井下个月要填掉修停车场"
    replies = "\n".join(service.say(sender, claim))
    assert "在哪里看到" in replies, replies
    assert "系统正忙" not in replies
    events = service.tracker(sender)["events"]
    users = [i for i, e in enumerate(events) if e["event"] == "user"]
    assert [events[i]["text"] for i in users[-2:]] == ["举报谣言", claim]
    after_claim = [e for e in events[users[-1] :] if e["event"] in ("action", "slot")]
    assert after_claim[0] == {**after_claim[0], "event": "slot", "name": "rumor_claim"}
    assert after_claim[0]["value"] == claim
    assert next(e["name"] for e in after_claim if e["event"] == "action") == "report_rumor_form"


def test_killing_the_action_server_mid_report_then_retrying_stores_one_report(
    service: Service,
) -> None:
    """kill -9 while the report is being written; the channel retries the same
    message (REST: the client's message_id) once the action server is back."""
    import sqlite3
    import threading
    import time

    sender = _sender("kill")
    claim = "听说下个月起种地要交新的土地税 每亩三百"
    service.say(sender, "举报谣言")
    assert "1 微信群" in "\n".join(service.say(sender, claim))

    def where(replies: list[str]) -> None:
        status, body = _post(
            service.webhook, {"sender": sender, "message": "4", "message_id": "kill-where-1"}
        )
        replies.extend(r["text"] for r in body or [] if status == 200 and r.get("text"))

    # Hold the database so the report's INSERT waits inside the action…
    lock = sqlite3.connect(service.var / "kepu.db", isolation_level=None, timeout=10)
    lock.execute("BEGIN EXCLUSIVE")
    first: list[str] = []
    sending = threading.Thread(target=where, args=(first,))
    sending.start()
    time.sleep(1.5)
    service.procs["actions"].kill()  # …and kill -9 the action server there
    sending.join(60)
    lock.execute("ROLLBACK")
    lock.close()
    service.procs.pop("actions").wait(timeout=10)
    assert any("系统正忙" in r for r in first), first
    assert not any("已收到" in r for r in first), first

    service.start("actions")
    receipts = []
    for _ in range(2):  # the retry, and a second one for good measure
        status, body = _post(
            service.webhook, {"sender": sender, "message": "4", "message_id": "kill-where-1"}
        )
        assert status == 200
        receipts.append("\n".join(r.get("text") or "" for r in body))
    assert "已收到，编号 R-" in receipts[0], receipts
    db = sqlite3.connect(service.var / "kepu.db")
    stored = db.execute("SELECT count(*) FROM rumor_reports WHERE text LIKE '%土地税%'").fetchone()
    db.close()
    assert stored == (1,)
