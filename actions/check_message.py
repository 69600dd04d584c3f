"""Check a forwarded or pasted message (menu 5 or "帮我看看这条短信")."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.render import render
from actions.services import get_services
from bot.fraud.advice import REQUEST_PHRASES
from bot.text.content import carries_content

log = logging.getLogger(__name__)


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
    """Risk level, likely fraud type, reasons quoting the message, what to do.

    Only the count by day, risk and type is kept; the message itself is not
    stored anywhere by us. A real question typed instead of a message ("验证码
    能告诉别人吗") is answered, not rated.
    """

    def name(self) -> str:
        return "action_check_message"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = tracker.get_slot("suspicious_text") or ""
        services = await get_services()
        decision = await services.understanding.decide(text, expect_message=True)
        log.info("understanding (message check): %s", decision.log_line())
        events: list[EventType] = [SlotSet("suspicious_text", None)]
        return events + await render(decision, text, dispatcher, tracker, services)
