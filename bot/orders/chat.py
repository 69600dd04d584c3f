"""The resident's side of service orders in the chat: what a message asks for,
what a reply to a question of the order form means, and what is said back.

Pure functions (cues, reading replies, the texts) are used by the NLU move gate
(``bot/nlu/moves.py``) and the actions (``actions/orders.py``); the few async
helpers here read or write the order tables for them.

Everything the resident reads is short, plain Chinese with numbered options.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select

from bot.accounts.audit import record
from bot.accounts.errors import InvalidInput
from bot.handoff.hotlines import hotlines_for, is_emergency, is_urgent
from bot.orders import catalogue
from bot.orders.service import PUBLIC_ID, latest_orders, normalize_phone
from bot.orders.states import TERMINAL
from bot.storage.db import Database, sender_hash
from bot.storage.models import (
    HandledMark,
    HandoffRequest,
    OrderRating,
    ServiceOrder,
    Volunteer,
    aware,
    utcnow,
)
from bot.text.numerals import parse_option_number

# ---------------------------------------------------------------------------
# What a message asks for (read by the NLU move gate, on canonical text)

# Booking a volunteer outright: "预约志愿者", "想请人上门教我用手机", "上门服务".
ORDER_REQUEST = re.compile(
    r"(预约|约|找|请|派|喊|叫|要|来)(一?个|一?位|一?名|几个)?志愿者"
    r"|志愿者[^，,。？?！!]{0,6}(上门|来我|到我|来家|来帮|来教)"
    r"|预约[^，,。？?！!]{0,3}上门|上门服务|请(一?个|一?位)?人(来)?上门|派(一?个|一?位)?人(来|上门)"
    r"|^(我要|我想|我想要)?(点单|预约(一下)?)$"
    r"|来(一?个|一?位)人[^，,。？?！!]{0,3}(帮|教|陪)"
)
# "预约" of ours, not a hospital's or a vaccine's ("我的预约挂号怎么取消" is a question).
OURS = r"预约(?!挂号|疫苗|体检|门诊|专家|医生|看病|就诊|的号)"
# Looking up one's orders: "我的预约", "我的订单", "预约的怎么样了", a D- number.
MY_ORDERS = re.compile(
    rf"我的({OURS}|订单|服务单)|(查|看|查看|查下|查一下|看看)(我的)?({OURS}|订单)"
    rf"|({OURS}|约|订)的[^，,。？?！!]{{0,4}}"
    r"(怎么样|咋样|如何|有没有消息|有消息|有人接|进展|情况|什么时候来|啥时候来)"
    rf"|({OURS}|订单)(怎么样|咋样|如何|有消息|有人接|有进展|进展|有没有消息)"
    r"|约的(人|志愿者)[^，,。？?！!]{0,4}(什么时候|啥时候|几时|哪天)"
    r"|D-[A-Z2-7]{8}"
)
# Cancelling one: "取消预约", "预约不要了", "取消 D-ABCD2345".
CANCEL_ORDER = re.compile(
    rf"(取消|退掉|撤销|撤回|不要)(我的|那个|这个|一下)?({OURS}|订单|服务单)"
    rf"|({OURS}|订单)(不要了|取消|不约了|退掉)|不预约了|取消\s*D-[A-Z2-7]{{8}}"
)
# Asking someone to come to the home (a hand-off that goes straight to booking).
VISIT = re.compile(
    r"上门|到我(家|屋)(里|头)?来|到我(这里|这儿|这边)来|来我(家|屋)"
    r"|(来|派|喊|叫|请|找)(一?个|一?位)人(来)?[^，,。？?！!]{0,3}(帮|教|弄|看|修)"
    r"|(派|喊|叫|请)人(来)?[^，,。？?！!]{0,3}(帮|教|弄|看|修)"
    r"|(请|喊|叫|派)(一?个|一?位)?[^，,。？?！!人]{1,4}(员|医生|师傅)来"
    r"|志愿者"
)
# "取消", "算了", "不要了", "不约了": leaving the order form.
CANCEL_WORDS = re.compile(
    r"^(我|那|那就|还是)?(取消|算了|不要|不用|不约|不预约|不需要|退出|不弄|不想约|不搞|不整)"
    r"(预约|了|吧|啦|哦|嘛|算了|了吧)*$"
)
# "拜拜" while asked when it suits: leaving, not a time.
GOODBYE = re.compile(r"拜拜|再见|晚安|不聊了|不摆了|不说了|走了")
_STRIP = re.compile(r"[\s\.,，。!！?？、~～:：;；\"'“”‘’()（）]+")


def is_cancel(text: str) -> bool:
    """Whether the whole reply (punctuation aside) is a cancel word (“算了”, “不要了”...)."""
    cleaned = _STRIP.sub("", unicodedata.normalize("NFKC", text or ""))
    return bool(cleaned) and bool(CANCEL_WORDS.fullmatch(cleaned))


def is_goodbye(text: str) -> bool:
    """ "拜拜" and the like, short: the resident is leaving."""
    cleaned = _STRIP.sub("", text or "")
    return bool(GOODBYE.search(cleaned)) and len(cleaned) <= 8


def asks_to_order(text: str) -> bool:
    return bool(ORDER_REQUEST.search(text or ""))


def asks_my_orders(text: str) -> bool:
    return bool(MY_ORDERS.search((text or "").upper()))


def asks_to_cancel(text: str) -> bool:
    return bool(CANCEL_ORDER.search((text or "").upper()))


def order_number(text: str) -> str | None:
    """The first order number (``D-XXXXXXXX``) in ``text``, upper-cased."""
    found = PUBLIC_ID.search((text or "").upper())
    return found.group(0) if found else None


@dataclass(frozen=True)
class Offer:
    """What a request for a person is offered besides the hotline."""

    service: str | None  # a catalogue key the request names, if any
    visit: bool  # asks someone to come: booking starts at once


def volunteer_offer(text: str) -> Offer | None:
    """A volunteer for a request for a person, unless it is urgent: an emergency,
    or one that 110 or 120 answers first ("我要报警"), gets the hotline only."""
    if is_emergency(text):
        return None
    matched = hotlines_for(text)
    if matched and matched[0].number in ("120", "110"):
        return None
    return Offer(service_named(text), bool(VISIT.search(text) or ORDER_REQUEST.search(text)))


# ---------------------------------------------------------------------------
# Reading the replies to the form's questions


def service_named(text: str) -> str | None:
    """The catalogue key a sentence names in words ("教我用手机" → phone_help); a
    bare number is no service here (it answers whatever was asked before)."""
    if not text or parse_option_number(text) is not None:
        return None
    found = catalogue.match_service(text)
    return found.key if found and found.key != "other" else None


def read_service(reply: str) -> str | None:
    """A reply to "要哪种帮助": a number of the list, a label or words, or a key."""
    reply = (reply or "").strip()
    if catalogue.service(reply) is not None:
        return reply
    found = catalogue.match_service(reply)
    return found.key if found else None


def town_named(text: str) -> str | None:
    """A town named in full in a longer sentence ("我是礼让镇的"), for pre-filling."""
    names = [p.name for p in catalogue.places() if p.name in (text or "")]
    return names[0] if len(names) == 1 else None


def read_town(reply: str, choices: Sequence[str] = ()) -> tuple[str | None, list[str]]:
    """A reply to "哪个镇或街道": the town, or None and the candidates it could be
    (several: ask which; none: ask again). A number picks from ``choices``."""
    reply = (reply or "").strip()
    if catalogue.place(reply) is not None:
        return reply, []
    number = parse_option_number(reply)
    if choices and number is not None:
        return (choices[number - 1], []) if 1 <= number <= len(choices) else (None, list(choices))
    found = catalogue.match_town(reply)
    if len(found) == 1:
        return found[0].name, []
    return None, [p.name for p in found]


def _clean(reply: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", reply or "")).strip(" ，,。.")


def read_village(reply: str, town: str | None = None) -> str | None:
    """The 村/社区 in the resident's own words (the town, if repeated, dropped)."""
    text = _clean(reply)
    if town:
        place = catalogue.place(town)
        for name in (town, place.short if place else ""):
            if name and text.startswith(name):
                text = text[len(name) :].lstrip(" ，,的")
    if not text or not any(ch.isalnum() for ch in text) or len(text) > 40:
        return None
    return text


