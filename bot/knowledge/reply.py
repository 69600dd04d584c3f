"""How an entry is said to a user: read in one screen, the detail one step away.

Every channel says an entry the same way (issue 15): one plain sentence, at
most five short numbered steps, a one-line source ("来源：国家卫生健康委员会，
2024"), and the feedback question. The rest of the answer and the full source
are the detail: the web chat shows them behind "多讲一点" / "看出处"; in WeChat,
WeCom and the REST channel the user replies "多讲一点" (``detail_messages``),
or opens the entry's page when the service has a public address.
An entry without steps is its answer: that is what she needs to read.
"""

from __future__ import annotations

import re

from bot.knowledge.feedback import PROMPT as FEEDBACK_PROMPT
from bot.knowledge.schema import Entry

MAX_MESSAGE_CHARS = 200
# A lead shorter than this takes the next sentence too ("领红包就三步。" alone says little).
LEAD_MIN_CHARS = 15
DETAIL_HINT = "回复“多讲一点”看详细和出处"

_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]*")
_YEAR = re.compile(r"(19|20)\d{2}")


def source_line(entry: Entry) -> str:
    """The full source: organisation, title, review month."""
    d = entry.reviewed_on
    return f"来源：{entry.source.organisation}{entry.source.title}；审核：{d.year}年{d.month}月"


def short_source(entry: Entry) -> str:
    """ "来源：国家卫生健康委员会，2024": the organisation, and the year if the title has one."""
    year = _YEAR.search(entry.source.title)
    return f"来源：{entry.source.organisation}" + (f"，{year.group(0)}" if year else "")


def lead_and_rest(answer: str) -> tuple[str, str]:
    """The answer's first sentence (two when the first is very short), and the rest."""
    sentences = [s for s in _SENTENCE.findall(answer) if s.strip()]
    if not sentences:
        return answer, ""
    lead = sentences[0]
    taken = 1
    while len(lead) < LEAD_MIN_CHARS and taken < len(sentences):
        lead += sentences[taken]
        taken += 1
    return lead.strip(), "".join(sentences[taken:]).strip()


def split_answer(entry: Entry) -> tuple[str, str]:
    """What is said first, and what waits behind "多讲一点". A debunk's verdict is
    said once, in its 【】 mark: "【谣言】这是谣言。味精…" loses "这是谣言。"."""
    lead, rest = lead_and_rest(entry.answer) if entry.steps else (entry.answer, "")
    if entry.verdict:
        echo = re.match(rf"(这是|这个说法)?{re.escape(entry.verdict)}[。！!，,]\s*", lead)
        if echo and lead[echo.end() :]:
            lead = lead[echo.end() :]
    return lead, rest


def page_url(entry: Entry, public_url: str) -> str:
    """The entry's own page (answer, steps, full source), when the service is public."""
    return f"{public_url.rstrip('/')}/k/{entry.id}" if public_url else ""


def answer_messages(entry: Entry, public_url: str = "") -> list[str]:
    """The messages that answer with ``entry``: lead (a debunk's verdict and short
    why), steps, source line.

    Each message stays under ~200 characters so a phone shows it without
    scrolling; steps are never split in the middle.
    """
    lead, _ = split_answer(entry)
    first = f"【{entry.verdict}】{lead}" if entry.verdict else lead
    messages = [first]
    if entry.steps:
        chunk: list[str] = []
        for i, step in enumerate(entry.steps, start=1):
            line = f"{i}. {step}"
            if chunk and len("\n".join(chunk + [line])) > MAX_MESSAGE_CHARS:
                messages.append("\n".join(chunk))
                chunk = []
            chunk.append(line)
        messages.append("\n".join(chunk))
    url = page_url(entry, public_url)
    more = f"详细说明和出处：{url}" if url else DETAIL_HINT
    messages.append(f"{short_source(entry)}（{more}）\n{FEEDBACK_PROMPT}")
    return messages


def full_text(entry: Entry) -> str:
    """The whole entry as plain text (the API's answer): answer, steps, full source."""
    lines = [f"【{entry.verdict}】{entry.answer}" if entry.verdict else entry.answer]
    if entry.explanation and entry.explanation != entry.answer:
        lines.append(entry.explanation)
    lines += [f"{i}. {step}" for i, step in enumerate(entry.steps, start=1)]
    lines.append(source_line(entry))
    return "\n".join(lines)


def detail_messages(entry: Entry, public_url: str = "") -> list[str]:
    """ "多讲一点": the rest of the answer, and where it comes from, in full."""
    _, rest = split_answer(entry)
    # A debunk's answer gives the verdict and the short why; its explanation is
    # the long why (a console-published debunk's answer is its explanation).
    more = [rest, entry.explanation if entry.explanation != entry.answer else None]
    messages = [part for part in more if part]
    cite = [source_line(entry)]
    if entry.source.url:
        cite.append(f"原文：{entry.source.url}")
    url = page_url(entry, public_url)
    if url:
        cite.append(f"整页查看：{url}")
    messages.append("\n".join(cite))
    return messages
