import pytest

from bot.text.redact import redact


@pytest.mark.parametrize(
    "text, secret, placeholder",
    [
        ("我电话13812345678你记一下", "13812345678", "[手机号]"),
        ("打 +86 138 1234 5678", "138 1234 5678", "[手机号]"),
        ("身份证51023019800101123X", "51023019800101123X", "[身份证号]"),
        ("卡号6222 0212 3456 7890 123", "6222 0212 3456 7890 123", "[银行卡号]"),
        ("验证码是 123456 别告诉别人", "123456", "[验证码]"),
        ("座机023-12345678", "023-12345678", "[电话]"),
    ],
)
def test_personal_numbers_are_replaced(text: str, secret: str, placeholder: str) -> None:
    out = redact(text)
    assert secret not in out
    assert placeholder in out


def test_hotlines_and_ordinary_numbers_survive() -> None:
    text = "打96110或者110，120急救，12316问农技，每天5克盐，2022年"
    assert redact(text) == text
