"""What the windowed tracker store keeps at rest: redacted events, for a limited time,
in a private file. Real Rasa events on SQLite; the database file itself is read."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from bot.channels.tracker_store import (
    CARRIED,
    DROPPED,
    WindowedSQLTrackerStore,
    redact_event,
)
from bot.settings import PROJECT_ROOT

DAY = 86400.0
MOBILE = "13812345678"
ID_CARD = "11010519491231002X"
BANK_CARD = "6222021234567890128"  # passes the Luhn check
PERSONAL = (MOBILE, ID_CARD, BANK_CARD)
CLAIM = f"群里说打{MOBILE}能领补贴，要把身份证{ID_CARD}和卡号{BANK_CARD}发过去"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "bot" / "domain"))


def make_store(domain: Domain, db: Path | dict, **options) -> WindowedSQLTrackerStore:
    """A store on the SQLite file ``db``, or on the server ``db`` describes."""
    options.setdefault("sweep_seconds", 0)
    where = db if isinstance(db, dict) else {"dialect": "sqlite", "db": str(db)}
    return WindowedSQLTrackerStore(domain, **where, **options)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path: Path) -> Path | dict:
    """Where the retention tests keep conversations: a SQLite file, a PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "tracker.db"
    postgres = request.getfixturevalue("postgres_url")
    parts = urlsplit(postgres)
    return {
        "dialect": "postgresql",
        "host": parts.hostname,
        "port": parts.port or 5432,
        "db": parts.path.lstrip("/"),
        "username": parts.username,
        "password": parts.password,
    }


async def play(store: WindowedSQLTrackerStore, sender: str, at: float, *events: Event):
    tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
    for i, event in enumerate(events):
        event.timestamp = at + i / 1000
        tracker.update(event)
    await store.save(tracker)
    return tracker


