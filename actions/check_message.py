"""Check a forwarded or pasted message (menu 5 or "帮我看看这条短信")."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.answer_question import say_entry
from actions.services import get_services
from bot.fraud.advice import REQUEST_PHRASES
from bot.fraud.stats import count_check
from bot.menu import REPORT_OFFER
from bot.rumors.matching import AUTO_MATCH
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
    stored anywhere by us (the tracker keeps the conversation, as for every turn).

    A message that is not a likely scam may still carry a rumour ("转发：喝醋
    能软化血管"): a published debunk that answers it is shown at once, else
    the user is offered to send it to the rumour queue (reply 1).
    """

    def name(self) -> str:
        return "action_check_message"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = tracker.get_slot("suspicious_text") or ""
        services = await get_services()
        verdict = services.fraud.check(text)
        dispatcher.utter_message(text=verdict.as_text())
        try:
            await count_check(services.db, verdict)
        except SQLAlchemyError:  # the verdict matters more than the statistics
            log.exception("could not count a fraud check")
        events: list[EventType] = [SlotSet("suspicious_text", None)]
        if verdict.risk == "high":
            return events
        match = await services.knowledge.match_debunk(text)
        if match and match[1] >= AUTO_MATCH:
            dispatcher.utter_message(text="消息里的说法，我们核实过：")
            return [*events, *say_entry(dispatcher, match[0])]
        dispatcher.utter_message(
            text="想知道消息里的说法是真是假，回复 1，我帮您交给辟谣平台核实。"
        )
        return [*events, SlotSet("pending_options", [f"{REPORT_OFFER}{text}"])]
