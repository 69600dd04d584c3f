"""Answer a question from the knowledge base, offer choices when unsure, and
say so honestly (menu + human + recorded for curators) when nothing fits."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.common import channel_of, latest_intent, latest_text
from actions.services import Services, get_services
from bot.knowledge.reply import answer_messages
from bot.knowledge.schema import Entry
from bot.knowledge.service import AskResult, record_unanswered
from bot.menu import NOT_THIS, menu_text

log = logging.getLogger(__name__)
_HAN = re.compile(r"[\u4e00-\u9fff]")


def say_entry(dispatcher: CollectingDispatcher, entry: Entry) -> list[EventType]:
    """Send an entry's messages; remember it for "有用 / 没用" and "再说一遍"."""
    for message in answer_messages(entry):
        dispatcher.utter_message(text=message)
    return [SlotSet("pending_options", None), SlotSet("last_entry_id", entry.id)]


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await get_services()
        chosen = tracker.get_slot("chosen_question")
        events: list[EventType] = [SlotSet("chosen_question", None)]
        if chosen and latest_intent(tracker) in ("choose_option", "affirm"):
            kind, _, value = chosen.partition(":")
            if kind == "kb":
                entry = await services.knowledge.get(value)
                if entry is not None:
                    return events + say_entry(dispatcher, entry)
            question = value
        else:
            question = latest_text(tracker)

        result = await services.knowledge.ask(question)
        if result.kind == "answer" and result.best:
            return events + say_entry(dispatcher, result.best.entry)
        if result.kind == "choices":
            return events + self._offer(dispatcher, result)
        return events + await self._no_answer(dispatcher, tracker, services, question, result)

    @staticmethod
    def _offer(dispatcher: CollectingDispatcher, result: AskResult) -> list[EventType]:
        if len(result.hits) == 1:  # one candidate: a yes/no question is easier than a list
            entry = result.hits[0].entry
            dispatcher.utter_message(text=f"您是想问『{entry.title}』吗？回复 1 是，2 不是。")
            return [SlotSet("pending_options", [f"kb:{entry.id}", NOT_THIS])]
        lines = ["您是想问："]
        lines += [f"{i}. {hit.entry.title}" for i, hit in enumerate(result.hits, start=1)]
        lines.append("请回复数字。都不是的话，回复“不是”。")
        dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet("pending_options", [f"kb:{h.entry.id}" for h in result.hits])]

    @staticmethod
    async def _no_answer(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        services: Services,
        question: str,
        result: AskResult,
    ) -> list[EventType]:
        meaningful = len(_HAN.findall(question)) >= 2
        if meaningful:
            text = "这个问题我暂时答不上来。"
            try:
                await record_unanswered(
                    services.db, tracker.sender_id, channel_of(tracker), question, result.best
                )
                text += "已经记下来，请专家补充。"
            except SQLAlchemyError:
                log.exception("could not record an unanswered question")
        else:
            text = "不好意思，我没太明白您的意思。"
        dispatcher.utter_message(text=f"{text}\n{menu_text()}")
        return [SlotSet("pending_options", None)]