def report_turns(claim: str) -> list[tuple[Event, ...]]:
    """A rumour report with personal data in the claim, as Rasa and the actions log it."""
    message_id = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    return [
        (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")),
        (
            UserUttered("举报谣言", {"name": "report_rumor", "confidence": 0.98}),
            ActionExecuted("report_rumor_form"),
            ActiveLoop("report_rumor_form"),
            SlotSet("requested_slot", "rumor_claim"),
            BotUttered("请把您听到的说法发给我。"),
            ActionExecuted("action_listen"),
        ),
        (
            UserUttered(
                claim,
                parse_data={
                    "intent": {"name": "free_text", "confidence": 0.6},
                    "entities": [{"entity": "number", "value": MOBILE, "start": 4, "end": 15}],
                    "text": claim,
                    "text_canonical": claim,
                    "message_id": message_id,
                },
                input_channel="rest",
                message_id=message_id,
                metadata={"note": f"call {MOBILE}", MOBILE: "key too"},
            ),
            SlotSet("rumor_claim", claim),
            SlotSet("suspicious_text", claim),
            SlotSet("pending_options", [f"report:{claim}", "menu:help"]),
            SlotSet("chosen", "report_rumor"),
            ActionExecuted("report_rumor_form"),
            BotUttered(f"您说的是：{claim}", data={"custom": {"echo": claim}}),
            ActionExecuted("action_listen"),
        ),
    ]


def stored_text(db: Path) -> str:
    """Every byte of the database and its write-ahead log, as text."""
    parts = [p.read_bytes() for p in db.parent.glob(db.name + "*")]
    return b"".join(parts).decode("latin-1")


def digit_windows(value: str, width: int = 7) -> set[str]:
    """Every run of ``width`` characters of ``value``'s digits (and a final X)."""
    digits = re.sub(r"[^0-9X]", "", value)
    return {digits[i : i + width] for i in range(len(digits) - width + 1)}


def assert_nothing_personal(text: str) -> None:
    for number in PERSONAL:
        for window in digit_windows(number):
            assert window not in text, (number, window)


async def test_events_and_slots_are_redacted_at_rest_but_not_in_memory(domain, tmp_path) -> None:
    db = tmp_path / "tracker.db"
    store = make_store(domain, db)
    now = time.time()
    tracker = None
    for n, turn in enumerate(report_turns(CLAIM)):
        tracker = await play(store, "reporter", now + n, *turn)
    # The turn itself worked on what the user wrote.
    assert tracker.latest_message.text == CLAIM
    assert tracker.get_slot("rumor_claim") == CLAIM

    assert_nothing_personal(stored_text(db))
    with sqlite3.connect(db) as conn:
        rows = [json.loads(data) for (data,) in conn.execute("SELECT data FROM events")]
    assert_nothing_personal(json.dumps(rows, ensure_ascii=False))
    user = next(r for r in rows if r["event"] == "user" and "身份证" in r["text"])
    for text in (user["text"], user["parse_data"]["text"], user["parse_data"]["text_canonical"]):
        assert "[手机号]" in text and "[身份证号]" in text and "[银行卡号]" in text, text
    assert user["parse_data"]["entities"][0]["value"] == "[手机号]"
    assert user["parse_data"]["entities"][0]["entity"] == "number"
    assert user["metadata"] == {"note": "call [手机号]", "[手机号]": "key too"}
    # What Rasa and the actions work with is kept as it was.
    assert user["message_id"] == "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    assert user["parse_data"]["intent"]["name"] == "free_text"
    assert user["input_channel"] == "rest"
    slots = {r["name"]: r["value"] for r in rows if r["event"] == "slot"}
    assert slots["rumor_claim"] == slots["suspicious_text"] != CLAIM
    assert "[身份证号]" in slots["rumor_claim"]
    assert slots["pending_options"][1] == "menu:help"
    assert slots["chosen"] == "report_rumor"
    echo = [r for r in rows if r["event"] == "bot" and r["text"].startswith("您说的是")][0]
    assert "[手机号]" in echo["text"] and "[手机号]" in echo["data"]["custom"]["echo"]

    # The next turn loads the redacted conversation, in the same state.
    loaded = await store.retrieve("reporter")
    assert loaded.get_slot("rumor_claim") == slots["rumor_claim"]
    assert loaded.active_loop_name == "report_rumor_form"
    assert loaded.latest_message.message_id == "a1b2c3d4e5f60718293a4b5c6d7e8f90"


async def test_the_state_a_moved_window_carries_is_redacted(domain, tmp_path) -> None:
    db = tmp_path / "tracker.db"
    store = make_store(domain, db, max_events=40, keep_events=12)
    now = time.time()
    turns = report_turns(CLAIM)
    for n, turn in enumerate(turns):
        await play(store, "long", now + n, *turn)
    await play(store, "long", now + 10, ActiveLoop(None), SlotSet("requested_slot", None))
    for n in range(30):
        await play(
            store,
            "long",
            now + 20 + n,
            UserUttered(str(n % 5 + 1), {"name": "choose_option", "confidence": 0.9}),
            ActionExecuted("action_choose_option"),
            BotUttered(f"第{n}页"),
            ActionExecuted("action_listen"),
        )
    with sqlite3.connect(db) as conn:
        (carried,) = conn.execute("SELECT carried FROM kepu_tracker_windows").fetchone()
    carried_slots = {e["name"]: e["value"] for e in json.loads(carried)}
    assert "[身份证号]" in carried_slots["rumor_claim"]
    assert_nothing_personal(carried)
    assert_nothing_personal(stored_text(db))
    loaded = await store.retrieve("long")
    assert any(CARRIED in e.metadata for e in loaded.events)
    assert loaded.get_slot("rumor_claim") == carried_slots["rumor_claim"]


async def test_rows_an_earlier_version_stored_raw_are_redacted_once(domain, tmp_path) -> None:
    """Upgrading: what Rasa's own store (and this one, before it redacted) wrote raw
    is rewritten redacted, and its old bytes do not stay in the file."""
    db = tmp_path / "tracker.db"
    old = SQLTrackerStore(domain, dialect="sqlite", db=str(db))
    now = time.time()
    tracker = old.init_tracker("upgraded")
    for n, turn in enumerate(report_turns(CLAIM)):
        for i, event in enumerate(turn):
            event.timestamp = now + n + i / 1000
            tracker.update(event)
    await old.save(tracker)
    old.engine.dispose()
    carried = json.dumps([{"event": "slot", "name": "rumor_claim", "value": CLAIM}])
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE kepu_tracker_windows (sender_id VARCHAR(255) PRIMARY KEY, "
            "event_id INTEGER NOT NULL, timestamp FLOAT NOT NULL, carried TEXT NOT NULL)"
        )
        conn.execute(
            "INSERT INTO kepu_tracker_windows VALUES ('upgraded', 1, ?, ?)", (now, carried)
        )
    assert MOBILE in stored_text(db)

    store = make_store(domain, db)  # the new version starts on the old file
    changed = store.redact_stored(batch=4)  # several batches
    assert changed >= 6  # the user message, three slots, the echo, the window
    assert store.redact_stored() == 0  # once
    assert_nothing_personal(stored_text(db))
    loaded = await store.retrieve("upgraded")
    assert "[身份证号]" in loaded.get_slot("rumor_claim")
    assert loaded.latest_message.message_id == "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    # A database this store created has nothing to redact.
    assert make_store(domain, tmp_path / "fresh.db").redact_stored() == 0


def test_redact_event_keeps_structure_and_redacts_the_rest() -> None:
    event = {
        "event": "slot",
        "name": "pending_options",
        "timestamp": 1.0,
        "value": [f"ask:{MOBILE}", {"nested": [ID_CARD]}],
        "metadata": {"model_id": "12345678901234567890", "assistant_id": "kepu"},
    }
    redacted = redact_event(event)
    assert redacted["value"] == ["ask:[手机号]", {"nested": ["[身份证号]"]}]
    assert redacted["metadata"]["model_id"] == "12345678901234567890"
    assert event["value"][0] == f"ask:{MOBILE}"  # the tracker's own dict is left alone
    verbatim = redact_event({"event": "slot", "name": "chosen", "value": MOBILE}, {"chosen"})
    assert verbatim["value"] == MOBILE  # categorical: a domain value, never user text


def test_a_text_that_cannot_be_redacted_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels import tracker_store

    def broken(text: str) -> str:
        raise RuntimeError("redaction broke")

    monkeypatch.setattr(tracker_store, "redact", broken)
    event = {"event": "user", "text": CLAIM, "message_id": "m1"}
    assert redact_event(event) == {"event": "user", "text": DROPPED, "message_id": "m1"}


async def conversation(store: WindowedSQLTrackerStore, sender: str, start: float) -> None:
    await play(
        store,
        sender,
        start,
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
    )
    await play(
        store,
        sender,
        start + 60,
        UserUttered("菜单", {"name": "menu", "confidence": 0.9}),
        ActionExecuted("action_show_menu"),
        BotUttered("请回复数字选择"),
        SlotSet("last_entry_id", "phone-topup"),
        ActionExecuted("action_listen"),
    )


def senders(store: WindowedSQLTrackerStore) -> dict[str, int]:
    query = sa.text("SELECT sender_id, count(*) FROM events GROUP BY sender_id")
    with store.engine.connect() as conn:
        return {sender: count for sender, count in conn.execute(query)}


async def test_conversations_older_than_the_retention_are_deleted_at_start(domain, backend) -> None:
    db = backend
    writer = make_store(domain, db, retention_days=1000)
    now = time.time()
    await conversation(writer, "old", now - 100 * DAY)
    await conversation(writer, "recent", now - 10 * DAY)
    # A conversation still going on: an old session, and a current one.
    await conversation(writer, "returning", now - 120 * DAY)
    await conversation(writer, "returning", now - 1 * DAY)
    with writer.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO kepu_tracker_windows VALUES ('old', 1, :at, '[]')"),
            {"at": now - 100 * DAY},
        )
    assert senders(writer) == {"old": 8, "recent": 8, "returning": 16}

    store = make_store(domain, db, retention_days=90)  # what Rasa does at start
    assert senders(store) == {"recent": 8, "returning": 8}
    with store.engine.connect() as conn:
        windows = conn.execute(sa.text("SELECT count(*) FROM kepu_tracker_windows")).scalar()
    assert windows == 0
    returning = await store.retrieve("returning")
    assert returning.get_slot("last_entry_id") == "phone-topup"
    assert all(e.timestamp > now - 2 * DAY for e in returning.events)
    assert store.sweep() == 0  # nothing more to delete


