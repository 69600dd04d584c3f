"""Find a person: the right hotline first, and the request recorded."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.answer_question import say_entry
from actions.common import channel_of, latest_text
from actions.services import get_services
from bot.handoff import handoff_reply, is_emergency, record_request

log = logging.getLogger(__name__)


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker)
        reply, hotlines = handoff_reply(text)
        services = await get_services()
        try:
            await record_request(
                services.db, tracker.sender_id, channel_of(tracker), text, hotlines
            )
            reply += "\n您的求助已经记下，工作人员会看到。"
        except SQLAlchemyError:
            # The numbers still help; we just must not claim it was recorded.
            log.exception("could not record a handoff request")
        dispatcher.utter_message(text=reply)
        if is_emergency(text):
            # 120 first; then, while waiting, the first-aid entry if one clearly fits.
            result = await services.knowledge.ask(text)
            if result.kind == "answer" and result.best and result.best.entry.topic == "health":
                dispatcher.utter_message(text="等救护车的时候可以这样做：")
                return say_entry(dispatcher, result.best.entry)
        return [SlotSet("pending_options", None)]
