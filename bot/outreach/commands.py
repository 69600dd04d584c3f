"""What a subscription command asks for: "订阅防骗提醒", "订阅农事提醒 水稻", "每月流言榜",
"我的订阅", "退订" (everything) and "退订防骗提醒" (one kind).

Commands are recognised by their words, without the NLU model (no retraining):
a command is short and says little besides its verb and what it names, so a
pasted text message that ends "回复TD退订" or a question such as "退订会员怎么
退" is not one. Dialect and spoken variants: "莫发了", "我订了啥子", "帮我订一下
水稻的", "不要再给我发了".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text.normalize import canonical

FRAUD, FARM, DIGEST = "fraud", "farm", "digest"
KIND_NAMES = {FRAUD: "防骗提醒", FARM: "农事提醒", DIGEST: "每月流言榜"}
# crop key -> what users are shown; the key is what subscriptions and alerts store.
CROPS = {
    "水稻": "水稻",
    "柑橘": "柚子/柑橘",
    "生猪": "生猪",
    "蔬菜": "蔬菜",
    "家禽": "家禽（鸡鸭鹅）",
    "玉米": "玉米",
}
CROP_WORDS = {
    "水稻": ("水稻", "稻谷", "稻子", "谷子", "秧苗", "秧子", "稻田", "种稻"),
    "柑橘": ("柚子", "柚", "柑橘", "柑子", "橘子", "桔子", "柑", "橙子", "脐橙", "柠檬"),
    "生猪": ("生猪", "猪", "养猪", "母猪", "仔猪"),
    "蔬菜": ("蔬菜", "小菜", "种菜", "青菜", "辣椒", "番茄", "白菜", "菜地", "大棚"),
    "家禽": ("家禽", "鸡", "鸭", "鹅"),
    "玉米": ("玉米", "包谷", "苞谷", "苞米"),
}
KIND_WORDS = {
    FRAUD: ("防骗", "反诈", "防诈", "诈骗", "骗子", "骗局", "防止被骗"),
    FARM: ("农事", "农业", "农技", "种植", "种地", "农活", "庄稼", "农时", "养殖"),
    DIGEST: ("流言榜", "谣言榜", "辟谣榜", "流言", "谣言", "辟谣"),
}
# Words a command may carry besides its verb and what it names.
_NOISE = re.compile(
    r"[\s,，。.!！?？~～、:：;；…\-/]+|请|麻烦|帮我|帮忙|给我|我要|我想|我也|想要|要|想|一下|"
    r"一个|个|的|吧|嘛|噻|呀|啊|哈|哦|喔|嗯|呢|了|你们|你|以后|每个月|每月|定期|"
    r"提醒我|提醒|消息|信息|推送|服务|功能|通知"
)
_SUBSCRIBE = re.compile(r"(订阅|订|开通|关注|开启|打开|发给我|给我发|推给我|我要收)")
_UNSUBSCRIBE = re.compile(
    r"(退订|取消订阅|不订阅|不订|取消|关掉|关闭|停掉|停止|停|不要再发|不要发|别再发|别发|莫再发|莫发|"
    r"不再发|不用发|不要再|别再|不要|莫要|不想收|不收|不用)"
)
_MY_SUBSCRIPTIONS = re.compile(
    r"^(查看?|看看?|查一下)?(我的订阅|我订了什么|我订了哪些|我订阅了什么|我订阅了哪些|订了什么|"
    r"订阅了什么|订阅了哪些|我都订了什么|订阅列表|我的提醒)[?？吗呢啊]*$"
)
_BARE_UNSUBSCRIBE = re.compile(
    r"^(我要|请|帮我)?(退订|td|TD|取消订阅|全部退订|退订全部|退订所有|都退订|全部取消订阅|"
    r"不要再发了?|别再发了?|别发了|莫发了|莫再发了?|不要发了|不再发了?|不要提醒了|别提醒了|"
    r"莫提醒了|不用提醒了|不要推送了?|别推送了?|取消所有提醒|取消全部提醒|关掉提醒|关闭提醒|"
    r"不要再给我发了?|别再给我发了?|莫给我发了|不要给我发了|停止推送|停止提醒)[。.!！]*$"
)
# Verbs that stop something only when what they stop is a message ("不要发防骗的了"),
# not "不要信谣言" or "莫喂猪".
_STRONG_UNSUBSCRIBE = ("退订", "取消订阅", "不订阅", "不订", "取消", "关掉", "关闭", "停掉", "停止")
_ABOUT_MESSAGES = re.compile(r"提醒|推送|消息|信息|订阅|发|榜")
MAX_COMMAND_CHARS = 20  # a command is short; anything longer is a question or a paste


@dataclass(frozen=True)
class Command:
    """What a subscription command asks for, as recognised in a person's message."""

    action: str  # subscribe | unsubscribe | list
    kind: str | None = None  # None with unsubscribe: everything
    crop: str | None = None  # farm only; None: not said (asked for)


