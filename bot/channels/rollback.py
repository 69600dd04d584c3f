"""A turn that fails leaves no trace in the conversation.

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

import logging
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

log = logging.getLogger(__name__)


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
