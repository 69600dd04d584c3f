"""The console's claim page, and the forms that act on a claim (the queue is
``console_queue``).

Every form posts, then redirects back (post/redirect/get). A refused action
shows the claim page again with the reason, keeping what was typed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.accounts.access import Actor
from bot.accounts.audit import claim_history
from bot.accounts.errors import ConsoleError, InvalidInput
from bot.accounts.users import active_names
from bot.rumors import again, console, debunk, evidence, triage
from bot.rumors.claim_notes import add_note, notes_of
from bot.rumors.console import TRANSITIONS
from bot.rumors.reports import OPEN_STATUSES
from bot.rumors.verdict_drafts import Draft, draft_from, draft_of, drop_draft, save_draft
from bot.storage.db import Database
from bot.web import keys
from bot.web.middlewares import status_of
from bot.web.views.console_common import (
    CHINA_TIME,
    actor_of,
    local_time,
    render,
    see_other,
    to_int,
)
from bot.web.views.console_verdict import EXAMPLE_RECEIPT, SOURCE_ROWS, form_draft, previews

HISTORY_ROWS = 50
NOTICES = {
    "assign": "负责人已更新。",
    "status": "状态已更新。",
    "merge": "已合并，举报都归到了这条线索下。",
    "split": "已拆分：这是新建的线索。",
    "verdict": "结论已保存（还没有发布）。",
    "debunk": "辟谣内容已保存（还没有发布）。",
    "publish": "已发布。举报人会陆续收到结论；属于知识库的结论几秒内即可被机器人回答。",
    "draft": "草稿已保存（只有您自己能看到，还没有发布）。",
    "note": "备注已添加。",
    "reopen": "已重新打开复核，线索回到“核实中”。",
}
Form = MultiDictProxy[Any]
Action = Callable[[Database, Actor, int, Form], Awaitable[str]]


async def to_queue(request: web.Request) -> web.Response:
    return see_other("/console/")


async def claim_page(request: web.Request) -> web.Response:
    """``GET /console/claims/{id}`` (any staff): the claim, its reports, history and forms."""
    claim_id = to_int(request.match_info["id"], "线索编号", minimum=1)
    return await _claim_page(request, claim_id)


async def _claim_page(
    request: web.Request,
    claim_id: int,
    *,
    error: ConsoleError | None = None,
    form: Form | None = None,
) -> web.Response:
    db = request.app[keys.DATABASE]
    actor = actor_of(request)
    detail = await console.claim_detail(db, claim_id)
    claim = detail.claim
    history = await claim_history(db, [claim_id, *detail.merged_ids], limit=HISTORY_ROWS)
    draft, draft_saved_at = await _form_state(db, actor, claim, form)
    receipt = detail.reports[0].public_id if detail.reports else EXAMPLE_RECEIPT
    context = {
        "claim": claim,
        "reports": detail.reports,
        "evidence": await evidence.for_reports(db, [r.id for r in detail.reports]),
        "merged_ids": detail.merged_ids,
        "open": claim.status in OPEN_STATUSES and claim.merged_into is None,
        "next_statuses": [s for s in TRANSITIONS.get(claim.status, ()) if s != "concluded"],
        "assignees": await active_names(db) if actor.can("triage") else [],
        "draft": _fields(draft),
        "draft_saved_at": draft_saved_at,
        "preview": previews(claim, draft, receipt),
        "notes": await notes_of(db, claim_id),
        "again": await again.asked_again(db, claim_id, CHINA_TIME),
        "knowledge_verdicts": debunk.KNOWLEDGE_VERDICTS,
        "history": history,
        "notice": NOTICES.get(request.query.get("done", "")),
        "error": error.message if error else None,
    }
    return render(request, "console/claim.html", context, status=status_of(error) if error else 200)


async def _form_state(
    db: Database, actor: Actor, claim: console.ClaimView, form: Form | None
) -> tuple[Draft, str | None]:
    """What the verdict form shows: what was just posted, else the user's own draft,
    else what is saved on the claim; and when the draft was saved, if it was."""
    if form is not None and "explanation" in form:
        return form_draft(form, SOURCE_ROWS), None
    if actor.can("conclude") and (saved := await draft_of(db, actor, claim.id)) is not None:
        return saved, local_time(saved.updated_at)
    on_claim = draft_from(
        claim.verdict, claim.debunk_title or "", claim.explanation or "", claim.sources
    )
    return on_claim, None


def _fields(draft: Draft) -> dict[str, Any]:
    sources = [dict(s) for s in draft.sources][:SOURCE_ROWS]
    sources += [{"organisation": "", "title": "", "url": ""}] * (SOURCE_ROWS - len(sources))
    return {
        "verdict": draft.verdict or "",
        "title": draft.title,
        "explanation": draft.explanation,
        "sources": sources,
    }


def _claim_url(claim_id: int, done: str) -> str:
    return f"/console/claims/{claim_id}?done={done}"


async def _assign(db: Database, actor: Actor, claim_id: int, form: Form) -> str:
    await triage.assign(db, actor, claim_id, str(form.get("assignee", "")))
    return _claim_url(claim_id, "assign")


async def _status(db: Database, actor: Actor, claim_id: int, form: Form) -> str:
    await triage.set_status(db, actor, claim_id, str(form.get("status", "")))
    return _claim_url(claim_id, "status")


async def _merge(db: Database, actor: Actor, claim_id: int, form: Form) -> str:
    target = to_int(form.get("target", ""), "目标线索编号", minimum=1)
    await triage.merge(db, actor, claim_id, target)
    return _claim_url(target, "merge")


async def _split(db: Database, actor: Actor, claim_id: int, form: Form) -> str:
    chosen = [to_int(v, "举报编号", minimum=1) for v in form.getall("report", [])]
    new = await triage.split(db, actor, claim_id, chosen)
    return _claim_url(new.id, "split")


async def _verdict(db: Database, actor: Actor, claim_id: int, form: Form) -> str:
    await debunk.set_verdict(db, actor, claim_id, str(form.get("verdict", "")))
    return _claim_url(claim_id, "verdict")


async def _debunk(db: Database, actor: Actor, claim_id: int, form: Form) -> str:
    await debunk.save_debunk(
        db,
        actor,
        claim_id,
        title=str(form.get("title", "")),
        explanation=str(form.get("explanation", "")),
        sources=form_draft(form, SOURCE_ROWS).sources,
    )
    return _claim_url(claim_id, "debunk")


async def _publish(db: Database, actor: Actor, claim_id: int, form: Form) -> str:
    await debunk.publish(db, actor, claim_id)
    return _claim_url(claim_id, "publish")


async def _conclude(db: Database, actor: Actor, claim_id: int, form: Form) -> str:
    """The one verdict form: "保存草稿", or "发布" (the debunk saved, the verdict set,
    then published). The draft is saved first either way: a refusal loses nothing."""
    draft = form_draft(form, SOURCE_ROWS)
    await save_draft(db, actor, claim_id, draft)
    if form.get("do") != "publish":
        return _claim_url(claim_id, "draft")
    if not draft.verdict:
        raise InvalidInput("请先选择结论")
    await _debunk(db, actor, claim_id, form)
    await debunk.set_verdict(db, actor, claim_id, draft.verdict)
    await debunk.publish(db, actor, claim_id)
    await drop_draft(db, actor, claim_id)
    return _claim_url(claim_id, "publish")


async def _note(db: Database, actor: Actor, claim_id: int, form: Form) -> str:
    await add_note(db, actor, claim_id, str(form.get("text", "")))
    return _claim_url(claim_id, "note") + "#notes-h"


async def _reopen(db: Database, actor: Actor, claim_id: int, form: Form) -> str:
    await again.reopen(db, actor, claim_id, str(form.get("reason", "")))
    return _claim_url(claim_id, "reopen")


ACTIONS: dict[str, Action] = {
    "assign": _assign,
    "status": _status,
    "merge": _merge,
    "split": _split,
    "verdict": _verdict,
    "debunk": _debunk,
    "publish": _publish,
    "conclude": _conclude,
    "note": _note,
    "reopen": _reopen,
}


async def act(request: web.Request) -> web.Response:
    """``POST /console/claims/{id}/{action}``: run the action, or show why not."""
    action = ACTIONS.get(request.match_info["action"])
    if action is None:
        raise web.HTTPNotFound()
    claim_id = to_int(request.match_info["id"], "线索编号", minimum=1)
    form = await request.post()
    try:
        location = await action(request.app[keys.DATABASE], actor_of(request), claim_id, form)
    except ConsoleError as exc:
        return await _claim_page(request, claim_id, error=exc, form=form)
    if location.endswith("done=publish"):
        request.app[keys.VERDICT_PUSHES].kick()  # reporters on WeChat hear back now
    return see_other(location)


async def evidence_image(request: web.Request) -> web.Response:
    """A picture sent with a report, shown only to signed-in console users."""
    evidence_id = to_int(request.match_info["id"], "图片编号", minimum=1)
    found = await evidence.image(request.app[keys.DATABASE], evidence_id)
    if found is None:
        raise web.HTTPNotFound(text="没有这张图片")
    content, content_type = found
    return web.Response(
        body=content,
        content_type=content_type,
        headers={
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": "inline",
        },
    )
