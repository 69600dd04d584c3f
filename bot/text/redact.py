"""Remove personal data before anything is stored.

``redact(text)`` returns text safe to store: rumour reports, handoff requests,
unanswered questions and the conversation store are written only in this form.
What counts as personal is decided in ``bot.text.pii``; this module finds the
candidates and puts a placeholder in their place.

Numbers and ids are searched for in a folded copy of the text, one character for
one (``pii.fold``): full-width forms (１３８, ＠, ．) as ASCII, odd spaces as a
space, circled and other enclosed digits (①, ❶, ⑴) as digits; invisible
characters (zero-width spaces U+200B–200D, U+FEFF, U+2060, bidi marks, soft
hyphens) are left out, so 1\u200b3\u200b8… is 138…. Chinese numerals (一 幺 〇,
大写 壹 贰…) count as digits in a run of at least 7 digit characters, or of 4
after a word that asks for a number (电话, 手机, 微信, QQ, 验证码…): 一三八…,
138一二三四5678 are numbers, 一二三四五步, 三五天, 七八十岁 are words; a
numeral or two at the edge of a run stays a word if the rest alone is a phone
number (13812345678一直). What is never personal is hidden from every rule:
the host of a link (https://www.icbc.com.cn/…, www.12306.cn: links matter to
whoever reads a scam report), report numbers (R-XXXXXXXX) and IPv4 addresses.

In this copy, in this order (a later rule takes nothing an earlier one took):

1. e-mail addresses ([邮箱]); WeChat ids: wxid_… anywhere, and the id after
   微信/vx/wx (加我微信zhangsan_1988, 微信号：abc123456) ([微信号]);
2. numbers: runs of digits, in groups after the first of 3 or more digits
   joined by a space or two, or by one of - – — _ . / · (138 1234 5678,
   138.1234.5678, 6222-0212-…, (023)6234 5678), or one digit at a time with
   such separators (1 3 8 1 2 3 4 5 6 7 8), become the personal numbers they
   hold (ID cards, mobiles, bank cards, landlines with area code); a run, or
   what is left of it, that still has 11 or more digits is redacted too
   ([号码]), checksum or not;
3. after a word that says what they are: QQ numbers (QQ号：987654321,
   扣扣 9876 54321 → [扣扣号]) and local landlines of 7–8 digits (电话 53221234,
   座机5322 1234 → [电话]);
4. licence plates (渝A12345, 渝 A12345, 渝A·12345, 川AD12345, 渝A1234学).

Then, in the text itself, the detailed part of addresses (人民路[详细地址],
石桥村[详细地址]); then, in a folded copy again, verification codes: 4–8 digits
after 验证码/校验码/动态码/短信码/code, or before 是您的验证码; and personal
names ([姓名], see ``pii.person_name_at``): after 联系人, 收件人, 姓名, 我叫,
我是…; before or after a phone number, id or e-mail just redacted (张三
13812345678, 李四的电话是…, 13812345678（张三）); before 住在, 家住, 的地址.

Placeholders hold no digit, numeral or letter, so no replacement can join two
runs of digits into a longer one. Hotlines and service numbers (110, 96110,
12316…) and ordinary numbers (2022年, 5克, 300元, 1,862.00元, 06月21日, 140/90,
10:21, 36.5度, 3.6.21) are kept.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from typing import NamedTuple

from bot.text.pii import (
    CHINESE_DIGITS,
    NumberKind,
    WordCheck,
    ascii_digits,
    classify_number,
    detailed_address_spans,
    fold,
    is_local_landline,
    is_qq_number,
    person_name_at,
    person_name_before,
    service_numbers,
)

ID_CARD = "[身份证号]"
BANK_CARD = "[银行卡号]"
MOBILE = "[手机号]"
LANDLINE = "[电话]"
LONG_NUMBER = "[号码]"
CODE = "[验证码]"
PLATE = "[车牌号]"
ADDRESS = "[详细地址]"
EMAIL = "[邮箱]"
WECHAT = "[微信号]"
QQ = "[扣扣号]"
NAME = "[姓名]"

_PLACEHOLDERS = {
    NumberKind.ID_CARD: ID_CARD,
    NumberKind.BANK_CARD: BANK_CARD,
    NumberKind.MOBILE: MOBILE,
    NumberKind.LANDLINE: LANDLINE,
}
# An unrecognised number this long is redacted all the same: an ID or a card
# with a typo is still somebody's. Shorter ones are amounts, years, counts.
LONG_NUMBER_DIGITS = 11
# Chinese numerals are digits in a run this long, or this long after a cue word.
SPELLED_MIN_DIGITS = 7
SPELLED_MIN_DIGITS_AFTER_CUE = 4

_Span = tuple[int, int, str]  # start, end, placeholder

# ---------------------------------------------------------------- the folded copy

# Soft hyphen, zero-width spaces and joiners, bidi marks, word joiner, BOM.
_INVISIBLE_CHARS = frozenset(
    "\u00ad\u180e\ufeff"
    + "".join(map(chr, (*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2065))))
)
_INVISIBLE_CHAR = re.compile(f"[{''.join(sorted(_INVISIBLE_CHARS))}]")
_MASK = "\ue000"  # stands for what no rule may take (a private-use character)

# Between the groups of a number (after folding: no full-width forms, no U+3000).
_SEPARATOR_CHARS = " -–—_./·•・"
_SEPARATOR = r"(?:[ ]{1,2}|[ ]?[-–—_./·•・][ ]?)"
_DIGIT_OR_NUMERAL = rf"[\d{CHINESE_DIGITS}]"
# Within a spelled run also the bracket after an area code, half- or full-width:
# "(010)柒0000000" and "（010）柒0000000" are read as one number, like "010-柒0000000".
_SPELLED_SEPARATOR_CHARS = _SEPARATOR_CHARS + ")）"
_SPELLED_SEPARATOR = r"(?:[ ]{1,2}|[ ]?[-–—_./·•・)）][ ]?)"
_ID_END = r"(?:[Xx](?![A-Za-z]))"  # the check character of an ID card
_SPELLED_RUN = re.compile(
    rf"{_DIGIT_OR_NUMERAL}(?:{_SPELLED_SEPARATOR}?{_DIGIT_OR_NUMERAL}){{3,}}"
    rf"(?:{_SEPARATOR}?{_ID_END})?"
)
_CHINESE_DIGIT = re.compile(f"[{CHINESE_DIGITS}]")
# A numeral next to another digit character: cheap to look for, and needed by any spelled run.
_NUMERAL_PAIR = re.compile(
    rf"[{CHINESE_DIGITS}]{_SPELLED_SEPARATOR}?{_DIGIT_OR_NUMERAL}"
    rf"|\d{_SPELLED_SEPARATOR}?[{CHINESE_DIGITS}]"
)
# A word asking for a number, at most 4 characters before it (电话是：, 手机号码 ).
_NUMBER_CUE = re.compile(
    r"(?:电话|手机|号码|座机|固话|微信|扣扣|QQ|qq|企鹅|验证码|校验码|动态码|短信码|身份证|卡号|账号"
    r"|联系|拨打|打给|致电)[^，。！？,!?\n]{0,4}$"
)
# Trimmed from the edges of a spelled run, fewest first, to find a phone number in it.
_EDGE_TRIMS = ((0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (2, 0), (1, 2), (2, 1), (2, 2))
# Never personal, hidden from every rule: the host of a link (its path is
# searched as usual), a report's number (bot.rumors.reports.public_id, or one
# written R-2026-000123) and an IPv4 address.
_LINK_HOST = re.compile(
    r"(?:https?://|www\.)(?<!@www\.)[^\s/?#\u3000-\u303f\u4e00-\u9fff<>\"'\[\]]+", re.IGNORECASE
)
_REPORT_NUMBER = re.compile(r"R-(?<![A-Za-z0-9]R-)(?:[A-Z2-7]{8}|\d{4}-\d{4,8})(?![A-Za-z0-9])")
_DOTTED_QUAD = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
_RUN_GOES_ON = re.compile(rf"\.?\d|{_SEPARATOR}\d")  # after a dotted quad
_RUN_CAME = re.compile(rf"\d(?:\.|{_SEPARATOR})?$")  # before one


class _View(NamedTuple):
    """The folded copy searched, and where each of its characters is in the text."""

    text: str
    positions: list[int] | None  # None: the same positions


def _view(text: str) -> _View:
    folded = fold(text)
    index = None
    if _INVISIBLE_CHAR.search(folded):
        index = [i for i, c in enumerate(folded) if c not in _INVISIBLE_CHARS]
        folded = _INVISIBLE_CHAR.sub("", folded)
    folded = _read_spelled_numbers(folded)
    return _View(_masked(folded), index)


def _masked(view: str) -> str:
    """``view`` with what is never personal replaced by the mask, character for character."""

    def mask(m: re.Match[str]) -> str:
        return _MASK * len(m.group())

    if "://" in view or "www." in view or "WWW." in view:
        view = _LINK_HOST.sub(mask, view)
    if "R-" in view:
        view = _REPORT_NUMBER.sub(mask, view)
    if "." in view:
        view = _DOTTED_QUAD.sub(
            lambda m: mask(m) if _is_ipv4(view, m.start(), m.end()) else m.group(), view
        )
    return view


def _is_ipv4(view: str, start: int, end: int) -> bool:
    """Whether the dotted quad at ``start:end`` is a whole IPv4 address.

    Not 1.2.3.4.5, and not part of a number written one digit at a time (1.0.0.0 1).
    """
    if _RUN_GOES_ON.match(view, end) or _RUN_CAME.search(view, max(0, start - 4), start):
        return False
    return all(int(part) <= 255 for part in view[start:end].split("."))


def _read_spelled_numbers(view: str) -> str:
    """``view`` with the Chinese numerals that are digits of a number written as ASCII."""
    if not _NUMERAL_PAIR.search(view):
        return view
    pieces: list[str] = []
    position = 0
    for m in _SPELLED_RUN.finditer(view):
        run = m.group()
        if not _CHINESE_DIGIT.search(run):
            continue
        digits = [i for i, c in enumerate(run) if c not in _SPELLED_SEPARATOR_CHARS]
        cue = _NUMBER_CUE.search(view, max(0, m.start() - 12), m.start()) is not None
        if len(digits) < (SPELLED_MIN_DIGITS_AFTER_CUE if cue else SPELLED_MIN_DIGITS):
            continue
        first, last = _digits_to_read(run, digits, cue)
        chars = list(run)
        for i in digits[first:last]:
            chars[i] = ascii_digits(chars[i])
        pieces += [view[position : m.start()], "".join(chars)]
        position = m.end()
    pieces.append(view[position:])
    return "".join(pieces)


def _digits_to_read(run: str, digits: list[int], cue: bool) -> tuple[int, int]:
    """Which of the run's digit characters (``digits[first:last]``) are one number.

    All of them, unless leaving a numeral or two at an edge out makes a phone, ID
    or card number (13812345678一直, 一三八…八一定); without a cue before it, a
    run of other digits with one or two numerals at an edge leaves them out too
    (1234567一直).
    """
    chinese = [run[i] in CHINESE_DIGITS for i in digits]
    lead = next((n for n, c in enumerate(chinese) if not c), len(chinese))
    trail = next((n for n, c in enumerate(reversed(chinese)) if not c), len(chinese))
    count = len(digits)
    for first, cut in _EDGE_TRIMS:
        if first > lead or cut > trail or first + cut >= count:
            continue
        number = ascii_digits("".join(run[i] for i in digits[first : count - cut]))
        if classify_number(number) is not None:
            return first, count - cut
    if cue or lead == count:  # a number after all, or numerals only
        return 0, count
    return (lead if lead <= 2 else 0), count - (trail if trail <= 2 else 0)


def _apply(text: str, view: _View, spans: Iterable[_Span]) -> str:
    """``text`` with the spans of its view replaced by their placeholders."""
    out: list[str] = []
    position = 0
    for start, end, placeholder in sorted(spans):
        if view.positions is not None:
            start, end = view.positions[start], view.positions[end - 1] + 1
        out += [text[position:start], placeholder]
        position = end
    if not out:
        return text
    out.append(text[position:])
    return "".join(out)


class _Taken:
    """Spans accepted so far; a span overlapping one of them is refused."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.spans: list[_Span] = []

    def add(self, spans: Iterable[_Span]) -> None:
        for span in spans:
            i = bisect.bisect(self.starts, span[0])
            if i and self.spans[i - 1][1] > span[0]:
                continue
            if i < len(self.spans) and self.spans[i][0] < span[1]:
                continue
            self.starts.insert(i, span[0])
            self.spans.insert(i, span)


