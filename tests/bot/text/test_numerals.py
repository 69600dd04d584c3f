import pytest

from bot.text.numerals import parse_option_number


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1", 1),
        ("７", 7),
        ("第二个", 2),
        ("三", 3),
        ("选3", 3),
        ("我选第四个", 4),
        ("4号", 4),
        ("第六项", 6),
        ("就第一个嘛", 1),
        ("2吧", 2),
        ("七", 7),
        (" 5 。", 5),
        ("十一", 11),
        ("第十二个", 12),
        ("两", 2),
    ],
)
def test_reads_the_option_in_a_short_reply(text: str, expected: int) -> None:
    assert parse_option_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "三高怎么办",
        "二化螟咋个防",
        "你好",
        "",
        "0",
        "123456",
        "第",
        "一百二十三个人",
        "12316",
    ],
)
def test_sentences_and_long_numbers_are_not_choices(text: str) -> None:
    assert parse_option_number(text) is None
