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


def where_from_claim(text: str) -> str | None:
    text = normalize(text)
    for key, words in HINTS.items():
        if any(w in text for w in words):
            return key
    return "village" if _HEARD_IN_VILLAGE.search(text) else None


def read_where(reply: str) -> str:
    """The option a reply names; anything unclear counts as "other" (we never ask twice)."""
    number = parse_option_number(reply)
    if number is not None and 1 <= number <= len(OPTIONS):
        return OPTIONS[number - 1]
    return where_from_claim(reply) or "other"
