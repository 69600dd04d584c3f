""" "有用 / 没用" about the last answer."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.common import channel_of, latest_text
from actions.services import get_services
from bot.knowledge.feedback import read_feedback, record_feedback

log = logging.getLogger(__name__)


class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        useful = read_feedback(latest_text(tracker))
        if useful is None:
            useful = True  # classified as feedback but no clear word: count it as thanks
        services = await get_services()
        try:
            await record_feedback(
                services.db,
                tracker.sender_id,
                channel_of(tracker),
                tracker.get_slot("last_entry_id"),
                useful,
            )
        except SQLAlchemyError:
            log.exception("could not record feedback")
        if useful:
            dispatcher.utter_message(text="谢谢您！还有问题随时问我。")
        else:
            dispatcher.utter_message(
                text="谢谢告诉我们，我们会改进这条内容。您可以换个说法再问，或者回复 7 找人帮忙。"
            )
        return []
