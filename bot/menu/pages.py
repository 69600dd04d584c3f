"""The numbered main menu and the topic pages behind it: one table, used by
the actions, the web chat page and the tests.

Options offered to a user are remembered as short strings ("menu:health",
"kb:<entry id>", "ask:<question>") in the ``pending_options`` slot, so a later "2" means the
second thing the bot just offered, and a bare number with nothing on offer
means the main menu.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.text.numerals import parse_option_number


@dataclass(frozen=True)
class MenuItem:
    number: int
    key: str
    label: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Topic:
    key: str
    intro: str
    # (the question as shown, the entry that answers it): a topic page is curated
    # content, so a number on it serves its entry, never a search that might miss.
    examples: tuple[tuple[str, str], ...]
    hotline: str = ""
    # A subscription the page offers as its last number ("订阅防骗提醒", bot/outreach).
    subscribe: str = ""


MAIN_MENU: tuple[MenuItem, ...] = (
    MenuItem(1, "phone", "手机使用", ("手机", "微信", "支付宝", "智能手机", "手机使用")),
    MenuItem(2, "health", "健康", ("健康", "身体", "看病", "养生")),
    MenuItem(3, "fraud", "防骗", ("防骗", "反诈", "防诈骗", "骗子", "诈骗")),
    MenuItem(
        4,
        "farming",
        "种植养殖",
        ("种植", "养殖", "种地", "种庄稼", "庄稼", "农业", "种植养殖", "养猪", "养鸡", "种菜"),
    ),
    MenuItem(5, "check_message", "查可疑短信", ("可疑短信", "查短信", "短信")),
    MenuItem(6, "report_rumor", "举报谣言", ("谣言", "辟谣", "举报")),
    MenuItem(7, "help", "找人帮忙", ("找人", "人工", "帮忙", "电话")),
)

TOPICS: dict[str, Topic] = {
    "phone": Topic(
        "phone",
        "手机使用：您可以直接问，也可以回复数字看常见问题：",
        (
            ("微信红包怎么收", "phone-wechat-hongbao"),
            ("手机字太小怎么调大", "phone-font-size"),
            ("医保电子凭证怎么用", "phone-yibao-activate"),
            ("骚扰电话怎么拦截", "phone-block-calls"),
        ),
    ),
    "health": Topic(
        "health",
        "健康：您可以直接问，也可以回复数字看常见问题：",
        (
            ("中风有什么表现", "health-stroke-120"),
            ("高血压平时要注意什么", "health-hypertension-lifestyle"),
            ("每天吃多少盐合适", "health-salt-limit"),
            ("野生菌能不能吃", "rumor-mushroom-test"),
        ),
        hotline="身体突然不舒服、晕倒、胸口痛，请马上拨打 120。",
    ),
    "fraud": Topic(
        "fraud",
        "防骗：您可以直接问，也可以回复数字看常见问题：",
        (
            ("什么是安全账户诈骗", "fraud-maochong-gongjianfa"),
            ("冒充公检法怎么识别", "fraud-maochong-gongjianfa"),
            ("被骗了怎么办", "fraud-beipian-zenme-ban"),
            ("验证码能不能告诉别人", "fraud-yanzhengma-bugei"),
        ),
        hotline="拿不准就打 96110 问；已经转了钱，马上打 110。",
        subscribe="订阅防骗提醒",
    ),
    "farming": Topic(
        "farming",
        "种植养殖：您可以直接问，也可以回复数字看常见问题：",
        (
            ("二化螟怎么防治", "farm-rice-stem-borer"),
            ("柚子树怎么修剪", "farm-citrus-pruning"),
            ("非洲猪瘟怎么防", "farm-pig-asf"),
            ("农药安全间隔期是什么", "farm-pesticide-safety-interval"),
        ),
        hotline="农业问题也可以打 12316 三农服务热线。",
        subscribe="订阅农事提醒",
    ),
}

MAIN_OPTIONS: list[str] = [f"menu:{item.key}" for item in MAIN_MENU]
# The "2 不是" of a yes/no offer ("您是想问『…』吗？回复 1 是，2 不是").
NOT_THIS = "none:"
# "report:<checked message>": send a checked message to the rumour queue.
REPORT_OFFER = "report:"
# "order:<service key or nothing>": book a volunteer (the order form).
ORDER_OFFER = "order:"
# "cancel:<D-number>" / "keep:": cancel one of the sender's orders, or not.
CANCEL_OFFER = "cancel:"
KEEP_ORDER = "keep:"
# "订阅:<command>": a topic page's subscription (carried out by action_understand).
SUBSCRIBE_OFFER = "订阅:"


def menu_text() -> str:
    """The main menu as the numbered lines a reply ends with."""
    lines = ["请回复数字选择："]
    lines += [f"{item.number} {item.label}" for item in MAIN_MENU]
    lines.append("也可以直接说出您的问题。")
    return "\n".join(lines)


# When the assistant cannot answer (a part of it is down or restarting): what to
# do if it is urgent, and the menu, which works again as soon as it is back.
BUSY_REPLY = (
    "不好意思，系统正忙，请过一会儿再发一次。着急的话：急病打 120，被骗打 110，"
    "咨询诈骗打 96110。\n" + menu_text()
)


def topic_page(key: str) -> tuple[str, list[str]]:
    """Text of a topic page and the options it offers."""
    topic = TOPICS[key]
    lines = [topic.intro]
    lines += [f"{i} {q}" for i, (q, _) in enumerate(topic.examples, start=1)]
    options = [f"kb:{entry_id}" for _, entry_id in topic.examples]
    if topic.subscribe:
        lines.append(f"{len(options) + 1} {topic.subscribe}（到时候提醒您，随时可退订）")
        options.append(SUBSCRIBE_OFFER + topic.subscribe)
    if topic.hotline:
        lines.append(topic.hotline)
    lines.append("回复“菜单”回到主菜单。")
    return "\n".join(lines), options


def item_by_key(key: str) -> MenuItem:
    return next(item for item in MAIN_MENU if item.key == key)


def match_menu_words(text: str) -> MenuItem | None:
    """A main-menu item named in a short reply ("健康", "我想问种庄稼的")."""
    best: tuple[int, MenuItem] | None = None
    for item in MAIN_MENU:
        for word in (item.label, *item.keywords):
            if word in text and (best is None or len(word) > best[0]):
                best = (len(word), item)
    return best[1] if best else None


def resolve_choice(text: str, pending: list[str] | None) -> str | None:
    """Turn a reply into the option it picks, or None if it picks nothing.

    A number picks from what is on offer (``pending``), else from the main
    menu; words pick a main-menu item.
    """
    number = parse_option_number(text)
    options = pending or MAIN_OPTIONS
    if number is not None:
        if 1 <= number <= len(options):
            return options[number - 1]
        return None
    item = match_menu_words(text)
    return f"menu:{item.key}" if item else None


def option_label(option: str) -> str:
    """How a numbered-reply option (``menu:health``, an offer, ...) reads in a list."""
    kind, _, value = option.partition(":")
    if kind == "menu":
        return item_by_key(value).label
    if option == NOT_THIS:
        return "不是"
    if kind == REPORT_OFFER[:-1]:
        return "交给辟谣平台核实"
    if kind == ORDER_OFFER[:-1]:
        return "预约志愿者上门"
    if kind == CANCEL_OFFER[:-1]:
        return f"取消预约 {value}"
    if option == KEEP_ORDER:
        return "不取消"
    return value
