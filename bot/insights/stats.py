"""The district's statistics for a period and a channel, privacy rule applied.

Everything here reads the daily sums (``analytics_rollups``, ``bot.insights.
rollup``), the per-user days and first days (unique, new and returning users),
and for today the events themselves; plus our own tables for what they hold
better: 有用/没用 (``feedback``), rumour claims and service orders. Every table
hides cells of fewer than 5 people (``bot.insights.suppress``).

Labels are plain Chinese; keys stay English (CSV and JSON use both).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from time import monotonic
from typing import Any

import sqlalchemy as sa

from bot.insights import suppress
from bot.insights.rollup import (
    ALL_CHANNELS,
    SKETCH_K,
    events_of_day,
    local_now,
    merge_sketches,
    rollup_rows,
    summarise,
)
from bot.rumors.console import CHANNEL_LABELS, HARMS
from bot.rumors.console import VERDICTS as CLAIM_VERDICTS
from bot.storage.db import Database
from bot.storage.models import (
    CHINA_TIME,
    AnalyticsRollup,
    AnalyticsUser,
    AnalyticsUserDay,
    Feedback,
    KnowledgeRecord,
    RumorClaim,
    ServiceOrder,
)

CHANNELS: dict[str, str] = {ALL_CHANNELS: "全部渠道", **CHANNEL_LABELS}
TOPICS: dict[str, str] = {
    "smartphone": "智能手机",
    "health": "健康",
    "fraud": "防诈骗",
    "farming": "农业",
    "rumor": "辟谣",
}
# What a question got, in three groups (the fallback rate is the last).
OUTCOMES: dict[str, str] = {"direct": "直接回答", "choices": "给出选项", "none": "没答上"}
OUTCOME_OF: dict[str, str] = {
    "answer": "direct",
    "debunk": "direct",
    "fraud_verdict": "direct",
    "fraud_aftermath": "direct",
    "first_aid": "direct",
    "handoff": "direct",
    "urgent": "direct",
    "about_us": "direct",
    "choices": "choices",
    "report_offer": "choices",
    "none": "none",
    "not_understood": "none",
}
RISKS: dict[str, str] = {"high": "高风险", "medium": "中风险", "low": "低风险"}
# A claim without a verdict yet is counted under "".
VERDICTS: dict[str, str] = {**CLAIM_VERDICTS, "": "未定结论"}
MAX_DAYS = 366
TOP_ENTRIES = 15


@dataclass(frozen=True)
class Period:
    """Whole days, China time, both ends included; one channel or all (``*``)."""

    start: date
    end: date
    channel: str = ALL_CHANNELS

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the period ends before it starts")
        if (self.end - self.start).days >= MAX_DAYS:
            raise ValueError(f"a period is at most {MAX_DAYS} days")

    @classmethod
    def last_days(cls, days: int, channel: str = ALL_CHANNELS, today: date | None = None) -> Period:
        """The ``days`` days up to and including ``today`` (China time)."""
        today = today or local_now().date()
        return cls(today - timedelta(days=days - 1), today, channel)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC instants [from, to)."""
        start = datetime.combine(self.start, time(), CHINA_TIME)
        end = datetime.combine(self.end + timedelta(days=1), time(), CHINA_TIME)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


@dataclass
class Table:
    """A table as shown (and exported): hidden cells are ``None``."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""

    def csv_rows(self) -> list[list[str]]:
        """Header and rows as CSV cells (a hidden cell as the suppression mark)."""
        return [self.columns] + [
            [suppress.shown(v) if v is None or isinstance(v, int) else str(v) for v in row]
            for row in self.rows
        ]


class _Sum:
    """Turns and people of a cell, over one day or several (a plain class with
    slots: a month of sums makes tens of thousands of them per page)."""

    __slots__ = ("turns", "users", "most", "sketches")

    def __init__(
        self, turns: int = 0, users: int = 0, most: int = 0, sketches: list[str] | None = None
    ) -> None:
        self.turns = turns
        self.users = users  # sum over days: an upper bound of distinct people
        self.most = most  # the most on one day: a lower bound
        self.sketches = sketches if sketches is not None else []

    @property
    def people(self) -> int:
        """Distinct people, exact below SKETCH_K (the privacy rule needs no more)."""
        if self.most >= SKETCH_K:
            return SKETCH_K
        return len(merge_sketches(self.sketches))

    def add(self, turns: int, users: int, sketch: str, most: int | None = None) -> None:
        """Count a day's cell (``most`` when adding sums of several days)."""
        self.turns += turns
        self.users += users
        self.most = max(self.most, users if most is None else most)
        self.sketches.append(sketch)

    def merge(self, other: _Sum) -> None:
        self.add(other.turns, other.users, "".join(other.sketches), other.most)


