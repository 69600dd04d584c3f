"""A SQL tracker store that loads a bounded window of a long conversation.

Rasa's ``SQLTrackerStore`` rebuilds the tracker from every event of the current
session on every turn, sends all of them to the action server and featurizes
all of them again; a senior who keeps one chat open all day makes every turn
slower than the last. This store keeps every event in the ``events`` table,
as Rasa writes it but redacted (below), and loads only a recent window of them.

The window starts at a turn boundary (the ``action_listen`` right before a user
message) at which no form was active. What the events before it left behind
(slot values, a paused conversation) is carried as a few synthesized
``SlotSet`` / ``ConversationPaused`` events in front of the window, so the loaded
tracker has the same slots, active form, requested slot, latest message and
recent history as the whole session would give. A form in progress is always
inside the window, from its activation on.

Where the current window starts, and what it carries, is one row per
conversation in ``kepu_tracker_windows`` (same database), computed from the
tracker in memory when a save leaves more than ``max_events`` loaded events.
A new session makes the row stale (it is then ignored); without a row the
whole current session is loaded, as Rasa does.

Saving also closes a turn that Rasa's circuit breaker cut short (see
``close_tripped_turn``): otherwise the conversation never gets an answer again.

Nothing a person wrote is stored raw. Every event is passed through
``bot.text.redact.redact`` on its way into the database (``redact_event``):
the user's text and ``parse_data`` text, entity values, message metadata, slot
values (``rumor_claim``, ``suspicious_text``, ``pending_options`` …, everything
but categorical slots, whose values are the domain's own), bot replies (they may
echo the user), and the slot state carried in ``kepu_tracker_windows``. Only
names, ids and numbers Rasa and the actions work with are kept as they are
(``STRUCTURAL_KEYS``: intent and action names, ``message_id``, timestamps …).

Why redact in the store and not in the channel: the turn needs the raw text.
NLU reads it, and the actions of the same turn see it (a rumour claim is
matched against the debunks, then stored redacted by ``bot.rumors``; a pasted
SMS is scored by the fraud check as it was written). Redacting at the channel
would make those answers worse for nothing, as the text is in memory either
way. What lasts past the turn is what the store writes, so that is where
redaction happens, in the one place every channel (REST, web chat, WeChat,
WeCom, Rasa's HTTP API) goes through. The next turn loads the redacted
tracker: a form carries on with the redacted slot value, which is what
``bot.rumors`` stores anyway.

Conversations are deleted after ``KEPU_CONVERSATION_RETENTION_DAYS`` (90 by
default; ``sweep``): a conversation whose latest event is older than that goes
whole, with its window row; of a conversation still going on, the events older
than that which no longer load (earlier sessions, the current session's events
before its window) go. The store sweeps when it starts (so at every start of
Rasa, and once in `kepu run`'s preparation for PostgreSQL) and then every
hour in a background thread.

Rows an earlier version stored raw are redacted once, in that thread, when
this store first runs on a database (``redact_stored``; where it got to is in
``kepu_tracker_meta``). A SQLite file is created 0600, in a folder created
0700, with ``secure_delete`` on: the bytes of deleted and redacted rows are
overwritten, not left in free pages.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.processor import MAX_NUMBER_OF_PREDICTIONS
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import Mapped, Session, declarative_base

from bot.storage.db import make_private
from bot.text.redact import redact

log = logging.getLogger(__name__)

# A window grows to MAX_EVENTS stored events, then moves so that about
# KEEP_EVENTS remain, and at least KEEP_TURNS turns before the latest form: the
# policies look at the last 5 states (TED max_history in config.yml).
DEFAULT_MAX_EVENTS = 240
DEFAULT_KEEP_EVENTS = 80
DEFAULT_KEEP_TURNS = 6
# Marks the synthesized events in front of a window (visible to actions).
CARRIED = "kepu_carried"
# Retention: swept at start and then this often (seconds), in batches of senders.
DEFAULT_SWEEP_SECONDS = 3600.0
SWEEP_BATCH = 200
DAY_SECONDS = 86400.0

# Keys (at any depth of an event's dict) whose values are names, ids and numbers
# that Rasa and the actions work with, never text a person wrote: not redacted.
# ``message_id`` is the idempotency key of a report and of an undone turn;
# ``payload`` / ``image`` / ``attachment`` are the bot's own buttons and links.
STRUCTURAL_KEYS = frozenset(
    {
        "event",
        "name",
        "timestamp",
        "policy",
        "confidence",
        "intent",
        "intent_ranking",
        "response_selector",
        "message_id",
        "input_channel",
        "entity",
        "extractor",
        "role",
        "group",
        "processors",
        "start",
        "end",
        "action_name",
        "payload",
        "image",
        "attachment",
        "model_id",
        "assistant_id",
        CARRIED,
    }
)
_FIELD_NAME = re.compile(r"[A-Za-z_]+")
# Stored instead of a text that could not be redacted.
DROPPED = "[已隐去]"
# Slot types whose values come from the domain, never from a person.
_VERBATIM_SLOT_TYPES = ("categorical", "bool", "float")

_Base: Any = declarative_base()
# The retention sweep finds old events by time; Rasa indexes only the sender.
_EVENTS_BY_TIME = sa.Index("kepu_events_timestamp", SQLTrackerStore.SQLEvent.__table__.c.timestamp)


class TrackerMeta(_Base):
    """Facts about the database itself, e.g. how far the redaction of old rows got."""

    __tablename__ = "kepu_tracker_meta"

    key: Mapped[str] = sa.Column(sa.String(64), primary_key=True)
    value: Mapped[str] = sa.Column(sa.String(255), nullable=False)


# Rows written before this store redacted: "<last such id> <redacted through id>",
# or "done".
LEGACY_ROWS = "legacy_rows"


class TrackerWindow(_Base):
    """Where the loaded window of a conversation starts, and the state before it."""

    __tablename__ = "kepu_tracker_windows"

    sender_id: Mapped[str] = sa.Column(sa.String(255), primary_key=True)
    # id and timestamp of the window's first event (an ``action_listen``).
    event_id: Mapped[int] = sa.Column(sa.Integer, nullable=False)
    timestamp: Mapped[float] = sa.Column(sa.Float, nullable=False)
    # JSON list of events reproducing the state the earlier events left.
    carried: Mapped[str] = sa.Column(sa.Text, nullable=False)


@dataclass
class _Loaded:
    """What a tracker object holds of the database: set by retrieve, used by save."""

    carried: int  # synthesized events at the start of ``tracker.events``
    ids: list[int]  # database id of each stored event after them, in order
    movable: bool  # a current-session tracker whose window may move


_LOADED = "_kepu_loaded"


class WindowedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that loads at most about ``max_events`` events per turn.

    Configured in ``endpoints.yml`` with ``type:
    bot.channels.tracker_store.WindowedSQLTrackerStore`` and the usual SQL
    settings (``dialect``, ``db``, ``url`` …).
    """

    def __init__(
        self,
        domain: Domain | None = None,
        max_events: int = DEFAULT_MAX_EVENTS,
        keep_events: int = DEFAULT_KEEP_EVENTS,
        keep_turns: int = DEFAULT_KEEP_TURNS,
        retention_days: float | None = None,
        sweep_seconds: float = DEFAULT_SWEEP_SECONDS,
        **kwargs: Any,
    ) -> None:
        if not 0 < keep_events < max_events or keep_turns < 1:
            raise ValueError("need 0 < keep_events < max_events and keep_turns >= 1")
        if retention_days is None:
            from bot.settings import Settings

            retention_days = Settings.from_env().conversation_retention_days
        if float(retention_days) <= 0:
            raise ValueError("retention_days must be positive")
        _private_sqlite_file(kwargs)
        super().__init__(domain, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # Rasa's default rollback journal syncs every commit to disk while the
            # event loop waits (~17 ms a turn in the load test); WAL with
            # synchronous=NORMAL is durable across process crashes and ~4x faster.
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.engine.dispose()  # connections made before the listener: reopen
        self.max_events = int(max_events)
        self.keep_events = int(keep_events)
        self.keep_turns = int(keep_turns)
        self.retention_days = float(retention_days)
        _Base.metadata.create_all(self.engine)
        _create_index(self.engine, _EVENTS_BY_TIME)
        self._sweeping = threading.Lock()
        self._note_legacy_rows()
        self._safe(self.sweep)  # at start-up: before the first conversation is served
        if sweep_seconds > 0:
            threading.Thread(
                target=self._maintain,
                args=(float(sweep_seconds),),
                name="kepu-conversation-retention",
                daemon=True,
            ).start()

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions)
            carried: list[dict[str, Any]] = []
            window = None
            if not fetch_events_from_all_sessions:
                window = self._current_window(session, sender_id)
            if window is not None:
                query = query.filter(self.SQLEvent.id >= window.event_id)
                carried = json.loads(window.carried)
            rows = [(row.id, row.data) for row in query.all()]
        if not rows:
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, carried + [json.loads(data) for _, data in rows], self.domain.slots
        )
        if len(tracker.events) == len(carried) + len(rows):  # every event was understood
            movable = not fetch_events_from_all_sessions
            setattr(tracker, _LOADED, _Loaded(len(carried), [i for i, _ in rows], movable))
        return tracker

    def _current_window(self, session: Session, sender_id: str) -> TrackerWindow | None:
        """The conversation's window, unless a later session made it stale."""
        window = session.get(TrackerWindow, sender_id)
        if window is None:
            return None
        session_start = (
            session.query(sa.func.max(self.SQLEvent.timestamp))
            .filter(
                self.SQLEvent.sender_id == sender_id,
                self.SQLEvent.type_name == SessionStarted.type_name,
            )
            .scalar()
        )
        if session_start is not None and window.timestamp < session_start:
            return None
        return window

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events the tracker gained since it was loaded; move its window;
        hand the new events to the event broker (``bot.channels.analytics``)."""
        close_tripped_turn(tracker)
        events = list(tracker.events)
        loaded: _Loaded | None = getattr(tracker, _LOADED, None)
        if loaded is not None and len(events) < loaded.carried + len(loaded.ids):
            loaded = None  # events were dropped (max_event_history): count as Rasa does
        with self.session_scope() as session:
            if loaded is None:
                new = list(self._additional_events(session, tracker))
            else:
                new = events[loaded.carried + len(loaded.ids) :]
            rows = [self._row(tracker.sender_id, event) for event in new]
            session.add_all(rows)
            session.flush()
            if loaded is not None:
                loaded.ids.extend(row.id for row in rows)
                if loaded.movable and len(loaded.ids) > self.max_events:
                    self._move_window(session, tracker, events, loaded)
            session.commit()
        if self.event_broker is not None:
            # Rasa's stream_events would load the tracker again to find what is
            # new; the events just stored are exactly that.
            await self._stream_new_events(self.event_broker, new, tracker.sender_id)

    def _row(self, sender_id: str, event: Event) -> Any:
        """The ``events`` row of an event, filled as ``SQLTrackerStore.save`` fills it,
        with everything a person wrote redacted."""
        data = redact_event(event.as_dict(), self._verbatim_slots())
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    def _move_window(
        self,
        session: Session,
        tracker: DialogueStateTracker,
        events: list[Event],
        loaded: _Loaded,
    ) -> None:
        """Start the window at the latest safe turn boundary that keeps enough history.

        Safe: no form is active there. Enough: ``keep_events`` events and
        ``keep_turns`` later safe boundaries, so that the states the policies
        look at (a form's own turns collapse into one) are all inside the window.
        """
        stored = events[loaded.carried :]
        # Replay in a fresh tracker (bounded: the loaded events and what they
        # carry) to learn the state right before each turn boundary.
        replay = tracker.init_copy()
        for event in events[: loaded.carried]:
            replay.update(event)
        safe: list[tuple[int, list[Event]]] = []
        for j, event in enumerate(stored):
            if j > 0 and _starts_turn(stored, j) and replay.active_loop_name is None:
                safe.append((j, carried_state(replay, event.timestamp)))
            replay.update(event)
        last = len(stored) - self.keep_events
        candidates = [(j, c) for j, c in safe[: max(0, len(safe) - self.keep_turns)] if j <= last]
        if not candidates:
            return  # a form has been active all along: it stays loaded whole
        j, carried = candidates[-1]
        session.merge(
            TrackerWindow(
                sender_id=tracker.sender_id,
                event_id=loaded.ids[j],
                timestamp=stored[j].timestamp,
                carried=json.dumps(
                    [redact_event(event.as_dict(), self._verbatim_slots()) for event in carried]
                ),
            )
        )
        log.debug("window of a conversation moved to event %s", loaded.ids[j])

    def _verbatim_slots(self) -> frozenset[str]:
        """Slots whose values come from the domain (categorical, bool, float)."""
        domain = getattr(self, "domain", None)
        if domain is None:
            return frozenset()
        return frozenset(
            slot.name for slot in domain.slots if slot.type_name in _VERBATIM_SLOT_TYPES
        )

    def sweep(self, now: float | None = None) -> int:
        """Delete what is older than the retention; return how many events went.

        A conversation whose latest event is older goes whole, with its window
        row. Of one still going on, older events go if they no longer load:
        earlier sessions, and the current session's events before its window.
        """
        cutoff = (time.time() if now is None else now) - self.retention_days * DAY_SECONDS
        with self._sweeping:
            with self.session_scope() as session:
                found = (
                    session.query(self.SQLEvent.sender_id)
                    .filter(self.SQLEvent.timestamp < cutoff)
                    .distinct()
                )
                senders = sorted(sender for (sender,) in found)
                orphans = (
                    session.query(TrackerWindow.sender_id)
                    .filter(~sa.exists().where(self.SQLEvent.sender_id == TrackerWindow.sender_id))
                    .all()
                )
            deleted = 0
            for start in range(0, len(senders), SWEEP_BATCH):
                with self.session_scope() as session:
                    for sender in senders[start : start + SWEEP_BATCH]:
                        deleted += self._expire(session, sender, cutoff)
                    session.commit()
            if orphans:  # windows of conversations deleted by other means
                with self.session_scope() as session:
                    session.query(TrackerWindow).filter(
                        TrackerWindow.sender_id.in_([sender for (sender,) in orphans])
                    ).delete(synchronize_session=False)
                    session.commit()
        if deleted:
            log.info(
                "deleted %d conversation events older than %g days", deleted, self.retention_days
            )
            self._checkpoint("PASSIVE")
        return deleted

    def _expire(self, session: Session, sender_id: str, cutoff: float) -> int:
        events = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id)
        newest = events.with_entities(sa.func.max(self.SQLEvent.timestamp)).scalar()
        windows = session.query(TrackerWindow).filter(TrackerWindow.sender_id == sender_id)
        if newest is None or newest < cutoff:
            windows.delete(synchronize_session=False)
            return int(events.delete(synchronize_session=False))
        session_start = (
            events.filter(self.SQLEvent.type_name == SessionStarted.type_name)
            .with_entities(sa.func.max(self.SQLEvent.timestamp))
            .scalar()
        )
        window = self._current_window(session, sender_id)
        if window is None:
            windows.delete(synchronize_session=False)  # stale: a later session began
        unloaded = []
        if session_start is not None:
            unloaded.append(self.SQLEvent.timestamp < session_start)
        if window is not None:
            unloaded.append(self.SQLEvent.id < window.event_id)
        if not unloaded:
            return 0
        old = events.filter(self.SQLEvent.timestamp < cutoff, sa.or_(*unloaded))
        return int(old.delete(synchronize_session=False))

    def _note_legacy_rows(self) -> None:
        """The first time this store opens a database, note up to which id its
        events were written raw (by a version that did not redact)."""
        with self.session_scope() as session:
            if session.get(TrackerMeta, LEGACY_ROWS) is not None:
                return
            last = session.query(sa.func.max(self.SQLEvent.id)).scalar()
            windows = session.query(TrackerWindow).count()
            value = "done" if last is None and not windows else f"{last or 0} 0"
            session.add(TrackerMeta(key=LEGACY_ROWS, value=value))
            try:
                session.commit()
            except sa.exc.IntegrityError:  # another process noted it first
                session.rollback()

    def redact_stored(self, batch: int = 500) -> int:
        """Redact the rows an earlier version stored raw; return how many changed.

        Once per database, in batches, resumable: the background thread runs it
        before its first sweep (a large database must not delay the start).
        """
        changed = 0
        with self._sweeping:
            while True:
                with self.session_scope() as session:
                    meta = session.get(TrackerMeta, LEGACY_ROWS)
                    if meta is None or meta.value == "done":
                        break
                    last, through = (int(part) for part in meta.value.split())
                    rows = (
                        session.query(self.SQLEvent)
                        .filter(self.SQLEvent.id > through, self.SQLEvent.id <= last)
                        .order_by(self.SQLEvent.id)
                        .limit(batch)
                        .all()
                    )
                    verbatim = self._verbatim_slots()
                    for row in rows:
                        data = json.loads(row.data)
                        clean = redact_event(data, verbatim)
                        if clean != data:
                            row.data = json.dumps(clean)
                            changed += 1
                    if rows:
                        meta.value = f"{last} {rows[-1].id}"
                    else:  # the events are done; the windows' carried state last
                        for window in session.query(TrackerWindow):
                            carried = json.loads(window.carried)
                            clean_carried = [redact_event(e, verbatim) for e in carried]
                            if clean_carried != carried:
                                window.carried = json.dumps(clean_carried)
                                changed += 1
                        meta.value = "done"
                    session.commit()
        if changed:
            log.info("redacted %d conversation rows stored before redaction", changed)
            self._checkpoint("TRUNCATE")
        return changed

    def _checkpoint(self, mode: str) -> None:
        """SQLite: move the write-ahead log into the database file now, so that
        the redacted or deleted rows' old bytes are overwritten there too."""
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})")

    def _safe(self, work: Any) -> None:
        try:
            work()
        except Exception:  # tried again next time; serving goes on
            log.exception("conversation maintenance failed: %s", work.__name__)

    def _maintain(self, seconds: float) -> None:
        """The background thread: old raw rows redacted, then a sweep every ``seconds``."""
        self._safe(self.redact_stored)
        while True:
            time.sleep(seconds)
            self._safe(self.sweep)


