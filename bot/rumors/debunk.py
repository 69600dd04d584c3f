"""Verdicts, debunks and publishing: how a claim's conclusion reaches people.

Publishing a claim whose verdict is one of the knowledge base's four
(谣言 / 部分属实 / 属实 / 尚无定论) serves it as a knowledge entry at once
(origin "console", topic "rumor", id ``rumor-claim-<id>``): the bot answers
from it, and later reports of the same claim are matched to it. Whatever the
verdict, publishing owes it to every reporter of the claim: their deliveries
turn from "waiting" to "due", and the delivery worker sends them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts.access import Actor, require
from bot.accounts.audit import record
from bot.accounts.errors import InvalidInput, InvalidTransition
from bot.knowledge import schema
from bot.knowledge.schema import MAX_ANSWER_CHARS, Entry, Source
from bot.knowledge.store import retire_console_entry, upsert_console_entry
from bot.rumors.console import STATUSES, VERDICTS, ClaimView, claim_target, family_ids
from bot.rumors.reports import OPEN_STATUSES
from bot.rumors.triage import check_transition, claim_for_update, mark_due, refuse_merged
from bot.storage.db import Database
from bot.storage.models import RumorClaim, RumorReport, utcnow

log = logging.getLogger(__name__)

# Verdicts the knowledge base can serve; the others are only told to reporters.
KNOWLEDGE_VERDICTS = frozenset(k for k, label in VERDICTS.items() if label in schema.VERDICTS)
MAX_TITLE_CHARS = 60  # as schema.Entry.title
MAX_SOURCES = 5
MAX_QUESTIONS = 10
QUESTION_CHARS = 60
# How reports start and end around the claim itself, longest first.
_LEAD_INS = ("群里有人说", "村里都在传", "朋友圈说", "群里说", "有人说", "网上说", "听说")
_TAILS = ("是不是真的", "是真的吗", "真的假的", "是真的不")


@dataclass(frozen=True)
class Published:
    claim: ClaimView
    entry_id: str | None  # None when the verdict is not served as knowledge
    deliveries_due: int


def entry_id_for(claim_id: int) -> str:
    """The id of the knowledge entry a claim is published as."""
    return f"rumor-claim-{claim_id}"


def claim_id_of(entry_id: str) -> int | None:
    """The claim a console-published debunk was published from; None for other entries."""
    prefix = entry_id_for(0)[:-1]
    number = entry_id[len(prefix) :] if entry_id.startswith(prefix) else ""
    return int(number) if number.isascii() and number.isdigit() else None


async def set_verdict(db: Database, actor: Actor, claim_id: int, verdict: str) -> ClaimView:
    """Record the experts' verdict on an open claim (published separately)."""
    require(actor, "conclude")
    if verdict not in VERDICTS:
        raise InvalidInput(f"没有这个结论：{verdict}")
    async with db.session() as session:
        claim = await _open_claim(session, claim_id)
        if claim.verdict != verdict:
            before, claim.verdict = claim.verdict, verdict
            claim.updated_at = utcnow()
            record(
                session, actor.name, "verdict", claim_target(claim_id), before=before, after=verdict
            )
        return ClaimView.of(claim, utcnow())


async def save_debunk(
    db: Database,
    actor: Actor,
    claim_id: int,
    *,
    title: str,
    explanation: str,
    sources: Sequence[Mapping[str, Any]],
) -> ClaimView:
    """Save the debunk draft: a title, an explanation of at most 300 characters, its sources."""
    require(actor, "conclude")
    title = " ".join((title or "").split())
    explanation = (explanation or "").strip()
    if not 2 <= len(title) <= MAX_TITLE_CHARS:
        raise InvalidInput(f"标题要 2 到 {MAX_TITLE_CHARS} 个字")
    if not 5 <= len(explanation) <= MAX_ANSWER_CHARS:
        raise InvalidInput(
            f"辟谣说明要 5 到 {MAX_ANSWER_CHARS} 个字（现在 {len(explanation)} 个字）"
        )
    checked = clean_sources(sources)
    async with db.session() as session:
        claim = await _open_claim(session, claim_id)
        claim.debunk_title, claim.explanation, claim.sources = title, explanation, checked
        claim.updated_at = utcnow()
        record(
            session,
            actor.name,
            "debunk",
            claim_target(claim_id),
            title=title,
            chars=len(explanation),
            sources=[s["organisation"] for s in checked],
        )
        return ClaimView.of(claim, utcnow())


