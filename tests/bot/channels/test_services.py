"""The services the channels of a Rasa process share: settings and one database."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.rest import KepuRestInput
from bot.channels.services import ChannelServices, process_services
from bot.settings import Settings
from tests.bot.channels.conftest import wechat_channel


class Holder:
    """Stands in for a channel."""


async def test_the_last_channel_to_let_go_closes_the_shared_database(tmp_path: Path) -> None:
    shared = ChannelServices(Settings(var_dir=tmp_path))
    first, second = Holder(), Holder()
    shared.hold(first)
    shared.hold(second)
    db = shared.db
    await shared.release(first)
    assert shared.db is db  # the other channel still serves
    await shared.release(second)
    await shared.release(second)  # twice (the server's stop, then a test's close): no harm
    assert shared.db is not db  # closed, and opened anew for a later use
    await shared.close()


async def test_the_channels_of_a_process_share_its_settings_and_database(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEPU_MAX_MESSAGE_CHARS", "300")
    rest = KepuRestInput()  # as from_credentials builds it (without Rasa's speed-ups)
    wechat = wechat_channel("http://127.0.0.1:9", mode="plain")
    services = rest.services
    try:
        assert services is wechat.services is process_services()
        assert services.settings.database_url == sqlite_url
        db = services.db
        assert wechat.db is db
        assert rest.max_chars == wechat.runner.max_chars == 300
        await rest.close()  # the server stops: the REST channel first
        assert wechat.db is db  # still open for the WeChat channel
    finally:
        await rest.close()
        await wechat.close()
    assert services.db is not db  # the last one closed it
    await services.close()
