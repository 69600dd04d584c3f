"""The seasonal farming calendar (``data/calendar.yml``): reminders kept as data, each
pointing to the knowledge entry it rests on, checked like entries, and drafted as
农事提醒 alerts for the experts ahead of their window.

A reminder says only what its entry says. The check is mechanical where it can be:
the entry must exist and be a farming entry, each of its ``grounds`` must be the
entry's own words, and every number in the text must be among the grounds; that the
text says nothing more is the reviewer's part (``reviewed_on``, ``reviewed_by``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.knowledge.schema import Entry
from bot.outreach.alerts import MAX_ALERT_CHARS
from bot.outreach.commands import CROPS, FARM
from bot.storage.db import Database
from bot.storage.models import CHINA_TIME, OutreachAlert

CALENDAR = Path(__file__).parent / "data" / "calendar.yml"
DRAFT_AHEAD = timedelta(days=7)  # a draft appears this long before its window opens
CALENDAR_AUTHOR = "calendar"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,60}$")
_MONTH_DAY = re.compile(r"^(\d\d)-(\d\d)$")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


class CalendarError(ValueError):
    """A reminder that fails its check, or a calendar file that does; the message says which."""


@dataclass(frozen=True)
class Reminder:
    """A checked reminder: one crop's alert text, due in a window that recurs every year."""

    id: str
    crop: str
    window: tuple[tuple[int, int], tuple[int, int]]  # (month, day) from, to
    entry_id: str
    text: str
    grounds: tuple[str, ...]
    reviewed_on: date
    reviewed_by: str

    def opens(self, year: int) -> date:
        """The window's first day in ``year``."""
        return date(year, *self.window[0])

    def closes(self, year: int) -> date:
        """The window's last day, in the next year when it wraps (11-25 to 01-31)."""
        end = date(year, *self.window[1])
        return end if end >= self.opens(year) else date(year + 1, *self.window[1])


def _month_day(value: object, where: str) -> tuple[int, int]:
    match = _MONTH_DAY.match(str(value))
    if not match:
        raise CalendarError(f"{where}: window dates are MM-DD, got {value!r}")
    month, day = int(match.group(1)), int(match.group(2))
    try:
        date(2024, month, day)  # a leap year: 02-29 is a day
    except ValueError:
        raise CalendarError(f"{where}: {value!r} is not a day of the year") from None
    return month, day


def check_reminder(raw: dict[str, Any], entries: dict[str, Entry]) -> Reminder:
    """One raw reminder from the YAML, checked against its entry; raises ``CalendarError``."""
    where = str(raw.get("id", "?"))
    if not _ID.match(where):
        raise CalendarError(f"{where}: id must be lowercase letters, digits and -")
    crop = raw.get("crop")
    if crop not in CROPS:
        raise CalendarError(f"{where}: crop must be one of {', '.join(CROPS)}")
    window = raw.get("window")
    if not isinstance(window, list) or len(window) != 2:
        raise CalendarError(f"{where}: window is [from, to]")
    entry = entries.get(str(raw.get("entry_id")))
    if entry is None or entry.topic != "farming":
        raise CalendarError(f"{where}: entry {raw.get('entry_id')!r} is not a farming entry")
    text = re.sub(r"\s+", "", str(raw.get("text") or ""))  # folded YAML lines: no spaces
    if not text or len(text) > MAX_ALERT_CHARS:
        raise CalendarError(f"{where}: text must be 1 to {MAX_ALERT_CHARS} characters")
    grounds = tuple(str(g) for g in raw.get("grounds") or ())
    if not grounds:
        raise CalendarError(f"{where}: grounds quote what the entry says")
    body = "\n".join([entry.answer, *entry.steps])
    for ground in grounds:
        if ground not in body:
            raise CalendarError(f"{where}: {ground!r} is not in entry {entry.id}")
    stated = set(_NUMBER.findall("".join(grounds)))
    unstated = [n for n in _NUMBER.findall(text) if n not in stated]
    if unstated:
        raise CalendarError(f"{where}: numbers {unstated} are not in the grounds")
    reviewed_on = raw.get("reviewed_on")
    if not isinstance(reviewed_on, date) or not str(raw.get("reviewed_by") or "").strip():
        raise CalendarError(f"{where}: reviewed_on (a date) and reviewed_by are required")
    return Reminder(
        where,
        crop,
        (_month_day(window[0], where), _month_day(window[1], where)),
        entry.id,
        text,
        grounds,
        reviewed_on,
        str(raw["reviewed_by"]).strip(),
    )


def load_calendar(entries: dict[str, Entry], path: Path = CALENDAR) -> list[Reminder]:
    """Every reminder, checked; raises ``CalendarError`` naming the first problem."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    reminders = [check_reminder(raw, entries) for raw in data.get("reminders") or []]
    ids = [r.id for r in reminders]
    if len(ids) != len(set(ids)):
        raise CalendarError("reminder ids must be unique")
    return reminders


def due(reminders: list[Reminder], today: date) -> list[tuple[Reminder, int]]:
    """Reminders whose window opens within ``DRAFT_AHEAD`` or is open, with the year
    of the window they are drafted for."""
    out = []
    for reminder in reminders:
        for year in (today.year - 1, today.year):  # a window from last year may still run
            if reminder.opens(year) - DRAFT_AHEAD <= today <= reminder.closes(year):
                out.append((reminder, year))
                break
    return out


async def draft_due(db: Database, reminders: list[Reminder], now: datetime) -> list[int]:
    """Draft an alert for each reminder now due and not drafted for this window yet
    (the unique ``calendar_key`` makes that once, whoever runs it)."""
    drafted = []
    for reminder, year in due(reminders, now.astimezone(CHINA_TIME).date()):
        key = f"{reminder.id}:{year}"
        async with db.session() as session:
            found = await session.execute(
                select(OutreachAlert.id).where(OutreachAlert.calendar_key == key)
            )
            if found.first() is not None:
                continue
        try:
            async with db.session() as session:
                alert = OutreachAlert(
                    kind=FARM,
                    crop=reminder.crop,
                    text=reminder.text,
                    entry_id=reminder.entry_id,
                    urgent=False,
                    status="draft",
                    author=CALENDAR_AUTHOR,
                    calendar_key=key,
                    # The window's last day, China time.
                    expires_at=datetime.combine(reminder.closes(year), time.max, CHINA_TIME),
                )
                session.add(alert)
                await session.flush()
                drafted.append(int(alert.id))
        except IntegrityError:
            continue  # drafted meanwhile by another process
    return drafted
