"""Read the option a user picked from a short reply: "1", "第二个", "三", "选3"."""

from __future__ import annotations

import re
import unicodedata

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "幺": 1,
    "壹": 1,
    "二": 2,
    "两": 2,
    "贰": 2,
    "三": 3,
    "叁": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
    "十": 10,
    "拾": 10,
}

# A short reply made only of an optional lead-in, one number, and an optional
# tail. Longer sentences are questions, not choices: "三高怎么办" must not pick 3.
_LEAD = r"(?:我|就|那|嗯|呃|要|想|选|选择|回复|按|点|第|是|号码|数字|那个)*"
_TAIL = r"(?:个|项|号|条|种|吧|嘛|哈|呀|啊|的|那个|这个|了|哦|噻|选项)*"
_NUMBER = r"(\d{1,2}|[零〇一幺壹二两贰三叁四肆五伍六陆七柒八捌九玖十拾]{1,3})"
_CHOICE = re.compile(rf"^{_LEAD}{_NUMBER}{_TAIL}$")
_STRIP = re.compile(r"[\s\.,，。!！?？、~～:：;；\"'“”‘’()（）\[\]【】]+")


def _cn_to_int(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    values = [_CN_DIGITS[c] for c in text]
    if len(values) == 1:
        return values[0]
    if len(values) == 2 and values[0] == 10:  # 十一
        return 10 + values[1]
    if len(values) == 2 and values[1] == 10:  # 二十
        return values[0] * 10
    if len(values) == 3 and values[1] == 10:  # 二十一
        return values[0] * 10 + values[2]
    return None


def parse_option_number(text: str) -> int | None:
    """Return the option number in a short reply, or None if it is not a choice.

    >>> parse_option_number("第二个")
    2
    >>> parse_option_number("三高怎么办") is None
    True
    """
    cleaned = _STRIP.sub("", unicodedata.normalize("NFKC", text or ""))
    match = _CHOICE.match(cleaned)
    if not match:
        return None
    value = _cn_to_int(match.group(1))
    return value if value and value > 0 else None