def close_tripped_turn(tracker: DialogueStateTracker) -> bool:
    """End a turn that Rasa's circuit breaker stopped with ``action_listen``.

    Rasa stops a turn after ``MAX_NUMBER_OF_PREDICTIONS`` actions without
    ``action_listen`` (e.g. the fallback failing again and again while the
    action server is down) and saves it as it is. It counts those actions
    back to the latest ``action_listen``, across user messages, so every later
    message of the conversation would trip the breaker again at once and get no
    answer, even after the action server is back. Closing the turn makes the
    next message an ordinary one. Returns whether the turn was closed.
    """
    if tracker.is_paused():  # a paused conversation logs messages without actions
        return False
    actions = 0
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted):
            if event.action_name in (ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME):
                break
            actions += 1
    if actions < MAX_NUMBER_OF_PREDICTIONS:
        return False
    log.warning("a turn stopped by the circuit breaker was closed with action_listen")
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    return True


def _starts_turn(events: list[Event], j: int) -> bool:
    """``events[j]`` is the ``action_listen`` a user message follows."""
    event = events[j]
    return (
        isinstance(event, ActionExecuted)
        and event.action_name == ACTION_LISTEN_NAME
        and j + 1 < len(events)
        and isinstance(events[j + 1], UserUttered)
    )