def clean_sources(sources: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validated sources (blank rows dropped); at least one, at most ``MAX_SOURCES``."""
    out: list[dict[str, Any]] = []
    for raw in sources:
        values = {k: str(raw.get(k) or "").strip() for k in ("organisation", "title", "url")}
        if not any(values.values()):
            continue
        try:
            source = Source(
                organisation=values["organisation"],
                title=values["title"],
                url=values["url"] or None,
            )
        except ValidationError as exc:
            raise InvalidInput(
                "来源要写明机构和标题（各至少 2 个字），网址要以 http:// 或 https:// 开头"
            ) from exc
        out.append(source.dict())
    if not out:
        raise InvalidInput("请至少填写一个来源（机构和标题）")
    if len(out) > MAX_SOURCES:
        raise InvalidInput(f"来源最多 {MAX_SOURCES} 个")
    return out


async def publish(
    db: Database, actor: Actor, claim_id: int, *, today: dt.date | None = None
) -> Published:
    """Conclude a claim under verification with its verdict and debunk, and owe it to reporters."""
    require(actor, "conclude")
    async with db.session() as session:
        claim = await claim_for_update(session, claim_id)
        refuse_merged(claim)
        if claim.status == "concluded":
            raise InvalidTransition("已经发布过了；要修改，请先把状态改回“核实中”")
        check_transition(claim.status, "concluded")
        if not claim.verdict:
            raise InvalidInput("请先选择结论")
        if not claim.explanation:
            raise InvalidInput("请先写好辟谣说明")
        family = await family_ids(session, claim_id)
        entry_id = None
        if claim.verdict in KNOWLEDGE_VERDICTS:
            if not claim.debunk_title or not claim.sources:
                raise InvalidInput("请先写好辟谣标题和来源")
            texts = (
                (
                    await session.execute(
                        select(RumorReport.text)
                        .where(RumorReport.claim_id.in_(family))
                        .order_by(RumorReport.created_at, RumorReport.id)
                    )
                )
                .scalars()
                .all()
            )
            entry = build_entry(claim, list(texts), today or dt.date.today())
            await upsert_console_entry(session, db, entry)
            entry_id = entry.id
        elif claim.entry_id:  # a served debunk whose verdict was corrected to a non-knowledge one
            await retire_console_entry(session, claim.entry_id)
        before, claim.status, claim.entry_id = claim.status, "concluded", entry_id
        claim.updated_at = utcnow()
        due = await mark_due(session, family)
        record(
            session,
            actor.name,
            "publish",
            claim_target(claim_id),
            before=before,
            verdict=claim.verdict,
            entry_id=entry_id,
            due=due,
        )
        return Published(ClaimView.of(claim, utcnow()), entry_id, due)


def build_entry(claim: RumorClaim, report_texts: Sequence[str], today: dt.date) -> Entry:
    """The knowledge entry a published claim is served as (validated by the schema)."""
    assert claim.verdict is not None  # publish() asks for one first
    statement = " ".join(claim.title.split())
    data = {
        "id": entry_id_for(claim.id),
        "topic": "rumor",
        "title": claim.debunk_title,
        "questions": debunk_questions(statement or claim.debunk_title or "", report_texts),
        "answer": claim.explanation,
        "audience": ["all"],
        "source": (claim.sources or [None])[0],
        "reviewed_on": today,
        "claim": statement or claim.debunk_title,
        "verdict": VERDICTS[claim.verdict],
        "explanation": claim.explanation,
    }
    try:
        return Entry.parse_obj(data)
    except ValidationError as exc:
        log.warning("claim %s does not make a valid entry: %s", claim.id, exc)
        raise InvalidInput("辟谣内容不符合知识库格式，请检查标题、说明和来源") from exc


def debunk_questions(claim_text: str, report_texts: Sequence[str]) -> list[str]:
    """How people ask about the claim: two phrasings of it, then what reporters wrote.

    The second phrasing is colloquial, as the schema requires of every entry.
    """
    core = _statement(claim_text) or claim_text[:QUESTION_CHARS]
    candidates = [f"{core}是真的吗", f"听说{core}，是不是真的哦", core]
    candidates += [_statement(t) for t in report_texts]
    out: list[str] = []
    for text in candidates:
        if text and text not in out:
            out.append(text)
    return out[:MAX_QUESTIONS]


def _statement(text: str) -> str:
    """The claim itself, without "听说……" before it or "……是真的吗" after it."""
    text = " ".join(text.split())
    for lead in _LEAD_INS:
        if text.startswith(lead):
            text = text[len(lead) :].lstrip("，,：: ")
            break
    text = text.rstrip("。！？!?.，,～~ ")
    for tail in _TAILS:
        if text.endswith(tail):
            text = text[: -len(tail)].rstrip("，, 。")
            break
    return text[:QUESTION_CHARS]


async def _open_claim(session: AsyncSession, claim_id: int) -> RumorClaim:
    claim = await claim_for_update(session, claim_id)
    refuse_merged(claim)
    if claim.status not in OPEN_STATUSES:
        raise InvalidTransition(
            f"“{STATUSES[claim.status]}”的线索不能修改结论；要修改，请先把状态改回“核实中”"
        )
    return claim
