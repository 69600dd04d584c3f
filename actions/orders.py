"""Booking a volunteer (点单), "我的预约", cancelling, and the rating reply (评单).

Entry points to the form, all through ``begin_order`` (which clears what an
earlier, interrupted form left behind):

- an explicit request ("预约志愿者", "想请人上门教我用手机"): intent
  ``order_service`` → ``action_start_order``;
- a request for a person that asks someone to come ("有没得人上门来帮我"):
  ``actions.render.hand_off`` gives the hotline line, records the request and
  starts the form in the same turn;
- any other request for a person (menu 7, "找人帮忙"): ``hand_off`` adds
  "想请志愿者上门帮忙，回复 1" and the reply "1" starts it (``action_choose_option``
  → ``chosen: order`` → ``action_start_order``).

The form asks the service (numbered), the 镇/街道 (matched with typo and dialect
tolerance, asked again kindly), the 村/社区, when, and the phone number last,
so that the raw number is needed only in the turn that places the order. The
number is never logged; it is stored only in ``service_orders.phone``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import channel_of, latest_text, say
from actions.services import get_services
from bot.accounts.errors import ConsoleError, InvalidInput, NotFound, clip
from bot.menu.pages import CANCEL_OFFER, KEEP_ORDER, ORDER_OFFER
from bot.orders import catalogue
from bot.orders.chat import (
    NOT_SAVED,
    STOPPED,
    is_cancel,
    is_goodbye,
    link_help_requests,
    order_number,
    orders_text,
    rating_due,
    read_phone,
    read_rating,
    read_service,
    read_time,
    read_town,
    read_village,
    receipt_text,
    resident_orders,
    service_named,
    service_question,
    sounds_like_rating,
    start_text,
    town_named,
    town_question,
)
from bot.orders.service import LOW_RATING, cancel_by_resident, place_order, rate
from bot.text.numerals import parse_option_number

log = logging.getLogger(__name__)

FORM = "service_order_form"
FORM_SLOTS = ("order_service", "order_town", "order_village", "order_time", "order_phone")
HELPER_SLOTS = ("order_stop", "order_town_choices", "order_town_tries", "order_hint")


def reset() -> list[EventType]:
    return [SlotSet(name, None) for name in (*FORM_SLOTS, *HELPER_SLOTS)]


def begin_order(
    dispatcher: CollectingDispatcher, service: str | None, town: str | None = None
) -> list[EventType]:
    """Start the form afresh, with what the request already said."""
    dispatcher.utter_message(text=start_text(service), json_message={"decision": "order_start"})
    events = [*reset(), SlotSet("pending_options", None)]
    if service:
        events.append(SlotSet("order_service", service))
    if town:
        events.append(SlotSet("order_town", town))
    return [*events, FollowupAction(FORM)]


class ActionStartOrder(Action):
    def name(self) -> str:
        return "action_start_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker)
        hint = tracker.get_slot("order_hint")
        service = hint if hint and catalogue.service(hint) else service_named(text)
        return begin_order(dispatcher, service, town_named(text))


def _stop(slot: str) -> dict[str, Any]:
    return {slot: None, "order_stop": True}


def _not_an_answer(
    slot: str, value: Any, stops: tuple[Callable[[str], bool], ...] = (is_cancel,)
) -> dict[str, Any] | None:
    """The slots to set when ``value`` is no answer to the question: cleared when the
    form started (not text), or a wish to stop ("取消"); None for an answer."""
    if not isinstance(value, str):
        return {slot: None}
    if any(stop(value) for stop in stops):
        return _stop(slot)
    return None


class ValidateServiceOrderForm(FormValidationAction):
    def name(self) -> str:
        return "validate_service_order_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # "取消" at any question: no more questions (action_place_order says goodbye).
        return [] if tracker.get_slot("order_stop") else domain_slots

    async def validate_order_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if (done := _not_an_answer("order_service", value)) is not None:
            return done
        key = read_service(value)
        if key is None:
            count = len(catalogue.services())
            dispatcher.utter_message(text=f"没有这一项，请回复 1 到 {count} 的数字。")
        return {"order_service": key}

    async def validate_order_town(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if (done := _not_an_answer("order_town", value)) is not None:
            return done
        choices = tracker.get_slot("order_town_choices") or []
        town, candidates = read_town(value, choices)
        if town is not None:
            return {"order_town": town, "order_town_choices": None, "order_town_tries": None}
        if candidates:  # several fit: the question lists them
            return {"order_town": None, "order_town_choices": candidates}
        tries = int(tracker.get_slot("order_town_tries") or 0) + 1
        dispatcher.utter_message(text=f"没找到“{clip(value.strip(), 12)}”这个镇街。")
        return {"order_town": None, "order_town_choices": None, "order_town_tries": float(tries)}

    async def validate_order_village(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if (done := _not_an_answer("order_village", value)) is not None:
            return done
        village = read_village(value, tracker.get_slot("order_town"))
        if village is None:
            dispatcher.utter_message(text="没听清是哪个村或社区。")
        return {"order_village": village}

    async def validate_order_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if (done := _not_an_answer("order_time", value, stops=(is_cancel, is_goodbye))) is not None:
            return done
        when = read_time(value)
        if when is None:
            dispatcher.utter_message(text="没听清什么时候方便。")
        return {"order_time": when}

    async def validate_order_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if (done := _not_an_answer("order_phone", value)) is not None:
            return done
        phone = read_phone(value)
        if phone is None:  # never echoed or logged: it may be a number all the same
            dispatcher.utter_message(
                text="号码好像不对：手机号是 11 位数字，比如 138 1234 5678；座机要带区号。"
            )
        return {"order_phone": phone}


class ActionAskOrderService(Action):
    def name(self) -> str:
        return "action_ask_order_service"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(text=service_question())
        return []


class ActionAskOrderTown(Action):
    def name(self) -> str:
        return "action_ask_order_town"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        tries = int(tracker.get_slot("order_town_tries") or 0)
        dispatcher.utter_message(
            text=town_question(tries, tracker.get_slot("order_town_choices") or [])
        )
        return []


class ActionPlaceOrder(Action):
    """The form is done: place the order (once per finishing message) or, after
    "取消", say goodbye. Either way nothing of the form stays in the slots."""

    def name(self) -> str:
        return "action_place_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot("order_stop"):
            say(dispatcher, STOPPED, "order_stopped")
            return reset()
        fields = {name: tracker.get_slot(name) or "" for name in FORM_SLOTS}
        services = await get_services()
        try:
            receipt = await place_order(
                services.db,
                sender_id=tracker.sender_id,
                channel=channel_of(tracker),
                service=fields["order_service"],
                town=fields["order_town"],
                village=fields["order_village"],
                convenient_time=fields["order_time"],
                phone=fields["order_phone"],
                key=tracker.latest_message.get("message_id"),
            )
        except InvalidInput as error:  # cannot happen after validation; never the number
            log.warning("an order from the form was refused: %s", type(error).__name__)
            say(dispatcher, NOT_SAVED, "order_failed")
            return reset()
        except (SQLAlchemyError, OSError):
            log.exception("an order could not be stored")
            say(dispatcher, NOT_SAVED, "order_failed")
            return reset()
        say(
            dispatcher,
            receipt_text(
                receipt.public_id,
                receipt.contact_hours,
                fields["order_service"],
                fields["order_town"],
                fields["order_village"],
                fields["order_time"],
                fields["order_phone"],
            ),
            "order_placed",
            order=receipt.public_id,
        )
        try:  # the help request that led here is answered by the order
            await link_help_requests(services.db, tracker.sender_id, receipt.public_id)
        except SQLAlchemyError:
            log.exception("could not mark help requests as turned into order %s", receipt.public_id)
        return reset()


class ActionMyOrders(Action):
    def name(self) -> str:
        return "action_my_orders"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await get_services()
        try:
            orders = await resident_orders(services.db, tracker.sender_id)
        except SQLAlchemyError:
            log.exception("could not look up a sender's orders")
            say(dispatcher, "抱歉，现在查不到，请过几分钟再问一次。", "my_orders")
            return []
        if not orders:
            say(dispatcher, "您还没有预约过志愿者。\n想请志愿者上门帮忙，回复 1。", "my_orders")
            return [SlotSet("pending_options", [ORDER_OFFER])]
        say(dispatcher, orders_text(orders), "my_orders")
        return [SlotSet("pending_options", None)]


class ActionCancelOrder(Action):
    """ "取消预约 D-…" cancels that order; "取消预约" asks which (or, with one open
    order, whether): the numbered value is read by ``order_reply``."""

    def name(self) -> str:
        return "action_cancel_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await get_services()
        named = order_number(latest_text(tracker))
        if named:
            return await cancel(dispatcher, tracker, named)
        try:
            open_orders = [
                o for o in await resident_orders(services.db, tracker.sender_id) if o.open
            ]
        except SQLAlchemyError:
            log.exception("could not look up a sender's orders")
            say(dispatcher, "抱歉，现在查不到，请过几分钟再说一次。", "cancel_order")
            return []
        if not open_orders:
            say(dispatcher, "您现在没有可以取消的预约。", "cancel_order")
            return [SlotSet("pending_options", None)]
        if len(open_orders) == 1:
            order = open_orders[0]
            say(
                dispatcher,
                f"要取消这个预约吗？\n{order.label}\n回复 1 取消，2 不取消。",
                "cancel_order",
            )
            return [SlotSet("pending_options", [f"{CANCEL_OFFER}{order.public_id}", KEEP_ORDER])]
        lines = ["要取消哪一个？回复数字："]
        lines += [f"{i} {o.label}" for i, o in enumerate(open_orders, start=1)]
        lines.append("都不取消，回复“不取消”。")
        say(dispatcher, "\n".join(lines), "cancel_order")
        return [SlotSet("pending_options", [f"{CANCEL_OFFER}{o.public_id}" for o in open_orders])]


async def cancel(
    dispatcher: CollectingDispatcher, tracker: Tracker, public_id: str
) -> list[EventType]:
    services = await get_services()
    try:
        await cancel_by_resident(services.db, tracker.sender_id, public_id)
    except NotFound:
        say(dispatcher, "没找到这个预约。回复“我的预约”看看您的预约。", "cancel_order")
        return [SlotSet("pending_options", None)]
    except ConsoleError:  # already done or cancelled
        say(dispatcher, f"预约 {public_id} 已经结束了，不用取消。", "cancel_order")
        return [SlotSet("pending_options", None)]
    except SQLAlchemyError:
        log.exception("could not cancel order %s", public_id)
        say(dispatcher, "抱歉，系统出了点问题，没有取消成功。请过几分钟再试。", "cancel_order")
        return [SlotSet("pending_options", None)]
    say(
        dispatcher,
        f"好的，预约 {public_id} 已取消。\n以后需要，回复“预约志愿者”就行。",
        "order_cancelled",
    )
    return [SlotSet("pending_options", None)]


# ---------------------------------------------------------------------------
# Numbered replies that belong to orders (asked by action_choose_option first)


def previous_user_time(tracker: Tracker) -> datetime | None:
    """When the sender's message before this one was received (None: none in this
    conversation's loaded events)."""
    times = [e.get("timestamp") for e in tracker.events if e.get("event") == "user"]
    if len(times) < 2 or not isinstance(times[-2], int | float):
        return None
    return datetime.fromtimestamp(float(times[-2]), timezone.utc)