async def _cells(
    db: Database, period: Period, dimensions: Sequence[str]
) -> dict[str, dict[date, dict[str, _Sum]]]:
    """dimension → day → key → sums, for the period (today summed from its events)."""
    every = await _period_cells(db, period)
    return {d: every.get(d, defaultdict(dict)) for d in dimensions}


async def _period_cells(db: Database, period: Period) -> dict[str, dict[date, dict[str, _Sum]]]:
    """Every dimension's cells of the period, read once a minute at most (one query)."""
    key = (db.url, period)
    cached = _pages.get(key)
    now = monotonic()
    if cached is not None and cached[0] > now:
        cells: dict[str, dict[date, dict[str, _Sum]]] = cached[1]
        return cells
    out: dict[str, dict[date, dict[str, _Sum]]] = defaultdict(lambda: defaultdict(dict))
    today = local_now().date()
    async with db.session() as session:
        result = await session.execute(
            sa.select(
                AnalyticsRollup.day,
                AnalyticsRollup.dimension,
                AnalyticsRollup.key,
                AnalyticsRollup.turns,
                AnalyticsRollup.users,
                AnalyticsRollup.sketch,
            ).where(
                AnalyticsRollup.day.between(period.start, period.end),
                AnalyticsRollup.channel == period.channel,
            )
        )
        rows: list[Any] = list(result.all())
    summed_days = {row.day for row in rows}
    for day in (today, today - timedelta(days=1)):
        if period.start <= day <= period.end and day not in summed_days:
            live = await _live_rows(db, day)
            rows += [
                (r["day"], r["dimension"], r["key"], r["turns"], r["users"], r["sketch"])
                for r in live
                if r["channel"] == period.channel
            ]
    for day, dimension, name, turns, users, sketch in rows:
        by_key = out[dimension][day]
        cell = by_key.get(name)
        if cell is None:
            by_key[name] = _Sum(turns, users, users, [sketch])
        else:
            cell.add(turns, users, sketch)
    for stale in [k for k, (until, _) in _pages.items() if until <= now]:
        del _pages[stale]
    _pages[key] = (now + LIVE_SECONDS, out)
    return out


# A day not yet summed is summed from its events, at most once a minute per process.
LIVE_SECONDS = 60.0
_live: dict[tuple[str, date], tuple[float, list[dict[str, Any]]]] = {}
# A period's cells, kept as long (the figures a page shows are at most a minute old).
_pages: dict[tuple[str, Period], tuple[float, Any]] = {}  # also distinct users (_users)


async def _live_rows(db: Database, day: date, *, fresh: bool = False) -> list[dict[str, Any]]:
    key = (db.url, day)
    cached = _live.get(key)
    now = monotonic()
    if cached is not None and cached[0] > now and not fresh:
        return cached[1]
    events = await events_of_day(db, day)
    # Summing a busy day's events is CPU work (about a second at 25,000): off the loop.
    rows = await asyncio.to_thread(lambda: rollup_rows(summarise(events)))
    for stale in [k for k, (until, _) in _live.items() if until <= now]:
        del _live[stale]
    _live[key] = (now + 2 * LIVE_SECONDS, rows)
    return rows


def forget() -> None:
    """Drop every figure kept for a minute (after a bulk import, and in tests)."""
    _live.clear()
    _pages.clear()


async def keep_today_summed(db: Database) -> None:
    """Sum today (and yesterday, until the hourly task has) from their events now,
    so that no page view waits for it: the web service calls this every
    ``LIVE_SECONDS`` (``bot.web.stats_routes``)."""
    today = local_now().date()
    for day in (today, today - timedelta(days=1)):
        async with db.session() as session:
            summed = await session.scalar(
                sa.select(sa.func.count())
                .select_from(AnalyticsRollup)
                .where(AnalyticsRollup.day == day, AnalyticsRollup.dimension == "all")
            )
        if not summed:
            await _live_rows(db, day, fresh=True)


def _over_period(by_day: dict[date, dict[str, _Sum]]) -> dict[str, _Sum]:
    total: dict[str, _Sum] = {}
    for cells in by_day.values():
        for key, cell in cells.items():
            total.setdefault(key, _Sum()).merge(cell)
    return total