def read_time(reply: str) -> str | None:
    """When it is convenient, as said ("明天上午", "随便哪天下午都行")."""
    text = _clean(reply)
    if is_goodbye(text):
        return None
    if not text or not any(ch.isalnum() for ch in text) or len(text) > 60:
        return None
    return text


def read_phone(reply: str) -> str | None:
    """An 11-digit mobile or a landline, as digits; None if it is neither."""
    try:
        return normalize_phone(reply)
    except InvalidInput:
        return None


def phone_tail(phone: str) -> str:
    return phone[-4:]


# A reply to the rating question: "5", "5分", "五星", "4 来得有点晚", "打3分，态度一般".
_SCORE = r"([1-5]|[一二三四五])"
RATING = re.compile(
    rf"^(?:打|给|评)?(?:个)?{_SCORE}(?:(?:分(?!钟)|星|颗星)[\s，,。.、!！:：]*|[\s，,。.、!！:：]+|$)(.*)$",
    re.S,
)
# A comment that sounds like one on a service (the move gate reads "4 来晚了" as a
# reply to the rating question only with such a word, or with 分/星).
EVALUATIVE = re.compile(
    r"好|不错|满意|耐心|热情|细心|认真|谢谢|感谢|专业|清楚|周到|可以|还行|一般|凑合"
    r"|差|慢|晚|迟|不够|不行|没来|态度|听不懂|没教会|没弄好|太快|太急"
)
_CN_SCORE = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


