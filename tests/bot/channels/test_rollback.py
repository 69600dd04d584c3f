"""A failed turn is undone, so the retry of the message starts from the same place."""

from __future__ import annotations

from types import SimpleNamespace

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels.rollback import forget_failed_turn
from bot.settings import PROJECT_ROOT

SENDER = "senior-1"


def agent() -> SimpleNamespace:
    domain = Domain.load(str(PROJECT_ROOT / "bot" / "domain"))
    return SimpleNamespace(
        tracker_store=InMemoryTrackerStore(domain), lock_store=InMemoryLockStore(), domain=domain
    )


def message(message_id: str) -> UserMessage:
    return UserMessage("4", CollectingOutputChannel(), SENDER, message_id=message_id)


async def store_failed_report(bot: SimpleNamespace) -> None:
    """The report form asked where; "4" closed it, then action_report_rumor failed."""
    asked = [
        ActionExecuted("action_listen"),
        UserUttered("举报谣言", {"name": "report_rumor"}, message_id="m1"),
        ActionExecuted("report_rumor_form"),
        ActiveLoop("report_rumor_form"),
        SlotSet("requested_slot", "rumor_claim"),
        ActionExecuted("action_listen"),
        UserUttered("听说要拆迁了", {"name": "report_rumor"}, message_id="m2"),
        ActionExecuted("report_rumor_form"),
        SlotSet("rumor_claim", "听说要拆迁了"),
        SlotSet("requested_slot", "rumor_where"),
        ActionExecuted("action_listen"),
    ]
    failed = [
        UserUttered("4", {"name": "choose_option"}, message_id="m3"),
        ActionExecuted("report_rumor_form"),
        SlotSet("rumor_where", "village"),
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        ActionExecuted("action_report_rumor"),  # ran "with no events": the server was gone
        ActionExecuted("action_listen"),
    ]
    tracker = DialogueStateTracker.from_events(SENDER, asked + failed, bot.domain.slots)
    await bot.tracker_store.save(tracker)


async def test_a_failed_turn_is_undone_and_the_form_asks_again() -> None:
    bot = agent()
    await store_failed_report(bot)
    assert await forget_failed_turn(bot, message("m3"))
    tracker = await bot.tracker_store.retrieve(SENDER)
    assert tracker.active_loop_name == "report_rumor_form"
    assert tracker.get_slot("requested_slot") == "rumor_where"
    assert tracker.get_slot("rumor_claim") == "听说要拆迁了"
    assert tracker.get_slot("rumor_where") is None
    # everything stays in the history; only what it means changed
    assert any(getattr(e, "message_id", None) == "m3" for e in tracker.events)


async def test_nothing_is_undone_unless_the_failed_message_is_the_latest() -> None:
    bot = agent()
    await store_failed_report(bot)
    assert not await forget_failed_turn(bot, message("m2"))  # a newer message came since
    assert not await forget_failed_turn(bot, UserMessage("4", None, "nobody", message_id="x"))
    tracker = await bot.tracker_store.retrieve(SENDER)
    assert tracker.active_loop_name is None and tracker.get_slot("rumor_where") == "village"


async def test_without_a_tracker_store_nothing_happens() -> None:
    assert not await forget_failed_turn(SimpleNamespace(), message("m3"))
