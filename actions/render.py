"""How each move of the understanding step is said, shared by the actions
that reach it (free text, the message check, a hand-off, a chosen option).

Records what must be recorded on the way: unanswered questions for the
curators, help requests, fraud-check counts.
"""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.common import channel_of, say, say_entry, tagged
from actions.orders import begin_order
from actions.services import Services
from bot.fraud.checker import Verdict
from bot.fraud.stats import count_check
from bot.handoff.hotlines import (
    AMBULANCE,
    handoff_reply,
    hotlines_for,
    is_emergency,
    record_request,
)
from bot.knowledge.service import record_unanswered
from bot.menu.pages import NOT_THIS, ORDER_OFFER, REPORT_OFFER, menu_text
from bot.orders.chat import VISIT_HOTLINE_LINE, VOLUNTEER_OFFER_LINE, town_named, volunteer_offer
from bot.text.matching import AUTO_MATCH
from bot.understanding.cues import han_chars
from bot.understanding.decide import Decision
from bot.understanding.replies import (
    ABOUT_SERVICE_INTRO,
    ABOUT_US_REPLY,
    AFTERMATH_FIRST,
    DEBUNK_FOLLOW_UP,
    DEBUNK_INTRO,
    NOT_UNDERSTOOD,
    RELATED_MENU_LINE,
    REPORT_OFFER_TEXT,
    UNANSWERED,
    UNANSWERED_RECORDED,
    UNSURE,
    URGENT_FIRST,
    hotline_line,
)

log = logging.getLogger(__name__)


async def render(
    decision: Decision,
    text: str,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    services: Services,
) -> list[EventType]:
    """Say ``decision`` to the user; the events it leaves behind."""
    kind = decision.kind
    if kind in ("emergency", "handoff"):
        return await hand_off(dispatcher, tracker, services, text)
    if decision.urgent:
        say(dispatcher, URGENT_FIRST, "urgent")
    if kind in ("answer", "debunk") and decision.entry is not None:
        events: list[EventType] = []
        if decision.verdict is not None:  # a described call, and the entry on that scam
            events += await say_verdict(dispatcher, services, text, decision.verdict, offer=False)
        if kind == "debunk":
            say(dispatcher, DEBUNK_INTRO, "debunk")
        events += say_entry(
            dispatcher,
            decision.entry,
            kind,
            public_url=services.settings.public_url,
            score=_score_of(decision),
        )
        if kind == "debunk":
            say(dispatcher, DEBUNK_FOLLOW_UP, "debunk")
        return events
    if kind == "fraud_aftermath":
        say(dispatcher, AFTERMATH_FIRST, "fraud_aftermath")
        if decision.entry is not None:
            return say_entry(
                dispatcher,
                decision.entry,
                "fraud_aftermath",
                public_url=services.settings.public_url,
                score=_score_of(decision),
            )
        return [SlotSet("pending_options", None)]
    if kind == "fraud_verdict" and decision.verdict is not None:
        return await say_verdict(dispatcher, services, text, decision.verdict)
    if kind == "choices":
        return offer_choices(dispatcher, decision)
    if kind == "report_offer":
        return offer_report(dispatcher, decision, text)
    if kind == "about_us":
        say(dispatcher, ABOUT_US_REPLY, "about_us")
        return [SlotSet("pending_options", None)]
    if kind == "about_service":  # the menu's numbers are read against the main menu
        say(dispatcher, f"{ABOUT_SERVICE_INTRO}\n{menu_text()}", "menu")
        return [SlotSet("pending_options", None)]
    return await no_answer(dispatcher, tracker, services, text, decision)


def _score_of(decision: Decision) -> float | None:
    """Search's score for the entry the decision serves, if search found it."""
    for hit in decision.hits:
        if decision.entry is not None and hit.entry.id == decision.entry.id:
            return hit.score
    return None


def offer_choices(dispatcher: CollectingDispatcher, decision: Decision) -> list[EventType]:
    hits = decision.hits
    if len(hits) == 1:  # one candidate: a yes/no question is easier than a list
        entry = hits[0].entry
        dispatcher.utter_message(
            text=f"您是想问『{entry.title}』吗？回复 1 是，2 不是。",
            json_message={"decision": "choices", "choices": entry.id, "topic": entry.topic},
        )
        return [SlotSet("pending_options", [f"kb:{entry.id}", NOT_THIS])]
    lines = ["您是想问："]
    lines += [f"{i}. {hit.entry.title}" for i, hit in enumerate(hits, start=1)]
    lines.append("请回复数字。都不是的话，回复“不是”。")
    dispatcher.utter_message(
        text="\n".join(lines),
        json_message={
            "decision": "choices",
            "choices": "|".join(h.entry.id for h in hits),
            "topic": hits[0].entry.topic,
        },
    )
    return [SlotSet("pending_options", [f"kb:{h.entry.id}" for h in hits])]


def offer_report(
    dispatcher: CollectingDispatcher, decision: Decision, text: str
) -> list[EventType]:
    """Reply 1 sends the claim to the rumour desk; an entry on the same subject
    (not a verdict on the claim) is one tap away as 2."""
    options = [f"{REPORT_OFFER}{text}"]
    message = REPORT_OFFER_TEXT
    if decision.hits:
        entry = decision.hits[0].entry
        message += f"\n想先看看『{entry.title}』，回复 2。"
        options.append(f"kb:{entry.id}")
    say(dispatcher, message, "report_offer")
    return [SlotSet("pending_options", options)]


