"""Remove personal data before anything is stored.

``redact(text)`` returns text safe to store: rumour reports, handoff requests
and unanswered questions are written only in this form. What counts as personal
is decided in ``bot.text.pii``; this module finds the candidates and puts a
placeholder in their place, in this order:

1. numbers: runs of digits, with single spaces or dashes between groups
   (138 1234 5678, 6222-0212-…), become the personal numbers they hold
   (ID cards, mobiles, bank cards, landlines); a run, or what is left of it,
   that still has 11 or more digits is redacted too ([号码]), checksum or not;
2. licence plates (渝A12345, 渝A·12345, 川AD12345, 渝A1234学);
3. the detailed part of addresses (人民路[详细地址], 石桥村[详细地址]);
4. verification codes: 4–8 digits after 验证码/校验码/动态码/短信码/code, or
   before 是您的验证码.

Placeholders hold no digit, numeral or letter, so no replacement can join two
runs of digits into a longer one. Hotlines and service numbers (110, 96110,
12316…) and ordinary numbers (2022年, 5克, 300元, 06月21日, 140/90) are kept.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from bot.text.pii import (
    NumberKind,
    ascii_digits,
    classify_number,
    detailed_address_spans,
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

_PLACEHOLDERS = {
    NumberKind.ID_CARD: ID_CARD,
    NumberKind.BANK_CARD: BANK_CARD,
    NumberKind.MOBILE: MOBILE,
    NumberKind.LANDLINE: LANDLINE,
}
# An unrecognised number this long is redacted all the same: an ID or a card
# with a typo is still somebody's. Shorter ones are amounts, years, counts.
LONG_NUMBER_DIGITS = 11

# Groups after the first have at least 3 digits, so 1 2 3 and 2024-03-05 are
# not one number, while 138 1234 5678, +86 138… and 510230 19800101 123X are.
_SEPARATOR = r"(?:[ \u3000]{1,2}|[ \u3000]?[-－–—][ \u3000]?)"
_NUMBER_RUN = re.compile(rf"\+?\d+(?:{_SEPARATOR}\d{{3,}})*(?:[Xx](?![A-Za-z]))?")
_GROUP = re.compile(r"\d+(?:[Xx](?![A-Za-z]))?")
# (023)6234 5678: the one separator that is not a space or a dash.
_BRACKETED_LANDLINE = re.compile(
    r"[（(]\s?0\d{2,3}\s?[)）][ \-]?\d{3,4}[ \-]?\d{4}(?!\d)(?![ \-]\d)"
)

_CODE_WORDS = r"验证码|校验码|动态码|短信码|(?<![A-Za-z])code"
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

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTER = "A-HJ-NP-Z"  # no I, no O
# Province, city letter, then five characters (a sixth for new-energy cars:
# D/F and five more, or five digits and D/F); 学 挂 警… end some plates.
_PLATE = re.compile(
    rf"[{_PROVINCES}][{_PLATE_LETTER}][·・•.\- ]?"
    rf"(?:[DF][{_PLATE_LETTER}0-9]\d{{4}}|\d{{5}}[DF]"
    rf"|[{_PLATE_LETTER}0-9]{{4}}[{_PLATE_LETTER}0-9挂学警港澳])"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_PLATE_MIN_DIGITS = 3  # 川AHAPPY and 新Arabic are words, not plates


def redact(text: str) -> str:
    """Replace personal data in ``text`` with bracketed placeholders.

    Args:
        text: any text a user sent.

    Returns:
        The text with ID-card, bank-card, mobile, landline and other long
        numbers, licence plates, the detailed part of addresses and
        verification codes replaced ([身份证号] [银行卡号] [手机号] [电话]
        [号码] [车牌号] [详细地址] [验证码]); everything else unchanged.
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
    text = _BRACKETED_LANDLINE.sub(LANDLINE, text)
    text = _NUMBER_RUN.sub(_redact_number_run, text)
    text = _PLATE.sub(_redact_plate, text)
    text = _replace_spans(text, detailed_address_spans(text), ADDRESS)
    text = _CODE_AFTER.sub(_redact_code, text)
    return _CODE_BEFORE.sub(_redact_code, text)


def _redact_code(match: re.Match[str]) -> str:
    digits = ascii_digits(re.sub(r"\D", "", match.group(1)))
    if digits in service_numbers():  # 验证码的事打96110问
        return match.group(0)
    start, end = match.span(1)
    whole = match.group(0)
    return whole[: start - match.start()] + CODE + whole[end - match.start() :]


def _redact_plate(match: re.Match[str]) -> str:
    plate = match.group(0)
    if sum(c.isdigit() for c in plate) < _PLATE_MIN_DIGITS:
        return plate
    return PLATE


def _redact_number_run(match: re.Match[str]) -> str:
    """The run with each personal number in it replaced.

    A run is one number in groups (138 1234 5678, 6222-0212-…) or several
    numbers side by side (13812345678 13912345678, 13812345678 2024). Read
    whole first (a card may end in 122); if it is no number, hotlines split it
    (打 110 120 119 stays) and each stretch between them is read whole, then
    word by word; the words left over are kept unless, together, they are a
    long number.
    """
    run = match.group(0)
    groups = _groups(run)
    stretches: list[list[_Group]] = [[]]
    if classify_number("".join(g.digits for g in groups)) is not None:
        stretches = [groups]
    else:
        services = service_numbers()
        for group in groups:
            if group.digits in services:
                stretches.append([])
            else:
                stretches[-1].append(group)
    out: list[str] = []
    position = 0
    for stretch in stretches:
        for first, last, placeholder in _read_stretch(run, stretch):
            if placeholder is not None:
                # "+86 138…": the plus belongs to the number.
                start = 0 if first is groups[0] else first.start
                out += [run[position:start], placeholder]
                position = last.end
    out.append(run[position:])
    return "".join(out)


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
        if run[previous.end : group.start].strip(" \u3000"):
            words[-1].append(group)  # joined by a dash: the same word
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


def _replace_spans(text: str, spans: list[tuple[int, int]], placeholder: str) -> str:
    if not spans:
        return text
    out: list[str] = []
    position = 0
    for start, end in spans:
        out.append(text[position:start])
        out.append(placeholder)
        position = end
    out.append(text[position:])
    return "".join(out)
