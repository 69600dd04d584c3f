"""Answers read aloud on WeChat and WeCom (issue 23 item 3): a voice message answered
from the knowledge base gets, after the text, the answer's first sentence and steps
as a voice message — synthesised by the tone engine in a real worker process,
uploaded to the simulator's ``/cgi-bin/media/upload`` as temporary media and sent
through the customer-service API. The text is never late nor lost for it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.wechat_platform import PlatformClient, Simulator, message_xml
from bot.channels.wechat.webhook import PASSIVE_FIRST_SECONDS, CallbackChannel
from bot.voice.listener import heard_reply
from bot.voice.speech import spoken_text
from bot.wechat.api import WeChatApi, WeComApi
from tests.bot.channels.assistant import FakeAssistant, rasa_server
from tests.bot.channels.conftest import WECHAT, WECOM, WECOM_AGENT_ID, wechat_channel, wecom_channel
from tests.bot.voice.speaking import tone_speaker

USER = "oSpeechUser-1234567890abcdefgh"
BUDGET = 3.0
AED = [
    "有人心跳骤停时，先立即拨打120，同时尽快取来AED。",
    "1. 打开AED电源，听语音提示\n2. 按图示把两片电极片贴在病人裸露的胸口",
    "来源：美国心脏协会（AHA），2020（回复“多讲一点”看详细和出处）\n"
    "觉得有帮助请回复“有用”，没帮助请回复“没用”。",
]
SPOKEN = spoken_text(AED)


def entry_answer(text: str) -> list[dict[str, Any]]:
    """The assistant's answer with an entry, as the actions say it (the tag on its first text)."""
    if text == "菜单":
        return [{"text": "请回复数字选择：\n1 手机使用", "custom": {"decision": "menu"}}]
    first = {"text": AED[0], "custom": {"decision": "answer", "entry_id": "health-aed"}}
    return [first, *({"text": t} for t in AED[1:])]


@dataclass
class Chat:
    client: PlatformClient
    channel: CallbackChannel
    assistant: FakeAssistant
    platform: Simulator
    account: str
    wecom: bool

    def extra(self) -> dict[str, Any]:
        return {"AgentID": WECOM_AGENT_ID} if self.wecom else {}

    async def voice(self, msg_id: int, recognition: str = "AED怎么用") -> str:
        fields = {"MediaId": "m", "Format": "amr", "MsgId": msg_id, "Recognition": recognition}
        return await self.post(message_xml(self.account, USER, "voice", **fields, **self.extra()))

    async def text(self, msg_id: int, text: str) -> str:
        xml = message_xml(self.account, USER, "text", Content=text, MsgId=msg_id, **self.extra())
        return await self.post(xml)

    async def post(self, xml: bytes) -> str:
        reply = await self.client.post(xml)
        assert reply.status == 200, reply.text
        assert reply.seconds < BUDGET + 1  # the text never waits for the voice
        if not reply.body or reply.text == "success":
            return reply.text
        return self.client.open_reply(reply)["Content"]

    async def settle(self) -> None:
        await asyncio.sleep(PASSIVE_FIRST_SECONDS)
        await self.channel.drain()


@pytest.fixture
async def chat(simulator, sqlite_url, http, tmp_path: Path):
    platform, base = simulator

    @asynccontextmanager
    async def start(
        speak: bool = True, wecom: bool = False, delay: float = 0.0
    ) -> AsyncIterator[Chat]:
        channel: CallbackChannel
        if wecom:
            channel = wecom_channel(base)
            channel.limits = type(channel.limits)(
                **{**channel.limits.__dict__, "reply_budget": BUDGET}
            )
        else:
            channel = wechat_channel(base, "safe", reply_budget=BUDGET)
        assert channel.speaker is None  # KEPU_TTS is off unless set
        if speak:
            channel.speaker = tone_speaker(tmp_path)
        assistant = FakeAssistant(delay=delay, answer=entry_answer)
        account = WECOM if wecom else WECHAT
        to = WECOM.receive_id if wecom else "gh_test"
        async with rasa_server(channel, assistant) as url:
            yield Chat(PlatformClient(url, account, http), channel, assistant, platform, to, wecom)

    return start


