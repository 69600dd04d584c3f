"""Subscription commands in chat ("订阅防骗提醒", "订阅农事提醒 水稻", "每月流言榜", "我的订阅",
"退订"), answered by ``action_understand`` before it weighs a question: the move gate
(``bot.nlu.moves``) sends them there as free text, so no intent is trained for them.

A numbered crop ("1" after "您想收哪种的农事提醒？") comes back through
``action_choose_option`` as a chosen option; the crop named in words ("水稻", "柚子")
right after that question subscribes too.
"""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.common import channel_of, latest_canonical, latest_intent, say, slot_list
from bot.outreach.chat import CROP_OPTION, SUBSCRIBE_OPTION, answer, crop_from_option
from bot.outreach.commands import FARM, Command, crop_of, parse
from bot.storage.db import Database

log = logging.getLogger(__name__)
# "水稻" in answer to the crop question: a short reply naming one crop.
CROP_REPLY_MAX_CHARS = 8
FAILED = "抱歉，系统出了点问题，这次没有办成。请过几分钟再说一次。"


def command_of(tracker: Tracker, chosen: str | None) -> Command | None:
    """The subscription command this turn makes, if any."""
    if chosen and latest_intent(tracker) in ("choose_option", "affirm"):
        crop = crop_from_option(chosen)
        if crop is not None:
            return Command("subscribe", FARM, crop)
        if chosen.startswith(SUBSCRIBE_OPTION):
            return parse(chosen[len(SUBSCRIBE_OPTION) :])
        return None
    form = latest_canonical(tracker)
    command = parse(form)
    if command is not None:
        return command
    asked = any(o.startswith(CROP_OPTION) for o in slot_list(tracker, "pending_options"))
    crop = crop_of(form) if asked and len(form) <= CROP_REPLY_MAX_CHARS else None
    return Command("subscribe", FARM, crop) if crop else None


async def outreach_turn(
    dispatcher: CollectingDispatcher, tracker: Tracker, chosen: str | None, db: Database
) -> list[EventType] | None:
    """Events if this turn was a subscription command (and was answered), else None."""
    command = command_of(tracker, chosen)
    if command is None:
        return None
    try:
        reply = await answer(db, channel_of(tracker), tracker.sender_id, command)
    except SQLAlchemyError:
        log.exception("could not carry out a subscription command")
        say(dispatcher, FAILED, "subscription")
        return [SlotSet("pending_options", None)]
    say(dispatcher, reply.text, reply.decision)
    return [SlotSet("pending_options", reply.options or None)]