def _table(
    key: str,
    title: str,
    columns: list[str],
    labelled: Iterable[tuple[list[Any], int, int]],
    *,
    note: str = "",
) -> Table:
    """Rows of (leading cells, count, people): the count hidden for small cells."""
    items = list(labelled)
    counts = suppress.apply([c for _, c, _ in items], [p for _, _, p in items])
    rows = [[*lead, count] for (lead, _, _), count in zip(items, counts, strict=True)]
    return Table(key, title, columns, rows, note)


async def overview(db: Database, period: Period) -> dict[str, int | None]:
    """Headline figures of the period (hidden when under 5 people)."""
    cells = await _cells(db, period, ["all", "session", "asked", "report", "order"])
    figures: dict[str, int | None] = {}
    for name, dimension in (
        ("turns", "all"),
        ("conversations", "session"),
        ("reports", "report"),
        ("orders", "order"),
    ):
        total = _over_period(cells[dimension]).get("", _Sum())
        figures[name] = (
            total.turns if total.people >= suppress.MIN_PEOPLE or not total.turns else None
        )
    asked = _over_period(cells["asked"])
    outcome: dict[str, _Sum] = {k: _Sum() for k in OUTCOMES}
    for decision, cell in asked.items():
        outcome[OUTCOME_OF.get(decision, "direct")].merge(cell)
    questions = sum(c.turns for c in asked.values())
    people = merge_sketches("".join(c.sketches) for c in asked.values())
    figures["questions"] = (
        questions if len(people) >= suppress.MIN_PEOPLE or not questions else None
    )
    for name in OUTCOMES:
        value = outcome[name]
        figures[f"questions_{name}"] = (
            value.turns if value.people >= suppress.MIN_PEOPLE or value.turns == 0 else None
        )
    users, new = await _users(db, period)
    figures["users"] = users if users >= suppress.MIN_PEOPLE or not users else None
    figures["new_users"] = new if new >= suppress.MIN_PEOPLE or new == 0 else None
    figures["returning_users"] = (
        users - new
        if figures["users"] is not None and (users - new >= suppress.MIN_PEOPLE or users == new)
        else None
    )
    if figures["new_users"] is None or figures["returning_users"] is None:
        figures["new_users"] = figures["returning_users"] = None  # one gives the other away
    return figures


def _channel_filter(column: Any, channel: str) -> Any:
    return sa.true() if channel == ALL_CHANNELS else column == channel


async def _users(db: Database, period: Period) -> tuple[int, int]:
    """Distinct users of the period, and how many of them wrote for the first time
    (read once a minute at most, like the cells)."""
    key = (f"users:{db.url}", period)
    cached = _pages.get(key)
    if cached is not None and cached[0] > monotonic():
        hit: tuple[int, int] = cached[1]
        return hit
    async with db.session() as session:
        if period.channel == ALL_CHANNELS and period.end >= local_now().date():
            # A period that runs to today: a user wrote in it exactly when their
            # last day is in it (none is later than today). One indexed count
            # instead of a distinct count over every per-user day (323 ms at
            # 10 million events, docs/benchmarks.md).
            users = await session.scalar(
                sa.select(sa.func.count()).where(AnalyticsUser.last_day >= period.start)
            )
        else:
            users = await session.scalar(
                sa.select(sa.func.count(sa.distinct(AnalyticsUserDay.user_hash))).where(
                    AnalyticsUserDay.day.between(period.start, period.end),
                    _channel_filter(AnalyticsUserDay.channel, period.channel),
                )
            )
        new = await session.scalar(
            sa.select(sa.func.count()).where(
                AnalyticsUser.first_day.between(period.start, period.end),
                _channel_filter(AnalyticsUser.first_channel, period.channel),
            )
        )
    counted = int(users or 0), int(new or 0)
    _pages[key] = (monotonic() + LIVE_SECONDS, counted)
    return counted