async def order_reply(
    dispatcher: CollectingDispatcher, tracker: Tracker, pending: list[str], intent: str
) -> list[EventType] | None:
    """Events if the value answers the rating question or a cancel offer, else None
    (the menu reads it)."""
    text = latest_text(tracker)
    offered = any(o.startswith(CANCEL_OFFER) or o == KEEP_ORDER for o in pending)
    # A bare "1" under "回复 1 取消" picks from the offer on screen, even when the
    # rating question is still owed; "1分" or "1 太慢了" still rates.
    bare_choice = offered and parse_option_number(text) is not None and not sounds_like_rating(text)
    rating = read_rating(text) if intent not in ("affirm", "deny") and not bare_choice else None
    if rating is not None:
        services = await get_services()
        try:
            due = await rating_due(services.db, tracker.sender_id, previous_user_time(tracker))
        except SQLAlchemyError:
            log.exception("could not look up an owed rating")
            due = None
        if due is not None:
            return await _rate(dispatcher, tracker, due, *rating)
    if not offered:
        return None
    if intent == "deny":
        return _keep(dispatcher)
    if intent == "affirm":  # "是": yes to "要取消这个预约吗"; which one, if several?
        if len(pending) == 2 and pending[1] == KEEP_ORDER:
            return await cancel(dispatcher, tracker, pending[0][len(CANCEL_OFFER) :])
        return None
    number = parse_option_number(text)
    if number is None or not 1 <= number <= len(pending):
        return None
    choice = pending[number - 1]
    if choice == KEEP_ORDER:
        return _keep(dispatcher)
    return await cancel(dispatcher, tracker, choice[len(CANCEL_OFFER) :])


