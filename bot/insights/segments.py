"""用户分层: groups of residents read from what they do, never asked of them.

A resident (a hashed sender) belongs to a segment in a month when their turns
of that month meet its rule (``RULES``; one person may be in several):

- 手机学习者 (``smartphone``): 2 or more questions about using a phone.
- 健康关注者 (``health``): health questions on 2 or more different days.
- 农户 (``farming``): 1 or more farming question (the month says the season).
- 防骗重点 (``fraud``): a checked message found high risk, or a loss told to us
  (the understanding step's fraud aftermath).
- 辟谣关注者 (``rumor``): a rumour reported, or a published debunk read.

For each segment: how many people (hidden under 5), and what its members asked
most (topics and entries, by their questions in that month). A finished month
is computed once and kept as sums (``analytics_rollups``, dimension
``segment`` / ``segment_entry``, on the month's first day, all channels): the
counts survive the deletion of the events. The current month is computed
from its events when asked, at most once a minute.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from time import monotonic
from typing import Any

import sqlalchemy as sa

from bot.insights.events import QUESTION_MOVES
from bot.insights.rollup import ALL_CHANNELS, local_now
from bot.storage.db import Database
from bot.storage.models import AnalyticsEvent, AnalyticsRollup

SEGMENTS: dict[str, str] = {
    "smartphone": "手机学习者",
    "health": "健康关注者",
    "farming": "农户",
    "fraud": "防骗重点",
    "rumor": "辟谣关注者",
}
RULES: dict[str, str] = {
    "smartphone": "一个月里问了 2 次或更多手机使用问题",
    "health": "一个月里有 2 天或更多问了健康问题",
    "farming": "一个月里问过农业问题",
    "fraud": "查过的消息是高风险，或者告诉我们被骗了",
    "rumor": "举报过谣言，或者看过已发布的辟谣",
}
TOP_ASKED = 5
LIVE_SECONDS = 60.0
_live: dict[tuple[str, date], tuple[float, MonthSegments]] = {}


@dataclass
class Behaviour:
    """One person's month, as the rules read it."""

    phone_questions: int = 0
    health_days: set[date] = field(default_factory=set)
    farming_questions: int = 0
    fraud_exposed: bool = False
    rumor: bool = False

    def segments(self) -> list[str]:
        """The segments the month's behaviour puts the person in."""
        found = []
        if self.phone_questions >= 2:
            found.append("smartphone")
        if len(self.health_days) >= 2:
            found.append("health")
        if self.farming_questions >= 1:
            found.append("farming")
        if self.fraud_exposed:
            found.append("fraud")
        if self.rumor:
            found.append("rumor")
        return found


@dataclass
class MonthSegments:
    """People per segment, and what each segment asked most."""

    month: date
    people: dict[str, int] = field(default_factory=dict)
    topics: dict[str, Counter[str]] = field(default_factory=dict)
    entries: dict[str, Counter[str]] = field(default_factory=dict)


def month_bounds(month: date) -> tuple[date, date]:
    start = month.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return start, end


def classify(events: list[Any]) -> dict[str, Behaviour]:
    """Each person's behaviour from their events (rows with the event columns)."""
    people: dict[str, Behaviour] = defaultdict(Behaviour)
    for event in events:
        person = people[event.user_hash]
        question = event.move in QUESTION_MOVES
        if question and event.topic == "smartphone":
            person.phone_questions += 1
        if question and event.topic == "health":
            person.health_days.add(event.day)
        if question and event.topic == "farming":
            person.farming_questions += 1
        if event.fraud_risk == "high" or event.decision == "fraud_aftermath":
            person.fraud_exposed = True
        if event.report_id or event.decision == "debunk":
            person.rumor = True
    return people


def summarise(month: date, events: list[Any]) -> MonthSegments:
    """The month's segments from its events."""
    people = classify(events)
    out = MonthSegments(month, {s: 0 for s in SEGMENTS})
    members: dict[str, list[str]] = {}
    for user, behaviour in people.items():
        members[user] = behaviour.segments()
        for segment in members[user]:
            out.people[segment] += 1
    out.topics = {s: Counter() for s in SEGMENTS}
    out.entries = {s: Counter() for s in SEGMENTS}
    for event in events:
        if event.move not in QUESTION_MOVES:
            continue
        for segment in members.get(event.user_hash, ()):
            if event.topic:
                out.topics[segment][event.topic] += 1
            if event.entry_id:
                out.entries[segment][event.entry_id] += 1
    return out


