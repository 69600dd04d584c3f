"""No personal datum survives ``redact``, however it is written; ordinary numbers all do.

Personal data (mobiles, landlines, IDs with a valid check character, bank cards
passing Luhn, QQ numbers, WeChat ids, e-mail addresses, licence plates, names)
are generated in the shapes people write them: digits as ASCII, full-width,
circled, Chinese numerals (with 幺 for 1) or 大写, mixed; grouped or one digit
at a time, with spaces, dots, slashes, underscores, dashes or their full-width
forms between, zero-width characters anywhere; then put in a Chinese sentence.
The output is searched for them after reading every digit form as ASCII and
dropping every separator, in the output as in the datum.

The test data are built here, from the standards' formulas, not from
``bot.text.pii``.
"""

from __future__ import annotations

import datetime
import functools
import unicodedata
from collections.abc import Iterable
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.text.redact import redact

# ---------------------------------------------------------------- how digits are written

DIGIT_FORMS = {
    "ascii": "0123456789",
    "full_width": "０１２３４５６７８９",
    "circled": "⓪①②③④⑤⑥⑦⑧⑨",
    "numerals": "〇一二三四五六七八九",
    "numerals_ling": "零一二三四五六七八九",
    "numerals_yao": "〇幺二三四五六七八九",  # 1 read out as 幺
    "daxie": "零壹贰叁肆伍陆柒捌玖",
}
NUMERAL_VALUES = {c: str(i) for form in DIGIT_FORMS.values() for i, c in enumerate(form)}
SEPARATORS = [" ", "  ", ".", "/", "_", "-", "–", "—", " - ", "－", "．", "／", "＿", "\u3000", "·"]
ZERO_WIDTH = "\u200b\u200c\u200d\ufeff\u2060"
DROPPED = set("".join(SEPARATORS)) | set(ZERO_WIDTH)


def normalised(text: str) -> str:
    """Every digit form as ASCII, separators and zero-width characters dropped, upper case."""
    out = []
    for c in text:
        if c in DROPPED or c.isspace():
            continue
        value = NUMERAL_VALUES.get(c)
        if value is None and unicodedata.digit(c, None) is not None:
            value = str(unicodedata.digit(c))
        out.append(value if value is not None else c)
    return "".join(out).upper()


def id_check_character(body: str) -> str:
    """GB 11643-1999: position n from the right (the check is n = 1) weighs 2^(n-1) mod 11."""
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(body))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def luhn_completed(body: str) -> str:
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return body + str((10 - total % 10) % 10)


# Hotlines the generated QQ numbers must not be (they are kept, rightly).
SERVICE_LIKE = {"12306", "12315", "12316", "12320", "12333", "12345", "12348", "12393", "96110"}
SERVICE_LIKE |= {"95588", "95533", "95599", "95566", "95580", "95516", "95598"}
SERVICE_LIKE |= {"10086", "10010", "10000"}

# ---------------------------------------------------------------- strategies

T = TypeVar("T")

# Strategies are built once (building them per draw costs more than drawing).
FORM = st.sampled_from(sorted(DIGIT_FORMS))
SEPARATOR = st.sampled_from(SEPARATORS)
ID_END = st.sampled_from("XxＸ")
ZERO_WIDTH_INSERTS = st.lists(
    st.tuples(st.integers(1, 60), st.sampled_from(ZERO_WIDTH)), min_size=1, max_size=4
)


@functools.cache
def choice(options: tuple) -> st.SearchStrategy:
    return st.sampled_from(options)


@functools.cache
def digit_text(length: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=length, max_size=length)


@functools.cache
def bits(length: int) -> st.SearchStrategy[int]:
    return st.integers(0, 2**length - 1)


@functools.cache
def separator_lists(length: int) -> st.SearchStrategy[list[str]]:
    return st.lists(SEPARATOR, min_size=length, max_size=length)


def draw_digits(draw: st.DrawFn, length: int, first: str = "0123456789") -> str:
    return draw(choice(tuple(first))) + draw(digit_text(length - 1))


