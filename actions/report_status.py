"""'我的举报有结果了吗' (or a receipt number): where the user's reports stand."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.common import latest_text, say
from actions.services import get_services
from bot.rumors.status import RECEIPT, reports_of, status_text

log = logging.getLogger(__name__)


class ActionReportStatus(Action):
    def name(self) -> str:
        return "action_report_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker)
        services = await get_services()
        try:
            reports = await reports_of(services.db, tracker.sender_id, text)
        except SQLAlchemyError:
            log.exception("could not look up a sender's reports")
            say(dispatcher, "抱歉，现在查不到，请过几分钟再问一次。", "report_status")
            return []
        named = bool(RECEIPT.search(text.upper()))
        say(dispatcher, status_text(reports, named), "report_status")
        return [SlotSet("pending_options", None)]
