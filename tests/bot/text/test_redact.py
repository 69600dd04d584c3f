"""Personal data never reaches storage: what ``redact`` removes, and what it keeps."""

from __future__ import annotations

import datetime
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.text.pii import address_terms, service_numbers
from bot.text.redact import redact

DIGITS = "0123456789"

# ---------------------------------------------------------------- test data, built independently
# (check characters derived from the standards' formulas, not from bot.text.pii's tables)


def id_check_character(body: str) -> str:
    """GB 11643-1999: position n from the right (the check is n = 1) weighs 2^(n-1) mod 11."""
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(body))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def luhn_completed(body: str) -> str:
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c) * (2 if i % 2 == 0 else 1)  # the check digit will sit to the right
        total += d // 10 + d % 10
    return body + str((10 - total % 10) % 10)


VALID_ID = "11010519491231002X"  # the sample number usually quoted with GB 11643-1999
VALID_ID_2 = "510230198001011234"
OLD_ID = "110105491231002"  # 15 digits, born 1949-12-31
VALID_CARD = luhn_completed("622202123456789")  # 16 digits
VALID_CARD_19 = luhn_completed("621700123456789012")


# ---------------------------------------------------------------- phone numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我电话13812345678你记一下", "我电话[手机号]你记一下"),
        ("打 +86 138 1234 5678", "打 [手机号]"),
        ("+8613812345678", "[手机号]"),
        ("86-139-0000-1111是我儿子的", "[手机号]是我儿子的"),
        ("0086 15912345678", "[手机号]"),
        ("手机１３８１２３４５６７８", "手机[手机号]"),  # full-width digits
        ("两个号13812345678 13912345678", "两个号[手机号] [手机号]"),
        ("电话13812345678 2024年就在用", "电话[手机号] 2024年就在用"),
        ("座机023-62345678", "座机[电话]"),
        ("座机 023 6234 5678", "座机 [电话]"),
        ("打(023)62345678或者（010）6234 5678", "打[电话]或者[电话]"),
        # a numeral after the bracket, a zero-width space inside it (found by the property test)
        ("听说(01\u200b0)柒0000000好", "听说[电话]好"),
        ("听说（01\u200b0）柒0000000好", "听说[电话]好"),
        ("家里02362345678", "家里[电话]"),
    ],
)
def test_phone_numbers_are_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


# Named in the requirements; the table may hold more, never fewer.
REQUIRED_SERVICE_NUMBERS = "110 120 119 122 12345 12315 12316 12333 12306 96110 95588 10086".split()


def test_the_service_number_table_holds_the_required_numbers() -> None:
    assert set(REQUIRED_SERVICE_NUMBERS) <= service_numbers()


@pytest.mark.parametrize("number", sorted(set(REQUIRED_SERVICE_NUMBERS) | service_numbers()))
def test_hotlines_and_service_numbers_survive(number: str) -> None:
    for text in (f"有事打{number}", f"打 {number} 问一下", f"验证码的事打{number}问问"):
        assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "打96110或者110，120急救，12316问农技，每天5克盐，2022年",
        "急事打 110 120 119 122 12345 12315 12316 12333 12306",
        "2022年种了5亩，卖了300元，06月21日收的",
        "客服电话400-600-8888",  # a company's number is not personal
        "1380元一吨，13点半开会",
    ],
)
def test_short_and_ordinary_numbers_survive(text: str) -> None:
    assert redact(text) == text


# ---------------------------------------------------------------- IDs, cards, long numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"身份证{VALID_ID}", "身份证[身份证号]"),
        (f"身份证{VALID_ID.lower()}。", "身份证[身份证号]。"),
        ("身份证号 110105 19491231 002X 记好", "身份证号 [身份证号] 记好"),
        (f"老身份证{OLD_ID}", "老身份证[身份证号]"),
        (f"卡号{VALID_CARD}", "卡号[银行卡号]"),
        # 19 digits in groups of four: the last group, 122, is also a hotline.
        (f"卡号 {' '.join(re.findall('.{1,4}', VALID_CARD_19))} 开户行", "卡号 [银行卡号] 开户行"),
        (f"卡号{'-'.join(re.findall('.{1,4}', VALID_CARD))}", "卡号[银行卡号]"),
    ],
)
def test_validated_ids_and_cards_are_named(text: str, expected: str) -> None:
    assert redact(text) == expected


