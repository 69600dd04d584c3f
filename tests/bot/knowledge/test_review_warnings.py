"""`kepu kb validate` warns, without failing, on old reviews and home-page links."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.knowledge.loader import is_home_page, review_warnings
from bot.knowledge.schema import Entry

TODAY = dt.date(2026, 12, 6)


def entry(reviewed_on: str, url: str | None = None, **extra: str) -> Entry:
    return Entry.parse_obj(
        {
            "id": "health-a",
            "topic": "health",
            "title": "一个标题",
            "questions": ["一个问题", "另一个问题", "咋个办"],
            "answer": "一个回答。",
            "audience": ["all"],
            "source": {"organisation": "某机构", "title": "《某文件（2024年）》", "url": url},
            "reviewed_on": reviewed_on,
            **extra,
        }
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://www.nhc.gov.cn/",
        "https://www.nhc.gov.cn",
        "http://www.npc.gov.cn/index.html",
        "https://WWW.MOA.GOV.CN/Index.htm",
    ],
)
def test_a_site_front_page_is_a_home_page(url: str) -> None:
    assert is_home_page(url)
    warnings = review_warnings([entry("2026-12-06", url)], TODAY)
    assert warnings == [f"health-a: source url {url} is only a home page"]


@pytest.mark.parametrize(
    "url",
    [
        "https://www.nhs.uk/conditions/leg-cramps/",
        "https://example.org/docs/guide-2024.html",
        "https://example.org/?id=12",
    ],
)
def test_a_link_to_a_document_is_not_a_home_page(url: str) -> None:
    assert not is_home_page(url)
    assert review_warnings([entry("2026-12-06", url)], TODAY) == []


@pytest.mark.parametrize(
    ("reviewed_on", "stale"),
    [
        ("2026-12-06", False),
        ("2025-12-06", False),  # exactly twelve months: still current
        ("2025-12-05", True),
        ("2024-01-01", True),
    ],
)
def test_a_review_older_than_twelve_months_is_a_warning(reviewed_on: str, stale: bool) -> None:
    warnings = review_warnings([entry(reviewed_on)], TODAY)
    assert warnings == (
        [f"health-a: reviewed_on {reviewed_on} is more than 12 months old"] if stale else []
    )


def test_an_entry_names_who_reviewed_it() -> None:
    assert (
        entry("2026-12-06", reviewed_by="kepu-content-review").reviewed_by == "kepu-content-review"
    )
    assert entry("2026-12-06").reviewed_by is None