def carried_state(tracker: DialogueStateTracker, timestamp: float) -> list[Event]:
    """Events that give a fresh tracker the slots and pause of ``tracker``.

    Only valid where no form is active (the window never starts inside one);
    the latest message, action and bot reply come from the window itself.
    """
    carried: list[Event] = [
        SlotSet(name, slot.value, timestamp=timestamp, metadata={CARRIED: True})
        for name, slot in _slots(tracker)
        if slot.value != slot.initial_value
    ]
    if tracker.is_paused():
        carried.append(ConversationPaused(timestamp=timestamp, metadata={CARRIED: True}))
    return carried


def _slots(tracker: DialogueStateTracker) -> Iterable[tuple[str, Any]]:
    return sorted(tracker.slots.items())


def redact_event(data: dict[str, Any], verbatim_slots: Iterable[str] = ()) -> dict[str, Any]:
    """``data`` (an event's dict) with every string a person may have written redacted.

    Values under ``STRUCTURAL_KEYS`` are kept, and so is the value of a slot in
    ``verbatim_slots``; every other string, at any depth (and every dict key
    that is not structural), goes through ``bot.text.redact.redact``.
    """
    if data.get("event") == SlotSet.type_name and data.get("name") in set(verbatim_slots):
        return dict(data)
    return _redacted(data, {})


