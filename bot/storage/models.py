"""Tables we own. Conversation history lives in Rasa's tracker store instead.

Nothing personal is stored here unredacted: text columns hold the output of
``bot.text.redact.redact`` and senders are kept as salted hashes.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, declarative_base, validates

Base = declarative_base()


# The district's days and hours (China has no daylight saving).
CHINA_TIME = timezone(timedelta(hours=8))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; ours are all UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class HandoffRequest(Base):
    """A user asked for a person or a phone number."""

    __tablename__ = "handoff_requests"

    id: Mapped[int] = Column(Integer, primary_key=True)
    sender_hash: Mapped[str] = Column(String(64), nullable=False, index=True)
    channel: Mapped[str] = Column(String(32), nullable=False)
    hotlines: Mapped[str] = Column(String(64), nullable=False)  # e.g. "120,110"
    text: Mapped[str] = Column(Text, nullable=False)  # redacted
    status: Mapped[str] = Column(String(16), nullable=False, default="open")
    created_at: Mapped[datetime] = Column(
        DateTime(timezone=True), nullable=False, default=utcnow, index=True
    )


class UnansweredQuestion(Base):
    """A question the knowledge base could not answer, for curators to fill."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = Column(Integer, primary_key=True)
    sender_hash: Mapped[str] = Column(String(64), nullable=False)
    channel: Mapped[str] = Column(String(32), nullable=False)
    text: Mapped[str] = Column(Text, nullable=False)  # redacted
    best_entry_id: Mapped[str | None] = Column(String(80), nullable=True)
    best_score: Mapped[float | None] = Column(Float, nullable=True)
    created_at: Mapped[datetime] = Column(
        DateTime(timezone=True), nullable=False, default=utcnow, index=True
    )


class KnowledgeRecord(Base):
    """A knowledge entry as served: imported from ``knowledge/`` files (upserted
    by id and content hash) or published in the console."""

    __tablename__ = "knowledge_entries"

    id: Mapped[str] = Column(String(80), primary_key=True)
    topic: Mapped[str] = Column(String(16), nullable=False, index=True)
    content_hash: Mapped[str] = Column(String(64), nullable=False)
    data: Mapped[Any] = Column(JSON, nullable=False)  # the validated entry
    origin: Mapped[str] = Column(String(16), nullable=False)  # "file" | "console"
    retired: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    updated_at: Mapped[datetime] = Column(
        DateTime(timezone=True), nullable=False, default=utcnow, index=True
    )


class Feedback(Base):
    """ "有用 / 没用" on an answer."""

    __tablename__ = "feedback"

    id: Mapped[int] = Column(Integer, primary_key=True)
    sender_hash: Mapped[str] = Column(String(64), nullable=False)
    channel: Mapped[str] = Column(String(32), nullable=False)
    entry_id: Mapped[str | None] = Column(String(80), nullable=True, index=True)
    useful: Mapped[bool] = Column(Boolean, nullable=False)
    created_at: Mapped[datetime] = Column(
        DateTime(timezone=True), nullable=False, default=utcnow, index=True
    )


class FraudCheckCount(Base):
    """How many messages were checked, per day, risk and likeliest fraud type.

    The checked text itself is never stored: without a report from the user,
    counts are all we keep.
    """

    __tablename__ = "fraud_check_counts"

    day: Mapped[date] = Column(Date, primary_key=True)
    risk: Mapped[str] = Column(String(8), primary_key=True)  # high | medium | low
    fraud_type: Mapped[str] = Column(String(32), primary_key=True)  # "" when none
    count: Mapped[int] = Column(Integer, nullable=False, default=0)


# The console's queue ranks claims by their priority *now*: the stored priority
# (reach x harm at the last report) decays as exp(-hours since then / 72), see
# bot.rumors.reports.RECENCY_HOURS. Its logarithm, ln(priority) + last_seen in
# hours / 72, orders claims the same way at every moment, so it is indexed
# (migration 0008, which holds a copy of these expressions: change both or neither).
CLAIM_STANDING_SQL = {
    "sqlite": "(priority_log + julianday(last_seen) / 3.0)",
    "postgresql": (
        "(priority_log + extract(epoch from (last_seen - timestamptz '1970-01-01 00:00:00+00'))"
        " / 259200.0)"
    ),
}
MIN_PRIORITY = 1e-9  # a claim without reports ranks as if it had this priority


