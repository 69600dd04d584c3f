"""``GET /console/claims/{id}/reports.csv``: one claim's reports for a spreadsheet.

The reports were redacted when they came in; nothing else personal is added
(no sender, no recipient). UTF-8 with a byte-order mark, so that Excel on a
Chinese Windows reads the characters; a cell that starts like a formula is
prefixed with ' so that a spreadsheet shows it as text and never runs it.
Written a page at a time, so a claim with many reports never sits in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from aiohttp import web

from bot.rumors import again, console
from bot.rumors.console import MAX_PAGE, ReportView
from bot.web import keys
from bot.web.views.console_common import local_time, to_int

HEADER = (
    "举报编号",
    "时间（北京时间）",
    "渠道",
    "在哪看到",
    "举报内容（已去除个人信息）",
    "结论送达",
    "又有人问",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str) -> str:
    """A value a spreadsheet shows as text, never evaluates."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_rows(rows: Iterable[Iterable[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue().encode("utf-8")


def report_row(report: ReportView, re_reports: set[int]) -> tuple[str, ...]:
    return (
        report.public_id,
        local_time(report.created_at),
        report.channel_label,
        report.seen_where_label,
        report.text,
        report.delivery_label,
        "是" if report.id in re_reports else "",
    )


async def claim_reports_csv(request: web.Request) -> web.StreamResponse:
    claim_id = to_int(request.match_info["id"], "线索编号", minimum=1)
    db = request.app[keys.DATABASE]
    detail = await console.claim_detail(db, claim_id, limit=1)  # 404 before any byte is sent
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="claim-{claim_id}-reports.csv"',
            "Cache-Control": "no-store",  # moderation data, as every console page
        }
    )
    await response.prepare(request)
    await response.write("\ufeff".encode() + csv_rows([HEADER]))
    for offset in range(0, detail.reports_total, MAX_PAGE):
        page = await console.claim_detail(db, claim_id, limit=MAX_PAGE, offset=offset)
        flagged = await again.re_reports_among(db, [r.id for r in page.reports])
        await response.write(csv_rows(report_row(r, flagged) for r in page.reports))
    await response.write_eof()
    return response