# ---------------------------------------------------------------- e-mail, WeChat, QQ

# (Each pattern starts with a character, not a look-behind: re then skips
# quickly to where it can match. Most texts are not searched at all: see
# _contact_spans.)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_WXID = re.compile(r"wxid_[A-Za-z0-9_\-]{4,}", re.IGNORECASE)
# The id after 微信 / vx / wx: 6–20 letters, digits, _ and - (a phone number
# will do too). After 微信号, 微信：… anything of that shape; after a
# bare 微信 only with a digit, _ or - in it (微信WeChat is the app).
_WECHAT = re.compile(
    r"(?:微信|威信|薇信|[Vv]信|(?:vx|wx)(?<![A-Za-z]..)(?![A-Za-z])"
    r"|weixin(?<![A-Za-z].{6})|wechat(?<![A-Za-z].{6}))"
    r"(?P<said>号码|号|账号|ID|id)?[ ]?(?:(?P<is>是|为|[:：])[ ]?)?"
    r"(?P<id>[A-Za-z0-9][-_A-Za-z0-9]{5,19})(?![-_A-Za-z0-9@])",
    re.IGNORECASE,
)
_QQ_NUMBER = re.compile(
    r"(?:QQ(?<![A-Za-z]QQ)(?![A-Za-z])|扣扣|企鹅号)群?(?:号码|号|账号)?[ ]?(?:(?:是|为|[:：])[ ]?)?"
    rf"(?P<number>[1-9](?:{_SEPARATOR}?\d){{4,10}})(?!\d)",
    re.IGNORECASE,
)
# A landline without its area code, after a word that says it is one.
_LOCAL_LANDLINE = re.compile(
    r"(?:电话|座机|固话|宅电|手机|号码|联系方式|tel(?<![A-Za-z]tel)(?![A-Za-z])|拨打|致电|打给|呼叫)"
    r"(?:号码|号)?[ ]?(?:(?:是|为|[:：])[ ]?)?"
    rf"(?P<number>[2-8](?:{_SEPARATOR}?\d){{6,7}})(?!\d)(?![年月日号点元块斤克岁个次天分秒%])",
    re.IGNORECASE,
)


