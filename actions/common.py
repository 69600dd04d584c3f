"""Small helpers every action uses."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.knowledge.reply import answer_messages
from bot.knowledge.schema import Entry


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def latest_confidence(tracker: Tracker) -> float | None:
    value = ((tracker.latest_message or {}).get("intent") or {}).get("confidence")
    return float(value) if isinstance(value, int | float) else None


def channel_of(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or "unknown"


def slot_list(tracker: Tracker, name: str) -> list[Any]:
    value = tracker.get_slot(name)
    return list(value) if isinstance(value, list) else []


def tagged(
    decision: str, entry_id: str | None = None, related: list[str] | None = None
) -> dict[str, str]:
    """What a bot message carries for clients and graders (``custom``): the move
    it makes, the knowledge entry it serves, the entries it lists as related."""
    tag = {"decision": decision}
    if entry_id:
        tag["entry_id"] = entry_id
    if related:
        tag["related"] = "|".join(related)
    return tag


def say(dispatcher: CollectingDispatcher, text: str, decision: str) -> None:
    """One message, tagged with the move it makes."""
    dispatcher.utter_message(text=text, json_message=tagged(decision))


def say_entry(
    dispatcher: CollectingDispatcher,
    entry: Entry,
    decision: str = "answer",
    *,
    public_url: str = "",
) -> list[EventType]:
    """Send an entry's messages; remember it for "有用 / 没用", "再说一遍" and "多讲一点"."""
    for i, message in enumerate(answer_messages(entry, public_url)):
        custom = tagged(decision, entry.id) if i == 0 else None
        dispatcher.utter_message(text=message, json_message=custom)
    return [SlotSet("pending_options", None), SlotSet("last_entry_id", entry.id)]
