"""Fixtures of the voice tests: speech made in the test run, and the Tencent ASR simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.bot.voice.sounds import Spoken, spoken_sentence
from tests.bot.voice.tencent_sim import TencentAsrSimulator


@pytest.fixture(scope="session")
def spoken() -> Spoken:
    return spoken_sentence()


@pytest.fixture
async def tencent(aiohttp_server) -> AsyncIterator[tuple[TencentAsrSimulator, str]]:
    sim = TencentAsrSimulator()
    server = await aiohttp_server(sim.app())
    yield sim, str(server.make_url("/"))
