"""Signatures and WXBizMsgCrypt against WeChat's published sample vectors.

Sources (each vector below was checked to decrypt and verify before use):

- OFFICIAL: Tencent's WXBizMsgCrypt sample (Sample.cs / Sample.py of the
  official message-encryption SDK; token "QDG6eK", id "wx5823bf96d3bd56c7",
  EncodingAESKey "jWmYm7qr…B2C", timestamp 1409659813, nonce 1372623149,
  msg_signature 477715d1…f3e6), as copied in github.com/2830499544/VipCard
  Chain.Wechat/Tencent/Sample.cs; WeCom's "加解密方案说明" page uses the same
  sample. Its URL-verification echo (msg_signature 5c45ff5e…, timestamp
  1409659589, nonce 263014780 → "1616140317555161061") is from the same SDK's
  VerifyURL sample.
- OFFICIAL_ACCOUNT: the Official Account SDK's Python sample (token
  "spamtest", AppID "wx2c2769f8efd9abc2", msg_signature 5d197aaf…), as
  reproduced in github.com/fotock/WXbizMsgCrypt-Node README.md.
- WECHATPY: wechatpy's tests/test_crypto.py (github.com/wechatpy/wechatpy):
  a WeCom message and a known-answer encryption with the random prefix fixed
  to "1234567890123456".
"""

from __future__ import annotations

import pytest

from bot.wechat.crypto import (
    MessageCrypto,
    check_signature,
    check_timestamp,
    pkcs7_pad,
    pkcs7_unpad,
    sha1_signature,
)
from bot.wechat.errors import BadSignature, Malformed, StaleRequest
from bot.wechat.messages import parse_xml

OFFICIAL_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3Q"
    "czcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs"
    "8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG"
    "4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+r"
    "UPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lX"
    "dQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)
OFFICIAL_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
OFFICIAL_ECHO = (
    "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
)
ACCOUNT_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x"
    "6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T"
    "332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciV"
    "GCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6"
    "OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
WECHATPY_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
WECHATPY_CORP = "wx49f0ab532d5d035a"
WECHATPY_REPLY = (
    "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
    "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n"
    "<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n"
    "<CreateTime>1411525903</CreateTime>\n</xml>"
)
WECHATPY_REPLY_ENCRYPT = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNc"
    "BqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5w"
    "Y0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muX"
    "sVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFx"
    "tAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
)


def test_official_sample_message_verifies_and_decrypts() -> None:
    crypto = MessageCrypto("QDG6eK", OFFICIAL_KEY, "wx5823bf96d3bd56c7")
    crypto.verify(
        "477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149", OFFICIAL_ENCRYPT
    )
    fields = parse_xml(crypto.decrypt(OFFICIAL_ENCRYPT))
    assert fields["Content"] == "hello"
    assert fields["FromUserName"] == "mycreate" and fields["MsgId"] == "4561255354251345929"


def test_official_sample_url_verification_echo() -> None:
    crypto = MessageCrypto("QDG6eK", OFFICIAL_KEY, "wx5823bf96d3bd56c7")
    crypto.verify(
        "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780", OFFICIAL_ECHO
    )
    assert crypto.decrypt(OFFICIAL_ECHO) == b"1616140317555161061"


def test_official_account_sample_decrypts() -> None:
    crypto = MessageCrypto(
        "spamtest", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx2c2769f8efd9abc2"
    )
    crypto.verify(
        "5d197aaffba7e9b25a30732f161a50dee96bd5fa", "1409735669", "1320562132", ACCOUNT_ENCRYPT
    )
    fields = parse_xml(crypto.decrypt(ACCOUNT_ENCRYPT))
    assert fields["Content"] == "abcdteT" and fields["MsgId"] == "6054768590064713728"


def test_known_answer_encryption_and_reply_signature() -> None:
    crypto = MessageCrypto("123456", WECHATPY_KEY, WECHATPY_CORP)
    encrypted = crypto.encrypt(WECHATPY_REPLY.encode(), random_prefix=b"1234567890123456")
    assert encrypted == WECHATPY_REPLY_ENCRYPT
    reply = crypto.signed_reply(encrypted, "1411525903", "461056294")
    assert reply["MsgSignature"] == "407518b7649e86ef23978113f92d27afa9296533"
    assert crypto.decrypt(encrypted) == WECHATPY_REPLY.encode()


def test_a_message_for_another_appid_is_refused() -> None:
    other = MessageCrypto("QDG6eK", OFFICIAL_KEY, "wx0000000000000000")
    with pytest.raises(BadSignature):
        other.decrypt(OFFICIAL_ENCRYPT)


@pytest.mark.parametrize(
    "signature",
    [
        "477715d11cdb4164915debcba66cb864d751f3e7",  # one digit off
        "",
        None,
        "477715d11cdb4164915debcba66cb864d751f3e6" + "00",
    ],
)
def test_a_wrong_msg_signature_is_refused(signature: str | None) -> None:
    crypto = MessageCrypto("QDG6eK", OFFICIAL_KEY, "wx5823bf96d3bd56c7")
    with pytest.raises(BadSignature):
        crypto.verify(signature, "1409659813", "1372623149", OFFICIAL_ENCRYPT)


def test_tampered_or_truncated_ciphertext_is_malformed_not_a_crash() -> None:
    crypto = MessageCrypto("QDG6eK", OFFICIAL_KEY, "wx5823bf96d3bd56c7")
    for bad in ("not base64!!", OFFICIAL_ENCRYPT[:-8] + "AAAAAAA=", "QUJD", ""):
        with pytest.raises((Malformed, BadSignature)):
            crypto.decrypt(bad)


def test_signature_is_sha1_of_sorted_parts() -> None:
    assert sha1_signature("b", "a", "c") == sha1_signature("a", "b", "c")
    check_signature(sha1_signature("tok", "1", "2"), "tok", "2", "1")
    with pytest.raises(BadSignature):
        check_signature(sha1_signature("tok", "1", "2"), "other", "1", "2")


def test_timestamp_window() -> None:
    assert check_timestamp("1000", window=300, now=1200) == 1000
    for stale in ("600", "1600", "", None, "12a", "9" * 20):
        with pytest.raises(StaleRequest):
            check_timestamp(stale, window=300, now=1200)


def test_pkcs7_pads_to_32_bytes_and_checks_the_padding() -> None:
    for size in (0, 1, 31, 32, 33):
        padded = pkcs7_pad(b"x" * size)
        assert len(padded) % 32 == 0 and pkcs7_unpad(padded) == b"x" * size
    with pytest.raises(Malformed):
        pkcs7_unpad(b"x" * 31 + b"\x21")
    with pytest.raises(Malformed):
        pkcs7_unpad(b"x" * 30 + b"\x01\x02")


def test_an_encoding_aes_key_of_the_wrong_shape_is_refused() -> None:
    for key in ("short", OFFICIAL_KEY + "A", "!" * 43):
        with pytest.raises(ValueError):
            MessageCrypto("t", key, "wx")
