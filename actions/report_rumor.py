"""Ask about or report a rumour (menu 6, "举报谣言", "听说……是真的不").

A claim that a published debunk answers outright gets the verdict at once.
Otherwise the report is queued (redacted, exactly once) and the user gets its
number; when a debunk is merely similar, the user is also asked whether it is
the one. Where the claim was seen is asked only when the claim does not say.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import say_entry, tagged
from actions.render import render
from actions.services import Services, get_services
from bot.menu.pages import NOT_THIS
from bot.rumors.advice import REQUEST_PHRASES, SELF_CHECK_ADVICE
from bot.rumors.debunk import claim_id_of
from bot.rumors.evidence import attach_recent
from bot.rumors.reports import SEEN_WHERE
from bot.rumors.where import OPTIONS, read_where, where_from_claim, where_named
from bot.text.content import carries_content, meaningful_chars
from bot.text.matching import ASK_MATCH, AUTO_MATCH
from bot.understanding.cues import asks

log = logging.getLogger(__name__)
RESET = ("rumor_claim", "rumor_where", "rumor_match", "rumor_aside")
# "其他" is an answer; "高血压能不能吃鸡蛋" or a long message is not.
ASIDE_MIN_CHARS = 5
ASIDE_LONG_CHARS = 15
NOT_SAVED = "抱歉，系统出了点问题，这条没有保存成功。请过几分钟再发一次“举报谣言”。"


def claim_message_id(tracker: Tracker) -> str | None:
    """The id of the message that gave the claim: the report's idempotency key.

    Not the latest message ("4" answering where it was seen): after a failed
    turn the user may send that again with a new id, and the report must
    still be stored once.
    """
    found: str | None = None
    user_message: str | None = None
    for event in tracker.events:
        if event.get("event") == "user":
            user_message = event.get("message_id")
        elif event.get("event") == "slot" and event.get("name") == "rumor_claim":
            found = user_message if event.get("value") else None
    return found or tracker.latest_message.get("message_id")


async def count_again(services: Services, tracker: Tracker, entry_id: str) -> None:
    """A debunk published in the console answered the report: the rumour is going
    round again, and its claim counts it (the verdict is given here all the same)."""
    claim_id = claim_id_of(entry_id)
    claim = tracker.get_slot("rumor_claim") or ""
    if claim_id is None or not claim:
        return
    try:
        await services.reports.submit_again(
            claim_id,
            claim,
            sender_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel() or "unknown",
            message_id=claim_message_id(tracker),
            seen_where=tracker.get_slot("rumor_where"),
        )
    except Exception:  # the reporter still gets the verdict; only the count is lost
        log.exception("a report of claim %s again could not be counted", claim_id)


class ValidateReportRumorForm(FormValidationAction):
    def name(self) -> str:
        return "validate_report_rumor_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # A debunk that answers it, or a claim that says where it was seen: no second
        # question. A raw answer ("4") is not yet a place: it still has to be validated.
        if tracker.get_slot("rumor_match") or tracker.get_slot("rumor_where") in SEEN_WHERE:
            return [s for s in domain_slots if s != "rumor_where"]
        return domain_slots

    async def validate_rumor_claim(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if not (isinstance(slot_value, str) and carries_content(slot_value, REQUEST_PHRASES, 4)):
            return {"rumor_claim": None}
        services = await get_services()
        match = await services.knowledge.match_debunk(slot_value)
        if match and match[1] >= AUTO_MATCH:
            return {"rumor_claim": slot_value, "rumor_match": match[0].id}
        result = await services.knowledge.ask(slot_value)
        if result.kind == "answer" and result.best and result.best.entry.topic == "rumor":
            return {"rumor_claim": slot_value, "rumor_match": result.best.entry.id}
        return {"rumor_claim": slot_value, "rumor_where": where_from_claim(slot_value)}

    async def validate_rumor_where(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        reply = slot_value if isinstance(slot_value, str) else ""
        where = read_where(reply)
        if where is None:  # a number we did not offer: ask again
            dispatcher.utter_message(text=f"没有这个选项，请回复 1 到 {len(OPTIONS)} 的数字。")
            return {"rumor_where": None}
        if where == "other" and where_named(reply) is None and is_aside(reply):
            # A question instead of an answer ("一天喝多少水合适"): the report is
            # kept (where unknown) and the question answered after the receipt.
            return {"rumor_where": "other", "rumor_aside": reply}
        return {"rumor_where": where}


def is_aside(reply: str) -> bool:
    """A new question or message rather than an answer to "where did you see it"."""
    n = meaningful_chars(reply)
    return n >= ASIDE_MIN_CHARS and (asks(reply) or n >= ASIDE_LONG_CHARS)


class ActionReportRumor(Action):
    def name(self) -> str:
        return "action_report_rumor"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await get_services()
        reset = [SlotSet(name, None) for name in RESET]
        try:
            matched = await services.knowledge.get(tracker.get_slot("rumor_match") or "")
        except Exception:  # the index away: the report is filed rather than lost
            log.exception("could not look up the matched debunk")
            matched = None
        if matched is not None:
            await count_again(services, tracker, matched.id)
            dispatcher.utter_message(text="这个说法我们核实过：")
            return [
                *reset,
                *say_entry(dispatcher, matched, "debunk", public_url=services.settings.public_url),
            ]

        claim = tracker.get_slot("rumor_claim") or ""
        try:
            receipt = await services.reports.submit(
                claim,
                sender_id=tracker.sender_id,
                channel=tracker.get_latest_input_channel() or "unknown",
                message_id=claim_message_id(tracker),
                seen_where=tracker.get_slot("rumor_where"),
            )
        except Exception:  # database away: never a receipt without a stored report
            log.exception("a rumour report could not be stored")
            dispatcher.utter_message(text=NOT_SAVED)
            return reset
        pictures = 0
        try:  # pictures the user sent during the report go with it
            pictures = await attach_recent(
                services.db, sender_id=tracker.sender_id, report_public_id=receipt.public_id
            )
        except Exception:  # the report itself is stored: still give its number
            log.exception("could not attach pictures to report %s", receipt.public_id)
        with_pictures = f"（连同 {pictures} 张图片）" if pictures else ""
        dispatcher.utter_message(
            text=f"已收到{with_pictures}，编号 {receipt.public_id}，核实后会告诉您结论。\n"
            f"{SELF_CHECK_ADVICE}",
            json_message=tagged("report_filed", report=receipt.public_id),
        )
        # The report is stored and its number said: what follows is extra, and its
        # failing must not fail the action and take the receipt with it.
        aside = tracker.get_slot("rumor_aside")
        try:
            if aside:  # the question asked instead of "where": answered now
                decision = await services.understanding.decide(aside)
                log.info("understanding (aside in a report): %s", decision.log_line())
                return [*reset, *await render(decision, aside, dispatcher, tracker, services)]
            # A similar debunk we already have: offer it as a yes/no question.
            match = await services.knowledge.match_debunk(claim)
        except Exception:
            log.exception("after report %s: no answer or similar debunk", receipt.public_id)
            return reset
        if match and match[1] >= ASK_MATCH:
            entry = match[0]
            dispatcher.utter_message(
                text=f"我们核实过一条相似的说法：『{entry.title}』\n是不是这条？回复 1 是，2 不是"
            )
            return [*reset, SlotSet("pending_options", [f"kb:{entry.id}", NOT_THIS])]
        return reset