_WECHAT_WORDS = ("微信", "威信", "薇信", "v信", "vx", "wx", "weixin", "wechat")


def _digits(text: str) -> str:
    return ascii_digits(re.sub(r"\D", "", text))


def _wechat_spans(view: str) -> Iterable[_Span]:
    for m in _WECHAT.finditer(view):
        wechat_id = m.group("id")
        if wechat_id in service_numbers():
            continue
        if m.group("said") or m.group("is") or re.search(r"[\d_\-]", wechat_id):
            yield m.start("id"), m.end("id"), WECHAT


def _qq_spans(view: str) -> Iterable[_Span]:
    for m in _QQ_NUMBER.finditer(view):
        if is_qq_number(_digits(m.group("number"))):
            yield m.start("number"), m.end("number"), QQ


def _local_landline_spans(view: str) -> Iterable[_Span]:
    for m in _LOCAL_LANDLINE.finditer(view):
        if is_local_landline(_digits(m.group("number"))):
            yield m.start("number"), m.end("number"), LANDLINE


# ---------------------------------------------------------------- numbers

# One digit at a time (1 3 8 1 2 3 4 5 6 7 8), or groups after the first of at
# least 3 digits, so 1 2 3, 2024-03-05, 140/90 and 36.5 are not one number,
# while 138 1234 5678, +86 138…, 138.1234.5678 and 510230 19800101 123X are.
_NUMBER_RUN = re.compile(
    rf"\+?\d(?:{_SEPARATOR}\d){{6,}}(?:{_SEPARATOR}?{_ID_END})?(?!\d)"
    rf"|\+?\d+(?:{_SEPARATOR}\d{{3,}})*{_ID_END}?"
)
_GROUP = re.compile(rf"\d+{_ID_END}?")
# Where runs may be: digits and what may join them (cheap to find, and most are short).
_DIGIT_STRETCH = re.compile(r"[+\d][+\dXx \-–—_./·•・]*")
# A run with fewer characters holds fewer digits than the shortest personal
# number (a landline, 0xx and 7 digits) and than LONG_NUMBER_DIGITS.
_SHORTEST_PERSONAL = 10
# (023)6234 5678: the one separator that is not a space or a dash. The area
# code may be in numerals ((〇二三)五三二二一二三四): too short to be read as digits.
_BRACKETED_LANDLINE = re.compile(
    rf"[(（]\s?[0〇零][\d{CHINESE_DIGITS}]{{2,3}}\s?[)）]{_SEPARATOR}?\d{{3,4}}{_SEPARATOR}?\d{{4}}"
    rf"(?!\d)(?!{_SEPARATOR}\d)"
)


