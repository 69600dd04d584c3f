"""The seasonal calendar: every reminder rests on a farming entry's own words, is
reviewed, and is drafted once per window for the experts to approve."""

from __future__ import annotations

import functools
from datetime import date, datetime, timezone

import pytest
import yaml

from bot.knowledge.loader import load_entries
from bot.outreach import alerts
from bot.outreach.calendar import (
    CALENDAR,
    CalendarError,
    check_reminder,
    draft_due,
    due,
    load_calendar,
)
from bot.settings import PROJECT_ROOT
from bot.storage.models import OutreachAlert


@functools.lru_cache(maxsize=1)
def entries() -> dict:
    return {e.id: e for e in load_entries(PROJECT_ROOT / "knowledge").entries}


def first_raw() -> dict:
    return dict(yaml.safe_load(CALENDAR.read_text(encoding="utf-8"))["reminders"][0])


def test_the_calendar_checks_out_against_the_knowledge_base() -> None:
    reminders = load_calendar(entries())
    assert {r.crop for r in reminders} >= {"水稻", "柑橘"}
    assert all(" " not in r.text for r in reminders)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"entry_id": "no-such-entry"}, "not a farming entry"),
        ({"entry_id": "fraud-beipian-zenme-ban"}, "not a farming entry"),
        ({"grounds": ["二化螟喷三遍药就好了"]}, "is not in entry"),
        ({"text": "二化螟每亩用药 50 克。"}, "numbers ['50']"),
        ({"window": ["02-30", "04-30"]}, "not a day of the year"),
        ({"crop": "香蕉"}, "crop must be one of"),
        ({"reviewed_by": ""}, "reviewed_by are required"),
        ({"text": "虫" * 201}, "text must be"),
    ],
)
def test_a_reminder_that_says_more_than_its_entry_is_refused(change, problem) -> None:
    with pytest.raises(CalendarError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        check_reminder({**first_raw(), **change}, entries())


def test_windows_and_the_year_they_are_drafted_for() -> None:
    reminders = {r.id: r for r in load_calendar(entries())}
    frost = reminders["citrus-frost"]  # 11-25 to 01-31: runs into the next year
    assert due([frost], date(2026, 11, 17)) == []
    assert due([frost], date(2026, 11, 18)) == [(frost, 2026)]  # a week ahead
    assert due([frost], date(2027, 1, 20)) == [(frost, 2026)]
    assert due([frost], date(2027, 2, 1)) == []
    borer = reminders["rice-stem-borer-pupae"]
    assert due([borer], date(2027, 3, 13)) == [(borer, 2027)]


async def test_each_window_is_drafted_once(migrated_db) -> None:
    reminders = load_calendar(entries())
    now = datetime(2026, 12, 6, 2, 0, tzinfo=timezone.utc)
    drafted = await draft_due(migrated_db, reminders, now)
    assert len(drafted) == 2  # 柚子 防冻 and 冬季清园
    assert await draft_due(migrated_db, reminders, now) == []
    # Approved and scheduled, it expires when its window closes (防冻: 31 January).
    await alerts.approve(migrated_db, drafted[0], "admin")
    await alerts.schedule(migrated_db, drafted[0], send_at=now)
    async with migrated_db.session() as session:
        alert = await session.get(OutreachAlert, drafted[0])
    assert alert.kind == "farm" and alert.crop == "柑橘" and alert.author == "calendar"
    assert alert.expires_at.date() == date(2027, 1, 31)
