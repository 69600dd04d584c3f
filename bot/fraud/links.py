"""Links and phone numbers in a message, judged by the tables in ``bot.fraud.signals``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.fraud.signals import (
    LINK_SIGNALS,
    NUMBER_SIGNALS,
    OFFICIAL_DOMAINS,
    OFFICIAL_NUMBERS,
    OFFICIAL_SHORTENERS,
    PUBLIC_NUMBERS,
    RISKY_TLDS,
    SHORTENERS,
    Signal,
)

# A scheme or www. in front, or a host that ends in a letters-only top-level
# domain; hosts may be dotted numbers (IPv4, sometimes masked as 47.96.x.x).
_URL = re.compile(
    r"(?:https?://|www\.)[^\s\u3000-\u303f\uff00-\uffef\u4e00-\u9fff<>\"']+"
    r"|(?<![a-z0-9.@_-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,10}"
    r"(?:/[a-z0-9_\-./?=&%#]*)?(?![a-z0-9@_-])",
    re.IGNORECASE,
)
_IPV4 = re.compile(r"^(?:(?:\d{1,3}|x{1,3})\.){3}(?:\d{1,3}|x{1,3})$", re.IGNORECASE)
# Things that look like hosts but are not links in our messages.
_NOT_HOSTS = re.compile(r"^(?:\d+\.)+\d+$|^[a-z]\.[a-z]$", re.IGNORECASE)
_KNOWN_TLDS = frozenset(
    "com cn net org gov edu info io me top xyz cc icu vip club work buzz loan click link wang "
    "site online live ltd ren fun shop store bid win kim tk ml ga cf gq ly gd gl in co hk tw "
    "date nu ai app mobi biz asia tv".split()
)


@dataclass(frozen=True)
class Link:
    text: str
    host: str
    signal: Signal


def _host(url: str) -> str:
    host = re.sub(r"^(?:https?://)?", "", url, flags=re.IGNORECASE)
    host = re.split(r"[/?#:]", host, maxsplit=1)[0].lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def judge(host: str, url: str = "") -> Signal:
    """The one link signal that fits ``host`` (and the path of ``url``) best."""
    if _IPV4.match(host):
        return LINK_SIGNALS["ip_link"]
    if "xn--" in host:
        return LINK_SIGNALS["punycode_domain"]
    official = any(_under(host, d) for domains in OFFICIAL_DOMAINS.values() for d in domains)
    if re.search(r"\.apk(?:$|[?#])", url, re.IGNORECASE) and not official:
        return LINK_SIGNALS["apk_link"]
    if host in SHORTENERS and host not in OFFICIAL_SHORTENERS:
        return LINK_SIGNALS["short_link"]
    if official:
        return LINK_SIGNALS["official_link"]
    labels = re.split(r"[.\-]", host)
    for name in OFFICIAL_DOMAINS:
        if name in labels or (len(name) >= 5 and name in host):
            return LINK_SIGNALS["lookalike_domain"]
    if host.rsplit(".", 1)[-1] in RISKY_TLDS:
        return LINK_SIGNALS["risky_tld"]
    return LINK_SIGNALS["unknown_link"]


def find_links(text: str) -> list[Link]:
    """The links in ``text`` with a known top-level domain (or an IPv4 host), each judged."""
    links = []
    for match in _URL.finditer(text):
        url = match.group().rstrip(".,;:!?)）")
        host = _host(url)
        if not host or _NOT_HOSTS.match(host) and not _IPV4.match(host):
            continue
        tld = host.rsplit(".", 1)[-1]
        if not _IPV4.match(host) and tld not in _KNOWN_TLDS:
            continue
        links.append(Link(url, host, judge(host, url)))
    return links


# A service number given as someone's hotline: 95xxx, 96xxx, 400-xxx-xxxx or a
# mobile, just after words that offer it.
_HOTLINE = re.compile(
    r"(?:电话|热线|客服|致电|拨打|回电|联系|咨询|专线|号码|来电)[^。!?;,\n\d]{0,6}"
    r"(95\d{3,6}|96\d{3,4}|400(?:[\s-]?\d){7})(?!\d)"
    r"|(?:客服|热线|官方|专线|服务)[^。!?;,\n\d]{0,6}(1[3-9]\d[\s-]?\d{4}[\s-]?\d{4})(?!\d)"
)
_NAMES = [(re.compile(names), numbers) for names, numbers in OFFICIAL_NUMBERS.items()]


@dataclass(frozen=True)
class Number:
    text: str
    signal: Signal


def find_numbers(text: str) -> list[Number]:
    """Foreign, virtual and not-the-institution's numbers in ``text``."""
    found = [
        Number(m.group(), signal)
        for signal in (NUMBER_SIGNALS["foreign_number"], NUMBER_SIGNALS["virtual_number"])
        if (m := signal.pattern.search(text))
    ]
    named = [numbers for names, numbers in _NAMES if names.search(text)]
    if named:
        official = frozenset().union(*named)
        for m in _HOTLINE.finditer(text):
            given = m.group(1) or m.group(2)
            number = re.sub(r"[\s-]", "", given)
            if number in official or number in PUBLIC_NUMBERS:
                continue
            if number.startswith("96") and re.search(r"农商|信用社|农信|农村商业", text):
                continue  # each rural bank has its own 96xxx number
            found.append(Number(given, NUMBER_SIGNALS["unofficial_number"]))
            break
    return found