def _number_spans(view: str, stretches: list[re.Match[str]]) -> Iterable[_Span]:
    for stretch in stretches:
        if stretch.end() - stretch.start() < _SHORTEST_PERSONAL:
            continue
        # The character after the stretch cannot be part of a run, but a
        # look-ahead at the end of one must see it.
        for match in _NUMBER_RUN.finditer(view, stretch.start(), stretch.end() + 1):
            if match.end() - match.start() >= _SHORTEST_PERSONAL:
                yield from _number_run_spans(match)


def _number_run_spans(match: re.Match[str]) -> list[_Span]:
    """The personal numbers in a run of digits.

    A run is one number in groups (138 1234 5678, 6222-0212-…) or several
    numbers side by side (13812345678 13912345678, 13812345678 2024). Read
    whole first (a card may end in 122); if it is no number, hotlines split it
    (打 110 120 119 stays) and each stretch between them is read whole, then
    word by word; the words left over are kept unless, together, they are a
    long number.
    """
    run = match.group(0)
    groups = _groups(run)
    services = service_numbers()
    if len(groups) > 1 and all(g.digits in services for g in groups):
        return []  # 10086/10010/10000 is a list of hotlines, whatever 15 digits may be
    stretches: list[list[_Group]] = [[]]
    if classify_number("".join(g.digits for g in groups)) is not None:
        stretches = [groups]
    else:
        for group in groups:
            if group.digits in services:
                stretches.append([])
            else:
                stretches[-1].append(group)
    spans: list[_Span] = []
    for stretch in stretches:
        for first, last, placeholder in _read_stretch(run, stretch):
            if placeholder is not None:
                # "+86 138…": the plus belongs to the number.
                start = 0 if first is groups[0] else first.start
                spans.append((match.start() + start, match.start() + last.end, placeholder))
    return spans