async def no_answer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    services: Services,
    text: str,
    decision: Decision,
) -> list[EventType]:
    """An honest "not yet", the hotline that can help, and a note for the curators;
    entries on the subject that may help, when search found some (one tap away)."""
    if han_chars(text) < 2:
        say(dispatcher, f"{NOT_UNDERSTOOD}\n{menu_text()}", "not_understood")
        return [SlotSet("pending_options", None)]
    related = [h.entry for h in decision.related]
    lines = [UNSURE if related else UNANSWERED]
    try:
        best = decision.hits[0] if decision.hits else None
        await record_unanswered(services.db, tracker.sender_id, channel_of(tracker), text, best)
        lines[0] += UNANSWERED_RECORDED
    except SQLAlchemyError:
        log.exception("could not record an unanswered question")
    if decision.hotline is not None:
        lines.append(hotline_line(decision.hotline))
    if not related:
        lines.append(menu_text())
        say(dispatcher, "\n".join(lines), "none")
        return [SlotSet("pending_options", None)]
    # The entries on the subject, numbered (the menu's numbers would clash); a list
    # even for one, so the web chat's button reads the entry's title, not the menu
    # item 1 that a bare "回复 1" names.
    lead = "下面这些" if len(related) > 1 else "这一条"
    lines.append(f"{lead}也许有用，回复数字查看：")
    lines += [f"{i}. {entry.title}" for i, entry in enumerate(related, start=1)]
    lines.append(RELATED_MENU_LINE)
    json_message = tagged("none", related=[entry.id for entry in related])
    dispatcher.utter_message(text="\n".join(lines), json_message=json_message)
    return [SlotSet("pending_options", [f"kb:{entry.id}" for entry in related])]


async def say_verdict(
    dispatcher: CollectingDispatcher,
    services: Services,
    text: str,
    verdict: Verdict,
    offer: bool = True,
) -> list[EventType]:
    """The verdict, counted; for a message that is not a likely scam, the debunk
    that answers the claim in it, or (``offer``) an offer to have it checked.

    A message that is not a likely scam may still carry a rumour ("转发：喝醋能
    软化血管"): a published debunk that answers it is shown at once, else the
    user may send it to the rumour queue (reply 1).
    """
    fraud_type = verdict.fraud_types[0] if verdict.fraud_types else None
    dispatcher.utter_message(
        text=verdict.as_text(),
        json_message=tagged("fraud_verdict", risk=verdict.risk, fraud_type=fraud_type),
    )
    try:
        await count_check(services.db, verdict)
    except SQLAlchemyError:  # the verdict matters more than the statistics
        log.exception("could not count a fraud check")
    if verdict.risk == "high" or not offer:
        return [SlotSet("pending_options", None)]
    match = await services.knowledge.match_debunk(text)
    if match and match[1] >= AUTO_MATCH:
        dispatcher.utter_message(text="消息里的说法，我们核实过：")
        return say_entry(dispatcher, match[0], "debunk", public_url=services.settings.public_url)
    dispatcher.utter_message(text="想知道消息里的说法是真是假，回复 1，我帮您交给辟谣平台核实。")
    return [SlotSet("pending_options", [f"{REPORT_OFFER}{text}"])]


async def hand_off(
    dispatcher: CollectingDispatcher, tracker: Tracker, services: Services, text: str
) -> list[EventType]:
    """The right hotline first (120 for an emergency), and the request recorded.

    A request for a person that is no emergency (and not one 110 or 120 answers
    first) is also offered a volunteer: one asking someone to come ("有没得人上门
    来帮我") starts booking at once, with one hotline line instead of the list;
    any other ("7", "找人帮忙") gets "回复 1" to book (docs/orders.md).
    """
    offer = volunteer_offer(text)
    reply, hotlines = handoff_reply(text)
    visit = offer is not None and offer.visit
    if visit and not hotlines_for(text):
        reply = VISIT_HOTLINE_LINE  # booking follows: the full list would bury it
    try:
        await record_request(services.db, tracker.sender_id, channel_of(tracker), text, hotlines)
        reply += "\n您的求助已经记下，工作人员会看到。"
    except SQLAlchemyError:
        # The numbers still help; we just must not claim it was recorded.
        log.exception("could not record a handoff request")
    if offer is not None and not visit:
        reply += f"\n{VOLUNTEER_OFFER_LINE}"
    say(dispatcher, reply, "handoff")
    if offer is not None and offer.visit:
        return begin_order(dispatcher, offer.service, town_named(text))
    if offer is not None:
        return [SlotSet("pending_options", [f"{ORDER_OFFER}{offer.service or ''}"])]
    if is_emergency(text) and hotlines[0].number == AMBULANCE:
        # 120 first; then, while waiting, the first-aid entry if one clearly fits.
        # Search failing must not take the 120 message down with the action.
        try:
            result = await services.knowledge.ask(text)
        except Exception:
            log.exception("no first-aid entry: search failed")
            return [SlotSet("pending_options", None)]
        if result.kind == "answer" and result.best and result.best.entry.topic == "health":
            dispatcher.utter_message(text="等救护车的时候可以这样做：")
            return say_entry(
                dispatcher, result.best.entry, "first_aid", public_url=services.settings.public_url
            )
    return [SlotSet("pending_options", None)]