def _with_bad_check(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("1" if last != "1" else "2")


@pytest.mark.parametrize(
    "number",
    [
        _with_bad_check(VALID_ID),  # ID check character wrong
        "51023019801301" + "123" + id_check_character("51023019801301123"),  # month 13
        "51023018800101" + "123" + id_check_character("51023018800101123"),  # born 1880
        "110105491331002",  # old ID, month 13
        _with_bad_check(VALID_CARD),  # Luhn fails
        "6222 0212 3456 7890 123",  # Luhn fails, in groups
        "12345678901",  # not a mobile (12…), 11 digits
        "20240305123456789",  # an order number
    ],
)
def test_long_numbers_are_redacted_even_when_checks_fail(number: str) -> None:
    out = redact(f"号码是{number}，记一下")
    assert out == "号码是[号码]，记一下"


def test_checks_decide_the_name_not_whether_to_redact() -> None:
    assert redact(VALID_ID) == "[身份证号]"
    assert redact(_with_bad_check(VALID_ID)) == "[号码]"
    assert redact(VALID_CARD) == "[银行卡号]"
    assert redact(_with_bad_check(VALID_CARD)) == "[号码]"


# ---------------------------------------------------------------- verification codes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("验证码是 123456 别告诉别人", "验证码是 [验证码] 别告诉别人"),
        ("验证码为8842", "验证码为[验证码]"),
        ("您的校验码：5521，5分钟内有效", "您的校验码：[验证码]，5分钟内有效"),
        ("动态码 20931467", "动态码 [验证码]"),
        ("短信码778899", "短信码[验证码]"),
        ("验证码是 123 456", "验证码是 [验证码]"),
        ("Your code is 990011.", "Your code is [验证码]."),
        ("CODE:4821", "CODE:[验证码]"),
        ("482913是您的验证码，请勿泄露", "[验证码]是您的验证码，请勿泄露"),
        ("482913 为你的动态码", "[验证码] 为你的动态码"),
    ],
)
def test_verification_codes_are_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "验证码千万别告诉别人",
        "验证码5分钟内有效",
        "收到验证码的短信，2024年3月5日",
        "验证码的事打96110问问",
        "barcode 12345678 is on the box",
        "今年收了1234斤，是最多的一年",
    ],
)
def test_numbers_near_code_words_that_are_not_codes_survive(text: str) -> None:
    assert redact(text) == text


# ---------------------------------------------------------------- licence plates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("车牌渝A12345", "车牌[车牌号]"),
        ("渝A·12345停在门口", "[车牌号]停在门口"),
        ("川AD12345是电动车", "[车牌号]是电动车"),
        ("渝A1234学的教练车", "[车牌号]的教练车"),
        ("川a 5b123", "[车牌号]"),
    ],
)
def test_licence_plates_are_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    ["去重庆A级景区玩", "川AB牌的化肥", "型号A12345", "新Arabic输入法", "渝A12345678901号码"],
)
def test_plate_lookalikes_are_not_plates(text: str) -> None:
    assert "[车牌号]" not in redact(text)


# ---------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "我住在重庆市梁平区幸福小区3栋2单元501",
            "我住在重庆市梁平区幸福小区[详细地址]",
        ),
        ("梁平区礼让镇川西村3组18号", "梁平区礼让镇川西村[详细地址]"),
        ("解放碑民族路188号附2号", "解放碑民族路[详细地址]"),
        ("中山四路36号", "中山四路[详细地址]"),
        ("兴隆街25-3号", "兴隆街[详细地址]"),
        ("幸福花园小区3-2-501", "幸福花园小区[详细地址]"),
        ("双桂镇新华村三社十二号", "双桂镇新华村[详细地址]"),
        ("观音岩村二组", "观音岩村[详细地址]"),
        ("就在5号楼", "就在[详细地址]"),
        ("住在五号楼三单元", "住在[详细地址]"),
        ("18栋1单元902", "[详细地址]"),
        ("A座1203室", "[详细地址]"),
        ("2单元501室里住着", "[详细地址]里住着"),  # jieba: 501|室里
        ("3组18号的王大爷", "[详细地址]的王大爷"),
        ("门牌号18", "门牌号[详细地址]"),
        ("门牌号是十八号", "门牌号是[详细地址]"),
    ],
)
def test_detailed_part_of_addresses_is_replaced_places_are_kept(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "重庆市梁平区礼让镇川西村",
        "梁平区双桂街道",
        "3月5号赶场",
        "12号去赶集，3号到5号下雨",
        "我知道3号要去",
        "我家有3栋房子",
        "3室2厅的房子",
        "住3楼，上下楼不方便",
        "分成3组打疫苗",
        "坐12路车到人民路",
        "阳光100小区的人",
        "住院部3楼5床",
        "比分3-2，2020-2024年",
    ],
)
def test_places_dates_and_counts_are_not_addresses(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("term", "kind", "example"),
    address_terms().examples,
)
def test_every_address_term_has_a_working_example(term: str, kind: str, example: str) -> None:
    out = redact(example)
    assert "[详细地址]" in out
    assert not re.search(r"[\d一二三四五六七八九十]", out)
    if kind == "place":
        assert term in out


