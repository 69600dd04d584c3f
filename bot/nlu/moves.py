"""Rasa classifies conversation moves; everything else is free text.

DIET is good at short moves ("你好", "2", "再说一遍", "我要举报谣言") and
unreliable on open questions, claims and pasted messages, which it used to
send to the report form, the message check or the hotline list. This
component runs after the classifiers and keeps a predicted move only when the
message really is one:

- an explicit command (report a rumour, check a message, ask for a person)
  must name what it asks for, and say little else; "听说喝醋能软化血管，是谣言
  吗" carries a claim, so it is free text and the understanding step answers it;
- a short move (greeting, thanks, yes/no, a number, feedback, the menu) must
  be short; a numbered choice must contain a number or a menu word;
- a forwarded message (an SMS signature or a link) is free text: the
  understanding step checks it;
- "我的举报有结果了吗" or a receipt number is a look-up of one's reports;
- "多讲一点" / "看出处" after an answer asks for its detail (``action_repeat``);
- subscription commands ("订阅防骗提醒", "我的订阅", "退订", ``bot.outreach.commands``)
  are free text: ``action_understand`` carries them out;
- service orders (``bot/orders/chat.py``): "预约志愿者" / "想请人上门教我用手机"
  books a volunteer, "我的预约" or a D- number looks orders up, "取消预约"
  cancels one; each intent stands only with its cue, and the cue makes it
  whatever DIET said. A scam described or a rumour told ("听说志愿者上门要收
  钱") stays free text; "4 来得有点晚" or "5分" (a reply to the rating question
  the channel appended) is a numbered choice.

``EmergencyOverride`` runs after this and has the last word.
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from bot.menu.pages import match_menu_words
from bot.nlu.intent_rule import IntentRule
from bot.orders.chat import (
    asks_my_orders,
    asks_to_cancel,
    asks_to_order,
    is_cancel,
    sounds_like_rating,
)
from bot.outreach.commands import parse as subscription_command
from bot.text.content import carries_content, meaningful_chars
from bot.text.numerals import parse_option_number
from bot.understanding.cues import (
    ABOUT_US,
    ASK_CALL,
    ASK_PERSON,
    CALL_FOR_OTHERS,
    CHECK_REQUEST,
    COMMAND_FILLERS,
    COMMAND_WORDS,
    DESCRIBED_CONTACT,
    MORE_DETAIL,
    PERSON_WORDS,
    QUESTION,
    REPORT_STATUS,
    RUMOR,
    asks_about_a_visit,
    is_aftermath,
    looks_pasted,
    without_place_number,
)

FREE_TEXT = "free_text"
REPORT_STATUS_INTENT = "report_status"
SHORT_MOVES = frozenset(
    {"greet", "goodbye", "thanks", "affirm", "deny", "choose_option", "repeat", "feedback", "menu"}
)
ORDER_INTENT = "order_service"
MY_ORDERS_INTENT = "my_orders"
CANCEL_ORDER_INTENT = "cancel_order"
ORDER_INTENTS = frozenset({ORDER_INTENT, MY_ORDERS_INTENT, CANCEL_ORDER_INTENT})
# Intents a reply to the rating question may come with ("5分 很好" is no thanks).
RATING_FROM = frozenset(
    {FREE_TEXT, "nlu_fallback", "feedback", "affirm", "thanks", "choose_option", ""}
)
# A move is a few words: "好的谢谢你", "第二个", "莫得问题了拜拜", "这个回答没有用".
MOVE_MAX_CHARS = 12
# Beyond this many characters a question word makes it a question ("是不是要先交钱").
MOVE_QUESTION_CHARS = 6
# A short move says its own kind of words: a greeting greets, a "no" says no, a
# request to repeat asks again, the menu is asked for. DIET read "微信运动那个步数
# 在哪看" and "晚上腿抽筋 痛醒好几回" as greetings, "小鸭子脚软站不起来" as a
# "no" (for its 不) and "那个帮我唱首歌听一下" as "say that again": short
# questions and requests without a move's words are free text. (Canonical text:
# 啥子 is 什么, 莫得 and 没得 are 没有, 咋个 is 怎么.) Every training example of
# these moves says them (tests/bot/nlu/test_moves.py).
MOVE_WORDS = {
    "greet": re.compile(
        r"你好|您好|好呀|在不在|在吗|在没|在嘛|喂|^早|[早中午下晚]上好|午好|老师好|哈喽|嗨"
        r"|有人|大家好|吃了没|^(hello|hi)\b",
        re.IGNORECASE,
    ),
    "deny": re.compile(
        r"^(嗯|哦|那个|我|这个)?\s*(不|没|莫|算了|错|否|搞错|说错|那个不|别)|不(是|对|要|用|行|想)"
    ),
    "repeat": re.compile(
        r"再|重复|重说|没听|没看|听不|看不|刚才|刚刚|说什么|说的什么|说啥|讲什么|什么哦|^啥|上一条|慢点"
    ),
    "menu": re.compile(
        r"菜单|主页|首页|返回|回到|回去|重新|从头|功能|选项|目录|帮助|能干|会干|能做|干什么|做什么"
        r"|能问|可以问|怎么用|怎么问|该问|管些|会些|问什么|本事|开头|可以选"
    ),
}
# What a command may say besides its own words ("我要举报一下" is a command).
COMMAND_CONTENT_CHARS = 5


def gate(text: str, intent: str | None) -> str | None:
    """The intent ``text`` should have instead of ``intent``, or None to keep it."""
    if REPORT_STATUS.search(text):
        return REPORT_STATUS_INTENT if intent != REPORT_STATUS_INTENT else None
    if intent == REPORT_STATUS_INTENT:
        return FREE_TEXT
    if MORE_DETAIL.match(text.strip()):  # "多讲一点": the last answer's detail
        return "repeat" if intent != "repeat" else None
    if looks_pasted(text):
        return FREE_TEXT if intent != FREE_TEXT else None
    if subscription_command(text) is not None:  # "订阅防骗提醒", "退订": action_understand
        return FREE_TEXT if intent != FREE_TEXT else None
    order = order_move(text)
    if order is not None:
        return order if intent != order else None
    if intent in ORDER_INTENTS:  # DIET's guess without the words for it
        if intent == CANCEL_ORDER_INTENT and is_cancel(text):
            return "deny"
        if asks_about_a_visit(text):  # "志愿者上门要收钱吗": search answers it
            return FREE_TEXT
        return "handoff" if any(w in text for w in PERSON_WORDS) else FREE_TEXT
    if (intent or "") in RATING_FROM and sounds_like_rating(text):
        return "choose_option" if intent != "choose_option" else None
    if intent in COMMAND_WORDS:
        words = COMMAND_WORDS[intent]
        if not any(w in text for w in words):
            return FREE_TEXT
        if intent == "handoff" and is_aftermath(text):
            return FREE_TEXT  # "被骗了打什么电话报警": 110 first, and what to do next
        if intent == "handoff" and CALL_FOR_OTHERS.search(text):
            return FREE_TEXT  # "帮我打个电话给我儿子": an errand, not one of us asked for
        if (
            intent == "handoff"
            and QUESTION.search(text)
            and not any(w in text for w in PERSON_WORDS)
            and not (ASK_PERSON.search(left := without_place_number(text)) or ASK_CALL.search(left))
        ):
            # "养牛有没有政府补贴", "镇政府电话是多少": a question that names no person to
            # talk to. The understanding step answers it (and hands off itself when
            # the question asks for one of us after all).
            return FREE_TEXT
        if intent == "handoff" and any(w in text for w in PERSON_WORDS):
            # "找个人来帮我弄一下手机": a person, whatever the errand; but "有个人上门说是
            # 燃气公司的…" tells of a visit, "你是机器人还是真人" asks about us and
            # "志愿者上门要收钱吗" about the service (its answer says how to book).
            # The understanding step weighs a told visit as it would (a call asked
            # of us still hands off there).
            told = DESCRIBED_CONTACT.search(text) and not ASK_CALL.search(text)
            about_us = ABOUT_US.search(text) and not ASK_PERSON.search(text)
            if told or about_us or asks_about_a_visit(text):
                return FREE_TEXT
            return None
        if intent == "check_message" and not any(w in text for w in CHECK_REQUEST):
            return FREE_TEXT  # "短信里的链接能点吗": a question about links
        if carries_content(text, words + COMMAND_FILLERS, COMMAND_CONTENT_CHARS + 1):
            return FREE_TEXT
        return None
    if intent in SHORT_MOVES:
        n = meaningful_chars(text)
        if n > MOVE_MAX_CHARS or (n > MOVE_QUESTION_CHARS and QUESTION.search(text)):
            return FREE_TEXT
        sign = MOVE_WORDS.get(intent or "")
        if sign is not None and not sign.search(text):
            return FREE_TEXT
        if intent == "choose_option" and (
            parse_option_number(text) is None and match_menu_words(text) is None
        ):
            return FREE_TEXT
    return None


def order_move(text: str) -> str | None:
    """The service-order intent ``text`` asks for by its words, if any."""
    if asks_to_cancel(text):
        return CANCEL_ORDER_INTENT
    if asks_my_orders(text):
        return MY_ORDERS_INTENT
    if asks_to_order(text) and not (
        is_aftermath(text)
        or RUMOR.search(text)
        or DESCRIBED_CONTACT.search(text)
        or asks_about_a_visit(text)
    ):
        return ORDER_INTENT
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class MoveGate(IntentRule):
    def intent_for(self, text: str, intent: str | None) -> str | None:
        return gate(text, intent)
