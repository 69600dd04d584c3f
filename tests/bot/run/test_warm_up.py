"""Ready means warm (``bot.run.rasa_entry.warm_up``): the Rasa port says ready only
after the process has held a conversation of its own, answered by the action
server, so a user's first message after a start is not the one that pays for
TensorFlow's graphs and the index."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import rasa.server
from sanic import Sanic

from bot.run import rasa_entry
from tests.security.test_rasa_version import TOKEN, serving


class Agent:
    """Rasa's agent as the warm-up uses it. While ``action_server_up`` is false the
    turns get no answer from the action server (no decision tag), as when Rasa's
    call to it fails; every turn is slow until the gate opens."""

    def __init__(self) -> None:
        self.turns: list[tuple[str, str]] = []
        self.action_server_up = False
        self.gate = asyncio.Event()

    async def handle_message(self, message: Any) -> None:
        await self.gate.wait()
        self.turns.append((message.sender_id, message.text))
        if self.action_server_up and message.text == rasa_entry.WARMUP_TURNS[0]:
            await message.output_channel.send_custom_json(
                message.sender_id, {"decision": "answer", "entry_id": "phone-wechat-send-hongbao"}
            )
        await message.output_channel.send_text_message(message.sender_id, "系统正忙")


async def status_of(base: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(base + "/") as resp:
        return resp.status, await resp.text()


async def test_the_rasa_port_is_ready_only_after_a_conversation_the_actions_answered(
    monkeypatch,
) -> None:
    monkeypatch.setattr(rasa_entry, "WARMUP_RETRY_SECONDS", 0.01)
    Sanic.test_mode = True
    app = rasa.server.create_app(auth_token=TOKEN)
    rasa_entry.hide_version(app)
    agent = Agent()
    async with serving(app) as base:
        app.ctx.agent = agent
        await rasa_entry.warm_up(app)
        assert await status_of(base) == (503, "warming up")  # the first turn is running
        agent.gate.set()

        async def attempts(n: int) -> None:
            while len({sender for sender, _ in agent.turns}) < n:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(attempts(3), 30)  # without the action server: not ready
        assert await status_of(base) == (503, "warming up")
        agent.action_server_up = True
        await asyncio.wait_for(app.ctx.warming, 10)
        assert await status_of(base) == (200, "ok")
    senders = list(dict.fromkeys(sender for sender, _ in agent.turns))
    assert len(senders) >= 4 and all(s.startswith("kepu-warmup-") for s in senders)
    # Each attempt is a new conversation, the whole warm-up conversation each time.
    last = [text for sender, text in agent.turns if sender == senders[-1]]
    assert last == ["微信红包怎么发", "菜单", "2"]


async def test_a_failing_turn_is_retried_not_fatal(monkeypatch) -> None:
    monkeypatch.setattr(rasa_entry, "WARMUP_RETRY_SECONDS", 0.01)

    class Breaking(Agent):
        async def handle_message(self, message: Any) -> None:
            if len(self.turns) < 2:
                self.turns.append((message.sender_id, message.text))
                raise ConnectionError("the lock store is not up yet")
            await super().handle_message(message)

    class App:
        class ctx:  # noqa: N801 (Sanic's attribute name)
            pass

    agent = Breaking()
    agent.gate.set()
    agent.action_server_up = True
    App.ctx.agent = agent
    await rasa_entry.warm_up(App)
    await asyncio.wait_for(App.ctx.warming, 10)
    assert App.ctx.warm is True
    assert len({sender for sender, _ in agent.turns}) == 3  # two broken attempts, then one