async def test_a_voice_question_gets_the_text_then_the_answer_read_aloud(chat) -> None:
    async with chat() as c:
        reply = await c.voice(1)
        assert reply.startswith(heard_reply("AED怎么用")) and AED[0] in reply
        assert c.platform.uploads == []  # the passive reply went first
        await c.settle()
        (upload,) = c.platform.uploads
        assert upload["type"] == "voice" and upload["filename"] == "answer.mp3"
        assert upload["content_type"] == "audio/mpeg"
        assert upload["content"][:3] == b"ID3" or upload["content"][0] == 0xFF
        assert len(upload["content"]) < 2 * 1024 * 1024
        assert c.platform.voices_to(USER) == [upload["media_id"]]
        (sent,) = (s for s in c.platform.sent if s["json"].get("msgtype") == "voice")
        assert sent["path"] == "/cgi-bin/message/custom/send"
        assert sent["json"] == {
            "touser": USER,
            "msgtype": "voice",
            "voice": {"media_id": upload["media_id"]},
        }
        # The same answer again: the uploaded media is reused (temporary media lasts 3 days).
        await c.voice(2)
        await c.settle()
        assert len(c.platform.uploads) == 1
        assert c.platform.voices_to(USER) == [upload["media_id"]] * 2
        assert c.channel.speaker is not None and c.channel.speaker.synthesized == 1


async def test_typed_questions_and_answers_without_an_entry_are_not_read(chat) -> None:
    async with chat() as c:
        assert (await c.text(11, "AED怎么用")).startswith(AED[0])
        await c.voice(12, recognition="菜单")  # no entry in the answer
        await c.settle()
        assert c.platform.uploads == [] and c.platform.voices_to(USER) == []
        assert c.channel.speaker is not None and c.channel.speaker.worker is None  # never started


async def test_off_by_default_nothing_is_uploaded(chat) -> None:
    async with chat(speak=False) as c:
        reply = await c.voice(21)
        assert AED[0] in reply
        await c.settle()
        assert c.platform.uploads == [] and c.platform.voices_to(USER) == []


async def test_a_broken_engine_or_a_refused_upload_costs_only_the_voice(chat) -> None:
    async with chat() as c:
        assert c.channel.speaker is not None
        c.channel.speaker.engine = "missing-engine"
        started = time.monotonic()
        reply = await c.voice(31)
        assert AED[0] in reply and time.monotonic() - started < BUDGET
        await c.settle()
        assert c.platform.uploads == [] and c.platform.voices_to(USER) == []
        # A working engine, but the platform refuses the upload (e.g. a full quota).
        c.channel.speaker = tone_speaker(c.channel.speaker.cache.directory.parent / "other")
        c.platform.upload_errors.append(45009)
        assert AED[0] in await c.voice(32)
        await c.settle()
        assert c.platform.voices_to(USER) == []
        # and the next one goes through
        await c.voice(33)
        await c.settle()
        assert len(c.platform.voices_to(USER)) == 1


async def test_a_late_answer_is_pushed_first_and_read_aloud_after_it(chat) -> None:
    async with chat(delay=BUDGET + 0.5) as c:
        assert await c.voice(41) == "success"  # too slow for the passive reply
        await c.platform.wait_for(4, timeout=BUDGET + 10)
        await c.channel.drain()
        kinds = [s["json"]["msgtype"] for s in c.platform.sent]
        assert kinds[-1] == "voice" and set(kinds[:-1]) == {"text"}
        assert AED[0] in "".join(c.platform.texts_to(USER))


async def test_wecom_needs_amr_which_this_ffmpeg_cannot_write(chat, caplog) -> None:
    async with chat(wecom=True) as c:
        speaker = c.channel.speaker
        assert speaker is not None and c.channel.api.voice_format == "amr"
        if speaker.can_encode("amr"):
            pytest.skip("this ffmpeg has an AMR encoder: the WeCom voice reply is sent")
        assert AED[0] in await c.voice(51)
        await c.voice(52)
        await c.settle()
        assert c.platform.uploads == [] and speaker.worker is None
        said = [r for r in caplog.records if "cannot encode" in r.getMessage()]
        assert len(said) == 1  # said once, not for every message


def test_voice_messages_as_each_platform_takes_them() -> None:
    wechat = WeChatApi("http://x", "wx1", "s")
    assert wechat.voice_message("o1", "M") == (
        "/cgi-bin/message/custom/send",
        {"touser": "o1", "msgtype": "voice", "voice": {"media_id": "M"}},
    )
    wecom = WeComApi("http://x", "ww1", "s", 1000002)
    assert wecom.voice_message("u1", "M") == (
        "/cgi-bin/message/send",
        {"touser": "u1", "msgtype": "voice", "agentid": 1000002, "voice": {"media_id": "M"}},
    )
    assert (wechat.voice_format, wecom.voice_format) == ("mp3", "amr")
