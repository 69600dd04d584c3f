"""Ask about or report a rumour (menu 6, "举报谣言", "听说……是真的不")."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answer_question import say_entry
from actions.services import get_services
from bot.rumors.advice import REQUEST_PHRASES, SELF_CHECK_ADVICE
from bot.text.content import carries_content


class ValidateReportRumorForm(FormValidationAction):
    def name(self) -> str:
        return "validate_report_rumor_form"

    async def validate_rumor_claim(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if isinstance(slot_value, str) and carries_content(slot_value, REQUEST_PHRASES, 4):
            return {"rumor_claim": slot_value}
        return {"rumor_claim": None}


class ActionReportRumor(Action):
    """Answer from a published debunk when one matches; otherwise say how to judge it."""

    def name(self) -> str:
        return "action_report_rumor"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        claim = tracker.get_slot("rumor_claim") or ""
        services = await get_services()
        result = await services.knowledge.ask(claim)
        best = result.best
        if result.kind == "answer" and best and best.entry.topic == "rumor":
            dispatcher.utter_message(text="这个说法我们核实过：")
            return [SlotSet("rumor_claim", None), *say_entry(dispatcher, best.entry)]
        dispatcher.utter_message(text="这个说法我们还没有核实过的结论。\n" + SELF_CHECK_ADVICE)
        return [SlotSet("rumor_claim", None)]