def _redacted(value: Any, seen: dict[str, str]) -> Any:
    if isinstance(value, str):
        if value not in seen:
            seen[value] = _redact_or_drop(value)
        return seen[value]
    if isinstance(value, Mapping):
        return {
            _redacted_key(key, seen): item if key in STRUCTURAL_KEYS else _redacted(item, seen)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redacted(item, seen) for item in value]
    return value


def _redacted_key(key: Any, seen: dict[str, str]) -> Any:
    """Field names (letters and underscores: ``text``, ``parse_data`` …) as they are;
    any other key (a client's metadata may use anything) redacted like a value."""
    if not isinstance(key, str) or _FIELD_NAME.fullmatch(key):
        return key
    return _redacted(key, seen)


def _redact_or_drop(text: str) -> str:
    """``redact(text)``; if redaction fails, the text is dropped, never stored raw
    (and the turn is still saved: Rasa would otherwise keep it in memory only)."""
    try:
        return redact(text)
    except Exception:
        log.exception("redaction failed; a text of %d characters was not stored", len(text))
        return DROPPED


def _private_sqlite_file(options: Mapping[str, Any]) -> None:
    """Create the store's SQLite file 0600 (its folder 0700) before SQLite does."""
    if options.get("dialect", "sqlite") != "sqlite" or options.get("host"):
        return
    db = str(options.get("db") or "rasa.db")
    if db and db != ":memory:":
        make_private(Path(db))


def _create_index(engine: sa.engine.Engine, index: sa.Index) -> None:
    """Add ``index`` to a database made before it existed (several processes may race)."""
    try:
        index.create(engine, checkfirst=True)
    except sa.exc.SQLAlchemyError:  # another process made it first
        log.debug("index %s not created", index.name, exc_info=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # Deleted and rewritten rows are overwritten with zeros, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
