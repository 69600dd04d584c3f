"""Tables we own. Conversation history lives in Rasa's tracker store instead.

Nothing personal is stored here unredacted: text columns hold the output of
``bot.text.redact.redact`` and senders are kept as salted hashes.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, Float, Integer, String, Text
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