def crop_of(text: str) -> str | None:
    """The crop a text names, by its longest word (柚子 before 柚)."""
    best: tuple[int, str] | None = None
    for crop, words in CROP_WORDS.items():
        for word in words:
            if word in text and (best is None or len(word) > best[0]):
                best = (len(word), crop)
    return best[1] if best else None


def _kind_of(rest: str) -> tuple[str | None, str | None, str]:
    """The kind (and crop) ``rest`` names, and what is left of it unexplained."""
    kind = None
    for name, words in KIND_WORDS.items():
        for word in sorted(words, key=len, reverse=True):
            if word in rest:
                kind = kind or name
                rest = rest.replace(word, "")
    crop = crop_of(rest)
    if crop is not None:
        kind = kind or FARM
        for word in sorted(CROP_WORDS[crop], key=len, reverse=True):
            rest = rest.replace(word, "")
    if kind != FARM:
        crop = None
    return kind, crop, rest


def parse(text: str) -> Command | None:
    """The subscription command ``text`` is, or None."""
    text = canonical(text)
    if not text or len(text) > MAX_COMMAND_CHARS or re.search(r"https?:|www\.|\d{5,}", text):
        return None
    if _MY_SUBSCRIPTIONS.match(text.replace(" ", "")):
        return Command("list")
    if _BARE_UNSUBSCRIBE.match(text.replace(" ", "")):
        return Command("unsubscribe")
    unsubscribe = _UNSUBSCRIBE.search(text)
    subscribe = _SUBSCRIBE.search(text)
    if unsubscribe and (not subscribe or unsubscribe.start() <= subscribe.start()):
        if unsubscribe.group(1) not in _STRONG_UNSUBSCRIBE and not _ABOUT_MESSAGES.search(text):
            return None
        rest = text[: unsubscribe.start()] + text[unsubscribe.end() :]
        rest = _SUBSCRIBE.sub("", rest, count=1)
        kind, crop, left = _kind_of(rest)
        left = _NOISE.sub("", left)
        if kind is None:
            # "取消订阅" said with nothing else: everything; "取消" alone is not ours.
            everything = unsubscribe.group(1) in ("退订", "取消订阅", "不订阅")
            if everything and left in ("", "全部", "所有", "都"):
                return Command("unsubscribe")
            return None
        return Command("unsubscribe", kind, crop) if left in ("", "全部", "所有") else None
    rest = text if subscribe is None else text[: subscribe.start()] + text[subscribe.end() :]
    kind, crop, left = _kind_of(rest)
    left = _NOISE.sub("", left)
    if kind is None or left:
        return None
    if subscribe is None and (kind != DIGEST or "榜" not in text):
        return None  # "防骗提醒" or "谣言" alone may be a question: search answers it
    return Command("subscribe", kind, crop if kind == FARM else None)


def describe(kind: str, crop: str = "") -> str:
    """How a subscription is named to its owner: "防骗提醒", "农事提醒（水稻）"."""
    name = KIND_NAMES.get(kind, kind)
    return f"{name}（{CROPS.get(crop, crop)}）" if crop else name