class _Group(NamedTuple):
    start: int
    end: int
    digits: str  # ASCII, a final X upper-cased


def _groups(run: str) -> list[_Group]:
    return [_Group(m.start(), m.end(), ascii_digits(m.group(0))) for m in _GROUP.finditer(run)]


def _read_stretch(run: str, groups: list[_Group]) -> list[tuple[_Group, _Group, str | None]]:
    """``(first group, last group, placeholder or None)`` for the numbers in a stretch."""
    if not groups:
        return []
    kind = classify_number("".join(g.digits for g in groups))
    if kind is not None:
        return [(groups[0], groups[-1], _PLACEHOLDERS[kind])]
    words: list[list[_Group]] = [[groups[0]]]
    for previous, group in zip(groups, groups[1:], strict=False):
        if run[previous.end : group.start].strip(" "):
            words[-1].append(group)  # joined by a dash, dot, slash…: the same word
        else:
            words.append([group])
    pieces: list[tuple[_Group, _Group, str | None]] = []
    left_over: list[_Group] = []

    def close_left_over() -> None:
        if left_over:
            digits = sum(len(g.digits.rstrip("X")) for g in left_over)
            long_number = LONG_NUMBER if digits >= LONG_NUMBER_DIGITS else None
            pieces.append((left_over[0], left_over[-1], long_number))
            left_over.clear()

    for word in words:
        kind = classify_number("".join(g.digits for g in word)) if len(words) > 1 else None
        if kind is None:
            left_over.extend(word)
            continue
        close_left_over()
        pieces.append((word[0], word[-1], _PLACEHOLDERS[kind]))
    close_left_over()
    return pieces


