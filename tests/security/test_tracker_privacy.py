"""Finding 2: nothing raw at rest, nothing kept forever, no secret in the process list.

The whole service as `make run` starts it (tests/test_stack.py's pattern), on
free ports with a private var/ folder that an earlier, careless version left
behind: var/ 0755, tracker.db 0644 holding a conversation from 100 days ago and
one from last week. A conversation full of phone, ID and card numbers then
goes through Rasa and the action server, and the files are read directly.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from bench.ports import free_port
from tests.conftest import SHARED_CACHE
from tests.test_stack import _get, _post, _ready, start_stack, wait_for_stack

pytestmark = pytest.mark.stack

DAY = 86400.0
MOBILE = "13812345678"
OTHER_MOBILE = "13912345678"
ID_CARD = "11010519491231002X"
BANK_CARD = "6222021234567890128"
PERSONAL = (MOBILE, OTHER_MOBILE, ID_CARD, BANK_CARD)


def _seed_old_conversations(var: Path) -> None:
    """What an earlier version left: a conversation from 100 days ago and one from
    7 days ago, in a tracker.db and var/ readable by everyone."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered

    from bot.channels.tracker_store import WindowedSQLTrackerStore
    from bot.settings import PROJECT_ROOT

    async def seed() -> None:
        domain = Domain.load(str(PROJECT_ROOT / "bot" / "domain"))
        store = WindowedSQLTrackerStore(
            domain,
            dialect="sqlite",
            db=str(var / "tracker.db"),
            retention_days=1000,
            sweep_seconds=0,
        )
        for sender, age in (("from-last-spring", 100), ("from-last-week", 7)):
            tracker = store.init_tracker(sender)
            at = time.time() - age * DAY
            events = [
                ActionExecuted("action_session_start"),
                SessionStarted(),
                ActionExecuted("action_listen"),
                UserUttered("你好", {"name": "greet", "confidence": 1.0}),
            ]
            for i, event in enumerate(events):
                event.timestamp = at + i
                tracker.update(event)
            await store.save(tracker)

    asyncio.run(seed())
    for path in var.glob("tracker.db*"):
        path.chmod(0o644)
    var.chmod(0o755)


@pytest.fixture(scope="module")
def stack(model_path: Path, tmp_path_factory: pytest.TempPathFactory):
    var = tmp_path_factory.mktemp("privacy-var")
    _seed_old_conversations(var)
    ports = {
        "KEPU_RASA_PORT": free_port(),
        "KEPU_ACTIONS_PORT": free_port(),
        "KEPU_WEB_PORT": free_port(),
    }
    env = {
        **os.environ,
        "KEPU_VAR_DIR": str(var),
        "KEPU_CACHE_DIR": str(SHARED_CACHE),
        "KEPU_CONVERSATION_RETENTION_DAYS": "90",
        **{k: str(v) for k, v in ports.items()},
    }
    for name in ("KEPU_RASA_TOKEN", "KEPU_DATABASE_URL", "KEPU_TRACKER_URL", "KEPU_TRACKER_DB"):
        env.pop(name, None)
    proc, log = start_stack(model_path, env, var)
    web = f"http://127.0.0.1:{ports['KEPU_WEB_PORT']}"
    rasa = f"http://127.0.0.1:{ports['KEPU_RASA_PORT']}"
    try:
        wait_for_stack(proc, var, lambda: _ready(f"{web}/readyz") and _answers(f"{rasa}/"))
        yield {"proc": proc, "var": var, "rasa": rasa}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        log.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status == 200
    except OSError:
        return False


def _say(stack: dict, sender: str, text: str) -> str:
    status, replies = _post(
        f"{stack['rasa']}/webhooks/rest/webhook", {"sender": sender, "message": text}
    )
    assert status == 200 and replies, (text, status, replies)
    return "\n".join(r.get("text") or "" for r in replies)


def _stored_bytes(var: Path) -> str:
    """The tracker database and its write-ahead log, byte for byte."""
    return b"".join(p.read_bytes() for p in var.glob("tracker.db*")).decode("latin-1")


# A JSON number (a timestamp, a confidence such as 3.2021234622203743e-12) is no stored
# text, and its digits may happen to contain a window of a personal number.
_JSON_FLOAT = re.compile(r"(?<=[:\[,])\s?-?\d+\.\d+(?:[eE][-+]?\d+)?(?=[,}\]])")


