""" "再说一遍": send the bot's last turn again, unchanged; "多讲一点": the detail
of the answer it gave (the rest of the answer, the full source)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_text
from actions.services import get_services
from bot.knowledge.reply import detail_messages
from bot.menu.pages import menu_text
from bot.understanding.cues import MORE_DETAIL


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


def entry_of(turn: list[dict[str, Any]]) -> str | None:
    """The knowledge entry the turn's messages served, if any."""
    for event in turn:
        custom = (event.get("data") or {}).get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("entry_id"), str):
            return custom["entry_id"]
    return None


class ActionRepeat(Action):
    def name(self) -> str:
        return "action_repeat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        turn = last_bot_turn(tracker.events)
        entry_id = entry_of(turn)
        if entry_id and MORE_DETAIL.match(latest_text(tracker).strip()):
            services = await get_services()
            entry = await services.knowledge.get(entry_id)
            if entry is not None:
                for text in detail_messages(entry, services.settings.public_url):
                    dispatcher.utter_message(text=text)
                return []
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