# ---------------------------------------------------------------- plates

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTER = "A-HJ-NP-Z"  # no I, no O
# Province, maybe a space, city letter, then five characters (a sixth for
# new-energy cars: D/F and five more, or five digits and D/F); 学 挂 警… end
# some plates.
_PLATE = re.compile(
    rf"[{_PROVINCES}] ?[{_PLATE_LETTER}][·・•.\- ]?"
    rf"(?:[DF][{_PLATE_LETTER}0-9]\d{{4}}|\d{{5}}[DF]"
    rf"|[{_PLATE_LETTER}0-9]{{4}}[{_PLATE_LETTER}0-9挂学警港澳])"
    r"(?!\d)",
    re.IGNORECASE,
)
_PLATE_MIN_DIGITS = 3  # 川AHAPPY and 新Arabic are words, not plates


def _plate_spans(view: str) -> Iterable[_Span]:
    for m in _PLATE.finditer(view):
        if sum(c.isdigit() for c in m.group()) >= _PLATE_MIN_DIGITS:
            yield m.start(), m.end(), PLATE


# ---------------------------------------------------------------- codes

_CODE_WORDS = r"验证码|校验码|动态码|短信码|code(?<![A-Za-z]code)"
# 4–8 digits, maybe written in two or three groups (123 456).
_CODE_DIGITS = r"(\d(?:[ \-]?\d){3,7})"
# 验证码是 123456 / 验证码：123456 / code: 1234; the code ends the number
# (not 2024年, not the start of a longer number).
_CODE_AFTER = re.compile(
    rf"(?:{_CODE_WORDS})[^\d\[\]，。！？,!?；;\n]{{0,6}}?"
    rf"{_CODE_DIGITS}(?!\d|[ \-]\d)(?![年月日号点元块斤克岁个次天分秒])",
    re.IGNORECASE,
)
# 482913是您的验证码 / 482913 为你的动态码
_CODE_BEFORE = re.compile(
    rf"(?<!\d)(?<!\d[ \-]){_CODE_DIGITS}(?=\s*[，,]?\s*(?:是|为)\s*(?:您|你)?的?\s*"
    rf"(?:{_CODE_WORDS}))",
    re.IGNORECASE,
)


def _code_spans(view: str) -> Iterable[_Span]:
    for pattern in (_CODE_AFTER, _CODE_BEFORE):
        for m in pattern.finditer(view):
            if _digits(m.group(1)) not in service_numbers():  # 验证码的事打96110问
                yield m.start(1), m.end(1), CODE


# ---------------------------------------------------------------- names

# Words after which a name is what comes (联系人：张三), after which one usually
# comes (我叫王秀英, not 我叫孙子来), and after which one may come (我是王秀英,
# not 我是高血压病人 or 我是江苏人).
_NAME_CUES = (
    (
        re.compile(
            r"(?:联系人|收件人|收货人|寄件人|收款人|持卡人|开户人|开户名|户主|户名|姓名|名字|签名|署名)"
            r"(?:是|为|叫|[:：])?[ ]?"
        ),
        WordCheck.NONE,
    ),
    (re.compile(r"(?:我叫|名叫)[ ]?"), WordCheck.WHOLE),
    (re.compile(r"(?:我是|本人|叫做)(?:是|为|[:：])?[ ]?"), WordCheck.PREFIX),
)
_CONTACTS = (MOBILE, LANDLINE, LONG_NUMBER, WECHAT, QQ, EMAIL, ID_CARD, BANK_CARD)
_CONTACT = re.compile("|".join(re.escape(p) for p in _CONTACTS))
# What may stand between a name and the number after it: 张三的电话是 [手机号].
_TO_CONTACT = re.compile(
    r"的?(?:电话号码|电话|手机号码|手机号|手机|号码|联系方式|联系电话|微信号|微信|扣扣号|扣扣|QQ号|QQ"
    r"|邮箱|身份证号码|身份证号|身份证|银行卡号|银行卡|卡号|账号)?(?:是|为|[:：])?[ ]?$"
)
# 13812345678（张三）, [手机号] 张三, 石桥村[详细地址]王秀英
_AFTER_CONTACT = re.compile(
    "(?:" + "|".join(re.escape(p) for p in (*_CONTACTS, ADDRESS)) + r")[ ]?[（(：:,，、]?[ ]?"
)
_LIVES = re.compile(r"住在|家住|的家在|家在|住址|的地址|地址是")