def draw_written(draw: st.DrawFn, number: str, groupings: tuple) -> str:
    """``number`` (ASCII digits, maybe a final X) in one or two digit forms, grouped."""
    forms = (draw(FORM), draw(FORM))
    mix = draw(bits(len(number)))  # which form each digit takes
    chars = [
        draw(ID_END) if c == "X" else DIGIT_FORMS[forms[(mix >> i) & 1]][int(c)]
        for i, c in enumerate(number)
    ]
    grouping = draw(choice(groupings))
    if grouping == "whole":
        groups = ["".join(chars)]
    elif grouping == "each":
        groups = chars
    else:
        assert sum(grouping) == len(number), (grouping, number)
        groups, start = [], 0
        for size in grouping:
            groups.append("".join(chars[start : start + size]))
            start += size
    if draw(st.booleans()):  # the same separator throughout, or any in each gap
        separators = [draw(SEPARATOR)] * (len(groups) - 1)
    else:
        separators = draw(separator_lists(len(groups) - 1))
    text = groups[0]
    for separator, group in zip(separators, groups[1:], strict=True):
        text += separator + group
    if draw(st.integers(0, 3)) == 0:  # zero-width characters between any two characters
        for position, char in sorted(draw(ZERO_WIDTH_INSERTS), reverse=True):
            position = 1 + position % max(1, len(text) - 1)
            text = text[:position] + char + text[position:]
    return text


def pick(draw: st.DrawFn, options: Iterable[T]) -> T:
    return draw(choice(tuple(options)))


@st.composite
def mobiles(draw: st.DrawFn) -> tuple[str, list[str]]:
    number = "1" + draw_digits(draw, 10, first="3456789")
    text = draw_written(draw, number, ("whole", "each", (3, 4, 4), (3, 8), (7, 4)))
    prefix = pick(draw, ["", "", "", "+86 ", "86-", "0086 "])
    cue = pick(draw, ["", "电话", "手机", "手机号：", "我的电话是", "打"])
    return cue + prefix + text, [number]


@st.composite
def landlines(draw: st.DrawFn) -> tuple[str, list[str]]:
    area = pick(draw, ["010", "021", "023", "028", "0851", "0755", "0371", "0311"])
    local = draw_digits(draw, 8 if len(area) == 3 else pick(draw, [7, 8]), "2345678")
    number = area + local
    cue = pick(draw, ["", "座机", "电话：", "家里电话"])
    if draw(st.booleans()):
        area_text = draw_written(draw, area, ("whole",))
        local_text = draw_written(draw, local, ("whole", (len(local) - 4, 4)))
        bracket = pick(draw, ["()", "（）"])
        space = pick(draw, ["", " "])
        return f"{cue}{bracket[0]}{area_text}{bracket[1]}{space}{local_text}", [number]
    groupings = ("whole", (len(area), len(local)), (len(area), len(local) - 4, 4))
    return cue + draw_written(draw, number, groupings), [number]


@st.composite
def local_landlines(draw: st.DrawFn) -> tuple[str, list[str]]:
    number = draw_digits(draw, pick(draw, [7, 8]), "345678")  # 2… could be a date
    cue = pick(draw, ["电话", "电话：", "座机", "座机号码是", "家里座机 ", "固话", "联系方式："])
    return cue + draw_written(draw, number, ("whole", "each", (len(number) - 4, 4))), [number]


@st.composite
def id_numbers(draw: st.DrawFn) -> tuple[str, list[str]]:
    region = draw_digits(draw, 6, "1234568")
    born = draw(st.dates(datetime.date(1930, 1, 1), datetime.date(2010, 12, 31)))
    body = region + born.strftime("%Y%m%d") + draw_digits(draw, 3)
    number = body + id_check_character(body)
    cue = pick(draw, ["", "身份证", "身份证号：", "证件号码"])
    groupings = ("whole", "each", (6, 8, 4), (6, 4, 4, 4))
    return cue + draw_written(draw, number, groupings), [body]


