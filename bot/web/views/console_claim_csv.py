"""``GET /console/claims/{id}/reports.csv``: one claim's reports for a spreadsheet.

The reports were redacted when they came in; nothing else personal is added
(no sender, no recipient). Written a page of reports at a time, so a claim with
many reports never sits in memory (``console_common.stream_csv``: UTF-8 with a
byte-order mark, cells that start like a formula shown as text).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from bot.rumors import again, console
from bot.rumors.console import MAX_PAGE, ReportView
from bot.storage.db import Database
from bot.web import keys
from bot.web.views.console_common import local_time, stream_csv, to_int

HEADER = (
    "举报编号",
    "时间（北京时间）",
    "渠道",
    "在哪看到",
    "举报内容（已去除个人信息）",
    "结论送达",
    "又有人问",
)


def report_row(report: ReportView, re_reports: set[int]) -> tuple[str, ...]:
    """One report as a row under ``HEADER``; "是" in the last cell for a re-report."""
    return (
        report.public_id,
        local_time(report.created_at),
        report.channel_label,
        report.seen_where_label,
        report.text,
        report.delivery_label,
        "是" if report.id in re_reports else "",
    )


async def _rows(db: Database, claim_id: int, total: int) -> AsyncIterator[tuple[str, ...]]:
    yield HEADER
    for offset in range(0, total, MAX_PAGE):
        page = await console.claim_detail(db, claim_id, limit=MAX_PAGE, offset=offset)
        flagged = await again.re_reports_among(db, [r.id for r in page.reports])
        for report in page.reports:
            yield report_row(report, flagged)


async def claim_reports_csv(request: web.Request) -> web.StreamResponse:
    """Any staff account; an unknown claim is a 404 page, not a broken download."""
    claim_id = to_int(request.match_info["id"], "线索编号", minimum=1)
    db = request.app[keys.DATABASE]
    detail = await console.claim_detail(db, claim_id, limit=1)  # 404 before any byte is sent
    rows = _rows(db, claim_id, detail.reports_total)
    return await stream_csv(request, rows, f"claim-{claim_id}-reports.csv")
