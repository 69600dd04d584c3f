"""Where a rumour was seen: read from the claim itself, or from the answer to our question."""

from __future__ import annotations

import re

from bot.rumors.reports import SEEN_WHERE
from bot.text.normalize import normalize
from bot.text.numerals import parse_option_number

# Words that place a claim ("群里说……", "抖音上说……"), checked in this order.
HINTS: dict[str, tuple[str, ...]] = {
    "moments": ("朋友圈",),
    "short_video": ("抖音", "快手", "视频号", "短视频", "视频里", "视频上", "直播"),
    "wechat_group": ("微信群", "群里", "群头", "群上"),
    "village": ("邻居说", "别人说", "都在传", "都在说", "大家都说"),
}
# A place in the village is where the claim was heard only when people said it
# there ("村里都在传……", "赶场听人说"); "镇上停水" is what the claim is about.
_HEARD_IN_VILLAGE = re.compile(
    r"(村里|村头|村上|镇上|赶场|赶集|院坝|茶馆)[^，。！？,.!?]{0,4}?(说|传|讲|听)"
)
OPTIONS = list(SEEN_WHERE)  # answer "1".."5" in this order
# Words that answer "您是在哪里看到或听到的？" on their own ("村里", "电视上"),
# beyond the HINTS above, which are tried first.
ANSWER_WORDS: dict[str, tuple[str, ...]] = {
    "short_video": ("视频", "西瓜"),
    "wechat_group": ("微信", "家族群", "老年群"),
    "village": (
        "村里",
        "村头",
        "村上",
        "院坝",
        "赶场",
        "赶集",
        "茶馆",
        "听说",
        "听人",
        "别人讲",
        "邻居",
        "熟人",
        "亲戚",
        "朋友说",
        "老乡",
        "镇上",
    ),
    "other": (
        "其他",
        "其它",
        "别的",
        "电视",
        "报纸",
        "广播",
        "网上",
        "短信",
        "传单",
        "记不得",
        "忘了",
    ),
}


def where_from_claim(text: str) -> str | None:
    """Where the claim says it was heard (a ``HINTS`` key, or ``village``), if it says."""
    text = normalize(text)
    for key, words in HINTS.items():
        if any(w in text for w in words):
            return key
    return "village" if _HEARD_IN_VILLAGE.search(text) else None


def read_where(reply: str) -> str | None:
    """The option a reply names, by number or in words; None for a number we did
    not offer. Anything else unclear counts as "other" (we never ask twice)."""
    number = parse_option_number(reply)
    if number is not None:
        return OPTIONS[number - 1] if 1 <= number <= len(OPTIONS) else None
    return where_named(reply) or "other"


def where_named(reply: str) -> str | None:
    """The place a short answer names ("朋友圈", "听村里人说的"), or None."""
    found = where_from_claim(reply)
    if found:
        return found
    text = normalize(reply)
    for key, words in ANSWER_WORDS.items():
        if any(w in text for w in words):
            return key
    return None
