"""The console's claim queue and claim pages, and the forms that act on a claim.

Every form posts, then redirects back (post/redirect/get). A refused action
shows the claim page again with the reason, keeping what was typed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.rumors import console, debunk, evidence, triage
from bot.rumors.access import Actor
from bot.rumors.audit import audit_log
from bot.rumors.console import TRANSITIONS, claim_target
from bot.rumors.errors import ConsoleError
from bot.rumors.reports import OPEN_STATUSES
from bot.rumors.users import active_names
from bot.storage.db import Database
from bot.web import keys
from bot.web.middlewares import status_of
from bot.web.views.console_common import actor_of, render, see_other, to_int

SOURCE_ROWS = 3
NOTICES = {
    "assign": "负责人已更新。",
    "status": "状态已更新。",
    "merge": "已合并，举报都归到了这条线索下。",
    "split": "已拆分：这是新建的线索。",
    "verdict": "结论已保存（还没有发布）。",
    "debunk": "辟谣内容已保存（还没有发布）。",
    "publish": "已发布。举报人会陆续收到结论；属于知识库的结论几秒内即可被机器人回答。",
}
Form = MultiDictProxy[Any]
Action = Callable[[Database, Actor, int, Form], Awaitable[str]]


async def to_queue(request: web.Request) -> web.Response:
    return see_other("/console/")


async def claim_page(request: web.Request) -> web.Response:
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
    history = []
    if actor.can("read_audit"):
        history, _ = await audit_log(db, actor, target=claim_target(claim_id), limit=20)
    draft = _draft(form) if form is not None and "explanation" in form else _saved_draft(claim)
    context = {
        "claim": claim,
        "reports": detail.reports,
        "evidence": await evidence.for_reports(db, [r.id for r in detail.reports]),
        "merged_ids": detail.merged_ids,
        "open": claim.status in OPEN_STATUSES and claim.merged_into is None,
        "next_statuses": [s for s in TRANSITIONS.get(claim.status, ()) if s != "concluded"],
        "assignees": await active_names(db) if actor.can("triage") else [],
        "draft": draft,
        "knowledge_verdicts": debunk.KNOWLEDGE_VERDICTS,
        "history": history,
        "notice": NOTICES.get(request.query.get("done", "")),
        "error": error.message if error else None,
    }
    return render(request, "console/claim.html", context, status=status_of(error) if error else 200)


def _saved_draft(claim: console.ClaimView) -> dict[str, Any]:
    sources = [dict(s) for s in claim.sources][:SOURCE_ROWS]
    sources += [{"organisation": "", "title": "", "url": ""}] * (SOURCE_ROWS - len(sources))
    return {
        "title": claim.debunk_title or "",
        "explanation": claim.explanation or "",
        "sources": sources,
    }


def _draft(form: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "title": form.get("title", ""),
        "explanation": form.get("explanation", ""),
        "sources": _sources(form),
    }


def _sources(form: Mapping[str, Any]) -> list[dict[str, str]]:
    return [
        {k: str(form.get(f"source_{k}_{i}", "")) for k in ("organisation", "title", "url")}
        for i in range(1, SOURCE_ROWS + 1)
    ]


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
        sources=_sources(form),
    )
    return _claim_url(claim_id, "debunk")


async def _publish(db: Database, actor: Actor, claim_id: int, form: Form) -> str:
    await debunk.publish(db, actor, claim_id)
    return _claim_url(claim_id, "publish")


ACTIONS: dict[str, Action] = {
    "assign": _assign,
    "status": _status,
    "merge": _merge,
    "split": _split,
    "verdict": _verdict,
    "debunk": _debunk,
    "publish": _publish,
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
    if action is _publish:
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