async def daily(db: Database, period: Period) -> Table:
    """Per day: users, new users, conversations, questions, and how questions went."""
    cells = await _cells(db, period, ["all", "session", "asked"])
    # A day's distinct users are in its sums (dimension "all").
    users = {day: by_key[""].users for day, by_key in cells["all"].items() if "" in by_key}
    async with db.session() as session:
        new_query = (
            sa.select(AnalyticsUser.first_day, sa.func.count())
            .where(
                AnalyticsUser.first_day.between(period.start, period.end),
                _channel_filter(AnalyticsUser.first_channel, period.channel),
            )
            .group_by(AnalyticsUser.first_day)
        )
        new: dict[date, int] = {
            day: count for day, count in (await session.execute(new_query)).all()
        }
    table = Table(
        "daily",
        "每天的使用情况",
        ["日期", "用户", "新用户", "老用户", "对话", "提问", *OUTCOMES.values(), "没答上的比例"],
    )
    for day in period.days:
        n_users, n_new = int(users.get(day, 0)), int(new.get(day, 0))
        sessions = cells["session"].get(day, {}).get("", _Sum())
        asked = cells["asked"].get(day, {})
        outcome = {k: _Sum() for k in OUTCOMES}
        for decision, cell in asked.items():
            outcome[OUTCOME_OF.get(decision, "direct")].merge(cell)
        people = len(merge_sketches("".join(c.sketches) for c in asked.values()))
        questions = sum(c.turns for c in asked.values())
        small_day = 0 < n_users < suppress.MIN_PEOPLE
        split = suppress.apply([n_new, n_users - n_new], [n_new, n_users - n_new])
        counts = suppress.apply(
            [outcome[k].turns for k in OUTCOMES], [outcome[k].people for k in OUTCOMES]
        )
        rate = (
            f"{100 * outcome['none'].turns / questions:.0f}%"
            if questions and people >= suppress.MIN_PEOPLE and counts[2] is not None
            else ""
        )
        table.rows.append(
            [
                day.isoformat(),
                None if small_day else n_users,
                None if small_day else split[0],
                None if small_day else split[1],
                sessions.turns
                if sessions.people >= suppress.MIN_PEOPLE or not sessions.turns
                else None,
                questions if people >= suppress.MIN_PEOPLE or not questions else None,
                *counts,
                rate,
            ]
        )
    return table


async def by_dimension(
    db: Database, period: Period, dimension: str, labels: dict[str, str], title: str, header: str
) -> Table:
    """One dimension's cells over the period, most first."""
    cells = _over_period((await _cells(db, period, [dimension]))[dimension])
    items = sorted(cells.items(), key=lambda kv: (-kv[1].turns, kv[0]))
    return _table(
        dimension,
        title,
        [header, "次数"],
        (([labels.get(key, key or "其他")], cell.turns, cell.people) for key, cell in items),
    )


async def topics(db: Database, period: Period) -> Table:
    return await by_dimension(db, period, "topic", TOPICS, "按话题的问题", "话题")


async def hours(db: Database, period: Period) -> Table:
    """Messages per hour of the day over the period."""
    cells = _over_period((await _cells(db, period, ["hour"]))["hour"])
    rows = [
        ([f"{h:02d}:00"], cells.get(f"{h:02d}", _Sum()).turns, cells.get(f"{h:02d}", _Sum()).people)
        for h in range(24)
    ]
    return _table("hours", "一天里各时段的消息", ["时段", "消息数"], rows)


async def entry_titles(db: Database, ids: Iterable[str]) -> dict[str, str]:
    """The titles of the knowledge entries ``ids``, by id (an untitled one: its id)."""
    ids = list(ids)
    if not ids:
        return {}
    async with db.session() as session:
        result = await session.execute(
            sa.select(KnowledgeRecord.id, KnowledgeRecord.data).where(KnowledgeRecord.id.in_(ids))
        )
        return {i: str((data or {}).get("title") or i) for i, data in result.all()}


async def top_entries(db: Database, period: Period, dimension: str = "entry") -> Table:
    """The entries served most (``debunk``: published debunks served again)."""
    cells = _over_period((await _cells(db, period, [dimension]))[dimension])
    items = sorted(cells.items(), key=lambda kv: (-kv[1].turns, kv[0]))[:TOP_ENTRIES]
    titles = await entry_titles(db, [key for key, _ in items])
    title = "最常用的回答" if dimension == "entry" else "又有人问的已辟谣说法"
    # No total is shown (only the top ones): a hidden cell cannot be derived.
    counts = suppress.apply(
        [c.turns for _, c in items], [c.people for _, c in items], total_shown=False
    )
    return Table(
        dimension,
        title,
        ["条目", "标题", "次数"],
        [[key, titles.get(key, key), n] for (key, _), n in zip(items, counts, strict=True)],
    )


