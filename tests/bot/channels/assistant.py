"""Test doubles of the assistant around a channel: a fake Rasa agent, and a Sanic
server wiring the channel as ``rasa run`` does (``serving``: any Sanic app on a free
port). The platform's side (callbacks, its message API) is ``bench.wechat_platform``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage, register
from sanic import Sanic

from bench.ports import free_port


@dataclass
class FakeAssistant:
    """Stands in for Rasa's agent: answers through the output channel, fast or slow."""

    delay: float = 0.0
    answer: Callable[[str], list[dict[str, Any]]] = lambda text: [{"text": f"答：{text}"}]
    received: list[UserMessage] = field(default_factory=list)

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        await asyncio.sleep(self.delay)
        for response in self.answer(message.text):
            await message.output_channel.send_response(message.sender_id, dict(response))


@asynccontextmanager
async def serving(app: Sanic) -> AsyncIterator[str]:
    """``app`` served on a free loopback port for the block; yields its base URL. (Make
    the app with ``Sanic.test_mode = True``, so a test can start a fresh one.)"""
    port = free_port()  # Sanic reads port 0 as "the default, 8000"
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.start_serving()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def rasa_server(channel: InputChannel, assistant: FakeAssistant) -> AsyncIterator[str]:
    """A Sanic server wiring ``channel`` exactly as ``rasa run`` does; yields the webhook URL."""
    # Sanic rewrites its own methods for the first app of a process; test mode lets
    # each test start a fresh app.
    Sanic.test_mode = True
    app = Sanic(f"kepu_test_{uuid.uuid4().hex[:12]}")
    app.ctx.agent = assistant  # what Rasa's registered handler calls
    register([channel], app, route="/webhooks/")
    try:
        async with serving(app) as base:
            yield f"{base}/webhooks/{channel.name()}/webhook"
    finally:
        await channel.close()  # type: ignore[attr-defined]
