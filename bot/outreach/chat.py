"""The replies to subscription commands. Each says what was done and how to stop.

``answer`` runs one command for one person and returns the reply and, when it asks
which crop, the numbered options (``pending_options``: "订农事:柚子/柑橘" …; the
menu's "not an option" reply shows the part after the colon).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.menu.pages import SUBSCRIBE_OFFER
from bot.outreach.commands import CROPS, DIGEST, FARM, FRAUD, KIND_NAMES, Command, describe
from bot.outreach.subscriptions import Subscription, subscribe, subscriptions, unsubscribe
from bot.storage.db import Database

CROP_OPTION = "订农事:"  # pending option prefix: "订农事:水稻"
# A topic page's "订阅防骗提醒" option: "订阅:<the command as said>".
SUBSCRIBE_OPTION = SUBSCRIBE_OFFER
# Channels that cannot write first: alerts wait for the person's next message.
WAITING_CHANNELS = frozenset({"rest", "webchat", "socketio", "unknown"})
HOW_TO_STOP = "不想收了，随时回复“退订”。"
WHAT_YOU_GET = {
    FRAUD: "有新出现的骗局、要紧的防骗提醒时发给您",
    FARM: "{crop}防病治虫、田间管理的时候到了就提醒您",
    DIGEST: "每月一次，把这个月大家问得多的流言和真相发给您",
}
HOW_OFTEN = "平时每周最多一条，紧急的防骗提醒除外；晚上 9 点到早上 8 点不发。"
ASK_CROP = "您想收哪种的农事提醒？回复数字："
NOTHING_YET = (
    "您还没有订阅任何提醒，我们不会主动给您发消息。\n"
    "想订，可以回复“订阅防骗提醒”“订阅农事提醒 水稻”或“每月流言榜”。"
)


@dataclass
class Reply:
    """What to say, the numbered options it offers, and the decision logged for analytics."""

    text: str
    options: list[str] = field(default_factory=list)  # numbered choices offered
    decision: str = "subscription"


def crop_options() -> list[str]:
    """The pending options of the crop question, in ``CROPS`` order ("订农事:水稻" …)."""
    return [CROP_OPTION + label for label in CROPS.values()]


def crop_from_option(option: str) -> str | None:
    """The crop a "订农事:…" option picks, or None if it is not one."""
    if not option.startswith(CROP_OPTION):
        return None
    label = option[len(CROP_OPTION) :]
    return next((key for key, shown in CROPS.items() if shown == label), None)


def _listed(subs: list[Subscription]) -> str:
    return "\n".join(f"· {describe(s.kind, s.crop)}" for s in subs)


def _later(channel: str) -> str:
    if channel in WAITING_CHANNELS:
        return "网页上没法主动给您发消息：提醒会在您下次来这里说话时一起显示。\n"
    return ""


async def answer(db: Database, channel: str, recipient: str, command: Command) -> Reply:
    """Carry out a subscription command for one person and return what to reply."""
    if command.action == "list":
        subs = await subscriptions(db, channel, recipient)
        if not subs:
            return Reply(NOTHING_YET, decision="subscription_list")
        return Reply(
            f"您订阅了：\n{_listed(subs)}\n"
            "回复“退订”全部停止；只停一项，比如回复“退订防骗提醒”。",
            decision="subscription_list",
        )
    if command.action == "unsubscribe":
        ended = await unsubscribe(db, channel, recipient, command.kind, command.crop)
        if not ended:
            what = (
                "任何提醒" if command.kind is None else describe(command.kind, command.crop or "")
            )
            return Reply(
                f"您没有订阅{what}，不会收到这类消息。回复“我的订阅”可以查看。",
                decision="unsubscribed",
            )
        left = await subscriptions(db, channel, recipient)
        text = f"好的，已为您退订：\n{_listed(ended)}\n以后不再发这些给您。"
        if left:
            text += f"\n还订着：\n{_listed(left)}\n回复“退订”全部停止。"
        else:
            text += "\n想再收，回复“订阅防骗提醒”等就行。"
        return Reply(text, decision="unsubscribed")
    kind = command.kind or FRAUD
    if kind == FARM and not command.crop:
        options = crop_options()
        lines = [ASK_CROP] + [f"{i} {label}" for i, label in enumerate(CROPS.values(), start=1)]
        lines.append("也可以直接说，比如“订阅农事提醒 水稻”。")
        return Reply("\n".join(lines), options=options, decision="subscription_ask_crop")
    crop = command.crop or ""
    added = await subscribe(db, channel, recipient, kind, crop)
    name = describe(kind, crop)
    if not added:
        return Reply(
            f"您已经订阅了{name}，不用再订。\n{HOW_TO_STOP}回复“我的订阅”可以查看。",
            decision="subscribed",
        )
    what = WHAT_YOU_GET[kind].format(crop=CROPS.get(crop, crop))
    stop_one = f"只停这一项，回复“退订{crop or KIND_NAMES[kind]}”。"
    return Reply(
        f"好的，已为您订阅{name}：{what}。\n{HOW_OFTEN}\n{_later(channel)}"
        f"{HOW_TO_STOP}{stop_one}",
        decision="subscribed",
    )
