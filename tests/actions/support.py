"""Run the custom actions as the action server does, without Rasa or a trained model.

- ``make_tracker(text, intent=..., slots=..., ...)`` builds the rasa_sdk ``Tracker``
  Rasa would send: the user's message (intent, entities, metadata, message id,
  channel) as the latest message and the last user event, earlier ``events``
  before it, and form slot candidates (``extracted``) after it, as a form leaves
  them for its validation action.
- ``kit``: the actions' services, installed where ``actions.services.get_services``
  finds them. Storage is real (SQLite in the test's tmp dir, migrated once per
  session and copied); knowledge and understanding are small fakes whose answers a
  test sets (``kit.knowledge.debunks[...]``, ``kit.understanding.decisions[...]``).
- ``act(action, tracker)``: run an action with a fresh ``CollectingDispatcher`` and
  the domain's forms; returns what was said and the events.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import text as sql

from actions.services import Services
from bot.knowledge.schema import Entry
from bot.knowledge.search import Hit
from bot.knowledge.service import AskResult
from bot.storage.db import Database
from bot.text.normalize import CANONICAL_KEY, canonical
from bot.understanding.decide import Decision

DOMAIN_DIR = Path(__file__).resolve().parents[2] / "bot" / "domain"
SENDER = "senior-1"


def load_domain() -> dict[str, Any]:
    """The domain's parts the actions read (forms, slots) and its action names."""
    domain: dict[str, Any] = {"forms": {}, "slots": {}, "actions": []}
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        part = yaml.safe_load(path.read_text("utf-8")) or {}
        domain["forms"].update(part.get("forms") or {})
        domain["slots"].update(part.get("slots") or {})
        domain["actions"] += part.get("actions") or []
    return domain


DOMAIN = load_domain()

# ---------------------------------------------------------------------------
# Knowledge entries (hand-made: the tests do not follow the curated content)


def make_entry(entry_id: str, topic: str, title: str, answer: str, **more: Any) -> Entry:
    return Entry(
        id=entry_id,
        topic=topic,
        title=title,
        questions=[title, f"{title}咋办", f"请问{title}"],
        answer=answer,
        audience=["all"],
        source={"organisation": "国家卫生健康委员会", "title": "健康科普指南2024"},
        reviewed_on=dt.date(2024, 5, 1),
        **more,
    )


HEATSTROKE = make_entry(
    "health-heatstroke",
    "health",
    "中暑了怎么办",
    "中暑要马上到阴凉处休息。补充淡盐水，别喝酒。",
    steps=["扶到阴凉通风的地方", "解开衣领，用湿毛巾擦身", "小口喝淡盐水"],
)
VINEGAR = make_entry(
    "rumor-vinegar-vessels",
    "rumor",
    "喝醋能软化血管吗",
    "这是谣言。醋进了胃就被中和了，软化不了血管。",
    claim="喝醋能软化血管",
    verdict="谣言",
    explanation="醋的酸性在胃里就被中和，进不了血液，更到不了血管壁。",
)
# How the debunk is said (its verdict mark, the answer without "这是谣言。") and tagged.
VINEGAR_LEAD = "【谣言】醋进了胃就被中和了，软化不了血管。"
VINEGAR_TAG = {"decision": "debunk", "entry_id": "rumor-vinegar-vessels", "topic": "rumor"}
WECHAT_PAY = make_entry(
    "smartphone-wechat-pay",
    "smartphone",
    "微信怎么付钱",
    "打开微信，点右上角加号，选扫一扫，对准商家的码就能付钱了。",
)
REFUND_SCAM = make_entry(
    "fraud-refund-call",
    "fraud",
    "冒充客服退款",
    "自称客服说要给您退款的电话，多半是骗子。挂掉电话，从官方app里查订单。",
)
ENTRIES = (HEATSTROKE, VINEGAR, WECHAT_PAY, REFUND_SCAM)


def hit(entry: Entry, score: float = 0.8) -> Hit:
    return Hit(entry, score)


# ---------------------------------------------------------------------------
# Fakes of the services the actions call


@dataclass
class FakeKnowledge:
    """``KnowledgeService`` as the actions use it: ``get``, ``ask``, ``match_debunk``."""

    entries: dict[str, Entry] = field(default_factory=lambda: {e.id: e for e in ENTRIES})
    answers: dict[str, AskResult] = field(default_factory=dict)  # text -> ask()
    debunks: dict[str, tuple[Entry, float]] = field(default_factory=dict)  # text -> match
    asked: list[str] = field(default_factory=list)

    async def get(self, entry_id: str) -> Entry | None:
        return self.entries.get(entry_id)

    async def ask(self, text: str, k: int = 3) -> AskResult:
        self.asked.append(text)
        return self.answers.get(text, AskResult("none"))

    async def match_debunk(self, text: str) -> tuple[Entry, float] | None:
        return self.debunks.get(text)


