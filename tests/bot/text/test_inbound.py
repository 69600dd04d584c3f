from bot.text.inbound import clean_inbound


def test_leading_slash_can_never_become_an_intent() -> None:
    for raw in ("/greet", "  /restart", '//handoff{"x": 1}', "\x00/greet"):
        text = clean_inbound(raw, 1000).text
        assert not text.startswith("/"), raw
        assert text.startswith("／")


def test_slash_inside_text_is_kept() -> None:
    assert clean_inbound("网址是 http://a.example/b", 1000).text == "网址是 http://a.example/b"


def test_empty_whitespace_and_non_text_are_empty() -> None:
    for raw in ("", "   \n\t", None, 42, ["x"], {"a": 1}):
        assert clean_inbound(raw, 1000).empty


def test_control_characters_are_removed_but_newlines_kept() -> None:
    assert clean_inbound("你\x07好\n吗\x1b", 1000).text == "你好\n吗"


def test_too_long_is_flagged_not_cut() -> None:
    inbound = clean_inbound("字" * 1001, 1000)
    assert inbound.too_long and len(inbound.text) == 1001
    assert not clean_inbound("字" * 1000, 1000).too_long


def test_lone_surrogates_never_get_further() -> None:
    inbound = clean_inbound("喝\udfc4醋\ud83d", 100)
    assert inbound.text == "喝醋"
    inbound.text.encode("utf-8")  # storable and sendable
