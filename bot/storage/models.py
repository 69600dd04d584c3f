"""Tables we own. Conversation history lives in Rasa's tracker store instead.

Nothing personal is stored here unredacted: text columns hold the output of
``bot.text.redact.redact`` and senders are kept as salted hashes.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import declarative_base

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class HandoffRequest(Base):
    """A user asked for a person or a phone number."""

    __tablename__ = "handoff_requests"

    id = Column(Integer, primary_key=True)
    sender_hash = Column(String(64), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    hotlines = Column(String(64), nullable=False)  # e.g. "120,110"
    text = Column(Text, nullable=False)  # redacted
    status = Column(String(16), nullable=False, default="open")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class UnansweredQuestion(Base):
    """A question the knowledge base could not answer, for curators to fill."""

    __tablename__ = "unanswered_questions"

    id = Column(Integer, primary_key=True)
    sender_hash = Column(String(64), nullable=False)
    channel = Column(String(32), nullable=False)
    text = Column(Text, nullable=False)  # redacted
    best_entry_id = Column(String(80), nullable=True)
    best_score = Column(Float, nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class KnowledgeRecord(Base):
    """A knowledge entry as served: imported from ``knowledge/`` files (upserted
    by id and content hash) or published in the console."""

    __tablename__ = "knowledge_entries"

    id = Column(String(80), primary_key=True)
    topic = Column(String(16), nullable=False, index=True)
    content_hash = Column(String(64), nullable=False)
    data = Column(JSON, nullable=False)  # the validated entry
    origin = Column(String(16), nullable=False)  # "file" | "console"
    retired = Column(Boolean, nullable=False, default=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class Feedback(Base):
    """ "有用 / 没用" on an answer."""

    __tablename__ = "feedback"

    id = Column(Integer, primary_key=True)
    sender_hash = Column(String(64), nullable=False)
    channel = Column(String(32), nullable=False)
    entry_id = Column(String(80), nullable=True, index=True)
    useful = Column(Boolean, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class FraudCheckCount(Base):
    """How many messages were checked, per day, risk and likeliest fraud type.

    The checked text itself is never stored: without a report from the user,
    counts are all we keep.
    """

    __tablename__ = "fraud_check_counts"

    day = Column(Date, primary_key=True)
    risk = Column(String(8), primary_key=True)  # high | medium | low
    fraud_type = Column(String(32), primary_key=True)  # "" when none
    count = Column(Integer, nullable=False, default=0)