def read_rating(reply: str) -> tuple[int, str] | None:
    """(score 1-5, comment) from a reply to the rating question, else None."""
    text = unicodedata.normalize("NFKC", reply or "").strip()
    found = RATING.match(text)
    if not found:
        return None
    digit, comment = found.group(1), found.group(2).strip(" ，,。.、!！:：")
    score = _CN_SCORE.get(digit) or int(digit)
    return score, comment[:500]


def sounds_like_rating(text: str) -> bool:
    """A reply the move gate should treat as a numbered choice: a score with 分/星,
    or a score and a short comment on the service ("4 来得有点晚")."""
    found = read_rating(text)
    if found is None:
        return False
    _, comment = found
    marked = bool(re.match(rf"^(?:打|给|评)?(?:个)?{_SCORE}(分(?!钟)|星|颗星)", text.strip()))
    return marked or (0 < len(comment) <= 30 and bool(EVALUATIVE.search(comment)))


# ---------------------------------------------------------------------------
# What is said


def contact_within(hours: int) -> str:
    """ "我们会在 X 内联系您": X from the service's ``contact_hours`` (services.yml)."""
    if hours % 24 == 0 and hours >= 48:
        return f"{hours // 24} 天"
    return f"{hours} 小时"


# hand_off (actions/render.py): what a request for a person is offered.
VOLUNTEER_OFFER_LINE = "想请志愿者上门帮忙，回复 1。"
VISIT_HOTLINE_LINE = "急事请直接打 120（急救）或 110（报警）。"
SERVICE_QUESTION = "要哪种帮助？回复数字：\n{menu}"
TOWN_QUESTION = "您住在哪个镇或街道？比如“礼让镇”“梁山街道”。"
TOWN_AGAIN = "请再说一遍镇或街道的名字，打字、说话都行，比如“礼让镇”。"
LEAVE_HINT = "不约了，随时回复“取消”。"
STOPPED = "好的，不约了。以后需要，回复“预约志愿者”就行。"
NOT_SAVED = "抱歉，系统出了点问题，预约没有成功。请过几分钟再说一次“预约志愿者”，或者打 12345。"


def service_question() -> str:
    return SERVICE_QUESTION.format(menu=catalogue.services_menu())


def town_question(tries: int, choices: Sequence[str]) -> str:
    """Which town: the numbered ``choices``, else asked again (with the list after two tries)."""
    if choices:
        lines = ["您说的是哪一个？回复数字："]
        lines += [f"{i} {name}" for i, name in enumerate(choices, start=1)]
        return "\n".join(lines)
    if tries <= 0:
        return TOWN_QUESTION
    if tries == 1:
        return TOWN_AGAIN
    names = "、".join(p.name for p in catalogue.places())
    return f"{TOWN_AGAIN}\n{catalogue.district()}的镇街有：{names}。"


def start_text(service: str | None) -> str:
    what = f"：{catalogue.service_label(service)}" if service else ""
    return f"好的，帮您预约志愿者{what}。问您几句话，{LEAVE_HINT}"


def receipt_text(
    public_id: str, hours: int, service: str, town: str, village: str, when: str, phone: str
) -> str:
    label = catalogue.service_label(service)
    return (
        f"预约好了！编号 {public_id}\n"
        f"{label}，{town}{village}，{when}，电话尾号 {phone_tail(phone)}。\n"
        f"我们会在 {contact_within(hours)}内联系您。有志愿者接单，会告诉您他的名字和上门核验码。\n"
        "想看预约，回复“我的预约”。"
    )