def _name_spans(view: str) -> Iterable[_Span]:
    for cue, check in _NAME_CUES:
        for m in cue.finditer(view):
            end = person_name_at(view, m.end(), check)
            if end is not None:
                yield m.end(), end, NAME
    if "[" in view:
        for m in _AFTER_CONTACT.finditer(view):
            end = person_name_at(view, m.end(), WordCheck.WHOLE)
            if end is not None:
                yield m.end(), end, NAME
        for m in _CONTACT.finditer(view):
            link = _TO_CONTACT.search(view, max(0, m.start() - 12), m.start())
            end = link.start() if link else m.start()
            start = person_name_before(view, end, WordCheck.WHOLE)
            if start is not None:
                yield start, end, NAME
    for m in _LIVES.finditer(view):
        start = person_name_before(view, m.start(), WordCheck.WHOLE)
        if start is not None:
            yield start, m.start(), NAME


# ---------------------------------------------------------------- redact


def redact(text: str) -> str:
    """Replace personal data in ``text`` with bracketed placeholders.

    Args:
        text: any text a user sent.

    Returns:
        The text with ID-card, bank-card, mobile, landline, QQ and other long
        numbers, e-mail addresses, WeChat ids, licence plates, the detailed part
        of addresses, verification codes and personal names replaced
        ([身份证号] [银行卡号] [手机号] [电话] [扣扣号] [号码] [邮箱] [微信号]
        [车牌号] [详细地址] [验证码] [姓名]); everything else unchanged.
        ``redact(redact(text)) == redact(text)``.
    """
    # A replacement can make its neighbours readable: a run of digits split by
    # a placeholder is read again as shorter runs, and "验证码0000 0-0-000"
    # holds a code only once 0-0-000 is known to be an address. So the passes
    # repeat until nothing changes. Placeholders hold no digit, numeral or
    # letter, and every replacement removes some, so this ends: nearly always
    # after one round (nothing found) or two.
    while True:
        redacted = _redact_once(text)
        if redacted == text:
            return text
        text = redacted


def _redact_once(text: str) -> str:
    view = _view(text)
    text = _apply(text, view, _contact_spans(view.text))
    spans = detailed_address_spans(text)
    text = _apply(text, _View(text, None), ((start, end, ADDRESS) for start, end in spans))
    view = _view(text)
    taken = _Taken()
    if "码" in view.text or "code" in view.text.lower():
        taken.add(_code_spans(view.text))
    taken.add(_name_spans(view.text))
    return _apply(text, view, taken.spans)


def _contact_spans(view: str) -> list[_Span]:
    """E-mail addresses, WeChat ids, numbers and plates in ``view``, in that order of rank."""
    taken = _Taken()
    lower = view.lower()
    if "@" in view:
        taken.add((m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(view))
    if "wxid_" in lower:
        taken.add((m.start(), m.end(), WECHAT) for m in _WXID.finditer(view))
    if any(word in lower for word in _WECHAT_WORDS):
        taken.add(_wechat_spans(view))
    if "(" in view or "（" in view:
        taken.add((m.start(), m.end(), LANDLINE) for m in _BRACKETED_LANDLINE.finditer(view))
    stretches = list(_DIGIT_STRETCH.finditer(view))
    longest = max((m.end() - m.start() for m in stretches), default=0)
    taken.add(_number_spans(view, stretches))
    if longest >= 5 and ("qq" in lower or "扣扣" in view or "企鹅号" in view):
        taken.add(_qq_spans(view))
    if longest >= 7:
        taken.add(_local_landline_spans(view))
    if stretches:
        taken.add(_plate_spans(view))
    return taken.spans
