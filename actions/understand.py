"""The one action for free text: say what the understanding step decided.

Questions, claims, pasted messages and descriptions of trouble all come here
(Rasa only classifies conversation moves). ``bot.understanding`` weighs the
evidence and names the move; ``actions.render`` says it.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    latest_canonical,
    latest_confidence,
    latest_intent,
    latest_text,
    say,
    say_entry,
)
from actions.outreach import outreach_turn
from actions.render import render
from actions.services import get_services

log = logging.getLogger(__name__)

ENTRY_GONE = "这条内容刚更新过，暂时找不到了。请把您想问的再说一遍，我重新帮您找。"


class ActionUnderstand(Action):
    def name(self) -> str:
        return "action_understand"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await get_services()
        chosen = tracker.get_slot("chosen_question")
        events: list[EventType] = [SlotSet("chosen_question", None)]
        subscribed = await outreach_turn(dispatcher, tracker, chosen, services.db)
        if subscribed is not None:  # "订阅防骗提醒", "退订", "我的订阅" …
            return events + subscribed
        if chosen and latest_intent(tracker) in ("choose_option", "affirm"):
            kind, _, value = chosen.partition(":")
            if kind == "kb":
                entry = await services.knowledge.get(value)
                if entry is not None:
                    return events + say_entry(
                        dispatcher, entry, "choice", public_url=services.settings.public_url
                    )
                # Taken out or merged since the list was shown: the id is no question.
                say(dispatcher, ENTRY_GONE, "none")
                return events
            text = form = value
        else:
            # Decided on the canonical form the NLU carried (``text_canonical``). The
            # parse result's text (the NLU's rewrite: its own terms put right) is,
            # as before, what an offer to report files and a "not yet" records.
            text, form = latest_text(tracker), latest_canonical(tracker)
        decision = await services.understanding.decide(
            form, intent=latest_intent(tracker), confidence=latest_confidence(tracker)
        )
        log.info("understanding: %s", decision.log_line())
        return events + await render(decision, text, dispatcher, tracker, services)