def _assert_no_personal_number(text: str) -> None:
    text = _JSON_FLOAT.sub(" 0", text)
    for number in PERSONAL:
        digits = re.sub(r"[^0-9X]", "", number)
        for i in range(len(digits) - 6):
            assert digits[i : i + 7] not in text, (number, digits[i : i + 7])


def test_a_conversation_leaves_no_personal_number_in_the_tracker(stack) -> None:
    sender = f"privacy-{uuid.uuid4().hex[:12]}"
    assert "您听到的说法" in _say(stack, sender, "举报谣言")
    claim = f"听说打{MOBILE}这个电话能领养老金补贴，身份证{ID_CARD}和银行卡{BANK_CARD}要发过去"
    assert "在哪里看到" in _say(stack, sender, claim)
    # The action server ran the report: Rasa's calls carry the run's secret.
    assert "已收到" in _say(stack, sender, "1")
    _say(stack, sender, f"我的电话是{OTHER_MOBILE}，身份证{ID_CARD}，高血压能吃鸡蛋吗")
    _say(stack, sender, f"帮我看看这条短信：您尾号{BANK_CARD}的卡被冻结，速拨{MOBILE}解冻")

    var = stack["var"]
    _assert_no_personal_number(_stored_bytes(var))
    with sqlite3.connect(var / "tracker.db") as conn:
        rows = [
            json.loads(data)
            for (data,) in conn.execute("SELECT data FROM events WHERE sender_id = ?", (sender,))
        ]
        carried = [c for (c,) in conn.execute("SELECT carried FROM kepu_tracker_windows")]
    _assert_no_personal_number(json.dumps(rows) + "".join(carried))
    users = [r for r in rows if r["event"] == "user"]
    assert len(users) == 5
    assert "[手机号]" in users[1]["text"] and "[身份证号]" in users[1]["parse_data"]["text"]
    claims = [r["value"] for r in rows if r["event"] == "slot" and r["name"] == "rumor_claim"]
    assert any(c and "[身份证号]" in c and "[手机号]" in c for c in claims), claims
    # Rasa's HTTP API, with the token from var/rasa_token, shows the same.
    token = (var / "rasa_token").read_text().strip()
    status, tracker = _get(f"{stack['rasa']}/conversations/{sender}/tracker?token={token}")
    assert status == 200
    _assert_no_personal_number(json.dumps(tracker))
    assert _get(f"{stack['rasa']}/conversations/{sender}/tracker")[0] == 401


def test_old_conversations_were_deleted_at_start(stack) -> None:
    with sqlite3.connect(stack["var"] / "tracker.db") as conn:
        senders = {s for (s,) in conn.execute("SELECT DISTINCT sender_id FROM events")}
    assert "from-last-spring" not in senders
    assert "from-last-week" in senders


def test_var_and_every_database_file_are_private(stack) -> None:
    var = stack["var"]
    assert var.stat().st_mode & 0o777 == 0o700
    files = [*var.glob("tracker.db*"), *var.glob("kepu.db*")]
    names = {p.name for p in files}
    assert {"tracker.db", "kepu.db"} <= names, names
    for path in [*files, var / "rasa_token", var / "action_secret"]:
        assert path.stat().st_mode & 0o777 == 0o600, path


def test_no_secret_on_a_command_line_or_in_an_environment(stack) -> None:
    var = stack["var"]
    secrets_ = [
        (var / "rasa_token").read_text().strip().encode(),
        (var / "action_secret").read_text().strip().encode(),
    ]
    pids = [stack["proc"].pid, *_descendants(stack["proc"].pid)]
    assert len(pids) >= 4  # the supervisor, Rasa, the action server, the web service
    cmdlines = {pid: Path(f"/proc/{pid}/cmdline").read_bytes() for pid in pids}
    assert any(b"bot.run.rasa_entry" in c for c in cmdlines.values()), cmdlines
    for pid in pids:
        for name in ("cmdline", "environ"):
            content = Path(f"/proc/{pid}/{name}").read_bytes()
            for secret in secrets_:
                assert secret not in content, (pid, name, cmdlines[pid])


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True)
    children: dict[int, list[int]] = {}
    for line in out.stdout.splitlines():
        child, parent = (int(x) for x in line.split())
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found