class RumorClaim(Base):
    """One claim going round, the reports that repeat it grouped under it."""

    __tablename__ = "rumor_claims"
    __table_args__ = (
        # The queue counts its claims from this index alone (migration 0008).
        Index("ix_rumor_claims_status_merged", "status", "merged_into"),
        # A claim's family; the few merged claims only, so that "merged_into IS NULL"
        # never looks like a selective condition to SQLite's planner.
        Index(
            "ix_rumor_claims_merged_into",
            "merged_into",
            sqlite_where=text("merged_into IS NOT NULL"),
            postgresql_where=text("merged_into IS NOT NULL"),
        ),
        # The queue sorted by how many people reported a claim (migration 0015).
        Index("ix_rumor_claims_reporters", "reporters", "id"),
        # The queue's count with a harm or a date filter, without reading rows (0018).
        Index("ix_rumor_claims_queue_filters", "status", "merged_into", "harm", "last_seen"),
        # Not declared here, one database each, for the count of a search: SQLite's
        # ix_rumor_claims_unmerged_id_status, (id, status) of unmerged claims
        # (migration 0019; bot.rumors.console._match_led_count names it), and
        # PostgreSQL's ix_rumor_claims_unmerged_status_id, (status, id) (0020).
        # claim_search is not declared here either (0015; PostgreSQL's queue_status
        # and open claims' index: 0021, bot.rumors.search).
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    title: Mapped[str] = Column(Text, nullable=False)  # redacted text of the first report
    match_text: Mapped[str] = Column(Text, nullable=False)  # masked: places, dates, numbers
    harm: Mapped[str] = Column(String(16), nullable=False)  # health | safety | fraud | other
    status: Mapped[str] = Column(String(16), nullable=False, default="pending")
    verdict: Mapped[str | None] = Column(String(16), nullable=True)
    debunk_title: Mapped[str | None] = Column(
        String(60), nullable=True
    )  # drafted in the console (migration 0005)
    explanation: Mapped[str | None] = Column(Text, nullable=True)
    sources: Mapped[Any] = Column(JSON, nullable=True)  # [{"organisation", "title", "url"}]
    entry_id: Mapped[str | None] = Column(String(80), nullable=True)  # the published debunk
    assignee: Mapped[str | None] = Column(String(64), nullable=True)
    merged_into: Mapped[int | None] = Column(Integer, ForeignKey("rumor_claims.id"), nullable=True)
    # Reporters as bot/rumors/reporters.py counts them (verified senders, history).
    reporters: Mapped[int] = Column(Integer, nullable=False, default=0)
    reports: Mapped[int] = Column(Integer, nullable=False, default=0)
    channels: Mapped[Any] = Column(JSON, nullable=False, default=list)
    priority: Mapped[float] = Column(Float, nullable=False, default=0.0, index=True)
    # ln(priority), kept by the validator below (migration 0008): the queue's order.
    priority_log: Mapped[float] = Column(
        Float, nullable=False, default=math.log(MIN_PRIORITY), server_default="0"
    )
    first_seen: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_seen: Mapped[datetime] = Column(
        DateTime(timezone=True), nullable=False, default=utcnow, index=True
    )
    # Stamped by every change, so that other processes can read back what changed.
    updated_at: Mapped[datetime] = Column(
        DateTime(timezone=True), nullable=False, default=utcnow, index=True
    )

    @validates("priority")  # type: ignore[misc]  # untyped in sqlalchemy2-stubs
    def _log_priority(self, _key: str, value: float) -> float:
        self.priority_log = math.log(max(value, MIN_PRIORITY))
        return value


class RumorReport(Base):
    """What one person reported, redacted, written once per idempotency key."""

    __tablename__ = "rumor_reports"
    __table_args__ = (
        # A claim's reports in order (its page), and "has this sender reported it?".
        Index("ix_rumor_reports_claim_created", "claim_id", "created_at", "id"),
        Index("ix_rumor_reports_claim_sender", "claim_id", "sender_hash"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    public_id: Mapped[str] = Column(
        String(16), nullable=False, unique=True
    )  # R-XXXXXXXX, told to the user
    idempotency_key: Mapped[str] = Column(String(64), nullable=False, unique=True)
    claim_id: Mapped[int] = Column(Integer, ForeignKey("rumor_claims.id"), nullable=False)
    sender_hash: Mapped[str] = Column(String(64), nullable=False, index=True)
    channel: Mapped[str] = Column(String(32), nullable=False)
    seen_where: Mapped[str | None] = Column(String(16), nullable=True)
    text: Mapped[str] = Column(Text, nullable=False)  # redacted
    created_at: Mapped[datetime] = Column(
        DateTime(timezone=True), nullable=False, default=utcnow, index=True
    )


class ReportDelivery(Base):
    """A verdict owed to a reporter. ``recipient`` (the channel's user id, needed to
    write back) is erased once the verdict is delivered."""

    __tablename__ = "report_deliveries"

    id: Mapped[int] = Column(Integer, primary_key=True)
    report_id: Mapped[int] = Column(
        Integer, ForeignKey("rumor_reports.id"), nullable=False, unique=True
    )
    channel: Mapped[str] = Column(String(32), nullable=False)
    recipient: Mapped[str | None] = Column(String(128), nullable=True)
    status: Mapped[str] = Column(String(16), nullable=False, default="waiting", index=True)
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = Column(Text, nullable=True)
    delivered_at: Mapped[datetime | None] = Column(DateTime(timezone=True), nullable=True)


class ConsoleUser(Base):
    __tablename__ = "console_users"

    id: Mapped[int] = Column(Integer, primary_key=True)
    name: Mapped[str] = Column(String(64), nullable=False, unique=True)
    password_hash: Mapped[str] = Column(String(256), nullable=False)
    role: Mapped[str] = Column(String(16), nullable=False)  # moderator | expert | admin
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ApiToken(Base):
    """A bearer token of the console's JSON API: named, expiring, revocable (migration 0009)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = Column(Integer, primary_key=True)
    user_id: Mapped[int] = Column(
        Integer, ForeignKey("console_users.id"), nullable=False, index=True
    )
    name: Mapped[str] = Column(String(64), nullable=False)
    token_hash: Mapped[str] = Column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = Column(DateTime(timezone=True), nullable=True)
    last_used_at: Mapped[datetime | None] = Column(DateTime(timezone=True), nullable=True)


class ConsoleSession(Base):
    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = Column(String(64), primary_key=True)  # sha256 of the cookie value
    user_id: Mapped[int] = Column(Integer, ForeignKey("console_users.id"), nullable=False)
    csrf_token: Mapped[str] = Column(String(64), nullable=False)
    expires_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, index=True)


class AuditEntry(Base):
    """Who changed what, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = Column(Integer, primary_key=True)
    actor: Mapped[str] = Column(String(64), nullable=False)
    action: Mapped[str] = Column(String(32), nullable=False)
    target: Mapped[str] = Column(String(64), nullable=False)  # e.g. "claim:12"
    details: Mapped[Any] = Column(JSON, nullable=False, default=dict)
    at: Mapped[datetime] = Column(
        DateTime(timezone=True), nullable=False, default=utcnow, index=True
    )


# A claim's history on its page (migration 0016).
Index("ix_audit_log_target_at", AuditEntry.target, AuditEntry.at)


class ClaimNote(Base):
    """An internal note on a claim, between moderators and experts (migration 0016).
    Redacted like a report; never shown to reporters."""

    __tablename__ = "claim_notes"
    __table_args__ = (Index("ix_claim_notes_claim_created", "claim_id", "created_at"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    claim_id: Mapped[int] = Column(
        Integer, ForeignKey("rumor_claims.id", ondelete="CASCADE"), nullable=False
    )
    author: Mapped[str] = Column(String(64), nullable=False)
    author_role: Mapped[str] = Column(String(16), nullable=False)
    text: Mapped[str] = Column(Text, nullable=False)  # redacted
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ClaimDraft(Base):
    """What one console user has typed into a claim's verdict form and not yet
    published, saved as they type (migration 0016). Redacted."""

    __tablename__ = "claim_drafts"
    __table_args__ = (UniqueConstraint("claim_id", "user_id", name="uq_claim_drafts_claim_user"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    claim_id: Mapped[int] = Column(
        Integer, ForeignKey("rumor_claims.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = Column(
        Integer, ForeignKey("console_users.id", ondelete="CASCADE"), nullable=False
    )
    verdict: Mapped[str | None] = Column(String(16), nullable=True)
    title: Mapped[str] = Column(Text, nullable=False)
    explanation: Mapped[str] = Column(Text, nullable=False)
    sources: Mapped[Any] = Column(
        JSON, nullable=False
    )  # [{"organisation", "title", "url"}], as typed
    updated_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class RumorReReport(Base):
    """A report that reached a claim whose verdict was already published: the
    rumour is going round again (migration 0016). Deleted with its report."""

    __tablename__ = "rumor_re_reports"

    report_id: Mapped[int] = Column(
        Integer, ForeignKey("rumor_reports.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ChannelReceipt(Base):
    """A message id or request nonce a channel has already accepted.

    The key is a SHA-256 of the raw key (it contains the sender's id); the
    primary key makes a concurrent second insert fail, so one process wins.
    """

    __tablename__ = "channel_receipts"

    key: Mapped[str] = Column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, index=True)


class ChannelOutbox(Base):
    """A message a channel could not push (outside WeChat's 48-hour window, or the
    API failing): handed over with the reply to the recipient's next message."""

    __tablename__ = "channel_outbox"
    __table_args__ = (Index("ix_channel_outbox_recipient", "channel", "recipient"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    channel: Mapped[str] = Column(String(32), nullable=False)
    recipient: Mapped[str] = Column(String(128), nullable=False)
    text: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[datetime] = Column(
        DateTime(timezone=True), nullable=False, default=utcnow, index=True
    )


class ReportEvidence(Base):
    """A picture a user sent while reporting a rumour (a screenshot of the claim).

    Kept with the report it belongs to and deleted with it; a picture whose
    report was never finished is deleted after a day. Pictures cannot be
    redacted, so only console users see them.
    """

    __tablename__ = "report_evidence"
    __table_args__ = (UniqueConstraint("channel", "media_id"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    report_id: Mapped[int | None] = Column(
        Integer, ForeignKey("rumor_reports.id", ondelete="CASCADE"), nullable=True, index=True
    )
    sender_hash: Mapped[str] = Column(String(64), nullable=False, index=True)
    channel: Mapped[str] = Column(String(32), nullable=False)
    media_id: Mapped[str] = Column(String(128), nullable=False)
    pic_url: Mapped[str | None] = Column(String(512), nullable=True)
    content_type: Mapped[str | None] = Column(String(32), nullable=True)
    content: Mapped[bytes | None] = Column(
        LargeBinary, nullable=True
    )  # fetched from the platform, at most 2 MiB
    created_at: Mapped[datetime] = Column(
        DateTime(timezone=True), nullable=False, default=utcnow, index=True
    )


class Volunteer(Base):
    """A volunteer (or staff member) who can be dispatched service orders (migration 0010).

    The identity check is recorded as a fact (who checked which kind of document,
    when); the document's number is never stored.
    """

    __tablename__ = "volunteers"

    id: Mapped[int] = Column(Integer, primary_key=True)
    code: Mapped[str] = Column(
        String(32), nullable=False, unique=True
    )  # 志愿者编号, told to residents
    name: Mapped[str] = Column(String(64), nullable=False)
    skills: Mapped[Any] = Column(
        JSON, nullable=False, default=list
    )  # service keys of bot/orders/data/services.yml
    towns: Mapped[Any] = Column(
        JSON, nullable=False, default=list
    )  # 镇/街道 names of bot/orders/data/places.yml
    availability: Mapped[str] = Column(
        String(200), nullable=False, default=""
    )  # e.g. "周末全天，工作日晚上"
    available: Mapped[bool] = Column(Boolean, nullable=False, default=True)  # takes new orders now
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)
    console_user: Mapped[str | None] = Column(
        String(64), nullable=True, unique=True
    )  # their console account
    # Their WeCom (企业微信) member account: new orders and reminders reach them there
    # (migration 0012). An account name, not a phone number.
    wecom_user: Mapped[str | None] = Column(String(64), nullable=True)
    id_checked_by: Mapped[str | None] = Column(String(64), nullable=True)
    id_document: Mapped[str | None] = Column(
        String(32), nullable=True
    )  # the kind of document, never its number
    id_checked_at: Mapped[datetime | None] = Column(DateTime(timezone=True), nullable=True)
    minutes_served: Mapped[int] = Column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ServiceOrder(Base):
    """A resident's request for a volunteer's service (D-XXXXXXXX).

    The only table holding a resident's phone number unredacted (``phone``) and
    the channel's user id (``recipient``, to tell them when it is accepted): the
    phone is shown only to the volunteer who accepted the order, and both are
    erased when the order ends. Everything else here is redacted.
    """

    __tablename__ = "service_orders"
    __table_args__ = (
        # The dispatch queue: open orders, urgent first, oldest first.
        Index("ix_service_orders_queue", "state", "urgent", "created_at"),
        Index("ix_service_orders_volunteer_state", "volunteer_id", "state"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    public_id: Mapped[str] = Column(String(16), nullable=False, unique=True)  # D-XXXXXXXX
    sender_hash: Mapped[str] = Column(String(64), nullable=False, index=True)
    channel: Mapped[str] = Column(String(32), nullable=False)
    recipient: Mapped[str | None] = Column(String(128), nullable=True)  # erased when the order ends
    service: Mapped[str] = Column(String(32), nullable=False)
    town: Mapped[str] = Column(String(32), nullable=False)
    village: Mapped[str] = Column(String(64), nullable=False, default="")  # redacted
    convenient_time: Mapped[str] = Column(String(100), nullable=False, default="")  # redacted
    note: Mapped[str] = Column(Text, nullable=False, default="")  # redacted
    phone: Mapped[str | None] = Column(
        String(32), nullable=True
    )  # the only unredacted number; erased at the end
    urgent: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    flagged: Mapped[bool] = Column(Boolean, nullable=False, default=False)  # back from a timeout
    state: Mapped[str] = Column(String(16), nullable=False, default="review")
    volunteer_id: Mapped[int | None] = Column(Integer, ForeignKey("volunteers.id"), nullable=True)
    declined_by: Mapped[Any] = Column(JSON, nullable=False, default=list)  # volunteer ids
    reason: Mapped[str | None] = Column(String(200), nullable=True)  # redacted
    verify_code: Mapped[str | None] = Column(
        String(4), nullable=True
    )  # 上门核验码, set on acceptance
    entered: Mapped[Any] = Column(
        JSON, nullable=False, default=dict
    )  # state -> ISO time first entered
    state_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    reminded_at: Mapped[datetime | None] = Column(
        DateTime(timezone=True), nullable=True
    )  # at most one reminder a day
    # When the assigned volunteer was told of this assignment through WeCom, and when
    # the admins were alerted of an urgent order (migration 0012; bot/orders/alerts.py).
    notified_at: Mapped[datetime | None] = Column(DateTime(timezone=True), nullable=True)
    alerted_at: Mapped[datetime | None] = Column(DateTime(timezone=True), nullable=True)
    resident_notice: Mapped[str | None] = Column(
        String(16), nullable=True, index=True
    )  # accepted | rate | None
    created_at: Mapped[datetime] = Column(
        DateTime(timezone=True), nullable=False, default=utcnow, index=True
    )
    updated_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)


# Every order in the queue's order (urgent, back from a timeout, oldest), for the
# "all orders" view a page at a time without sorting the table (migration 0011).
Index(
    "ix_service_orders_all_queue",
    ServiceOrder.urgent.desc(),
    ServiceOrder.flagged.desc(),
    ServiceOrder.created_at,
    ServiceOrder.id,
)


class OrderEvent(Base):
    """The audit trail of an order: one row per transition, written with it."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order_at", "order_id", "at", "id"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    order_id: Mapped[int] = Column(Integer, ForeignKey("service_orders.id"), nullable=False)
    action: Mapped[str] = Column(String(16), nullable=False)
    actor: Mapped[str] = Column(String(64), nullable=False)
    from_state: Mapped[str | None] = Column(String(16), nullable=True)
    to_state: Mapped[str] = Column(String(16), nullable=False)
    volunteer_id: Mapped[int | None] = Column(Integer, ForeignKey("volunteers.id"), nullable=True)
    reason: Mapped[str | None] = Column(String(200), nullable=True)  # redacted
    at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class OrderRating(Base):
    """评单: the resident's one rating of a completed order."""

    __tablename__ = "order_ratings"

    id: Mapped[int] = Column(Integer, primary_key=True)
    order_id: Mapped[int] = Column(
        Integer, ForeignKey("service_orders.id"), nullable=False, unique=True
    )
    volunteer_id: Mapped[int | None] = Column(
        Integer, ForeignKey("volunteers.id"), nullable=True, index=True
    )
    score: Mapped[int] = Column(Integer, nullable=False)  # 1-5
    comment: Mapped[str] = Column(Text, nullable=False, default="")  # redacted
    created_at: Mapped[datetime] = Column(
        DateTime(timezone=True), nullable=False, default=utcnow, index=True
    )


class ServiceHours(Base):
    """Time a volunteer served on one completed order (confirmed with the 核验码)."""

    __tablename__ = "service_hours"

    id: Mapped[int] = Column(Integer, primary_key=True)
    volunteer_id: Mapped[int] = Column(
        Integer, ForeignKey("volunteers.id"), nullable=False, index=True
    )
    order_id: Mapped[int] = Column(
        Integer, ForeignKey("service_orders.id"), nullable=False, unique=True
    )
    minutes: Mapped[int] = Column(Integer, nullable=False)
    at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class HandledMark(Base):
    """A help request or unanswered question a staff member has dealt with."""

    __tablename__ = "handled_marks"
    __table_args__ = (UniqueConstraint("kind", "item_id"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    kind: Mapped[str] = Column(String(16), nullable=False)  # help | question
    item_id: Mapped[int] = Column(Integer, nullable=False)
    by: Mapped[str] = Column(String(64), nullable=False)
    note: Mapped[str] = Column(String(200), nullable=False, default="")  # redacted
    at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class AnalyticsEvent(Base):
    """One turn of a conversation, as the district's statistics need it
    (``bot.insights``): when, which channel, a hashed sender, the kind of move and
    what we answered. Never the text. Deleted after ``analytics_retention_days``;
    the daily totals made from them (``AnalyticsRollup``) stay."""

    __tablename__ = "analytics_events"

    id: Mapped[int] = Column(Integer, primary_key=True)
    at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    day: Mapped[date] = Column(Date, nullable=False, index=True)  # China time
    hour: Mapped[int] = Column(Integer, nullable=False)  # 0-23, China time
    channel: Mapped[str] = Column(String(32), nullable=False)
    user_hash: Mapped[str] = Column(String(64), nullable=False)
    new_session: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    move: Mapped[str] = Column(String(40), nullable=False)  # the intent, "free_text" for a question
    decision: Mapped[str | None] = Column(
        String(32), nullable=True
    )  # answer | debunk | choices | none | ...
    topic: Mapped[str | None] = Column(String(16), nullable=True)
    entry_id: Mapped[str | None] = Column(String(80), nullable=True)
    score_band: Mapped[str | None] = Column(String(8), nullable=True)  # high | medium | low
    fraud_risk: Mapped[str | None] = Column(String(8), nullable=True)
    fraud_type: Mapped[str | None] = Column(String(32), nullable=True)
    report_id: Mapped[str | None] = Column(String(16), nullable=True)  # a rumour report's public id
    order_id: Mapped[str | None] = Column(String(16), nullable=True)  # a service order's public id


class AnalyticsUserDay(Base):
    """A sender's turns and conversations on one day in one channel: unique users
    of any period without reading every event."""

    __tablename__ = "analytics_user_days"

    day: Mapped[date] = Column(Date, primary_key=True)
    channel: Mapped[str] = Column(String(32), primary_key=True)
    user_hash: Mapped[str] = Column(String(64), primary_key=True)
    turns: Mapped[int] = Column(Integer, nullable=False, default=0)
    conversations: Mapped[int] = Column(Integer, nullable=False, default=0)


class AnalyticsUser(Base):
    """When a hashed sender first and last wrote: new against returning users."""

    __tablename__ = "analytics_users"

    user_hash: Mapped[str] = Column(String(64), primary_key=True)
    first_day: Mapped[date] = Column(Date, nullable=False, index=True)
    first_channel: Mapped[str] = Column(String(32), nullable=False)
    last_day: Mapped[date] = Column(Date, nullable=False, index=True)


class AnalyticsRollup(Base):
    """A finished day's totals by one dimension (topic, entry, decision, …) and
    channel: turns, distinct users, and a bottom-k sketch of the users (small
    keyed hashes, ``bot.insights.rollup``) that tells, for any period, whether a
    cell counts fewer than 5 people. Kept for good."""

    __tablename__ = "analytics_rollups"

    day: Mapped[date] = Column(Date, primary_key=True)
    channel: Mapped[str] = Column(String(32), primary_key=True)
    dimension: Mapped[str] = Column(String(16), primary_key=True)
    key: Mapped[str] = Column(String(80), primary_key=True)
    turns: Mapped[int] = Column(Integer, nullable=False)
    users: Mapped[int] = Column(Integer, nullable=False)
    sketch: Mapped[str] = Column(String(64), nullable=False)


class KnowledgeDraft(Base):
    """A knowledge entry written from a knowledge gap in the console: drafted by a
    curator, published by an expert (``bot.insights.drafts``)."""

    __tablename__ = "knowledge_drafts"

    id: Mapped[int] = Column(Integer, primary_key=True)
    status: Mapped[str] = Column(String(16), nullable=False, default="draft", index=True)
    topic: Mapped[str] = Column(String(16), nullable=False)
    title: Mapped[str] = Column(String(60), nullable=False)
    questions: Mapped[Any] = Column(JSON, nullable=False)  # phrasings, the gap's questions redacted
    answer: Mapped[str] = Column(Text, nullable=False)
    steps: Mapped[Any] = Column(JSON, nullable=False, default=list)
    source: Mapped[Any] = Column(JSON, nullable=False)  # {"organisation", "title", "url"}
    reviewed_on: Mapped[date | None] = Column(Date, nullable=True)
    gap_example: Mapped[str] = Column(Text, nullable=False, default="")  # redacted
    author: Mapped[str] = Column(String(64), nullable=False)
    approver: Mapped[str | None] = Column(String(64), nullable=True)
    entry_id: Mapped[str | None] = Column(String(80), nullable=True)
    note: Mapped[str] = Column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)


# --- proactive outreach (issue 22, migration 0017; bot/outreach) -------------------------


class OutreachRecipient(Base):
    """Someone who asked for reminders: the channel and its user id as the channel
    knows it (an openid, a WeCom account, the web chat's cookie pseudonym), the id
    the channels' outbox and report-back keep too. Never a phone number. Rows
    exist only while the person has a subscription or an alert owed."""

    __tablename__ = "outreach_recipients"
    __table_args__ = (UniqueConstraint("channel", "recipient", name="uq_outreach_recipient"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    channel: Mapped[str] = Column(String(32), nullable=False)
    recipient: Mapped[str] = Column(String(128), nullable=False)
    # Their last message (WeChat's 48-hour window, across processes) and when the
    # weekly cap lets the next non-urgent alert go out.
    last_inbound_at: Mapped[datetime | None] = Column(DateTime(timezone=True), nullable=True)
    cap_until: Mapped[datetime | None] = Column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class OutreachSubscription(Base):
    """One kind of reminder one person asked for: fraud | farm (with a crop) | digest."""

    __tablename__ = "outreach_subscriptions"
    __table_args__ = (
        UniqueConstraint("recipient_id", "kind", "crop", name="uq_outreach_subscription"),
        Index("ix_outreach_subscriptions_kind_crop", "kind", "crop"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    recipient_id: Mapped[int] = Column(
        Integer, ForeignKey("outreach_recipients.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = Column(String(16), nullable=False)
    crop: Mapped[str] = Column(String(16), nullable=False, default="")  # "" unless kind is farm
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class OutreachAlert(Base):
    """An alert to subscribers: drafted, approved, scheduled, sent (``bot.outreach``)."""

    __tablename__ = "outreach_alerts"

    id: Mapped[int] = Column(Integer, primary_key=True)
    kind: Mapped[str] = Column(String(16), nullable=False)  # fraud | farm | digest
    crop: Mapped[str] = Column(String(16), nullable=False, default="")  # farm alerts: one crop
    text: Mapped[str] = Column(Text, nullable=False)  # at most one screen
    entry_id: Mapped[str | None] = Column(
        String(80), nullable=True
    )  # the knowledge entry it points to
    urgent: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    status: Mapped[str] = Column(String(16), nullable=False, default="draft", index=True)
    author: Mapped[str] = Column(String(64), nullable=False)
    approver: Mapped[str | None] = Column(String(64), nullable=True)
    send_at: Mapped[datetime | None] = Column(DateTime(timezone=True), nullable=True)
    expires_at: Mapped[datetime | None] = Column(DateTime(timezone=True), nullable=True)
    planned_at: Mapped[datetime | None] = Column(
        DateTime(timezone=True), nullable=True
    )  # deliveries written
    # Drafted once by the service: a seasonal reminder, "<reminder id>:<year>"
    # (bot/outreach/calendar.py), or a monthly digest, "digest:YYYY-MM" (digest.py).
    calendar_key: Mapped[str | None] = Column(String(80), nullable=True, unique=True)
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class OutreachDelivery(Base):
    """One alert to one person: at most one row per pair, claimed before it is sent."""

    __tablename__ = "outreach_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "recipient_id", name="uq_outreach_delivery"),
        Index("ix_outreach_deliveries_due", "status", "next_attempt_at"),
        Index("ix_outreach_deliveries_recipient", "recipient_id", "status"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    alert_id: Mapped[int] = Column(
        Integer, ForeignKey("outreach_alerts.id", ondelete="CASCADE"), nullable=False
    )
    recipient_id: Mapped[int] = Column(
        Integer, ForeignKey("outreach_recipients.id", ondelete="CASCADE"), nullable=False
    )
    # pending | claimed | sending | sent | held | delivered | cancelled | expired
    # | failed | unknown
    status: Mapped[str] = Column(String(16), nullable=False, default="pending")
    route: Mapped[str | None] = Column(
        String(16), nullable=True
    )  # custom | template | app | next_message
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = Column(
        DateTime(timezone=True), nullable=False, default=utcnow
    )
    lease_until: Mapped[datetime | None] = Column(DateTime(timezone=True), nullable=True)
    worker: Mapped[str | None] = Column(String(64), nullable=True)
    last_error: Mapped[str | None] = Column(String(200), nullable=True)
    sent_at: Mapped[datetime | None] = Column(DateTime(timezone=True), nullable=True)
    read_at: Mapped[datetime | None] = Column(
        DateTime(timezone=True), nullable=True
    )  # they wrote to us after it
