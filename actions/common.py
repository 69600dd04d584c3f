"""Small helpers every action uses."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.knowledge.reply import answer_messages
from bot.knowledge.schema import Entry
from bot.knowledge.service import ANSWER_THRESHOLD, LEADER_THRESHOLD
from bot.text.normalize import CANONICAL_KEY, Canonical, canonical


def latest_text(tracker: Tracker) -> str:
    """The parse result's text: the NLU's rewrite of the message (canonical, with the
    classifier's terms put right), not the user's own words (the user event's)."""
    return (tracker.latest_message or {}).get("text") or ""


def latest_canonical(tracker: Tracker) -> Canonical:
    """The latest message in canonical form, as the NLU worked it out (``text_canonical``);
    worked out here only for a message the NLU did not read (an "/intent" payload)."""
    form = (tracker.latest_message or {}).get(CANONICAL_KEY)
    return Canonical(form) if isinstance(form, str) else canonical(latest_text(tracker))


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
    decision: str,
    entry_id: str | None = None,
    related: list[str] | None = None,
    **facts: str | None,
) -> dict[str, str]:
    """What a bot message carries for clients, graders and the statistics
    (``custom``, read by ``bot.insights.events``): the move it makes, the
    knowledge entry it serves, the entries it lists as related, and ``facts``
    such as the entry's topic, the score band, a fraud risk or a report's number.
    Names and ids only, never what the person wrote."""
    tag = {"decision": decision}
    if entry_id:
        tag["entry_id"] = entry_id
    if related:
        tag["related"] = "|".join(related)
    tag.update({key: value for key, value in facts.items() if value})
    return tag


def score_band(score: float | None) -> str | None:
    """How sure search was of the entry it served, in three bands (statistics)."""
    if score is None:
        return None
    if score >= LEADER_THRESHOLD:
        return "high"
    if score >= ANSWER_THRESHOLD:
        return "medium"
    return "low"


def say(
    dispatcher: CollectingDispatcher,
    text: str,
    decision: str,
    related: list[str] | None = None,
    **facts: str | None,
) -> None:
    """One message, tagged with the move it makes (and ``facts``, see ``tagged``)."""
    dispatcher.utter_message(text=text, json_message=tagged(decision, related=related, **facts))


def say_entry(
    dispatcher: CollectingDispatcher,
    entry: Entry,
    decision: str = "answer",
    *,
    public_url: str = "",
    score: float | None = None,
) -> list[EventType]:
    """Send an entry's messages; remember it for "有用 / 没用", "再说一遍" and "多讲一点".

    ``score``: search's score for the entry, when search chose it (statistics)."""
    for i, message in enumerate(answer_messages(entry, public_url)):
        custom = (
            tagged(decision, entry.id, topic=entry.topic, band=score_band(score))
            if i == 0
            else None
        )
        dispatcher.utter_message(text=message, json_message=custom)
    return [SlotSet("pending_options", None), SlotSet("last_entry_id", entry.id)]