async def test_the_current_session_keeps_its_window_and_loses_what_precedes_it(
    domain, backend
) -> None:
    """A session older than the retention (the user never paused for long): only
    the events before the loaded window go."""
    store = make_store(domain, backend, retention_days=90, max_events=40, keep_events=12)
    start = time.time() - 100 * DAY
    await conversation(store, "chatty", start)
    for n in range(40):
        at = start + (n + 1) * 2.5 * DAY  # one turn every 2.5 days, into the present
        await play(
            store,
            "chatty",
            at,
            UserUttered(str(n % 5 + 1), {"name": "choose_option", "confidence": 0.9}),
            ActionExecuted("action_choose_option"),
            BotUttered(f"第{n}页"),
            ActionExecuted("action_listen"),
        )
    before = await store.retrieve("chatty")
    deleted = store.sweep()
    assert deleted > 0
    after = await store.retrieve("chatty")
    assert [e.as_dict() for e in after.events] == [e.as_dict() for e in before.events]
    assert after.get_slot("last_entry_id") == "phone-topup"  # carried from before the window
    with store.engine.connect() as conn:
        oldest = conn.execute(sa.text("SELECT min(timestamp) FROM events")).scalar()
        window_start = conn.execute(sa.text("SELECT timestamp FROM kepu_tracker_windows")).scalar()
    assert oldest >= min(window_start, time.time() - 90 * DAY)


