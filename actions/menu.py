"""Main menu and numbered choices ("1", "第二个", "健康", "是", "不是")."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_intent, latest_text, slot_list
from actions.orders import order_reply
from actions.services import get_services
from bot.menu.pages import (
    MAIN_OPTIONS,
    NOT_THIS,
    ORDER_OFFER,
    REPORT_OFFER,
    TOPICS,
    menu_text,
    option_label,
    resolve_choice,
    topic_page,
)


class ActionShowMenu(Action):
    def name(self) -> str:
        return "action_show_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(text=menu_text())
        return [SlotSet("pending_options", None)]


class ActionChooseOption(Action):
    """Resolve a reply against what the bot offered last, else the main menu."""

    def name(self) -> str:
        return "action_choose_option"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        pending = slot_list(tracker, "pending_options")
        intent = latest_intent(tracker)
        # The rating question (said with the channel's last reply) or a cancel offer.
        ordered = await order_reply(dispatcher, tracker, pending, intent)
        if ordered is not None:
            return ordered
        if intent == "deny":
            return self._decline(dispatcher)
        if intent == "affirm":
            # "是" accepts a single offer, or option 1 of a "回复 1 是，2 不是" offer.
            if len(pending) == 1 or (len(pending) == 2 and pending[1] == NOT_THIS):
                return await self._follow(pending[0], dispatcher)
            dispatcher.utter_message(text="好的。还有什么想问的，直接说就行。\n" + menu_text())
            return [SlotSet("pending_options", None), SlotSet("chosen", "other")]
        choice = resolve_choice(latest_text(tracker), pending)
        if choice is None:
            return await self._not_an_option(dispatcher, pending)
        return await self._follow(choice, dispatcher)

    @staticmethod
    def _decline(dispatcher: CollectingDispatcher) -> list[EventType]:
        dispatcher.utter_message(text="好的。您可以换个说法再问一次。\n" + menu_text())
        return [SlotSet("pending_options", None), SlotSet("chosen", "other")]

    async def _follow(self, choice: str, dispatcher: CollectingDispatcher) -> list[EventType]:
        if choice == NOT_THIS:
            return self._decline(dispatcher)
        kind, _, value = choice.partition(":")
        if kind == "menu" and value in TOPICS:
            text, options = topic_page(value)
            dispatcher.utter_message(text=text)
            return [SlotSet("pending_options", options), SlotSet("chosen", "topic")]
        if kind == "menu":  # check_message, report_rumor, help: the rules take over
            return [SlotSet("pending_options", None), SlotSet("chosen", value)]
        if choice.startswith(ORDER_OFFER):  # "回复 1 预约志愿者上门": the order form
            return [
                SlotSet("pending_options", None),
                SlotSet("order_hint", value or None),
                SlotSet("chosen", "order"),
            ]
        if choice.startswith(REPORT_OFFER):
            # The checked message becomes the claim; the report form validates it on start.
            return [
                SlotSet("pending_options", None),
                SlotSet("rumor_claim", value),
                SlotSet("chosen", "report_rumor"),
            ]
        # "ask:<question>" or "kb:<entry id>": answered by action_understand
        return [
            SlotSet("pending_options", None),
            SlotSet("chosen", "question"),
            SlotSet("chosen_question", choice),
        ]

    async def _not_an_option(
        self, dispatcher: CollectingDispatcher, pending: list[str]
    ) -> list[EventType]:
        options = pending or MAIN_OPTIONS
        services = await get_services()
        if len(options) == 1:
            lines = ["没有这个选项，请回复数字："]
        else:
            lines = [f"没有这个选项，请回复 1 到 {len(options)} 之间的数字："]
        for i, option in enumerate(options, start=1):
            lines.append(f"{i} {await _label(option, services)}")
        if pending:
            lines.append("回复“菜单”回到主菜单。")
        dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet("chosen", "other")]


async def _label(option: str, services: Any) -> str:
    if option.startswith("kb:"):
        entry = await services.knowledge.get(option[3:])
        return entry.title if entry else "（这条内容已更新）"
    return option_label(option)
