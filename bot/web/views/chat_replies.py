"""How the web chat page shows the assistant's messages.

Rasa's REST channel answers with plain texts written for every channel (the
WeChat account reads them as they are). The page gets the same texts in
``messages`` and, in ``replies``, what it needs to show them well:

- numbered options ("1 手机使用", "回复 1 是，2 不是", "回复 6") become
  ``options``: buttons under the message that offered them. ``send`` is what
  a tap sends while the message is the newest one (the number: the assistant
  reads it against what it offered last); ``later`` is what a tap sends once
  newer messages came (the words that mean the same anywhere, "健康"), or
  None when the option only makes sense right after it was offered (是 / 不是);
- the texts of one knowledge entry (answer, steps, source and feedback prompt)
  become one ``card``: a short lead, the numbered steps, a one-line source,
  and the rest behind a tap.
"""

from __future__ import annotations

import re
from typing import Any

from bot.handoff.hotlines import HOTLINES
from bot.knowledge.reply import answer_messages, short_source, split_answer
from bot.knowledge.schema import Entry
from bot.knowledge.service import KnowledgeService
from bot.menu.pages import MAIN_MENU
from bot.understanding.replies import UNSURE

Reply = dict[str, Any]

MAIN_LABELS = {item.number: item.label for item in MAIN_MENU}
# A message offers numbered lines as options only when it asks for a number;
# the numbered steps of an answer are not options.
_OPTION_CUE = re.compile(r"回复数字|回复\s*1\s*到")
_OPTION_LINE = re.compile(r"^\s*(\d{1,2})(?:[.、．]\s*|\s+)(\S.{0,59})$")
_YES_NO = re.compile(r"回复\s*(\d)\s*是[，,、\s]*(\d)\s*不是")
_INLINE = re.compile(r"回复\s*(\d{1,2})(?!\s*[\d到])[\s，,]*(我帮您)?([^，,。；;！!\n]*)")
_WORD = re.compile(r"回复[“\"]([^”\"\s]{1,6})[”\"]")
# Already in the bar under every page.
_BAR_WORDS = {"菜单"}
# Options that only mean something right after they were offered.
_BOUND_LABELS = ("是", "不是", "交给辟谣平台核实", "（这条内容已更新）")

# Hotlines the page links as tel: wherever they appear, with what they are for
# (read out by screen readers); other 3-5 digit numbers are linked only where
# the text says to call them ("打 12315", "客服 95017").
ALWAYS_LINKED: dict[str, str] = {
    **{h.number: h.name for h in HOTLINES},
    "119": "火警电话",
    "122": "交通事故报警电话",
    "12348": "法律援助热线",
    "12356": "心理援助热线",
}
KNOWN_NUMBERS: dict[str, str] = {
    **ALWAYS_LINKED,
    "12315": "消费投诉热线",
    "12333": "社保咨询热线",
    "12306": "铁路客服电话",
    "12321": "网络不良与垃圾信息举报电话",
    "95188": "支付宝客服电话",
    "95017": "微信支付客服电话",
    "10086": "中国移动客服电话",
    "10010": "中国联通客服电话",
    "10000": "中国电信客服电话",
}


def hotline_table() -> dict[str, Any]:
    """What the page's script needs to link phone numbers (a data attribute)."""
    return {"always": sorted(ALWAYS_LINKED), "names": KNOWN_NUMBERS}


def option(number: int | None, label: str, send: str, later: str | None) -> dict[str, Any]:
    """One button: what a tap sends now (``send``), and once newer messages came (``later``)."""
    return {"number": number, "label": label, "send": send, "later": later}


def _numbered_block(lines: list[str]) -> tuple[int, int, list[tuple[int, str]]] | None:
    """The first run of lines numbered 1, 2, 3…: (start, end, [(number, label)])."""
    for start, line in enumerate(lines):
        match = _OPTION_LINE.match(line)
        if not match or match.group(1) != "1":
            continue
        found: list[tuple[int, str]] = []
        end = start
        while end < len(lines):
            match = _OPTION_LINE.match(lines[end])
            if not match or int(match.group(1)) != len(found) + 1:
                break
            found.append((len(found) + 1, match.group(2).strip()))
            end += 1
        return start, end, found
    return None


def _later_of_listed(first_line: str, number: int, label: str) -> str | None:
    """What a listed option means once it is no longer the newest offer."""
    if label == MAIN_LABELS.get(number):
        return label  # "健康" picks the main-menu item from anywhere
    if "常见问题" in first_line or first_line.startswith(("您是想问", UNSURE)):
        return label  # a question, or an entry's title: asking it again is the same
    if first_line.startswith("没有这个选项") and label not in _BOUND_LABELS:
        return label  # the same offer listed again
    return None  # "1 微信群" of the report form means nothing on its own


