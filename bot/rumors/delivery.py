"""Report-back: the verdict on a claim, owed to everyone who reported it.

Publishing a verdict (the console) marks each report's delivery "due". A
channel that can write first (WeChat within its 48-hour window) pushes it;
every channel also hands over what is due when the reporter next writes, so
nothing waits for a push that cannot happen (the web chat cannot push at all).
A delivery is claimed with a conditional UPDATE before it is sent, so two
concurrent turns never both deliver it; the recipient id is erased once sent.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timezone

from sqlalchemy import Boolean, select, update
from sqlalchemy.sql import ColumnElement

from bot.rumors.console import VERDICTS
from bot.storage.db import Database, rowcount
from bot.storage.models import ReportDelivery, RumorClaim, RumorReport


def verdict_message(public_id: str, claim: RumorClaim) -> str:
    """What a reporter is told once their claim is concluded: verdict, explanation, sources."""
    label = VERDICTS.get(claim.verdict or "", "已核实")
    lines = [
        f"您之前问的说法有结论了（编号 {public_id}）：",
        f"『{claim.title[:60]}』",
        f"结论：【{label}】{claim.explanation or ''}".rstrip(),
    ]
    sources = [s for s in (claim.sources or []) if isinstance(s, dict) and s.get("organisation")]
    if sources:
        source = sources[0]
        title = f"《{source['title']}》" if source.get("title") else ""
        lines.append(f"来源：{source['organisation']}{title}")
    if claim.verdict == "suspected_fraud":
        lines.append("别转账，别点链接；拿不准请拨打 96110。")
    return "\n".join(lines)


async def take_due(db: Database, recipient: str) -> list[str]:
    """Verdict messages now due to ``recipient``, each claimed for sending exactly once."""
    claimed = await _claim_due(db, ReportDelivery.recipient == recipient)
    return [message for _, _, message in claimed]


async def claim_due_for_channels(
    db: Database, channels: Collection[str]
) -> list[tuple[str, str, str]]:
    """Every verdict due on one of ``channels`` (those that can write first), claimed
    for sending: ``(channel, recipient, message)``. The caller pushes each, or keeps
    it for the user's next message."""
    if not channels:
        return []
    return await _claim_due(db, ReportDelivery.channel.in_(list(channels)))


async def _claim_due(db: Database, where: ColumnElement[Boolean]) -> list[tuple[str, str, str]]:
    async with db.session() as session:
        rows = (
            await session.execute(
                select(
                    ReportDelivery.id,
                    ReportDelivery.channel,
                    ReportDelivery.recipient,
                    RumorReport.public_id,
                    RumorClaim,
                )
                .join(RumorReport, RumorReport.id == ReportDelivery.report_id)
                .join(RumorClaim, RumorClaim.id == RumorReport.claim_id)
                .where(ReportDelivery.status == "due", where)
                .order_by(ReportDelivery.id)
            )
        ).all()
        out = []
        for delivery_id, channel, recipient, public_id, claim in rows:
            # Only the turn whose UPDATE changes the row sends it.
            claimed = await session.execute(
                update(ReportDelivery)
                .where(ReportDelivery.id == delivery_id, ReportDelivery.status == "due")
                .values(
                    status="sent",
                    recipient=None,
                    attempts=ReportDelivery.attempts + 1,
                    delivered_at=datetime.now(timezone.utc),
                )
            )
            if rowcount(claimed) == 1 and recipient:
                out.append((channel, recipient, verdict_message(public_id, claim)))
    return out
