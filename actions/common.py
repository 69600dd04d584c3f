"""Small helpers every action uses."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def channel_of(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or "unknown"


def slot_list(tracker: Tracker, name: str) -> list[Any]:
    value = tracker.get_slot(name)
    return list(value) if isinstance(value, list) else []
