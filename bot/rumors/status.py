""" "我的举报有结果了吗": a reporter looks up their own reports.

Reports are found by the sender's pseudonym (never the raw id) and, when the
user names one, by its receipt number. Merged claims answer for the claim
they were merged into.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from bot.rumors.console import VERDICTS
from bot.storage.db import Database, sender_hash
from bot.storage.models import RumorClaim, RumorReport

RECEIPT = re.compile(r"R-[A-Z2-7]{8}")
MAX_LISTED = 3


@dataclass(frozen=True)
class ReportStatus:
    public_id: str
    created_at: datetime
    title: str
    status: str  # pending | verifying | concluded | rejected
    verdict: str | None
    # The published conclusion in a line (its title, else the explanation's first
    # sentence): asked "有结果了吗", the reporter hears the result itself.
    conclusion: str = ""


async def reports_of(db: Database, sender_id: str, text: str = "") -> list[ReportStatus]:
    """The sender's reports, newest first; only the one named in ``text`` if it names one."""
    target = aliased(RumorClaim)
    query = (
        select(RumorReport.public_id, RumorReport.created_at, RumorClaim, target)
        .join(RumorClaim, RumorClaim.id == RumorReport.claim_id)
        .outerjoin(target, target.id == RumorClaim.merged_into)
        .where(RumorReport.sender_hash == sender_hash(sender_id))
        .order_by(RumorReport.created_at.desc(), RumorReport.id.desc())
        .limit(MAX_LISTED)
    )
    named = RECEIPT.search(text.upper())
    if named:
        query = query.where(RumorReport.public_id == named.group())
    async with db.session() as session:
        rows = (await session.execute(query)).all()
    found = []
    for public_id, created_at, claim, merged in rows:
        claim = merged or claim
        found.append(
            ReportStatus(
                public_id,
                created_at,
                claim.title,
                claim.status,
                claim.verdict,
                conclusion_line(claim.debunk_title, claim.explanation),
            )
        )
    return found


def conclusion_line(title: str | None, explanation: str | None) -> str:
    """A published conclusion in one short line: the debunk's title, else the first
    sentence of the explanation (cut at a sentence end, at most 40 characters)."""
    if title and title.strip():
        return title.strip()
    first = re.split(r"(?<=[。！？!?])", (explanation or "").strip(), maxsplit=1)[0]
    return first if len(first) <= 40 else first[:39] + "…"


def status_text(reports: list[ReportStatus], named: bool) -> str:
    """What the reporter is told: each report's number, claim and where it stands."""
    if not reports:
        if named:
            return (
                "没有找到这个编号的举报。请核对编号（像 R-ABCD2345 这样），"
                "或者回复 6 举报新的说法。"
            )
        return "您还没有举报过说法。想让我们核实一个说法，回复 6。"
    lines = ["您举报的说法："]
    for i, report in enumerate(reports, start=1):
        if report.status == "concluded" and report.verdict:
            where = f"已有结论：【{VERDICTS.get(report.verdict, '已核实')}】"
            if report.conclusion:
                where += report.conclusion
        elif report.status == "rejected":
            where = "不属于我们能核实的范围，没有立案核实"
        elif report.status == "verifying":
            where = "专家正在核实"
        else:
            where = "已收到，正在排队等专家核实"
        lines.append(f"{i}. {report.public_id}『{report.title[:30]}』：{where}")
    if any(r.status in ("pending", "verifying") for r in reports):
        lines.append("有了结论，我们会第一时间告诉您。")
    return "\n".join(lines)
