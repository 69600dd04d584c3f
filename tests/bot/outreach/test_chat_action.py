"""The subscription commands through the Rasa action: said in words, picked by number
after the crop question, or the crop named in words right after it."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.outreach import outreach_turn
from bot.menu.pages import topic_page
from bot.outreach.chat import crop_options
from bot.outreach.subscriptions import Subscription, subscriptions


def tracker(text: str, intent: str = "free_text", pending: list[str] | None = None) -> Tracker:
    latest = {"text": text, "intent": {"name": intent}}
    return Tracker(
        sender_id="o-senior",
        slots={"pending_options": pending},
        latest_message=latest,
        events=[{"event": "user", "input_channel": "wechat", **latest}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def turn(db, text: str, **options) -> tuple[str, list]:
    dispatcher = CollectingDispatcher()
    chosen = options.pop("chosen", None)
    events = await outreach_turn(dispatcher, tracker(text, **options), chosen, db)
    assert events is not None, text
    [message] = dispatcher.messages
    return message["text"], events


async def test_subscribing_in_words_by_number_and_by_crop_name(migrated_db) -> None:
    db = migrated_db
    text, events = await turn(db, "我要订阅农事提醒")
    assert "回复数字" in text
    assert events[0]["value"] == crop_options()
    # "2" after the question: action_choose_option hands the option over.
    text, events = await turn(db, "2", intent="choose_option", chosen=crop_options()[1])
    assert "农事提醒（柚子/柑橘）" in text and "退订" in text
    assert events[0]["value"] is None
    # The crop in words, right after the question.
    await turn(db, "我要订阅农事提醒")
    text, _ = await turn(db, "水稻嘛", pending=crop_options())
    assert "农事提醒（水稻）" in text
    await turn(db, "订阅防骗提醒")
    assert await subscriptions(db, "wechat", "o-senior") == [
        Subscription("farm", "柑橘"),
        Subscription("farm", "水稻"),
        Subscription("fraud"),
    ]
    text, _ = await turn(db, "退订")
    assert "已为您退订" in text
    assert await subscriptions(db, "wechat", "o-senior") == []


async def test_other_messages_are_left_to_the_understanding_step(migrated_db) -> None:
    dispatcher = CollectingDispatcher()
    for text in ("二化螟怎么防治", "水稻"):  # "水稻" with no crop question pending
        assert await outreach_turn(dispatcher, tracker(text), None, migrated_db) is None
    assert dispatcher.messages == []


async def test_the_fraud_and_farming_pages_offer_a_subscription(migrated_db) -> None:
    page, options = topic_page("fraud")
    assert "5 订阅防骗提醒" in page
    text, _ = await turn(migrated_db, "5", intent="choose_option", chosen=options[4])
    assert "已为您订阅防骗提醒" in text
    page, options = topic_page("farming")
    assert "5 订阅农事提醒" in page
    text, events = await turn(migrated_db, "5", intent="choose_option", chosen=options[4])
    assert "回复数字" in text and events[0]["value"] == crop_options()
