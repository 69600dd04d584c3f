"""A SQL tracker store that loads a bounded window of a long conversation.

Rasa's ``SQLTrackerStore`` rebuilds the tracker from every event of the current
session on every turn, sends all of them to the action server and featurizes
all of them again; a senior who keeps one chat open all day makes every turn
slower than the last. This store keeps every event in the ``events`` table,
exactly as Rasa writes it, but loads only a recent window of them.

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
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
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
from sqlalchemy.orm import Session, declarative_base

log = logging.getLogger(__name__)

# A window grows to MAX_EVENTS stored events, then moves so that about
# KEEP_EVENTS remain, and at least KEEP_TURNS turns before the latest form: the
# policies look at the last 5 states (TED max_history in config.yml).
DEFAULT_MAX_EVENTS = 240
DEFAULT_KEEP_EVENTS = 80
DEFAULT_KEEP_TURNS = 6
# Marks the synthesized events in front of a window (visible to actions).
CARRIED = "kepu_carried"

_Base: Any = declarative_base()


class TrackerWindow(_Base):
    """Where the loaded window of a conversation starts, and the state before it."""

    __tablename__ = "kepu_tracker_windows"

    sender_id = sa.Column(sa.String(255), primary_key=True)
    # id and timestamp of the window's first event (an ``action_listen``).
    event_id = sa.Column(sa.Integer, nullable=False)
    timestamp = sa.Column(sa.Float, nullable=False)
    # JSON list of events reproducing the state the earlier events left.
    carried = sa.Column(sa.Text, nullable=False)


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
        **kwargs: Any,
    ) -> None:
        if not 0 < keep_events < max_events or keep_turns < 1:
            raise ValueError("need 0 < keep_events < max_events and keep_turns >= 1")
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
        _Base.metadata.create_all(self.engine)

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
        """Store the events the tracker gained since it was loaded; move its window."""
        close_tripped_turn(tracker)
        await self.stream_events(tracker)
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

    def _row(self, sender_id: str, event: Event) -> Any:
        """The ``events`` row of an event, filled as ``SQLTrackerStore.save`` fills it."""
        data = event.as_dict()
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
                carried=json.dumps([event.as_dict() for event in carried]),
            )
        )
        log.debug("window of a conversation moved to event %s", loaded.ids[j])


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


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