def _keep(dispatcher: CollectingDispatcher) -> list[EventType]:
    say(dispatcher, "好的，不取消，预约还在。", "cancel_order")
    return [SlotSet("pending_options", None), SlotSet("chosen", "other")]


async def _rate(
    dispatcher: CollectingDispatcher, tracker: Tracker, public_id: str, score: int, comment: str
) -> list[EventType]:
    services = await get_services()
    try:
        await rate(services.db, tracker.sender_id, public_id, score, comment)
    except ConsoleError:  # rated meanwhile (another turn): nothing more to do
        say(dispatcher, "这次服务您已经评价过了，谢谢！", "order_rated")
        return [SlotSet("pending_options", None), SlotSet("chosen", "other")]
    except SQLAlchemyError:
        log.exception("could not store the rating of %s", public_id)
        say(dispatcher, "抱歉，评价没有保存成功，请过几分钟再回复一次分数。", "order_rated")
        return [SlotSet("pending_options", None), SlotSet("chosen", "other")]
    lines = [f"收到，您给了 {score} 分，谢谢您！"]
    if score < LOW_RATING:  # service.low_ratings lists it for the admin
        lines.append("这次没让您满意，我们会交给负责人查一查，尽快改进。")
    lines.append("还有什么需要，直接说就行。")
    say(dispatcher, "\n".join(lines), "order_rated")
    return [SlotSet("pending_options", None), SlotSet("chosen", "other")]
