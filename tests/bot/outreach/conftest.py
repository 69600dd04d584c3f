"""The simulated WeChat/WeCom API (``bench.wechat_platform``) for the outreach tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bench.wechat_platform import Simulator


@pytest.fixture
async def simulator(aiohttp_server) -> AsyncIterator[tuple[Simulator, str]]:
    sim = Simulator()
    server = await aiohttp_server(sim.app())
    yield sim, str(server.make_url("")).rstrip("/")
