"""A turn that fails is noticed, answered politely, and leaves no trace.

When an action fails (the action server down, killed, or timing out), Rasa
logs the action as run with no events and goes on: the user gets no answer,
yet the conversation has moved on — a finished form is closed, so the user's
retry of the same message means something else ("4" picks menu item 4
instead of answering "where did you see it"), and a rumour report is lost.

Our channels answer such a turn with a polite "busy" reply and then undo what
it changed: under the conversation's lock, and only if the conversation's
latest user message is still the failed one, they append the events that set
every slot and the active form back to what they were before that message.
(Rasa's ``UserUtteranceReverted`` cannot do it: inside a form it rewinds to
the message that started the form.) Nothing is deleted from the history. A
retry then finds the conversation as it was, and the action's own idempotency
(rumour reports: the message id) makes the retry store what the failed turn
may already have stored, once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

log = logging.getLogger(__name__)


@dataclass
class TurnWatch:
    """What went wrong during one turn: the actions whose events Rasa lost."""

    lost_actions: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.lost_actions)


_TURN: ContextVar[TurnWatch | None] = ContextVar("kepu_turn", default=None)


class _LostActionHandler(logging.Handler):
    """Rasa's processor catches a failing action (the action server refuses the
    connection, times out, answers 500), logs it from ``_run_action`` and goes on
    without that action's events. It tells no one else, so we listen to its log."""

    def emit(self, record: logging.LogRecord) -> None:
        turn = _TURN.get()
        if turn is not None and record.funcName == "_run_action" and record.exc_info:
            turn.lost_actions.append(record.getMessage()[:200])


_LOST_ACTIONS = _LostActionHandler(level=logging.ERROR)


@contextlib.contextmanager
def watch_turn() -> Iterator[TurnWatch]:
    """Notice the actions Rasa loses while the turn handled inside this block runs.

    A turn runs in the task that awaits ``on_new_message``, so a context variable
    ties Rasa's log records to it. Usable by every channel::

        with watch_turn() as turn:
            await on_new_message(message)
        if turn.failed: ...
    """
    processor_log = logging.getLogger("rasa.core.processor")
    if _LOST_ACTIONS not in processor_log.handlers:
        processor_log.addHandler(_LOST_ACTIONS)
    turn = TurnWatch()
    token = _TURN.set(turn)
    try:
        yield turn
    finally:
        _TURN.reset(token)


async def forget_failed_turn(agent: Any, message: UserMessage) -> bool:
    """Revert ``message``'s turn; False if there is nothing (or something newer) there."""
    store = getattr(agent, "tracker_store", None)
    locks = getattr(agent, "lock_store", None)
    if store is None or locks is None:
        return False
    try:
        async with locks.lock(message.sender_id):
            tracker = await store.retrieve(message.sender_id)
            if tracker is None:
                return False
            # All events: inside a form Rasa's "applied" view folds the form's turns away.
            events = list(tracker.events)
            index = next(
                (i for i in range(len(events) - 1, -1, -1) if isinstance(events[i], UserUttered)),
                None,
            )
            if index is None or events[index].message_id != message.message_id:
                return False
            slots = list(tracker.slots.values())
            before = DialogueStateTracker.from_events(message.sender_id, events[:index], slots)
            for event in restoring_events(before, tracker):
                tracker.update(event)
            await store.save(tracker)
    except Exception:  # the busy reply has gone out; a failed undo must not hide it
        log.exception("could not undo a failed turn")
        return False
    log.warning("undid a failed turn so that a retry starts from the same place")
    return True


def restoring_events(before: DialogueStateTracker, now: DialogueStateTracker) -> list[Event]:
    """Events that bring ``now``'s form and slots back to ``before``'s."""
    events: list[Event] = []
    if before.active_loop_name != now.active_loop_name:
        events.append(ActiveLoop(before.active_loop_name))
    for name, slot in now.slots.items():
        old = before.get_slot(name)
        if slot.value != old:
            events.append(SlotSet(name, old))
    return events
