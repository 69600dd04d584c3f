"""Check a forwarded or pasted message (menu 5 or "帮我看看这条短信")."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.fraud.advice import GENERAL_ADVICE, REQUEST_PHRASES
from bot.text.content import carries_content


class ValidateCheckMessageForm(FormValidationAction):
    def name(self) -> str:
        return "validate_check_message_form"

    async def validate_suspicious_text(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        # "帮我看看这条短信" alone: keep asking for the message itself.
        if isinstance(slot_value, str) and carries_content(slot_value, REQUEST_PHRASES):
            return {"suspicious_text": slot_value}
        return {"suspicious_text": None}


class ActionCheckMessage(Action):
    """Until the automatic checker (issue 5) lands: honest, standing advice only."""

    def name(self) -> str:
        return "action_check_message"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(text="收到。这条消息我现在还不能自动判断真假。\n" + GENERAL_ADVICE)
        return [SlotSet("suspicious_text", None)]
