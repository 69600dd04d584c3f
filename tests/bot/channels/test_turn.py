"""The turn runner every channel uses: clean, run, busy reply and undo, what is owed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.rest import TaggedCollectingOutput
from bot.channels.services import ChannelServices
from bot.channels.turn import TurnRunner
from bot.channels.wechat.output import TextCollector
from bot.menu.pages import BUSY_REPLY
from bot.rumors.reports import ReportQueue
from bot.settings import Settings
from bot.text.inbound import EMPTY_REPLY, too_long_reply
from tests.bot.channels.conftest import migrate
from tests.bot.channels.test_rollback import SENDER, agent, store_failed_report
from tests.bot.channels.test_verdict_push import publish_all


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[ChannelServices]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kepu.db'}"
    await migrate(url)
    shared = ChannelServices(Settings(var_dir=tmp_path, database_url=url))
    yield shared
    await shared.close()


def runner(services: ChannelServices, max_chars: int | None = None) -> TurnRunner:
    return TurnRunner(services, "rest", max_chars)


async def replies(message: UserMessage) -> None:
    await message.output_channel.send_text_message(message.sender_id, f"答：{message.text}")


async def says_nothing(message: UserMessage) -> None:
    return None


async def raises(message: UserMessage) -> None:
    await replies(message)
    raise RuntimeError("the agent broke")


async def loses_an_action(message: UserMessage) -> None:
    """What Rasa's processor does when the action server is away: it logs and goes on."""

    def _run_action() -> None:  # the name the rollback watcher knows Rasa's log by
        try:
            raise ConnectionError("action server refused the connection")
        except ConnectionError:
            logging.getLogger("rasa.core.processor").exception("action_report_rumor failed")

    _run_action()
    await replies(message)


async def test_text_is_cleaned_once_with_the_reply_to_an_empty_or_long_message(
    services: ChannelServices,
) -> None:
    run = runner(services, max_chars=10)
    assert run.max_chars == 10
    cleaned = run.clean('  /greet{"x": 1}\x00 ')
    assert cleaned.text.startswith("／greet") and "\x00" not in cleaned.text
    assert run.clean(" \t ").reply == EMPTY_REPLY and run.clean(None).empty
    too_long = run.clean("长" * 11)
    assert too_long.reply == too_long_reply(10) and not too_long.empty
    assert run.clean("你好").reply == ""
    assert runner(services).max_chars == services.settings.max_message_chars == 1000


async def test_a_turn_that_answers_is_passed_on_as_it_is(services: ChannelServices) -> None:
    out = TextCollector()
    busy = await runner(services).run(
        replies, out, SENDER, "你好", agent=None, input_channel="webchat", message_id="m1"
    )
    assert not busy and out.texts == ["答：你好"]


@pytest.mark.parametrize(
    "turn, said, why",
    [
        (raises, ["答：4"], "1 action(s) lost"),
        (loses_an_action, ["答：4"], "1 action(s) lost"),
        (says_nothing, [], "no reply"),
    ],
)
async def test_a_failed_turn_gets_the_busy_reply_and_is_undone(
    services: ChannelServices,
    caplog: pytest.LogCaptureFixture,
    turn: Any,
    said: list[str],
    why: str,
) -> None:
    bot = agent()
    await store_failed_report(bot)  # what the failed turn of message "m3" left
    out = TaggedCollectingOutput()
    with caplog.at_level(logging.WARNING):
        busy = await runner(services).run(
            turn, out, SENDER, "4", agent=bot, input_channel="rest", message_id="m3"
        )
    assert busy
    assert [m["text"] for m in out.messages] == [*said, BUSY_REPLY]
    assert f"busy reply to a rest message: {why}" in caplog.text
    assert "undid a failed turn" in caplog.text
    tracker = await bot.tracker_store.retrieve(SENDER)
    assert tracker.active_loop_name == "report_rumor_form"  # the form asks again
    assert tracker.get_slot("rumor_where") is None


async def test_owed_deliveries_follow_in_order_for_the_channels_given(
    services: ChannelServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = ReportQueue(services.db)
    await queue.submit("群里说喝醋能软化血管", sender_id="web-abc", channel="webchat")
    await publish_all(services.db)
    asked: list[tuple[str, ...]] = []

    async def notices(db: Any, recipient: str) -> list[str]:
        return [f"工单通知：{recipient}"]

    async def alerts(db: Any, channels: tuple[str, ...], recipient: str) -> list[str]:
        asked.append(tuple(channels))
        return ["预警"]

    monkeypatch.setattr("bot.channels.turn.owed_notices", notices)
    monkeypatch.setattr("bot.channels.turn.owed_alerts", alerts)
    owed = await runner(services).owed("web-abc", ("rest", "webchat"))
    assert len(owed) == 3 and "【谣言】" in owed[0]
    assert owed[1:] == ["工单通知：web-abc", "预警"] and asked == [("rest", "webchat")]
    assert await runner(services).owed("web-abc", ("rest", "webchat")) == owed[1:]  # once


async def test_a_database_away_costs_what_is_owed_not_the_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'never-migrated.db'}"  # no tables: every read fails
    away = ChannelServices(Settings(var_dir=tmp_path, database_url=url))
    run = runner(away)
    out = TextCollector()
    try:
        assert not await run.run(replies, out, SENDER, "你好", agent=None, input_channel="wechat")
        assert await run.owed(SENDER, ("wechat",)) == []
    finally:
        await away.close()
    assert out.texts == ["答：你好"]
    assert "could not read the verdicts owed to a sender" in caplog.text
    assert "could not read the order notices owed to a sender" in caplog.text
    assert "could not read the alerts owed to a subscriber" in caplog.text
