"""The monthly report for the district: one printable HTML file.

``kepu report monthly --month 2026-11`` (and the 统计 page's download) writes
it: the month's figures beside the month before, what people asked, the
rumours most reported (流言榜), fraud checks, the knowledge gaps found and
whether they are filled now, and the volunteer service. Charts are inline SVG,
the style sheet is inside: the file opens anywhere, prints on A4 and needs no
network. Every figure follows the statistics' privacy rule (cells of fewer
than 5 people are "<5").
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jinja2
import sqlalchemy as sa

from bot.insights import segments, stats, suppress
from bot.insights.figures import draw as draw_table
from bot.insights.gaps import Gap, Vectors, filled_by, knowledge_gaps
from bot.insights.rollup import roll_finished
from bot.insights.segments import keep_finished_months
from bot.insights.stats import Period, Table
from bot.storage.db import Database
from bot.storage.models import CHINA_TIME, RumorClaim, RumorReport, ServiceHours

TEMPLATES = Path(__file__).parent / "templates"
_MONTH = re.compile(r"(\d{4})-(\d{2})")
TOP_RUMOURS = 10
TOP_GAPS = 15


def month_period(month: str) -> Period:
    """``YYYY-MM`` as a period of whole days; ValueError if it is no month."""
    match = _MONTH.fullmatch(month.strip())
    if not match:
        raise ValueError("月份要写成 2026-11 这样")
    year, number = int(match.group(1)), int(match.group(2))
    if not 1 <= number <= 12 or year < 2000:
        raise ValueError("没有这个月份")
    start = date(year, number, 1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return Period(start, end)


def previous(period: Period) -> Period:
    """The calendar month before ``period``'s start (for comparisons)."""
    end = period.start - timedelta(days=1)
    return Period(end.replace(day=1), end, period.channel)


@dataclass
class Rumour:
    title: str
    verdict: str
    why: str
    reports: int | None  # hidden under 5 people


@dataclass
class GapLine:
    example: str
    people: int | None
    asked: int
    filled_by: str | None  # the entry that answers it now


@dataclass
class Monthly:
    period: Period
    figures: dict[str, int | None]
    before: dict[str, int | None]
    tables: dict[str, Table]
    rumours: list[Rumour] = field(default_factory=list)
    gaps: list[GapLine] = field(default_factory=list)
    gaps_total: int = 0
    gaps_filled: int = 0
    service_hours: float | None = None
    segments: list[tuple[str, int | None]] = field(default_factory=list)
    charts: dict[str, str] = field(default_factory=dict)


async def rumours_of(db: Database, period: Period) -> list[Rumour]:
    """Claims with a verdict, most reported in the period first (the 流言榜)."""
    since, until = period.bounds
    query = (
        sa.select(
            RumorClaim.debunk_title,
            RumorClaim.title,
            RumorClaim.verdict,
            RumorClaim.explanation,
            sa.func.count(RumorReport.id),
            sa.func.count(sa.distinct(RumorReport.sender_hash)),
        )
        .join(RumorReport, RumorReport.claim_id == RumorClaim.id)
        .where(
            RumorReport.created_at >= since,
            RumorReport.created_at < until,
            RumorClaim.verdict.is_not(None),
        )
        .group_by(RumorClaim.id)
        .order_by(sa.func.count(RumorReport.id).desc(), RumorClaim.id)
        .limit(TOP_RUMOURS)
    )
    async with db.session() as session:
        rows = (await session.execute(query)).all()
    counts = suppress.apply([r[4] for r in rows], [r[5] for r in rows], total_shown=False)
    return [
        Rumour(
            title=(debunk_title or title or "")[:60],
            verdict=stats.VERDICTS.get(verdict or "", verdict or ""),
            why=_first_sentence(explanation or ""),
            reports=n,
        )
        for (debunk_title, title, verdict, explanation, _, _), n in zip(rows, counts, strict=True)
    ]


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    for mark in "。！？!?":
        if mark in text:
            text = text.split(mark, 1)[0] + mark
            break
    return text if len(text) <= 80 else text[:79] + "…"


