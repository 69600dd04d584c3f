"""The 统计 page: what people asked, what we could not answer, who we reach.

Experts and admins see every table; a moderator sees the figures of the claims
assigned to them. Each table comes with its chart (SVG made on the server,
``bot.insights.charts``) and a CSV of exactly what the table shows: cells of
fewer than 5 people are "<5" in both (``bot.insights.suppress``).
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections import Counter
from datetime import date, timedelta
from time import monotonic
from typing import Any

from aiohttp import web

from bot.accounts.access import Actor
from bot.accounts.errors import Forbidden, InvalidInput
from bot.insights import charts, segments, stats
from bot.insights.figures import chart_count, draw
from bot.insights.gaps import knowledge_gaps
from bot.insights.report import month_period, monthly_html
from bot.insights.rollup import ALL_CHANNELS, local_now
from bot.insights.stats import CHANNELS, Period, Table
from bot.insights.suppress import MIN_PEOPLE, apply, shown
from bot.storage.models import CHINA_TIME
from bot.web import keys
from bot.web.auth import api_actor, bearer_required
from bot.web.views.console_common import actor_of, page_limit, render, to_int

DEFAULT_DAYS = 30


def period_of(request: web.Request) -> Period:
    """The period and channel asked for (default: the last 30 days, all channels)."""
    query = request.query
    today = local_now().date()
    end = _date(query.get("to"), "结束日期") or today
    start = _date(query.get("from"), "开始日期") or end - timedelta(days=DEFAULT_DAYS - 1)
    channel = query.get("channel") or ALL_CHANNELS
    if channel not in CHANNELS:
        raise InvalidInput("没有这个渠道")
    try:
        return Period(start, end, channel)
    except ValueError:
        raise InvalidInput(f"日期不对：开始不能晚于结束，最长 {stats.MAX_DAYS} 天") from None


def _date(value: str | None, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InvalidInput(f"{what}要写成 2026-01-31 这样") from None


def scope_of(actor: Actor) -> str | None:
    """``None``: every table; a name: only that moderator's claims. Others: refused."""
    if actor.can("read_stats"):
        return None
    if actor.role == "moderator":
        return actor.name
    raise Forbidden(f"{actor.role_label}没有这项权限")


# Every table of a period, kept a minute (the page, its CSVs and its charts ask
# for the same figures one after another).
TABLES_SECONDS = 60.0
_tables: dict[tuple[str, Period, str | None], tuple[float, list[Table]]] = {}


def forget() -> None:
    """Drop the tables and figures kept for a minute."""
    _tables.clear()
    stats.forget()


async def tables_for(request: web.Request, period: Period) -> list[Table]:
    """The period's tables this user may see, kept ``TABLES_SECONDS`` per scope."""
    assignee = scope_of(actor_of(request))
    db = request.app[keys.DATABASE]
    key = (db.url, period, assignee)
    now = monotonic()
    cached = _tables.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    tables = await stats.report(db, period, assignee=assignee)
    for stale in [k for k, (until, _) in _tables.items() if until <= now]:
        del _tables[stale]
    _tables[key] = (now + TABLES_SECONDS, tables)
    return tables


async def stats_page(request: web.Request) -> web.Response:
    """``GET /console/stats``: all figures for experts and admins; a moderator's own claims'."""
    period = period_of(request)
    actor = actor_of(request)
    assignee = scope_of(actor)
    db = request.app[keys.DATABASE]
    tables = await tables_for(request, period)
    figures = await stats.overview(db, period) if assignee is None else {}
    query = {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "channel": period.channel,
    }
    return render(
        request,
        "console/stats.html",
        {
            "period": period,
            "query": query,
            "channels": CHANNELS,
            "figures": figures,
            # Charts come as images of their own (``stats_chart``): the page and its
            # tables do not wait for them to be drawn.
            "sections": [(t, range(chart_count(t))) for t in tables],
            "own_only": assignee is not None,
            "last_month": (period.end.replace(day=1) - timedelta(days=1)).strftime("%Y-%m"),
            "shown": shown,
        },
    )