# ---------------------------------------------------------------- numbers however they are written


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一三八一二三四五六七八", "[手机号]"),
        ("幺三八幺二三四五六七八", "[手机号]"),
        ("电话壹叁捌 壹贰叁肆 伍陆柒捌", "电话[手机号]"),
        ("1 3 8 1 2 3 4 5 6 7 8", "[手机号]"),
        ("138.1234.5678", "[手机号]"),
        ("138/1234/5678", "[手机号]"),
        ("138_1234_5678", "[手机号]"),
        ("138\u200b1234\u200b5678", "[手机号]"),
        ("1\u200c3\u200d8\ufeff1\u20602345678", "[手机号]"),
        ("打\u200b138\u200b1234\u200b5678\u200b吧", "打\u200b[手机号]\u200b吧"),
        ("138一二三四5678", "[手机号]"),
        ("138 一二三四 5678", "[手机号]"),
        ("①③⑧①②③④⑤⑥⑦⑧", "[手机号]"),
        ("①③⑧ ①②③④ ⑤⑥⑦⑧", "[手机号]"),
        ("１３８１２３４５６７８", "[手机号]"),
        ("手机号：１３８－１２３４－５６７８", "手机号：[手机号]"),
        ("我的电话13812345678一直打不通", "我的电话[手机号]一直打不通"),
        ("电话一三八一二三四五六七八一定要记住", "电话[手机号]一定要记住"),
        ("身份证 一一〇一〇五一九四九一二三一〇〇二X", "身份证 [身份证号]"),
        ("验证码是四八二九一三", "验证码是[验证码]"),
    ],
)
def test_numbers_in_any_digits_and_separators_are_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("电话 53221234", "电话 [电话]"),
        ("座机5322 1234", "座机[电话]"),
        ("电话：五三二二一二三四", "电话：[电话]"),
        ("023-53221234", "[电话]"),
        ("(023)53221234", "[电话]"),
        ("0235322 1234", "[电话]"),
        ("座机（023）5322-1234", "座机[电话]"),
        ("座机（〇二三）五三二二一二三四", "座机[电话]"),
        ("电话 53221234 13812345678", "电话 [电话] [手机号]"),
    ],
)
def test_landlines_with_and_without_area_code_are_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wxid_a1b2c3d4e5", "[微信号]"),
        ("wxid_abc12345的朋友", "[微信号]的朋友"),
        ("加我微信zhangsan_1988", "加我微信[微信号]"),
        ("微信号：abc123456", "微信号：[微信号]"),
        ("微信号 zhangsan", "微信号 [微信号]"),
        ("vx: zhangsan88", "vx: [微信号]"),
        ("QQ号：987654321", "QQ号：[扣扣号]"),
        ("QQ 987654321", "QQ [扣扣号]"),
        ("扣扣 9876 54321", "扣扣 [扣扣号]"),
        ("QQ号九八七六五四三二一", "QQ号[扣扣号]"),
        ("邮箱zhangsan@qq.com", "邮箱[邮箱]"),
        ("发到 Li.Si-2024@163.com 谢谢", "发到 [邮箱] 谢谢"),
        ("我QQ邮箱是123456789@qq.com", "我QQ邮箱是[邮箱]"),
        ("渝 A12345", "[车牌号]"),
        ("渝A 12345", "[车牌号]"),
    ],
)
def test_wechat_qq_email_and_plates_are_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("张三 13812345678", "[姓名] [手机号]"),
        ("联系人李建国", "联系人[姓名]"),
        ("我叫王秀英住在石桥村3组", "我叫[姓名]住在石桥村[详细地址]"),
        ("联系人：张三，电话：13812345678", "联系人：[姓名]，电话：[手机号]"),
        ("李四的电话是13912345678", "[姓名]的电话是[手机号]"),
        ("王秀英：13812345678", "[姓名]：[手机号]"),
        ("13812345678（王芳）", "[手机号]（[姓名]）"),
        ("找李建国13812345678", "找[姓名][手机号]"),
        ("收件人王秀英 梁平区石桥村3组18号", "收件人[姓名] 梁平区石桥村[详细地址]"),
        ("张三住在人民路12号", "[姓名]住在人民路[详细地址]"),
        ("姓名：欧阳明月", "姓名：[姓名]"),
        ("我是张丽，想跟你处处看", "我是[姓名]，想跟你处处看"),
        ("户名刘建，是我们辅导员", "户名[姓名]，是我们辅导员"),
        ("我叫张伟明天来", "我叫[姓名]明天来"),
        ("联系人王静听说", "联系人[姓名]听说"),
    ],
)
def test_names_next_to_contacts_and_addresses_are_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "王阿姨说有人冒充社保局",
        "张大爷住在村口",
        "我是高血压病人",
        "我是江苏人",
        "我是农民",
        "孙子的电话打不通",
        "我叫他来吃饭",
        "这个病叫做高血压",
        "中国电信客服电话10000",
    ],
)
def test_words_that_look_like_names_are_kept(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("房东的电话13812345678", "房东的电话[手机号]"),
        ("13812345678，谢谢", "[手机号]，谢谢"),
    ],
)
def test_only_the_number_goes_when_no_name_is_next_to_it(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_everything_in_one_message() -> None:
    text = (
        "联系人张三，手机一三八 一二三四 五六七八，微信zhang_san88，QQ 987654321，"
        "邮箱zs@163.com，住石桥村3组18号，车牌渝 A12345，座机（023）5322 1234，"
        f"身份证{VALID_ID_2}，有事打96110"
    )
    assert redact(text) == (
        "联系人[姓名]，手机[手机号]，微信[微信号]，QQ [扣扣号]，"
        "邮箱[邮箱]，住石桥村[详细地址]，车牌[车牌号]，座机[电话]，"
        "身份证[身份证号]，有事打96110"
    )


@pytest.mark.parametrize(
    "text",
    [
        "客服热线（10086／10010／10000）",
        "电话 20240305",  # a date, even after 电话
        "手机尾号5678",
        "我用微信WeChat，微信8.0.47版本",
        "QQ群里说的，打12345或者QQ咨询",
        "编号 R-ABCD2345，R-2026-000123",
        "官网https://www.icbc.com.cn/icbc/，客服95588，www.12306.cn",
        "服务器地址192.168.100.200",
    ],
)
def test_service_numbers_dates_report_numbers_and_links_survive(text: str) -> None:
    assert redact(text) == text


# ---------------------------------------------------------------- whole messages


@pytest.mark.parametrize(
    "text",
    [
        "每天5克盐，血压140/90，打96110",
        "亩产600斤，2024年3月5日播种",
        "我今年78岁，降压药每天吃1片，一盒30元",
        "玉米每亩用复合肥40公斤，6月中旬追肥",
        "养了200只鸡，3月份打了2次疫苗",
        "养老金每月1850元，12333问过了",
        "每天走6000步，体温36.5度",
        "社保卡密码别告诉别人，转账前打110",
    ],
)
def test_texts_without_personal_data_come_back_unchanged(text: str) -> None:
    assert redact(text) == text


# ---------------------------------------------------------------- properties


def test_a_rumour_report_keeps_its_story_and_loses_the_person() -> None:
    text = (
        f"王阿姨说有人冒充社保局打她电话13812345678，让她报身份证号{VALID_ID_2}和"
        f"银行卡{VALID_CARD}，还要验证码482913。她住梁平区幸福小区3栋2单元501，"
        "车牌渝A12345。她打96110问了，2024年3月5日。"
    )
    assert redact(text) == (
        "王阿姨说有人冒充社保局打她电话[手机号]，让她报身份证号[身份证号]和"
        "银行卡[银行卡号]，还要验证码[验证码]。她住梁平区幸福小区[详细地址]，"
        "车牌[车牌号]。她打96110问了，2024年3月5日。"
    )


@st.composite
def mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """(as written, the 11 digits)."""
    number = "1" + draw(st.sampled_from("3456789")) + draw(st.text(DIGITS, min_size=9, max_size=9))
    prefix = draw(st.sampled_from(["", "86", "+86", "+86 ", "86-", "0086 "]))
    sep = draw(st.sampled_from([None, " ", "-"]))
    body = number if sep is None else sep.join((number[:3], number[3:7], number[7:]))
    return prefix + body, number


@st.composite
def id_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(as written, the digits that must not survive)."""
    region = draw(st.sampled_from("12345678")) + draw(st.text(DIGITS, min_size=5, max_size=5))
    if draw(st.booleans()):
        born = draw(st.dates(datetime.date(1900, 1, 1), datetime.date(1999, 12, 31)))
        number = region + born.strftime("%y%m%d") + draw(st.text(DIGITS, min_size=3, max_size=3))
        return number, number
    born = draw(st.dates(datetime.date(1900, 1, 1), datetime.date.today()))
    body = region + born.strftime("%Y%m%d") + draw(st.text(DIGITS, min_size=3, max_size=3))
    number = body + id_check_character(body)
    if draw(st.booleans()):
        number = number.lower()
    if draw(st.booleans()):
        return " ".join((number[:6], number[6:14], number[14:])), body
    return number, body


@st.composite
def bank_cards(draw: st.DrawFn) -> tuple[str, str]:
    length = draw(st.integers(16, 19))
    number = luhn_completed(draw(st.text(DIGITS, min_size=length - 1, max_size=length - 1)))
    sep = draw(st.sampled_from([None, " ", "-"]))
    written = number if sep is None else sep.join(re.findall(".{1,4}", number))
    return written, number


ADDRESSY = "0123456789 -+号栋组社村路小区单元楼层室座附门牌是三十八五二A渝川D·验证码您的\n"


@settings(max_examples=300, deadline=None)
@given(secret=st.one_of(mobiles(), id_numbers(), bank_cards()), before=st.text(), after=st.text())
def test_no_mobile_id_or_card_survives_whatever_surrounds_it(
    secret: tuple[str, str], before: str, after: str
) -> None:
    written, digits = secret
    out = redact(before + written + after)
    assert digits not in out
    assert written not in out
    assert redact(out) == out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.text(alphabet=ADDRESSY, max_size=60)))
def test_redact_never_raises_is_idempotent_and_leaves_no_long_number(text: str) -> None:
    out = redact(text)
    assert isinstance(out, str)
    assert redact(out) == out
    assert not re.search(r"\d{11,}", out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The address must be found before the four digits can be seen as a code.
        ("验证码0000 0-0-000", "验证码[验证码] [详细地址]"),
        # The mobile goes first; what is left of the run is read again.
        ("0100 110 0000 13812345678", "[电话] [手机号]"),
        # The plate is only whole once the address after it is gone.
        ("渝AX110学03栋3组", "[车牌号][详细地址]"),
    ],
)
def test_what_one_replacement_reveals_is_redacted_too(text: str, expected: str) -> None:
    assert redact(text) == expected


# Digits in any form (circled, full-width, Chinese, 大写), letters, the
# characters of the words a name follows (联系人, 我叫, 住在, 地址…) and the
# bracket of placeholders (a name after [手机号] goes too).
NUMERALS = re.compile(
    r"[\d零〇一二三四五六七八九十百千两幺壹贰叁肆伍陆柒捌玖A-Za-zＡ-Ｚａ-ｚ叫住名人主是家址\[]"
)


def _without_numbers_letters_or_name_cues(text: str) -> str:
    return "".join(c for c in NUMERALS.sub("", text) if not c.isnumeric())


@settings(max_examples=200, deadline=None)
@given(st.text().map(_without_numbers_letters_or_name_cues))
def test_text_without_numbers_letters_or_names_is_never_touched(text: str) -> None:
    assert redact(text) == text


def random_text(length: int) -> str:
    rng = random.Random(0)
    return "".join(chr(rng.randrange(0x20000)) for _ in range(length))


@pytest.mark.parametrize(
    "text",
    [
        "1" * 65536,
        "123 " * 16384,
        ("人民路12号 13812345678 渝A12345 验证码1234 😀\x00\x1f\u200b" * 2000)[:65536],
        random_text(65536),
        "\ud800 lone surrogate 13812345678",
    ],
    ids=["digits", "groups", "mixed", "random-unicode", "surrogate"],
)
def test_large_and_odd_inputs(text: str) -> None:
    out = redact(text)
    assert redact(out) == out
    assert not re.search(r"\d{11,}", out)