_COLUMNS = (
    AnalyticsEvent.day,
    AnalyticsEvent.user_hash,
    AnalyticsEvent.move,
    AnalyticsEvent.decision,
    AnalyticsEvent.topic,
    AnalyticsEvent.entry_id,
    AnalyticsEvent.fraud_risk,
    AnalyticsEvent.report_id,
)


async def compute(db: Database, month: date) -> MonthSegments:
    """A month's segments from its events (every channel)."""
    start, end = month_bounds(month)
    async with db.session() as session:
        result = await session.execute(
            sa.select(*_COLUMNS).where(AnalyticsEvent.day.between(start, end))
        )
        events = list(result.all())
    # CPU work (seconds for a busy month): off the web service's event loop.
    return await asyncio.to_thread(summarise, start, events)


async def keep_finished_months(db: Database, today: date | None = None) -> int:
    """Store the segments of finished months with events and none stored; how many."""
    today = today or local_now().date()
    this_month = today.replace(day=1)
    async with db.session() as session:
        stored = {
            day
            for (day,) in (
                await session.execute(
                    sa.select(AnalyticsRollup.day)
                    .where(AnalyticsRollup.dimension == "segment")
                    .distinct()
                )
            ).all()
        }
        first = await session.scalar(sa.select(sa.func.min(AnalyticsEvent.day)))
    if first is None:
        return 0
    done = 0
    month = first.replace(day=1)
    while month < this_month:
        if month not in stored:
            await _store(db, await compute(db, month))
            done += 1
        month = (month + timedelta(days=32)).replace(day=1)
    return done


async def _store(db: Database, segments: MonthSegments) -> None:
    rows = [
        {
            "day": segments.month,
            "channel": ALL_CHANNELS,
            "dimension": "segment",
            "key": segment,
            "turns": count,
            "users": count,
            "sketch": "",
        }
        for segment, count in segments.people.items()
    ]
    for segment in SEGMENTS:
        for kind, counter in (
            ("segment_topic", segments.topics),
            ("segment_entry", segments.entries),
        ):
            for key, turns in counter.get(segment, Counter()).most_common(TOP_ASKED * 2):
                rows.append(
                    {
                        "day": segments.month,
                        "channel": ALL_CHANNELS,
                        "dimension": kind,
                        "key": f"{segment}|{key}"[:80],
                        "turns": turns,
                        "users": 0,
                        "sketch": "",
                    }
                )
    async with db.session() as session:
        await session.execute(
            sa.delete(AnalyticsRollup).where(
                AnalyticsRollup.day == segments.month,
                AnalyticsRollup.dimension.in_(["segment", "segment_topic", "segment_entry"]),
            )
        )
        await session.execute(sa.insert(AnalyticsRollup), rows)


async def months(db: Database, first: date, last: date) -> list[MonthSegments]:
    """Segments of each month from ``first`` to ``last`` (stored, or computed for
    the current month, at most once a minute)."""
    first, last = first.replace(day=1), last.replace(day=1)
    this_month = local_now().date().replace(day=1)
    async with db.session() as session:
        result = await session.execute(
            sa.select(
                AnalyticsRollup.day,
                AnalyticsRollup.dimension,
                AnalyticsRollup.key,
                AnalyticsRollup.turns,
            ).where(
                AnalyticsRollup.day.between(first, last),
                AnalyticsRollup.channel == ALL_CHANNELS,
                AnalyticsRollup.dimension.in_(["segment", "segment_topic", "segment_entry"]),
            )
        )
        rows = result.all()
    found: dict[date, MonthSegments] = {}
    for day, dimension, key, turns in rows:
        month = found.setdefault(
            day,
            MonthSegments(
                day,
                {s: 0 for s in SEGMENTS},
                {s: Counter() for s in SEGMENTS},
                {s: Counter() for s in SEGMENTS},
            ),
        )
        if dimension == "segment":
            month.people[key] = turns
        else:
            segment, _, what = key.partition("|")
            target = month.topics if dimension == "segment_topic" else month.entries
            if segment in target:
                target[segment][what] = turns
    if first <= this_month <= last and this_month not in found:
        found[this_month] = await _current(db, this_month)
    return [found[m] for m in sorted(found)]


async def _current(db: Database, month: date) -> MonthSegments:
    key = (db.url, month)
    cached = _live.get(key)
    if cached is not None and cached[0] > monotonic():
        return cached[1]
    computed = await compute(db, month)
    _live[key] = (monotonic() + LIVE_SECONDS, computed)
    return computed
