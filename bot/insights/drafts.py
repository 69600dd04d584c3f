"""Knowledge gaps closed by curators: a draft entry, an expert's approval, served.

A curator (moderator, expert or admin) opens a gap (``bot.insights.gaps``) and
drafts an entry: its phrasings start as the gap's own questions (redacted),
then the title, the answer, up to five steps, the source and the date it was
checked. Another person, an expert or admin, approves it: the entry is then
validated as every file entry is (``bot.knowledge.schema.Entry``), served at
once through the same path as published debunks
(``bot.knowledge.store.upsert_console_entry``) and written to ``knowledge/`` by
``kepu kb export``. The gap closes by itself when the new entry starts
answering its questions. Every step is in the audit log.

Also here: the entries that need a second look (需要复核): reviewed more than
12 months ago, or found unhelpful (没用) by several people lately.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from bot.accounts.access import Actor, require
from bot.accounts.audit import record
from bot.accounts.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from bot.knowledge.loader import REVIEW_AFTER
from bot.knowledge.schema import MAX_STEPS, Entry
from bot.knowledge.store import served_entries, upsert_console_entry
from bot.storage.db import Database
from bot.storage.models import Feedback, KnowledgeDraft, utcnow
from bot.text.redact import redact

TOPICS: dict[str, str] = {
    "smartphone": "智能手机",
    "health": "健康",
    "fraud": "防诈骗",
    "farming": "农业",
}
ID_PREFIX = {"smartphone": "phone", "health": "health", "fraud": "fraud", "farming": "farm"}
STATUSES = {"draft": "草稿", "published": "已发布", "rejected": "不采用"}
MAX_QUESTIONS = 12
UNHELPFUL_DAYS = 90
UNHELPFUL_PEOPLE = 3  # 没用 from this many people, and more 没用 than 有用


@dataclass
class DraftForm:
    """What the curator typed (every text field redacted before it is stored)."""

    topic: str
    title: str
    questions: list[str]
    answer: str
    steps: list[str]
    organisation: str
    source_title: str
    url: str
    reviewed_on: dt.date | None
    gap_example: str = ""

    @classmethod
    def parse(cls, form: Any) -> DraftForm:
        """The draft form's fields, redacted, whitespace collapsed and cut to their limits."""

        def text(name: str, limit: int) -> str:
            return redact(" ".join(str(form.get(name, "")).split()))[:limit]

        def lines(name: str, limit: int) -> list[str]:
            seen: list[str] = []
            for line in str(form.get(name, "")).splitlines():
                line = redact(" ".join(line.split()))
                if line and line not in seen:
                    seen.append(line)
            return seen[:limit]

        reviewed = str(form.get("reviewed_on", "")).strip()
        try:
            reviewed_on = dt.date.fromisoformat(reviewed) if reviewed else None
        except ValueError:
            raise InvalidInput("核实日期要写成 2026-01-31 这样") from None
        topic = str(form.get("topic", ""))
        if topic not in TOPICS:
            raise InvalidInput("请选择话题")
        return cls(
            topic=topic,
            title=text("title", 60),
            questions=lines("questions", MAX_QUESTIONS),
            answer=str(redact(str(form.get("answer", "")).strip()))[:600],
            steps=lines("steps", MAX_STEPS + 1),
            organisation=text("organisation", 80),
            source_title=text("source_title", 120),
            url=text("url", 300),
            reviewed_on=reviewed_on,
            gap_example=text("gap_example", 300),
        )

    def source(self) -> dict[str, str | None]:
        """The source as a knowledge entry writes it (no URL: None)."""
        return {
            "organisation": self.organisation,
            "title": self.source_title,
            "url": self.url or None,
        }


@dataclass
class DraftView:
    id: int
    status: str
    topic: str
    title: str
    questions: list[str]
    answer: str
    steps: list[str]
    source: dict[str, Any]
    reviewed_on: dt.date | None
    gap_example: str
    author: str
    approver: str | None
    entry_id: str | None
    note: str
    updated_at: dt.datetime

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def topic_label(self) -> str:
        return TOPICS.get(self.topic, self.topic)

    @classmethod
    def of(cls, row: KnowledgeDraft) -> DraftView:
        return cls(
            row.id,
            row.status,
            row.topic,
            row.title,
            list(row.questions or []),
            row.answer,
            list(row.steps or []),
            dict(row.source or {}),
            row.reviewed_on,
            row.gap_example,
            row.author,
            row.approver,
            row.entry_id,
            row.note,
            row.updated_at,
        )


def _target(draft_id: int) -> str:
    return f"draft:{draft_id}"


