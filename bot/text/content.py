"""Does a request carry the thing to look at, or only ask to look?

"帮我看看这条短信" carries nothing; "帮我看看：【某银行】您的账户异常……"
carries a message. What is left after removing the request words decides.
"""

from __future__ import annotations

import re

_MEANINGFUL = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


def meaningful_chars(text: str) -> int:
    """Han characters, letters and digits: what is left when punctuation, spaces
    and emoji are not counted."""
    return len(_MEANINGFUL.findall(text or ""))


def carries_content(text: str, request_phrases: tuple[str, ...], min_chars: int = 8) -> bool:
    """At least ``min_chars`` meaningful characters once ``request_phrases`` are taken out."""
    rest = text or ""
    for phrase in sorted(request_phrases, key=len, reverse=True):
        rest = rest.replace(phrase, "")
    return meaningful_chars(rest) >= min_chars