async def fraud(db: Database, period: Period) -> Table:
    """Fraud checks per risk and scam type over the period."""
    cells = _over_period((await _cells(db, period, ["fraud"]))["fraud"])
    order = {risk: i for i, risk in enumerate(RISKS)}
    items = sorted(
        cells.items(), key=lambda kv: (order.get(kv[0].split("|")[0], 9), -kv[1].turns, kv[0])
    )
    return _table(
        "fraud",
        "查诈骗：风险和类型",
        ["风险", "类型", "次数"],
        (
            (
                [RISKS.get(key.split("|")[0], key), key.split("|", 1)[-1] or "未归类"],
                c.turns,
                c.people,
            )
            for key, c in items
        ),
    )


async def feedback(db: Database, period: Period) -> Table:
    """有用/没用 per entry, the most 没用 first."""
    since, until = period.bounds
    async with db.session() as session:
        result = await session.execute(
            sa.select(
                Feedback.entry_id,
                sa.func.sum(sa.case((Feedback.useful, 1), else_=0)),
                sa.func.sum(sa.case((Feedback.useful, 0), else_=1)),
                sa.func.count(sa.distinct(Feedback.sender_hash)),
            )
            .where(
                Feedback.created_at >= since,
                Feedback.created_at < until,
                Feedback.entry_id.is_not(None),
                _channel_filter(Feedback.channel, period.channel),
            )
            .group_by(Feedback.entry_id)
        )
        rows = [(e, int(u or 0), int(n or 0), int(p or 0)) for e, u, n, p in result.all()]
    rows.sort(key=lambda r: (-(r[2] / max(1, r[1] + r[2])), -r[2], r[0]))
    titles = await entry_titles(db, [r[0] for r in rows])
    table = Table("feedback", "回答有没有用（没用的多的在前）", ["条目", "标题", "有用", "没用"])
    for entry, useful, useless, people in rows[:50]:
        small = people < suppress.MIN_PEOPLE
        table.rows.append(
            [entry, titles.get(entry, entry), None if small else useful, None if small else useless]
        )
    return table


async def claims(db: Database, period: Period, assignee: str | None = None) -> Table:
    """Rumour claims first seen in the period, by harm and verdict (``assignee``:
    a moderator's own claims)."""
    since, until = period.bounds
    verdict = sa.func.coalesce(RumorClaim.verdict, sa.literal_column("''"))
    query = sa.select(
        RumorClaim.harm,
        verdict,
        sa.func.count(),
        sa.func.sum(RumorClaim.reporters),
    ).where(
        RumorClaim.first_seen >= since,
        RumorClaim.first_seen < until,
        RumorClaim.merged_into.is_(None),
    )
    if assignee is not None:
        query = query.where(RumorClaim.assignee == assignee)
    async with db.session() as session:
        result = await session.execute(
            query.group_by(
                RumorClaim.harm, sa.func.coalesce(RumorClaim.verdict, sa.literal_column("''"))
            )
        )
        rows = sorted(result.all(), key=lambda r: (-int(r[2]), r[0], r[1]))
    return _table(
        "claims",
        "谣言线索：危害和结论",
        ["危害", "结论", "线索数"],
        (([HARMS.get(h, h), VERDICTS.get(v, v)], int(n), int(p or 0)) for h, v, n, p in rows),
    )


async def orders(db: Database, period: Period) -> Table:
    """Volunteer service orders of the period per service and state."""
    from bot.orders.states import STATES

    since, until = period.bounds
    async with db.session() as session:
        result = await session.execute(
            sa.select(
                ServiceOrder.service,
                ServiceOrder.state,
                sa.func.count(),
                sa.func.count(sa.distinct(ServiceOrder.sender_hash)),
            )
            .where(
                ServiceOrder.created_at >= since,
                ServiceOrder.created_at < until,
                _channel_filter(ServiceOrder.channel, period.channel),
            )
            .group_by(ServiceOrder.service, ServiceOrder.state)
        )
        rows = sorted(
            result.all(), key=lambda r: (r[0], list(STATES).index(r[1]) if r[1] in STATES else 99)
        )
    return _table(
        "orders",
        "志愿服务单：服务和状态",
        ["服务", "状态", "单数"],
        (([service, STATES.get(state, state)], int(n), int(p)) for service, state, n, p in rows),
    )


async def report(db: Database, period: Period, *, assignee: str | None = None) -> list[Table]:
    """Every table of the statistics page, in page order (a moderator: claims only)."""
    if assignee is not None:
        return [await claims(db, period, assignee)]
    return [
        await daily(db, period),
        await topics(db, period),
        await top_entries(db, period),
        await feedback(db, period),
        await fraud(db, period),
        await claims(db, period),
        await top_entries(db, period, "debunk"),
        await orders(db, period),
        await hours(db, period),
    ]
