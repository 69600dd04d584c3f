"""One analytics event per turn, read off the conversation's own events.

Rasa publishes every event it stores (``bot.channels.analytics``): the user's
message with its intent and channel, the bot's messages with the tags the
actions put in ``custom`` (``actions.common.tagged``: the move, the entry served,
the fraud risk, the report or order filed), and ``action_listen`` when the bot
waits again. ``TurnAssembler`` folds them, per sender, into one ``Turn``: the
numbers the district's statistics need, and never a word the person wrote.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from bot.storage.db import sender_hash
from bot.storage.models import CHINA_TIME

# Conversations the service holds with itself to warm up (bot/run/rasa_entry.py).
INTERNAL_SENDERS = ("kepu-warmup-",)
# A message the NLU did not give a conversation move goes to the understanding
# step (bot/understanding): it is a question, a claim or a pasted message.
FREE_TEXT = "free_text"
# Moves whose turn is a question (or a claim, or a pasted message) for the
# statistics of what people ask; the rest are menu numbers, thanks, forms …
QUESTION_MOVES = frozenset({FREE_TEXT, "check_message", "handoff"})
# Tag keys (actions.common.tagged) and the Turn fields they fill.
_TAGS = {
    "decision": "decision",
    "entry_id": "entry_id",
    "topic": "topic",
    "band": "score_band",
    "risk": "fraud_risk",
    "fraud_type": "fraud_type",
    "report": "report_id",
    "order": "order_id",
}
_LIMITS = {
    "decision": 32,
    "entry_id": 80,
    "topic": 16,
    "score_band": 8,
    "fraud_risk": 8,
    "fraud_type": 32,
    "report_id": 16,
    "order_id": 16,
}


@dataclass
class Turn:
    """A user message and what the bot made of it (one ``analytics_events`` row)."""

    at: datetime
    channel: str
    user_hash: str
    move: str
    new_session: bool = False
    decision: str | None = None
    topic: str | None = None
    entry_id: str | None = None
    score_band: str | None = None
    fraud_risk: str | None = None
    fraud_type: str | None = None
    report_id: str | None = None
    order_id: str | None = None

    @property
    def local(self) -> datetime:
        """When the turn happened, in China time."""
        return self.at.astimezone(CHINA_TIME)

    @property
    def day(self) -> date:
        return self.local.date()

    @property
    def hour(self) -> int:
        return self.local.hour

    def row(self) -> dict[str, Any]:
        """The ``analytics_events`` columns."""
        return {
            "at": self.at,
            "day": self.day,
            "hour": self.hour,
            "channel": self.channel,
            "user_hash": self.user_hash,
            "new_session": self.new_session,
            "move": self.move,
            "decision": self.decision,
            "topic": self.topic,
            "entry_id": self.entry_id,
            "score_band": self.score_band,
            "fraud_risk": self.fraud_risk,
            "fraud_type": self.fraud_type,
            "report_id": self.report_id,
            "order_id": self.order_id,
        }


@dataclass
class _Pending:
    new_session: bool = False
    turn: Turn | None = None
    tags: dict[str, str] = field(default_factory=dict)


class TurnAssembler:
    """Folds a stream of Rasa event dicts (each with ``sender_id``) into turns.

    A turn starts at a user message and ends at the next ``action_listen`` (or
    at the sender's next user message, if a broken turn never listened again).
    Only names, tags and times are read; the text is never looked at.
    """

    def __init__(self) -> None:
        self._pending: dict[str, _Pending] = {}

    def feed(self, event: dict[str, Any]) -> list[Turn]:
        """Take one event; the turns it completed (none, or one)."""
        sender = event.get("sender_id")
        if not isinstance(sender, str) or sender.startswith(INTERNAL_SENDERS):
            return []
        kind = event.get("event")
        pending = self._pending.get(sender)
        if kind == "session_started":
            done = self._finish(sender)
            self._pending[sender] = _Pending(new_session=True)
            return done
        if kind == "user":
            done = self._finish(sender) if pending and pending.turn else []
            fresh = self._pending.pop(sender, None)
            started = _Pending(new_session=bool(fresh and fresh.new_session))
            started.turn = _turn_of(sender, event, started.new_session)
            self._pending[sender] = started
            return done
        if pending is None or pending.turn is None:
            return []
        if kind == "bot":
            custom = (event.get("data") or {}).get("custom")
            if isinstance(custom, dict):
                for key, value in custom.items():
                    if key in _TAGS and isinstance(value, str) and value:
                        pending.tags.setdefault(key, value)
            return []
        if kind == "action" and event.get("name") == "action_listen":
            return self._finish(sender)
        return []

    def _finish(self, sender: str) -> list[Turn]:
        pending = self._pending.pop(sender, None)
        if pending is None or pending.turn is None:
            return []
        turn = pending.turn
        for key, value in pending.tags.items():
            name = _TAGS[key]
            setattr(turn, name, value[: _LIMITS[name]])
        return [turn]

    def __len__(self) -> int:
        """Senders with a turn not yet finished."""
        return len(self._pending)


def _turn_of(sender: str, event: dict[str, Any], new_session: bool) -> Turn:
    intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
    channel = event.get("input_channel")
    stamp = event.get("timestamp")
    at = (
        datetime.fromtimestamp(float(stamp), timezone.utc)
        if isinstance(stamp, int | float) and math.isfinite(stamp)
        else datetime.now(timezone.utc)
    )
    return Turn(
        at=at,
        channel=(channel if isinstance(channel, str) and channel else "unknown")[:32],
        user_hash=sender_hash(sender),
        move=(intent if isinstance(intent, str) and intent else FREE_TEXT)[:40],
        new_session=new_session,
    )