async def stats_chart(request: web.Request) -> web.Response:
    """``/console/stats/chart.svg?table=…&n=…`` (and the period): one chart of a
    table, SVG, drawn in a thread (matplotlib is CPU work) and kept by content."""
    period = period_of(request)
    name = request.query.get("table", "")
    number = to_int(request.query.get("n", "0"), "n", minimum=0, maximum=9)
    tables = {t.key: t for t in await tables_for(request, period)}
    table = tables.get(name)
    if table is None or number >= chart_count(table):
        raise web.HTTPNotFound(text="没有这张图")
    svgs = await asyncio.to_thread(draw, table)
    return web.Response(text=svgs[number], content_type="image/svg+xml", charset="utf-8")


async def stats_csv(request: web.Request) -> web.Response:
    """One table as CSV (UTF-8 with BOM, so that Excel reads the Chinese right)."""
    period = period_of(request)
    name = request.query.get("table", "")
    tables = {t.key: t for t in await tables_for(request, period)}
    table = tables.get(name)
    if table is None:
        raise web.HTTPNotFound(text="没有这张表")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(table.csv_rows())
    filename = f"kepu-{table.key}-{period.start}-{period.end}.csv"
    return web.Response(
        body=("\ufeff" + out.getvalue()).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def segments_page(request: web.Request) -> web.Response:
    """``/console/stats/segments``: 用户分层 by month (experts and admins)."""
    actor = actor_of(request)
    if not actor.can("read_stats"):
        raise Forbidden(f"{actor.role_label}没有这项权限")
    count = to_int(request.query.get("months", "6"), "月数", minimum=1, maximum=24)
    this_month = local_now().date().replace(day=1)
    first = this_month
    for _ in range(count - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    db = request.app[keys.DATABASE]
    found = await segments.months(db, first, this_month)
    table = segment_table(found)
    latest = found[-1] if found else None
    asked = await segment_asked(db, latest) if latest is not None else []
    chart = await asyncio.to_thread(draw_segments, table) if found else ""
    return render(
        request,
        "console/segments.html",
        {
            "table": table,
            "chart": chart,
            "latest": latest,
            "asked": asked,
            "rules": [(segments.SEGMENTS[k], rule) for k, rule in segments.RULES.items()],
            "months": count,
            "shown": shown,
        },
    )


def segment_table(found: list[segments.MonthSegments]) -> Table:
    """People per segment (rows) and month (columns), under 5 hidden."""
    columns = ["分层", *(f"{m.month.year}-{m.month.month:02d}" for m in found)]
    table = Table("segments", "用户分层（每月人数）", columns)
    for key, label in segments.SEGMENTS.items():
        counts = [m.people.get(key, 0) for m in found]
        # Segments overlap and no total is shown: each small cell hides alone.
        table.rows.append([label, *apply(counts, counts, total_shown=False)])
    return table


async def segment_asked(
    db: Any, month: segments.MonthSegments
) -> list[tuple[str, int | None, list[str], list[str]]]:
    """Per segment of the month: people, top topics, top entries (titled)."""
    ids = {e for c in month.entries.values() for e, _ in c.most_common(segments.TOP_ASKED)}
    titles = await stats.entry_titles(db, ids)
    out: list[tuple[str, int | None, list[str], list[str]]] = []
    for key, label in segments.SEGMENTS.items():
        people = month.people.get(key, 0)
        if people < MIN_PEOPLE:
            out.append((label, None if people else 0, [], []))
            continue
        topics = [
            stats.TOPICS.get(t, t) for t, _ in month.topics.get(key, Counter()).most_common(3)
        ]
        entries = [
            titles.get(e, e)
            for e, _ in month.entries.get(key, Counter()).most_common(segments.TOP_ASKED)
        ]
        out.append((label, people, topics, entries))
    return out


def draw_segments(table: Table) -> str:
    """The segments table as an SVG line chart: people per month in each segment."""
    series = {row[0]: [None if v is None else float(v) for v in row[1:]] for row in table.rows}
    return charts.line_chart(table.columns[1:], series, title="用户分层：每月人数", unit="人")


async def monthly_report(request: web.Request) -> web.Response:
    """``/console/stats/monthly?month=YYYY-MM``: the month's report as a file
    (experts and admins; ``bot.insights.report``)."""
    actor = actor_of(request)
    if not actor.can("read_stats"):
        raise Forbidden(f"{actor.role_label}没有这项权限")
    month = request.query.get("month", "")
    try:
        month_period(month)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    html = await monthly_html(request.app[keys.DATABASE], month, request.app.get(keys.KNOWLEDGE))
    return web.Response(
        text=html,
        content_type="text/html",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="kepu-report-{month}.html"'},
    )


@bearer_required
async def summary_api(request: web.Request) -> web.Response:
    """``GET /api/v1/stats/summary?days=N`` (expert or admin token): the headline
    figures of the last N days (1-366), hidden cells as null."""
    actor = api_actor(request)
    if not actor.can("read_stats"):
        raise Forbidden(f"{actor.role_label}没有这项权限")
    days = to_int(request.query.get("days", str(DEFAULT_DAYS)), "days", minimum=1, maximum=366)
    channel = request.query.get("channel") or ALL_CHANNELS
    if channel not in CHANNELS:
        raise InvalidInput("没有这个渠道")
    period = Period.last_days(days, channel)
    db = request.app[keys.DATABASE]
    figures = await stats.overview(db, period)
    topics = await stats.topics(db, period)
    fraud = await stats.fraud(db, period)
    return web.json_response(
        {
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "channel": channel,
            "conversations": figures["conversations"],
            "users": figures["users"],
            "new_users": figures["new_users"],
            "returning_users": figures["returning_users"],
            "messages": figures["turns"],
            "questions": {
                "total": figures["questions"],
                "answered_directly": figures["questions_direct"],
                "choices": figures["questions_choices"],
                "not_answered": figures["questions_none"],
            },
            "questions_by_topic": [
                {"topic": label, "count": count} for label, count in topics.rows
            ],
            "fraud_checks": [
                {"risk": risk, "type": kind, "count": count} for risk, kind, count in fraud.rows
            ],
            "reports": figures["reports"],
            "orders": figures["orders"],
            "suppressed_below": 5,
        }
    )


@bearer_required
async def gaps_api(request: web.Request) -> web.Response:
    """``GET /api/v1/gaps?limit=N&days=D`` (expert or admin token): the questions we
    could not answer in the last D days (default 30), grouped, most people first.
    Examples are redacted; people under 5 are null."""
    actor = api_actor(request)
    if not actor.can("read_stats"):
        raise Forbidden(f"{actor.role_label}没有这项权限")
    limit = page_limit(request, maximum=200, default=20)
    days = to_int(request.query.get("days", str(DEFAULT_DAYS)), "days", minimum=1, maximum=366)
    since, until = Period.last_days(days).bounds
    knowledge = request.app.get(keys.KNOWLEDGE)
    vectors = knowledge.sentence_vectors if knowledge is not None else None
    found = await knowledge_gaps(request.app[keys.DATABASE], since, until, vectors=vectors)
    return web.json_response(
        {
            "from": since.astimezone(CHINA_TIME).date().isoformat(),
            "to": (until - timedelta(seconds=1)).astimezone(CHINA_TIME).date().isoformat(),
            "groups": len(found),
            "gaps": [
                {
                    "example": gap.example,
                    "examples": gap.texts[:5],
                    "asked": len(gap.texts),
                    "people": gap.people if gap.people >= MIN_PEOPLE else None,
                    "channels": sorted(gap.channels),
                    "nearest_entry": gap.nearest_entry,
                    "last_asked": gap.last_asked.isoformat() if gap.last_asked else None,
                }
                for gap in found[:limit]
            ],
            "suppressed_below": MIN_PEOPLE,
        }
    )
