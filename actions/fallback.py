"""When the dialogue policies are unsure: say so and offer the menu (never a dead end)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from bot.menu.pages import menu_text


class ActionDefaultFallback(Action):
    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(text="不好意思，我没太明白。\n" + menu_text())
        # Forget the confusing turn so it does not steer the next prediction.
        return [UserUtteranceReverted(), SlotSet("pending_options", None)]