def state_words(
    state: str, volunteer: Volunteer | None, code: str | None, reason: str | None
) -> str:
    """Where an order stands, as a resident would say it."""
    if state == "review":
        return "已收到，工作人员正在审核"
    if state == "open":
        return "正在找志愿者"
    if state == "assigned":
        return "已经派给志愿者，等他确认"
    if state in ("accepted", "in_service") and volunteer is not None:
        who = f"志愿者 {volunteer.name}（编号 {volunteer.code}）"
        check = f"，上门核验码 {code}，对上了再开门" if code else ""
        return f"{who}已接单{check}" if state == "accepted" else f"{who}正在服务"
    if state == "done":
        return "已完成"
    if state == "cancelled":
        return f"已取消（{reason}）" if reason else "已取消"
    if state == "failed":
        return f"没能完成（{reason}）" if reason else "没能完成"
    return "处理中"


@dataclass(frozen=True)
class ResidentOrder:
    public_id: str
    service: str
    state: str
    convenient_time: str
    words: str

    @property
    def open(self) -> bool:
        return self.state not in TERMINAL

    @property
    def label(self) -> str:
        when = f"，{self.convenient_time}" if self.convenient_time else ""
        return f"{self.public_id} {catalogue.service_label(self.service)}{when}"


async def resident_orders(db: Database, sender_id: str, limit: int = 5) -> list[ResidentOrder]:
    """The sender's latest orders, newest first, with the 核验码 of those accepted
    (it is theirs: they ask the volunteer for it at the door)."""
    rows = await latest_orders(db, sender_id, limit)
    return [
        ResidentOrder(
            o.public_id,
            o.service,
            o.state,
            o.convenient_time or "",
            state_words(o.state, v, o.verify_code, o.reason),
        )
        for o, v in rows
    ]


def orders_text(orders: Sequence[ResidentOrder]) -> str:
    if not orders:
        return "您还没有预约过志愿者。"
    lines = ["您的预约："]
    lines += [f"{i}. {o.label}：{o.words}" for i, o in enumerate(orders, start=1)]
    if any(o.open for o in orders):
        lines.append("要取消预约，回复“取消预约”。")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# The rating question and help requests that became orders


# A channel may claim the notices while Rasa is still taking in the message they
# answer (WeChat runs both at once): the question then looks a little older.
CLAIM_SLACK = timedelta(seconds=30)


async def rating_due(db: Database, sender_id: str, since: datetime | None) -> str | None:
    """The order whose rating question was said with the reply to the sender's
    previous message (at or after ``since``; any time if ``since`` is None: nothing
    else was said in this conversation since): a reply now answers it."""
    async with db.session() as session:
        row = (
            await session.execute(
                select(ServiceOrder.public_id, ServiceOrder.updated_at)
                .outerjoin(OrderRating, OrderRating.order_id == ServiceOrder.id)
                .where(
                    ServiceOrder.sender_hash == sender_hash(sender_id),
                    ServiceOrder.state == "done",
                    ServiceOrder.resident_notice == "asked",
                    OrderRating.id.is_(None),
                )
                .order_by(ServiceOrder.updated_at.desc())
                .limit(1)
            )
        ).first()
    if row is None:
        return None
    public_id: str
    asked_at: datetime
    public_id, asked_at = row
    if since is not None and aware(asked_at) < since - CLAIM_SLACK:
        return None  # asked earlier; the resident has said something else since
    return public_id


# A help request made this long before an order counts as the same request.
LINK_WINDOW = timedelta(hours=2)


async def link_help_requests(
    db: Database, sender_id: str, public_id: str, now: datetime | None = None
) -> int:
    """Mark the sender's recent, unhandled, non-urgent help requests handled by the
    order they became ("已转为预约 D-…"), so staff do not answer them twice.
    Emergencies stay in the queue. Returns how many were marked."""
    now = now or utcnow()
    async with db.session() as session:
        rows = (
            await session.execute(
                select(HandoffRequest.id, HandoffRequest.hotlines)
                .outerjoin(
                    HandledMark,
                    and_(HandledMark.kind == "help", HandledMark.item_id == HandoffRequest.id),
                )
                .where(
                    HandoffRequest.sender_hash == sender_hash(sender_id),
                    HandoffRequest.created_at >= now - LINK_WINDOW,
                    HandledMark.id.is_(None),
                )
            )
        ).all()
        note = f"已转为预约 {public_id}"
        marked = 0
        for item_id, hotlines in rows:
            if is_urgent(hotlines):
                continue
            session.add(HandledMark(kind="help", item_id=item_id, by="系统", note=note, at=now))
            record(session, "系统", "handled", f"help:{item_id}", note=note)
            marked += 1
    return marked