async def hours_served(db: Database, period: Period) -> float:
    since, until = period.bounds
    async with db.session() as session:
        minutes = await session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(ServiceHours.minutes), 0)).where(
                ServiceHours.at >= since, ServiceHours.at < until
            )
        )
    return round(int(minutes or 0) / 60, 1)


async def build(
    db: Database,
    month: str,
    *,
    knowledge: Any = None,
    vectors: Vectors | None = None,
) -> Monthly:
    """The month's report. ``knowledge`` (a ``KnowledgeService``) tells which gaps
    an entry answers now; ``vectors`` groups the questions (``bot.insights.gaps``)."""
    period = month_period(month)
    before = previous(period)
    await roll_finished(db)  # the web service does it hourly; a report may come first
    await keep_finished_months(db)
    tables = {t.key: t for t in await stats.report(db, period)}
    last = {t.key: t for t in [await stats.fraud(db, before)]}
    report = Monthly(
        period=period,
        figures=await stats.overview(db, period),
        before=await stats.overview(db, before),
        tables=tables,
    )
    tables["fraud_trend"] = _trend(tables["fraud"], last["fraud"])
    report.rumours = await rumours_of(db, period)
    since, until = period.bounds
    groups = await knowledge_gaps(db, since, until, vectors=vectors)
    report.gaps_total = len(groups)
    for gap in groups[:TOP_GAPS]:
        report.gaps.append(await _gap_line(gap, knowledge))
    report.gaps_filled = sum(1 for g in report.gaps if g.filled_by)
    report.service_hours = await hours_served(db, period)
    found = await segments.months(db, period.start, period.start)
    if found:
        people = found[0].people
        counts = suppress.apply(
            [people.get(k, 0) for k in segments.SEGMENTS],
            [people.get(k, 0) for k in segments.SEGMENTS],
            total_shown=False,
        )
        report.segments = list(zip(segments.SEGMENTS.values(), counts, strict=True))
    return report


async def _gap_line(gap: Gap, knowledge: Any) -> GapLine:
    filled = await filled_by(gap, knowledge)
    people = gap.people if gap.people >= suppress.MIN_PEOPLE else None
    return GapLine(gap.example, people, len(gap.texts), filled)


def _trend(now: Table, then: Table) -> Table:
    earlier = {tuple(row[:2]): row[2] for row in then.rows}
    rows = [[*row[:2], row[2], earlier.pop(tuple(row[:2]), 0)] for row in now.rows]
    rows += [[*key, 0, value] for key, value in earlier.items()]
    return Table("fraud_trend", "查诈骗：本月和上月", ["风险", "类型", "本月", "上月"], rows)


def draw(report: Monthly) -> dict[str, str]:
    """The report's charts (SVG)."""
    out: dict[str, str] = {}
    for key in ("daily", "topic", "entry", "fraud", "hours"):
        table = report.tables.get(key)
        if table is not None:
            svgs = draw_table(table)
            out[key] = svgs[1] if key == "daily" and len(svgs) > 1 else (svgs[0] if svgs else "")
    return out


def render(report: Monthly, now: datetime | None = None) -> str:
    """The self-contained HTML file."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    template = environment.get_template("monthly.html")
    made = (now or datetime.now(timezone.utc)).astimezone(CHINA_TIME)
    return template.render(
        r=report,
        shown=suppress.shown,
        change=_change,
        made=made.strftime("%Y-%m-%d %H:%M"),
        month=f"{report.period.start.year}年{report.period.start.month}月",
    )


def _change(now: int | None, then: int | None) -> str:
    if now is None or then is None or then == 0:
        return ""
    delta = (now - then) / then * 100
    return f"{'+' if delta >= 0 else ''}{delta:.0f}%"


async def monthly_html(db: Database, month: str, knowledge: Any = None) -> str:
    """The whole file for ``month`` (``YYYY-MM``): figures, charts, HTML."""
    vectors = knowledge.sentence_vectors if knowledge is not None else None
    report = await build(db, month, knowledge=knowledge, vectors=vectors)
    report.charts = await asyncio.to_thread(draw, report)
    return render(report)