@st.composite
def bank_cards(draw: st.DrawFn) -> tuple[str, list[str]]:
    length = pick(draw, range(16, 20))
    number = luhn_completed(pick(draw, ["62", "43", "52"]) + draw_digits(draw, length - 3))
    fours = (4,) * (length // 4) + ((length % 4,) if length % 4 else ())
    cue = pick(draw, ["", "卡号", "银行卡号：", "转到"])
    return cue + draw_written(draw, number, ("whole", "each", fours)), [number]


@st.composite
def qq_numbers(draw: st.DrawFn) -> tuple[str, list[str]]:
    number = draw_digits(draw, pick(draw, range(5, 11)), "123456789")
    if number in SERVICE_LIKE:
        number += "8"
    cue = pick(draw, ["QQ", "QQ ", "QQ号", "QQ号：", "qq号码是", "扣扣", "扣扣号 ", "企鹅号"])
    return cue + draw_written(draw, number, ("whole", "each", (3, len(number) - 3))), [number]


ID_LETTERS = "abcdefghijklmnopqrstuvwxyz"
ID_CHARACTERS = ID_LETTERS + "0123456789"


@st.composite
def wechat_ids(draw: st.DrawFn) -> tuple[str, list[str]]:
    if draw(st.booleans()):
        wxid = "wxid_" + draw(st.text(ID_CHARACTERS, min_size=6, max_size=14))
        return wxid, [wxid.upper()]
    head = draw(st.text(ID_LETTERS, min_size=1, max_size=8))
    tail = draw(st.text("0123456789_-", min_size=1, max_size=6))
    wechat_id = head + tail + draw(st.text(ID_CHARACTERS, max_size=4))
    wechat_id = wechat_id if len(wechat_id) >= 6 else wechat_id + "2024"
    if draw(st.booleans()):
        wechat_id = wechat_id.upper()
    cue = pick(draw, ["微信", "加我微信", "微信号：", "微信号是", "vx:", "VX ", "wx：", "加v信 "])
    return cue + wechat_id, [wechat_id.upper()]


@st.composite
def emails(draw: st.DrawFn) -> tuple[str, list[str]]:
    local = draw(st.text(ID_LETTERS, min_size=1, max_size=6)) + draw(
        st.text(ID_CHARACTERS + "._-", min_size=1, max_size=8)
    )
    local = local.rstrip("._-") or "x"
    domain = pick(draw, ["qq.com", "163.com", "126.com", "gmail.com", "sina.cn", "foo.org.cn"])
    at = pick(draw, ["@", "@", "＠"])
    cue = pick(draw, ["", "邮箱", "邮箱：", "发到"])
    return f"{cue}{local}{at}{domain}", [f"{local}@{domain}".upper()]


PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


@st.composite
def plates(draw: st.DrawFn) -> tuple[str, list[str]]:
    province = pick(draw, PROVINCES)
    city = pick(draw, PLATE_LETTERS)
    number = draw_digits(draw, 5)
    if draw(st.booleans()):  # a letter in it
        at = pick(draw, range(5))
        number = number[:at] + pick(draw, PLATE_LETTERS) + number[at + 1 :]
    plate = province + city + number
    gap = pick(draw, ["", "", "·", " ", "-"])
    before = pick(draw, ["", " "])
    text = province + before + city + gap + number
    if draw(st.booleans()):
        text = text.lower()
    cue = pick(draw, ["", "车牌", "车牌号："])
    return cue + text, [plate.upper()]


# Common surnames, single and compound, and given-name characters. None of the
# names they make begins with a common word: names that are one (高峰, 李鹏,
# 王子) are kept next to a phone number, like the words.
SURNAMES = "王李张刘陈杨赵吴周徐孙马朱胡郭何罗郑梁谢宋唐许韩冯邓曹彭曾肖董袁潘蒋蔡余杜程苏魏吕丁"
COMPOUND_SURNAMES = ["欧阳", "司马", "诸葛", "上官", "慕容", "令狐"]
GIVEN = "伟芳娜敏静丽磊艳杰娟婷琳慧颖秀英桂淑霞玲梅琴娇莉彬斌浩翔睿"
NAME_CONTEXTS = [
    "联系人{name}",
    "联系人：{name}，电话{phone}",
    "收件人{name} {phone}",
    "姓名：{name}",
    "我叫{name}",
    "我叫{name}住在石桥村",
    "，{name} {phone}",
    "，{name}{phone}",
    "，{name}的电话是{phone}",
    "，{name}：{phone}",
    "电话{phone}（{name}）",
    "{phone} {name}",
    "，{name}住在幸福小区",
]


@st.composite
def names(draw: st.DrawFn) -> tuple[str, list[str]]:
    surname = pick(draw, [*SURNAMES, *COMPOUND_SURNAMES])
    name = surname + pick(draw, GIVEN) + pick(draw, ["", *GIVEN])
    phone = "1" + draw_digits(draw, 10, first="3456789")
    return pick(draw, NAME_CONTEXTS).format(name=name, phone=phone), [name, phone]


FILLER = [
    "听说喝醋能软化血管",
    "村里都在传要收老人的地",
    "有人冒充社保局打电话",
    "麻烦帮我问问",
    "你记好",
    "有事找我",
    "我儿子说的",
    "这个药是真的吗",
    "谢谢",
    "快递到了",
    "请尽快回复",
]
JOINERS = ["", " ", "，", "。", "：", "\n"]

personal_data = st.one_of(
    mobiles(),
    landlines(),
    local_landlines(),
    id_numbers(),
    bank_cards(),
    qq_numbers(),
    wechat_ids(),
    emails(),
    plates(),
    names(),
)


@st.composite
def sentences(draw: st.DrawFn) -> tuple[str, list[str]]:
    """One to three personal data in a sentence; the strings that must not survive.

    Words may touch the data (联系人王静听说…), data do not touch each other:
    渝A12345 glued to 6222… is no plate for anyone.
    """
    text = pick(draw, ["", *FILLER])
    secrets: list[str] = []
    for _ in range(pick(draw, (1, 2, 3))):
        datum, must_go = draw(personal_data)
        text += pick(draw, JOINERS) + datum + pick(draw, JOINERS) + pick(draw, FILLER)
        secrets += must_go
    return text, secrets


# ---------------------------------------------------------------- properties


@settings(
    max_examples=3000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(sentences())
def test_no_personal_datum_survives_in_any_form(case: tuple[str, list[str]]) -> None:
    text, secrets = case
    out = redact(text)
    found = normalised(out)
    for secret in secrets:
        assert normalised(secret) not in found, (text, out, secret)
    assert redact(out) == out


# Each with numbers that are not personal: hotlines, dates, amounts, quantities,
# readings, times, percentages, years, versions, numerals in words, report
# numbers, official links.
KEPT = [
    "有事打110，着火打119，急救打120，交通事故打122",
    "打96110或者12345问问，12315投诉，12316问农技，12348法律援助",
    "工行客服95588，建行95533，农行95599，移动10086",
    "客服电话400-600-8888",
    "2022年5月3日种的，05月21日收的",
    "2024年3月5日播种，2024-03-05出苗，2024.03.05追肥，2024/3/5浇水",
    "卖了300元，花了1,862.00元，还剩两千块",
    "一盒30元，养老金每月1850元，一共12,500元",
    "每天5克盐，每亩3公斤复合肥，亩产600斤",
    "血压140/90，心率72，血糖6.1",
    "早上10:21吃药，晚上8点半睡觉",
    "涨了12.5%，合格率99.9％",
    "1998年到2024年，一九四九年，二〇二四年",
    "版本v3.6.21，微信8.0.47，Android 14，iOS 17.4.1",
    "先做一二三四五步，再等三五天",
    "十几个人，七八十岁的老人，一两个月",
    "一五一十地说，三三两两地走",
    "编号 R-ABCD2345 已收到",
    "报告编号R-2026-000123",
    "官网是https://www.icbc.com.cn/icbc/，也可以上www.12306.cn",
    "假网站http://47.96.123.45/login别点",
    "服务器地址192.168.100.200",
    "体温36.5度，走了6000步",
    "比分3-2，2020-2024年",
    "第1/2/3/4/5/6/7名",
    "3月5号赶场，12号去赶集",
    "我家有3栋房子，住3楼",
    "王阿姨说有人冒充社保局",
    "张大爷住在村口",
    "我是农民，今年七十八岁",
    "我是高血压病人",
    "孙子的电话打不通",
    "我叫他来吃饭",
    "中国电信客服电话10000",
    "这个病叫做高血压",
    "验证码千万别告诉别人",
    "验证码的事打96110问问",
    "去重庆A级景区玩",
    "一年四季，五谷丰登，六六大顺",
]


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_numbers_and_words_are_kept(text: str) -> None:
    assert redact(text) == text


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(st.sampled_from(KEPT), min_size=1, max_size=5), st.sampled_from("，。！\n"))
def test_ordinary_sentences_together_are_kept(parts: list[str], joiner: str) -> None:
    text = joiner.join(parts)
    assert redact(text) == text
