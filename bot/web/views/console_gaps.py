"""知识缺口 in the console: what we could not answer, drafts that fill it, and the
entries that need a second look (``bot.insights.gaps``, ``bot.insights.drafts``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.accounts.access import require
from bot.accounts.errors import ConsoleError
from bot.insights import drafts
from bot.insights.gaps import Gap, filled_by, knowledge_gaps
from bot.insights.stats import Period
from bot.insights.suppress import MIN_PEOPLE
from bot.web import keys
from bot.web.auth import read_form
from bot.web.middlewares import status_of
from bot.web.views.console_common import actor_of, render, see_other, to_int

DEFAULT_DAYS = 30
SHOWN_GAPS = 50
FIELDS = ("topic", "title", "answer", "steps", "organisation", "source_title", "url", "reviewed_on")


async def _gaps(request: web.Request, days: int) -> list[Gap]:
    since, until = Period.last_days(days).bounds
    knowledge = request.app.get(keys.KNOWLEDGE)
    vectors = knowledge.sentence_vectors if knowledge is not None else None
    return await knowledge_gaps(request.app[keys.DATABASE], since, until, vectors=vectors)


async def gaps_page(request: web.Request) -> web.Response:
    """The gaps of the last N days, most people first, each with 起草条目; whether an
    entry answers it now; the entries to review."""
    actor = actor_of(request)
    require(actor, "draft_entry")
    days = to_int(request.query.get("days", str(DEFAULT_DAYS)), "天数", minimum=1, maximum=366)
    found = (await _gaps(request, days))[:SHOWN_GAPS]
    knowledge = request.app.get(keys.KNOWLEDGE)
    lines = []
    for number, gap in enumerate(found):
        filled = await filled_by(gap, knowledge)
        people = gap.people if gap.people >= MIN_PEOPLE else None
        lines.append((number, gap, people, filled))
    review = await drafts.needs_review(request.app[keys.DATABASE])
    return render(
        request,
        "console/gaps.html",
        {"gaps": lines, "days": days, "review": review, "drafts": await _open_drafts(request)},
    )


async def _open_drafts(request: web.Request) -> list[drafts.DraftView]:
    return await drafts.listing(request.app[keys.DATABASE], "draft")


async def new_draft(request: web.Request) -> web.Response:
    """The draft form, its phrasings filled from gap N of the last D days."""
    require(actor_of(request), "draft_entry")
    days = to_int(request.query.get("days", str(DEFAULT_DAYS)), "天数", minimum=1, maximum=366)
    number = to_int(request.query.get("gap", "0"), "缺口", minimum=0, maximum=SHOWN_GAPS)
    found = await _gaps(request, days)
    if number >= len(found):
        raise web.HTTPNotFound(text="没有这个知识缺口")
    gap = found[number]
    return _form(request, None, questions=drafts.prefilled(gap.texts), gap_example=gap.example)


def _form(
    request: web.Request,
    draft: drafts.DraftView | None,
    *,
    questions: str = "",
    gap_example: str = "",
    error: ConsoleError | None = None,
    typed: Any = None,
) -> web.Response:
    """The form; after a refusal, what was typed is shown again (nothing is lost)."""
    saved = {}
    if draft is not None:
        saved = {
            "topic": draft.topic,
            "title": draft.title,
            "answer": draft.answer,
            "steps": "\n".join(draft.steps),
            "organisation": draft.source.get("organisation") or "",
            "source_title": draft.source.get("title") or "",
            "url": draft.source.get("url") or "",
            "reviewed_on": draft.reviewed_on.isoformat() if draft.reviewed_on else "",
        }
    if typed is not None:
        saved = {name: str(typed.get(name, "")) for name in FIELDS}
        questions = str(typed.get("questions", ""))
    return render(
        request,
        "console/draft.html",
        {
            "draft": draft,
            "saved": saved,
            "topics": drafts.TOPICS,
            "questions": questions or ("\n".join(draft.questions) if draft else ""),
            "gap_example": draft.gap_example if draft else gap_example,
            "error": error.message if error else None,
        },
        status=status_of(error) if error else 200,
    )


async def create_draft(request: web.Request) -> web.Response:
    """``POST /console/drafts`` (any staff): a new entry draft, then its page."""
    db, actor = request.app[keys.DATABASE], actor_of(request)
    form = await read_form(request)
    try:
        draft_id = await drafts.create(db, actor, drafts.DraftForm.parse(form))
    except ConsoleError as exc:
        return _form(
            request, None, gap_example=str(form.get("gap_example", "")), error=exc, typed=form
        )
    return see_other(f"/console/drafts/{draft_id}")


async def draft_page(request: web.Request) -> web.Response:
    """``GET /console/drafts/{id}`` (any staff): one entry draft's form."""
    require(actor_of(request), "draft_entry")
    draft = await drafts.get(request.app[keys.DATABASE], _draft_id(request))
    return _form(request, draft)


async def draft_act(request: web.Request) -> web.Response:
    """save | publish | reject one draft."""
    db, actor = request.app[keys.DATABASE], actor_of(request)
    draft_id, action = _draft_id(request), request.match_info["action"]
    form = await read_form(request)
    try:
        if action == "save":
            await drafts.update(db, actor, draft_id, drafts.DraftForm.parse(form))
        elif action == "publish":
            await drafts.update(db, actor, draft_id, drafts.DraftForm.parse(form))
            await drafts.approve(db, actor, draft_id)
        elif action == "reject":
            await drafts.reject(db, actor, draft_id, str(form.get("note", "")))
        else:
            raise web.HTTPNotFound()
    except ConsoleError as exc:
        typed = form if action != "reject" else None
        return _form(request, await drafts.get(db, draft_id), error=exc, typed=typed)
    return see_other(f"/console/drafts/{draft_id}")


def _draft_id(request: web.Request) -> int:
    return to_int(request.match_info["id"], "草稿编号", minimum=1)
