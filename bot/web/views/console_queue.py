"""The console's claim queue: filters, sorts, search, many claims at once, CSV.

``GET /console/`` shows a page of the queue; ``POST /console/queue`` acts on the
claims ticked on it (assign, status, merge) or on one row ("分给我"), through
``bot.rumors.triage`` (role checks and audit entries there), then goes back to
the same filtered page; ``GET /console/queue.csv`` is the filtered queue as CSV.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from bot.accounts.access import require
from bot.accounts.errors import ConsoleError, InvalidInput
from bot.accounts.users import active_names
from bot.rumors import console, export, triage
from bot.rumors.console import CHANNEL_LABELS, SORTS, ClaimFilter
from bot.rumors.reports import OPEN_STATUSES
from bot.storage.models import CHINA_TIME
from bot.web import keys
from bot.web.views.console_common import actor_of, render, see_other, stream_csv, to_int

PER_PAGE = 25
# Claims counted at most for "共 N 条" (more: "共 1000 多条"); counting every match of
# a common word took longer than the page (docs/benchmarks.md).
COUNT_CAP = 1000
MAX_SELECTED = 100  # claims acted on at once: four pages
QUEUE_STATUSES = {"open": "未结（待处理和核实中）", "all": "全部"}
# The page's query fields that choose what it shows (kept across pages and actions).
KEPT = ("status", "harm", "verdict", "assignee", "channel", "from", "to", "sort", "q")
BULK_ACTIONS = {"assign": "分派", "status": "改状态", "merge": "合并"}
DONE = {
    "assign": "已分派 {n} 条线索。",
    "status": "已更改 {n} 条线索的状态。",
    "merge": "已把 {n} 条线索并入 #{target}。",
    "mine": "#{target} 已分给你。",
}


def _day(value: str, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{what}要写成 2025-01-31 这样的日期") from None


def queue_filter(query: Mapping[str, str]) -> tuple[ClaimFilter, str]:
    """The filter and the sort a queue URL asks for (the page and its CSV share it)."""
    view = query.get("status", "open")
    statuses = {"open": OPEN_STATUSES, "all": ()}.get(view, (view,))
    first, last = _day(query.get("from", ""), "开始日期"), _day(query.get("to", ""), "结束日期")
    filters = ClaimFilter(
        statuses=tuple(statuses),
        harm=query.get("harm") or None,
        verdict=query.get("verdict") or None,
        assignee=query.get("assignee") or None,
        text=(query.get("q") or "").strip()[:100] or None,
        channel=query.get("channel") or None,
        # Days in Beijing time: "to" includes its whole day.
        seen_after=datetime.combine(first, time(), CHINA_TIME) if first else None,
        seen_before=datetime.combine(last + timedelta(days=1), time(), CHINA_TIME)
        if last
        else None,
    )
    return filters, query.get("sort") or "priority"


def _kept(query: Mapping[str, str]) -> dict[str, str]:
    return {k: query[k] for k in KEPT if query.get(k)}


async def queue(request: web.Request) -> web.Response:
    """``GET /console/`` (any staff): the claim queue, filtered and sorted as the URL asks."""
    return await _queue_page(request, request.query)


async def _queue_page(
    request: web.Request,
    query: Mapping[str, str],
    *,
    notice: str | None = None,
    problems: list[str] | None = None,
) -> web.Response:
    filters, sort = queue_filter(query)
    page = to_int(query.get("page", "1"), "页码", minimum=1)
    db = request.app[keys.DATABASE]
    result = await console.list_claims(
        db, filters, sort=sort, limit=PER_PAGE, offset=(page - 1) * PER_PAGE, count_cap=COUNT_CAP
    )
    # Over the cap the pages known are the full ones counted, and more follow.
    pages = max(
        1, math.ceil(result.total / PER_PAGE) if result.total_exact else result.total // PER_PAGE
    )
    kept = _kept(query)
    here = urlencode({**kept, "page": page} if page > 1 else kept)
    return render(
        request,
        "console/queue.html",
        {
            "claims": result.items,
            "total": result.total,
            "total_exact": result.total_exact,
            "page": page,
            "pages": pages,
            "prev_url": f"?{urlencode({**kept, 'page': page - 1})}" if page > 1 else None,
            "next_url": f"?{urlencode({**kept, 'page': page + 1})}" if result.has_next else None,
            "csv_url": f"/console/queue.csv?{urlencode(kept)}",
            "here": here,
            "query": {"status": "open", "sort": "priority", **kept},
            "queue_statuses": QUEUE_STATUSES,
            "channels": CHANNEL_LABELS,
            "sorts": SORTS,
            "assignees": await active_names(db),
            "next_statuses": [s for s in console.STATUSES if s != "concluded"],
            "notice": notice or _done(query),
            "problems": problems or [],
        },
        status=409 if problems and not notice else 200,
    )


def _done(query: Mapping[str, str]) -> str | None:
    template = DONE.get(query.get("done", ""))
    if template is None:
        return None
    return template.format(n=query.get("n", ""), target=query.get("target", ""))


async def queue_act(request: web.Request) -> web.Response:
    """``POST /console/queue``: the ticked claims (``claim``), or one row's "分给我"."""
    actor = actor_of(request)
    require(actor, "triage")
    form = await request.post()
    back = dict(parse_qsl(str(form.get("back", ""))))
    kept = _kept(back)
    if back.get("page"):
        kept["page"] = str(to_int(back["page"], "页码", minimum=1))
    db = request.app[keys.DATABASE]
    if form.get("mine"):
        claim_id = to_int(form["mine"], "线索编号", minimum=1)
        try:
            await triage.assign(db, actor, claim_id, actor.name)
        except ConsoleError as exc:
            return await _queue_page(request, kept, problems=[f"#{claim_id}：{exc.message}"])
        return see_other(_back(kept, done="mine", target=str(claim_id)))
    action = str(form.get("do", ""))
    if action not in BULK_ACTIONS:
        raise InvalidInput("请选择要做的操作")
    chosen = list(dict.fromkeys(to_int(v, "线索编号", minimum=1) for v in form.getall("claim", [])))
    if not chosen:
        raise InvalidInput("请先勾选线索")
    if len(chosen) > MAX_SELECTED:
        raise InvalidInput(f"一次最多处理 {MAX_SELECTED} 条")
    target = 0
    if action == "merge":
        typed = str(form.get("target", "")).strip()
        target = to_int(typed, "目标线索编号", minimum=1) if typed else chosen[0]
        chosen = [c for c in chosen if c != target]
        if not chosen:
            raise InvalidInput("合并要勾选至少两条线索，或填写要并入的线索编号")
    done, problems = 0, []
    for claim_id in chosen:
        try:
            if action == "assign":
                await triage.assign(db, actor, claim_id, str(form.get("assignee", "")))
            elif action == "status":
                await triage.set_status(db, actor, claim_id, str(form.get("status", "")))
            else:
                await triage.merge(db, actor, claim_id, target)
        except ConsoleError as exc:
            problems.append(f"#{claim_id}：{exc.message}")
        else:
            done += 1
    if problems:
        notice = DONE[action].format(n=done, target=target) if done else None
        return await _queue_page(request, kept, notice=notice, problems=problems)
    return see_other(_back(kept, done=action, n=str(done), target=str(target)))


def _back(kept: Mapping[str, str], **done: str) -> str:
    return "/console/?" + urlencode({**kept, **done})


async def queue_csv(request: web.Request) -> web.StreamResponse:
    """The filtered queue as CSV."""
    filters, sort = queue_filter(request.query)
    console.known(sort, SORTS, "排序")
    rows = export.queue_rows(request.app[keys.DATABASE], actor_of(request), filters, sort)
    name = f"线索队列-{datetime.now(CHINA_TIME):%Y%m%d-%H%M}.csv"
    return await stream_csv(request, rows, "queue.csv", display_name=name)