def _quoted(text: str, at: int) -> bool:
    """Whether ``at`` is inside “…” (a quoted scam message: "回复1领取" is not ours)."""
    before = text[:at]
    return before.count("“") > before.count("”")


def _inline_options(text: str) -> list[dict[str, Any]]:
    """ "回复 1 是，2 不是", "回复 1，我帮您交给辟谣平台核实", "回复 6"."""
    match = _YES_NO.search(text)
    if match and not _quoted(text, match.start()):
        return [
            option(int(match.group(1)), "是", match.group(1), None),
            option(int(match.group(2)), "不是", match.group(2), None),
        ]
    found = []
    for match in _INLINE.finditer(text):
        if _quoted(text, match.start()):
            continue
        number, offered_for_this, after = int(match.group(1)), match.group(2), match.group(3)
        if not offered_for_this and number in MAIN_LABELS:
            # "回复 6", "或者回复 7 找人帮忙": nothing else is on offer, so the
            # main menu is; its item reads the same as in the menu, anywhere.
            label = MAIN_LABELS[number]
            found.append(option(number, label, str(number), label))
            continue
        label = after.strip()  # "回复 1，我帮您交给辟谣平台核实": about the message just checked
        if label:
            found.append(option(number, label, str(number), None))
    return found


def _word_options(text: str) -> list[dict[str, Any]]:
    """ "回复“有用”": the quoted words, once each (菜单 is always in the bar)."""
    words: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group(1)
        if _quoted(text, match.start()):
            continue
        if word not in _BAR_WORDS and word not in words:
            words.append(word)
    return [option(None, word, word, None) for word in words]


def text_reply(message: dict[str, Any]) -> Reply | None:
    """One message as the page shows it: text, its options as buttons, text after."""
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        return None  # images and custom payloads: the page shows texts only
    reply: Reply = {"text": text, "options": [], "after": ""}
    buttons = message.get("buttons")
    if isinstance(buttons, list) and buttons:
        for b in buttons:
            if not isinstance(b, dict):
                continue
            title = str(b.get("title") or "").strip()
            payload = str(b.get("payload") or "").strip()
            if title:
                send = payload if payload and not payload.startswith("/") else title
                reply["options"].append(option(None, title, send, None))
        return reply
    lines = text.split("\n")
    cue = any(not _quoted(text, m.start()) for m in _OPTION_CUE.finditer(text))
    block = _numbered_block(lines) if cue else None
    if block:
        start, end, listed = block
        first_line = lines[0]
        reply["text"] = "\n".join(lines[:start])
        reply["after"] = "\n".join(lines[end:])
        reply["options"] = [
            option(n, label, str(n), _later_of_listed(first_line, n, label)) for n, label in listed
        ]
    else:
        reply["options"] = _inline_options(text)
    reply["options"] += _word_options(text)
    return reply


def card_reply(entry: Entry, texts: list[str]) -> Reply:
    """One knowledge entry: a lead sentence, the steps, a one-line source; the
    rest of the answer and the source's detail behind a tap."""
    lead, rest = split_answer(entry)
    more = [part for part in (rest, entry.explanation) if part and part != entry.answer]
    title = entry.source.title
    if not title.startswith("《"):
        title = f"《{title}》"
    reviewed = entry.reviewed_on
    return {
        "text": "\n".join(texts),
        "card": {
            "entry_id": entry.id,
            "verdict": entry.verdict,
            "lead": lead,
            "more": "\n".join(more),
            "steps": list(entry.steps),
            "source": short_source(entry),
            "cite": [
                f"{entry.source.organisation}{title}",
                f"审核：{reviewed.year}年{reviewed.month}月",
            ],
            "url": entry.source.url,
        },
        "options": [option(None, "有用", "有用", None), option(None, "没用", "没用", None)],
        "after": "",
    }


async def shape(
    messages: list[dict[str, Any]], knowledge: KnowledgeService | None, public_url: str = ""
) -> list[Reply]:
    """The page's replies for one turn of the assistant's messages."""
    replies: list[Reply] = []
    i = 0
    while i < len(messages):
        message = messages[i]
        custom = message.get("custom")
        entry_id = custom.get("entry_id") if isinstance(custom, dict) else None
        if isinstance(entry_id, str) and knowledge is not None:
            entry = await knowledge.get(entry_id)
            if entry is not None:
                expected = answer_messages(entry, public_url)
                said = [m.get("text") for m in messages[i : i + len(expected)]]
                if said == expected:  # the entry as the assistant says it, whole
                    replies.append(card_reply(entry, expected))
                    i += len(expected)
                    continue
        reply = text_reply(message)
        if reply is not None:
            replies.append(reply)
        i += 1
    return replies
