""" "再说一遍": send the bot's last turn again, unchanged."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.menu import menu_text


def last_bot_turn(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bot messages sent between the two most recent user messages."""
    turn: list[dict[str, Any]] = []
    users_seen = 0
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            users_seen += 1
            if users_seen == 2:
                break
        elif kind == "bot" and users_seen == 1:
            turn.append(event)
    return list(reversed(turn))


class ActionRepeat(Action):
    def name(self) -> str:
        return "action_repeat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        turn = last_bot_turn(tracker.events)
        if not turn:
            dispatcher.utter_message(text="我们刚开始聊，我还没说什么。" + "\n" + menu_text())
            return []
        for event in turn:
            data = event.get("data") or {}
            dispatcher.utter_message(
                text=event.get("text"),
                buttons=data.get("buttons"),
                image=data.get("image"),
                json_message=data.get("custom"),
            )
        return []
