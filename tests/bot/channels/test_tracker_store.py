"""The windowed tracker store, with real Rasa events on SQLite.

Each test plays a conversation turn by turn the way Rasa's processor does
(retrieve, add the turn's events, save) and compares what the store loads with
the whole session replayed, which is what Rasa's own store would give.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels.tracker_store import CARRIED, TrackerWindow, WindowedSQLTrackerStore
from bot.settings import PROJECT_ROOT

MAX_EVENTS = 60
KEEP_EVENTS = 20


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "bot" / "domain"))


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "tracker.db")


@pytest.fixture
def store(domain: Domain, db: str) -> WindowedSQLTrackerStore:
    return WindowedSQLTrackerStore(
        domain, dialect="sqlite", db=db, max_events=MAX_EVENTS, keep_events=KEEP_EVENTS
    )


class Conversation:
    """Plays turns through a store and keeps every event, as the truth to compare with."""

    def __init__(self, store: WindowedSQLTrackerStore, sender: str = "senior-1") -> None:
        self.store = store
        self.sender = sender
        self.events: list[Event] = []
        self._clock = itertools.count(1_700_000_000)

    async def play(self, *events: Event) -> DialogueStateTracker:
        tracker = await self.store.get_or_create_tracker(self.sender, append_action_listen=False)
        for event in events:
            event.timestamp = float(next(self._clock))
            tracker.update(event)
        await self.store.save(tracker)
        self.events += events
        return tracker

    async def start(self) -> None:
        await self.play(
            ActionExecuted("action_session_start"),
            SessionStarted(),
            ActionExecuted("action_listen"),
        )

    async def menu_turn(self, n: int) -> None:
        await self.play(
            UserUttered(str(n % 7 + 1), {"name": "choose_option", "confidence": 0.99}),
            ActionExecuted("action_choose_option"),
            BotUttered(f"第{n}页"),
            SlotSet("pending_options", [f"ask:问题{n}-{i}" for i in range(4)]),
            SlotSet("chosen", "topic"),
            ActionExecuted("action_listen"),
        )

    async def question_turn(self, n: int) -> None:
        await self.play(
            UserUttered(f"问题{n}", {"name": "free_text", "confidence": 0.9}),
            ActionExecuted("action_understand"),
            BotUttered(f"回答{n}"),
            SlotSet("last_entry_id", f"entry-{n}"),
            SlotSet("pending_options", None),
            ActionExecuted("action_listen"),
        )

    async def start_report(self) -> None:
        await self.play(
            UserUttered("举报谣言", {"name": "report_rumor", "confidence": 0.98}),
            ActionExecuted("report_rumor_form"),
            ActiveLoop("report_rumor_form"),
            SlotSet("requested_slot", "rumor_claim"),
            BotUttered("请把您听到的说法发给我。"),
            ActionExecuted("action_listen"),
        )

    async def repeat_in_form(self) -> None:
        await self.play(
            UserUttered("再说一遍", {"name": "repeat", "confidence": 0.97}),
            ActionExecuted("report_rumor_form"),
            BotUttered("请把您听到的说法发给我。"),
            ActionExecuted("action_listen"),
        )

    async def give_claim(self, claim: str) -> None:
        await self.play(
            UserUttered(claim, {"name": "free_text", "confidence": 0.5}),
            SlotSet("rumor_claim", claim),
            ActionExecuted("report_rumor_form"),
            SlotSet("requested_slot", "rumor_where"),
            BotUttered("您是在哪里看到的？"),
            ActionExecuted("action_listen"),
        )

    async def fallback_turn(self) -> None:
        await self.play(
            UserUttered("啊啊啊", {"name": "nlu_fallback", "confidence": 0.2}),
            SlotSet("chosen", "other"),
            ActionExecuted("action_default_fallback"),
            BotUttered("不好意思，我没太明白。"),
            UserUtteranceReverted(),
            SlotSet("pending_options", None),
            ActionExecuted("action_listen"),
        )

    def whole_session(self) -> DialogueStateTracker:
        """The session replayed from its start, as Rasa's SQLTrackerStore loads it."""
        starts = [i for i, e in enumerate(self.events) if isinstance(e, SessionStarted)]
        session = self.events[starts[-1] :] if starts else self.events
        return DialogueStateTracker.from_events(self.sender, session, self.store.domain.slots)


def assert_same_state(loaded: DialogueStateTracker, whole: DialogueStateTracker) -> None:
    assert loaded.current_state() == whole.current_state()
    # What the policies featurize (max_history 5 in config.yml) is the same too.
    domain = Domain.load(str(PROJECT_ROOT / "bot" / "domain"))
    assert loaded.past_states(domain)[-8:] == whole.past_states(domain)[-8:]