async def create(db: Database, actor: Actor, form: DraftForm) -> int:
    require(actor, "draft_entry")
    if len(form.title) < 2:
        raise InvalidInput("请写标题（至少 2 个字）")
    async with db.session() as session:
        row = KnowledgeDraft(
            status="draft",
            topic=form.topic,
            title=form.title,
            questions=form.questions,
            answer=form.answer,
            steps=form.steps,
            source=form.source(),
            reviewed_on=form.reviewed_on,
            gap_example=form.gap_example,
            author=actor.name,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        session.add(row)
        await session.flush()
        record(session, actor.name, "draft_add", _target(row.id), title=form.title)
        return int(row.id)


async def _open(session: Any, draft_id: int) -> KnowledgeDraft:
    row: KnowledgeDraft | None = await session.get(KnowledgeDraft, draft_id, with_for_update=True)
    if row is None:
        raise NotFound("没有这个草稿")
    return row


async def update(db: Database, actor: Actor, draft_id: int, form: DraftForm) -> None:
    """Save the form over a draft still being written (``InvalidTransition`` otherwise)."""
    require(actor, "draft_entry")
    async with db.session() as session:
        row = await _open(session, draft_id)
        if row.status != "draft":
            raise InvalidTransition("已发布或不采用的草稿不能再改")
        row.topic, row.title, row.questions = form.topic, form.title, form.questions
        row.answer, row.steps, row.source = form.answer, form.steps, form.source()
        row.reviewed_on, row.updated_at = form.reviewed_on, utcnow()
        record(session, actor.name, "draft_edit", _target(draft_id))


def entry_of(row: KnowledgeDraft) -> Entry:
    """The entry a draft is served as; InvalidInput naming what is missing."""
    if row.reviewed_on is None:
        raise InvalidInput("请填写核实日期（对照来源核实这一条的那天）")
    data = {
        "id": f"{ID_PREFIX[row.topic]}-gap-{row.id}",
        "topic": row.topic,
        "title": row.title,
        "questions": list(row.questions or []),
        "answer": row.answer,
        "steps": list(row.steps or []),
        "audience": ["all"],
        "source": row.source,
        "reviewed_on": row.reviewed_on,
    }
    try:
        return Entry.parse_obj(data)
    except ValidationError as exc:
        raise InvalidInput(_explain(exc)) from exc


def _explain(exc: ValidationError) -> str:
    """The first schema error in plain Chinese."""
    messages = {
        "questions": "问法至少 3 条、互不相同，其中至少一条是口语说法（如“咋个”“啥子”“怎么办”）",
        "answer": "回答要 5 到 300 个字",
        "steps": "步骤最多 5 条，每条不超过 60 个字",
        "source": "来源要写机构和文件标题；网址要以 http(s):// 开头",
        "title": "标题要 2 到 60 个字",
    }
    for error in exc.errors():
        field = str(error["loc"][0]) if error.get("loc") else ""
        if field in messages:
            return messages[field]
    return "内容不符合知识库格式，请检查各项"


async def approve(db: Database, actor: Actor, draft_id: int) -> str:
    """Publish the draft as a served entry; its id."""
    require(actor, "conclude")
    async with db.session() as session:
        row = await _open(session, draft_id)
        if row.status != "draft":
            raise InvalidTransition("这个草稿已经处理过了")
        if row.author == actor.name:
            raise Forbidden("自己起草的条目要由另一位专家或管理员审核发布")
        entry = entry_of(row)
        await upsert_console_entry(session, db, entry)
        row.status, row.approver, row.entry_id = "published", actor.name, entry.id
        row.updated_at = utcnow()
        record(session, actor.name, "draft_publish", _target(draft_id), entry_id=entry.id)
        return entry.id


async def reject(db: Database, actor: Actor, draft_id: int, note: str) -> None:
    """Set a draft aside as not adopted, with the moderator's note."""
    require(actor, "conclude")
    async with db.session() as session:
        row = await _open(session, draft_id)
        if row.status != "draft":
            raise InvalidTransition("这个草稿已经处理过了")
        row.status, row.approver = "rejected", actor.name
        row.note, row.updated_at = redact(note.strip())[:200], utcnow()
        record(session, actor.name, "draft_reject", _target(draft_id))


async def get(db: Database, draft_id: int) -> DraftView:
    async with db.session() as session:
        row = await session.get(KnowledgeDraft, draft_id)
        if row is None:
            raise NotFound("没有这个草稿")
        return DraftView.of(row)


async def listing(db: Database, status: str | None = None) -> list[DraftView]:
    query = sa.select(KnowledgeDraft).order_by(KnowledgeDraft.updated_at.desc()).limit(200)
    if status:
        query = query.where(KnowledgeDraft.status == status)
    async with db.session() as session:
        return [DraftView.of(r) for r in (await session.execute(query)).scalars()]


@dataclass
class Review:
    entry_id: str
    title: str
    reason: str


async def needs_review(db: Database, today: dt.date | None = None) -> list[Review]:
    """Entries to check again: reviewed over 12 months ago, or 没用 from several
    people in the last 90 days (more 没用 than 有用)."""
    today = today or dt.date.today()
    entries = {e.id: e for e in await served_entries(db)}
    out = [
        Review(e.id, e.title, f"上次核实 {e.reviewed_on}，已超过 12 个月")
        for e in sorted(entries.values(), key=lambda e: e.reviewed_on)
        if today - e.reviewed_on > REVIEW_AFTER
    ]
    since = dt.datetime.combine(
        today - dt.timedelta(days=UNHELPFUL_DAYS), dt.time(), dt.timezone.utc
    )
    async with db.session() as session:
        rows = (
            await session.execute(
                sa.select(
                    Feedback.entry_id,
                    sa.func.count(
                        sa.distinct(sa.case((Feedback.useful.is_(False), Feedback.sender_hash)))
                    ),
                    sa.func.sum(sa.case((Feedback.useful, 1), else_=0)),
                    sa.func.sum(sa.case((Feedback.useful, 0), else_=1)),
                )
                .where(Feedback.created_at >= since, Feedback.entry_id.is_not(None))
                .group_by(Feedback.entry_id)
            )
        ).all()
    for entry_id, people, useful, useless in rows:
        if people >= UNHELPFUL_PEOPLE and (useless or 0) > (useful or 0) and entry_id in entries:
            out.append(
                Review(
                    entry_id,
                    entries[entry_id].title,
                    f"近 {UNHELPFUL_DAYS} 天 {people} 人说“没用”"
                    f"（有用 {useful or 0}，没用 {useless or 0}）",
                )
            )
    return out


def prefilled(questions: Sequence[str]) -> str:
    """The gap's questions as the draft's first phrasings (one a line)."""
    seen: list[str] = []
    for text in questions:
        text = " ".join(text.split())
        if text and text not in seen:
            seen.append(text)
    return "\n".join(seen[:MAX_QUESTIONS])