@dataclass
class FakeUnderstanding:
    """``Understanding.decide``: the decision a test set for the text ("none" else),
    and every call's arguments."""

    decisions: dict[str, Decision] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def decide(self, text: str, **options: Any) -> Decision:
        self.calls.append((text, options))
        # The action passes the canonical form (咋个 → 怎么): set by either form.
        by_form = {canonical(said): decision for said, decision in self.decisions.items()}
        return self.decisions.get(text) or by_form.get(canonical(text), Decision("none"))


class Broken:
    """A service that is down: every call raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Callable[..., Any]:
        async def fail(*_: Any, **__: Any) -> Any:
            raise self.error

        return fail


@dataclass
class Kit:
    """What the actions get from ``get_services``, and handles on it for the tests."""

    services: Services
    tmp: Path

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def knowledge(self) -> FakeKnowledge:
        return self.services.knowledge  # type: ignore[return-value]

    @property
    def understanding(self) -> FakeUnderstanding:
        return self.services.understanding  # type: ignore[return-value]

    def database_down(self) -> None:
        """The database cannot be opened from now on (SQLAlchemy's OperationalError)."""
        self.services.db = Database(f"sqlite+aiosqlite:///{self.tmp / 'gone' / 'kepu.db'}")

    async def rows(self, query: str, **params: Any) -> list[tuple[Any, ...]]:
        """Rows of a SQL query on the test's own database."""
        async with self.db.session() as session:
            return [tuple(row) for row in (await session.execute(sql(query), params)).all()]

    async def execute(self, statement: str, **params: Any) -> None:
        """Change the test's database behind the actions' back (SQL)."""
        async with self.db.session() as session:
            await session.execute(sql(statement), params)

    async def count(self, table: str) -> int:
        return (await self.rows(f"SELECT COUNT(*) FROM {table}"))[0][0]


def stamp(when: dt.datetime | None = None) -> str:
    """A time as SQLAlchemy stores it in SQLite (for rows written with SQL)."""
    return (when or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%d %H:%M:%S.%f")


# ---------------------------------------------------------------------------
# Trackers and running an action

_clock = itertools.count(1_780_000_000)


def user_event(
    text: str, message_id: str, channel: str = "wechat", timestamp: float | None = None
) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "message_id": message_id,
        "input_channel": channel,
        "timestamp": timestamp if timestamp is not None else float(next(_clock)),
        "parse_data": {"text": text, "intent": {"name": "free_text"}},
    }


def bot_event(text: str, custom: dict[str, Any] | None = None, **data: Any) -> dict[str, Any]:
    return {"event": "bot", "text": text, "data": {**data, "custom": custom}}


def make_tracker(
    text: str = "",
    *,
    intent: str = "free_text",
    confidence: float = 0.95,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    extracted: dict[str, Any] | None = None,
    sender: str = SENDER,
    channel: str = "wechat",
    message_id: str = "wx-msg-1",
    metadata: dict[str, Any] | None = None,
    active_loop: str | None = None,
    text_canonical: str | None = None,
) -> Tracker:
    """The tracker Rasa sends to the action server for the message ``text``.

    ``events``: what happened before this message; ``extracted``: slot candidates a
    form set from this message (trailing slot events, as validation actions see them);
    ``text_canonical``: the form the NLU carries (by default ``canonical(text)``, as
    the NLU works it out).
    """
    latest = {
        "text": text,
        CANONICAL_KEY: canonical(text) if text_canonical is None else text_canonical,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "message_id": message_id,
        "metadata": metadata or {},
    }
    user = {**user_event(text, message_id, channel), "parse_data": latest}
    trailing = [{"event": "slot", "name": k, "value": v} for k, v in (extracted or {}).items()]
    return Tracker(
        sender_id=sender,
        slots={**(slots or {}), **(extracted or {})},
        latest_message=latest,
        events=[*(events or []), user, *trailing],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@dataclass
class Said:
    """What an action said (the dispatcher's messages) and the events it returned."""

    messages: list[dict[str, Any]]
    events: list[dict[str, Any]]

    @property
    def texts(self) -> list[str]:
        return [m.get("text") or "" for m in self.messages]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def customs(self) -> list[dict[str, Any]]:
        return [m["custom"] for m in self.messages if m.get("custom")]

    @property
    def slots(self) -> dict[str, Any]:
        """The slots the events set (the last value of each)."""
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}

    @property
    def followup(self) -> str | None:
        names = [e["name"] for e in self.events if e.get("event") == "followup"]
        return names[-1] if names else None


async def run_action(action: Action, tracker: Tracker) -> Said:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    return Said(dispatcher.messages, [dict(e) for e in events])