async def test_a_long_conversation_loads_a_bounded_window(store, db) -> None:
    talk = Conversation(store)
    await talk.start()
    for n in range(150):
        await (talk.menu_turn if n % 2 else talk.question_turn)(n)
    loaded = await store.retrieve(talk.sender)
    assert loaded is not None
    assert len(talk.events) > 800
    stored = [e for e in loaded.events if CARRIED not in e.metadata]
    assert KEEP_EVENTS <= len(stored) <= MAX_EVENTS
    assert_same_state(loaded, talk.whole_session())
    # Nothing is lost: every event is in the database, once, in order.
    full = await store.retrieve_full_tracker(talk.sender)
    assert [e.as_dict() for e in full.events] == [e.as_dict() for e in talk.events]
    plain = SQLTrackerStore(store.domain, dialect="sqlite", db=db)
    whole = talk.whole_session()
    assert list((await plain.retrieve(talk.sender)).events) == list(whole.events)


async def test_slots_set_long_ago_survive(store) -> None:
    talk = Conversation(store)
    await talk.start()
    await talk.question_turn(0)  # sets last_entry_id
    for n in range(1, 60):
        await talk.menu_turn(n)
    loaded = await store.retrieve(talk.sender)
    assert loaded.get_slot("last_entry_id") == "entry-0"
    assert loaded.get_slot("chosen") == "topic"
    assert not any(isinstance(e, UserUttered) and e.text == "问题0" for e in loaded.events)
    assert_same_state(loaded, talk.whole_session())


async def test_a_form_in_progress_survives_the_window_moving(store) -> None:
    talk = Conversation(store)
    await talk.start()
    for n in range(30):
        await talk.menu_turn(n)
    await talk.start_report()
    # The form stays open for many turns: the window may not start inside it.
    for _ in range(40):
        await talk.repeat_in_form()
    loaded = await store.retrieve(talk.sender)
    assert loaded.active_loop_name == "report_rumor_form"
    assert loaded.get_slot("requested_slot") == "rumor_claim"
    assert any(isinstance(e, ActiveLoop) and e.name for e in loaded.events)
    assert_same_state(loaded, talk.whole_session())
    await talk.give_claim("喝醋能软化血管")
    loaded = await store.retrieve(talk.sender)
    assert loaded.get_slot("rumor_claim") == "喝醋能软化血管"
    assert loaded.get_slot("requested_slot") == "rumor_where"
    assert_same_state(loaded, talk.whole_session())


async def test_the_window_stays_bounded_after_a_form(store) -> None:
    talk = Conversation(store)
    await talk.start()
    await talk.start_report()
    for n in range(60):
        await talk.menu_turn(n)  # the rules deactivate a form on a menu choice
        if n == 0:
            await talk.play(ActiveLoop(None), SlotSet("requested_slot", None))
    loaded = await store.retrieve(talk.sender)
    assert loaded.active_loop_name is None
    assert len(loaded.events) <= MAX_EVENTS + len(store.domain.slots)
    assert_same_state(loaded, talk.whole_session())


async def test_reverted_turns_replay_the_same(store) -> None:
    talk = Conversation(store)
    await talk.start()
    for n in range(80):
        await (talk.fallback_turn() if n % 5 == 0 else talk.menu_turn(n))
    loaded = await store.retrieve(talk.sender)
    assert loaded.get_slot("chosen") == "topic"
    assert_same_state(loaded, talk.whole_session())


async def test_a_new_session_starts_from_scratch(store, db) -> None:
    talk = Conversation(store)
    await talk.start()
    for n in range(60):
        await talk.question_turn(n)
    await talk.start()
    loaded = await store.retrieve(talk.sender)
    assert loaded.get_slot("last_entry_id") is None
    assert len(loaded.events) == 2  # SessionStarted, action_listen (as Rasa loads it)
    assert_same_state(loaded, talk.whole_session())
    await talk.menu_turn(1)
    assert_same_state(await store.retrieve(talk.sender), talk.whole_session())


async def test_the_window_row_is_written_and_conversations_are_separate(store) -> None:
    first, second = Conversation(store, "a"), Conversation(store, "b")
    await first.start()
    await second.start()
    for n in range(40):
        await first.menu_turn(n)
        await second.question_turn(n)
    with store.session_scope() as session:
        rows = {w.sender_id: w.event_id for w in session.query(TrackerWindow)}
    assert set(rows) == {"a", "b"}
    assert_same_state(await store.retrieve("a"), first.whole_session())
    assert_same_state(await store.retrieve("b"), second.whole_session())


async def test_a_turn_stopped_by_the_circuit_breaker_is_closed(store) -> None:
    """Rasa counts actions back to the last action_listen, across user messages:
    a turn saved without one would trip the breaker on every later message."""
    talk = Conversation(store)
    await talk.start()
    failed = [ActionExecuted("action_default_fallback") for _ in range(10)]
    await talk.play(UserUttered("2", {"name": "choose_option", "confidence": 0.9}), *failed)
    loaded = await store.retrieve(talk.sender)
    assert loaded.latest_action_name == "action_listen"
    await talk.menu_turn(1)
    loaded = await store.retrieve(talk.sender)
    assert [e.action_name for e in loaded.events if isinstance(e, ActionExecuted)][-2:] == [
        "action_choose_option",
        "action_listen",
    ]


async def test_an_unfinished_turn_is_left_alone(store) -> None:
    talk = Conversation(store)
    await talk.start()
    await talk.play(UserUttered("菜单", {"name": "menu", "confidence": 0.9}))
    loaded = await store.retrieve(talk.sender)
    assert isinstance(loaded.events[-1], UserUttered)