async def test_the_sweep_runs_periodically(domain, tmp_path) -> None:
    db = tmp_path / "tracker.db"
    await conversation(make_store(domain, db), "stale", time.time() - 91 * DAY)
    store = make_store(domain, db, retention_days=1000, sweep_seconds=0.2)
    await asyncio.sleep(0.5)
    assert senders(store) == {"stale": 8}  # within that retention: kept, sweep after sweep
    store.retention_days = 90
    for _ in range(50):
        if not senders(store):
            break
        await asyncio.sleep(0.1)
    assert senders(store) == {}


def test_retention_comes_from_the_setting(domain, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KEPU_CONVERSATION_RETENTION_DAYS", "7")
    assert make_store(domain, tmp_path / "a.db").retention_days == 7
    monkeypatch.delenv("KEPU_CONVERSATION_RETENTION_DAYS")
    assert make_store(domain, tmp_path / "b.db").retention_days == 90
    with pytest.raises(ValueError):
        make_store(domain, tmp_path / "c.db", retention_days=0)


async def test_the_database_file_is_private(domain, tmp_path) -> None:
    db = tmp_path / "new" / "tracker.db"
    store = make_store(domain, db)
    await conversation(store, "someone", time.time())
    assert db.parent.stat().st_mode & 0o777 == 0o700
    for path in db.parent.glob("tracker.db*"):  # the file, its -wal and -shm
        assert path.stat().st_mode & 0o777 == 0o600, path
    # A file from before (created with the umask's 0644) is tightened at start.
    old = tmp_path / "old.db"
    old.touch(mode=0o644)
    old.chmod(0o644)
    make_store(domain, old)
    assert old.stat().st_mode & 0o777 == 0o600
