"""Voice messages through the WeChat and WeCom channels end to end: callbacks as the
platforms post them, the media API of the platform simulator serving real AMR
audio (espeak-ng speech made in the test run), and the Tencent ASR simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from bench.wechat_platform import PlatformClient, Simulator, message_xml
from bot.channels.wechat.webhook import CallbackChannel
from bot.menu.pages import menu_text
from bot.voice.audio import MAX_VOICE_BYTES
from bot.voice.listener import heard_reply
from bot.wechat import replies
from tests.bot.channels.assistant import FakeAssistant, rasa_server
from tests.bot.channels.conftest import WECHAT, WECOM, WECOM_AGENT_ID, wechat_channel
from tests.bot.voice.sounds import Spoken, spoken_sentence
from tests.bot.voice.tencent_sim import SECRET_ID, SECRET_KEY, TencentAsrSimulator

USER = "oVoiceUser-1234567890abcdefgh"
BUDGET = 3.0  # decoding and recognition fit in the passive reply


@pytest.fixture(scope="session")
def spoken() -> Spoken:
    return spoken_sentence()


@pytest.fixture
async def tencent_asr(aiohttp_server, monkeypatch: pytest.MonkeyPatch) -> TencentAsrSimulator:
    """The Tencent simulator, and KEPU_ASR=tencent pointing at it."""
    sim = TencentAsrSimulator()
    server = await aiohttp_server(sim.app())
    monkeypatch.setenv("KEPU_ASR", "tencent")
    monkeypatch.setenv("KEPU_TENCENT_SECRET_ID", SECRET_ID)
    monkeypatch.setenv("KEPU_TENCENT_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("KEPU_TENCENT_ASR_URL", str(server.make_url("/")))
    return sim


@dataclass
class Voice:
    client: PlatformClient
    channel: CallbackChannel
    assistant: FakeAssistant
    platform: Simulator
    account: str

    async def send(self, msg_id: int, media_id: str = "", recognition: str | None = None) -> str:
        fields: dict[str, str | int] = {"MediaId": media_id, "Format": "amr", "MsgId": msg_id}
        if recognition is not None:
            fields["Recognition"] = recognition
        if self.client.account.wecom:
            fields["AgentID"] = WECOM_AGENT_ID
        return await self.post(message_xml(self.account, USER, "voice", **fields))

    async def say(self, text: str, msg_id: int) -> str:
        extra = {"AgentID": WECOM_AGENT_ID} if self.client.account.wecom else {}
        xml = message_xml(self.account, USER, "text", Content=text, MsgId=msg_id, **extra)
        return await self.post(xml)

    async def post(self, xml: bytes) -> str:
        reply = await self.client.post(xml)
        assert reply.status == 200, reply.text
        return self.client.open_reply(reply)["Content"]


@pytest.fixture
async def voice(simulator, sqlite_url, http):
    platform, base = simulator

    @asynccontextmanager
    async def start(wecom: bool = False) -> AsyncIterator[Voice]:
        if wecom:
            from bot.channels.wechat.channel import WeComInput

            channel: CallbackChannel = WeComInput.from_credentials(
                {
                    "corp_id": WECOM.receive_id,
                    "agent_id": WECOM_AGENT_ID,
                    "secret": "the-corp-secret",
                    "token": WECOM.token,
                    "encoding_aes_key": WECOM.aes_key,
                    "api_base": base,
                    "reply_budget": BUDGET,
                }
            )
        else:
            channel = wechat_channel(base, "safe", reply_budget=BUDGET)
        assistant = FakeAssistant()
        account = WECOM if wecom else WECHAT
        to = WECOM.receive_id if wecom else "gh_test"
        async with rasa_server(channel, assistant) as url:
            yield Voice(PlatformClient(url, account, http), channel, assistant, platform, to)

    return start


async def test_without_an_engine_the_reply_teaches_convert_to_text_and_shows_the_menu(
    voice,
) -> None:
    async with voice() as v:
        reply = await v.send(1, media_id="m1", recognition="")
        assert reply == replies.voice_help("wechat", "none")
        assert "长按语音，点“转文字”，再把文字发给我" in reply
        assert reply.endswith(menu_text())
        assert v.assistant.received == [] and v.platform.token_requests == []  # nothing fetched
    async with voice(wecom=True) as v:
        reply = await v.send(2, media_id="m1")  # WeCom never sends a transcript
        assert reply == replies.voice_help("wecom", "none")
        assert "企业微信" in reply and "转文字" in reply and reply.endswith(menu_text())


async def test_an_engine_transcribes_what_wechat_left_empty(voice, tencent_asr, spoken) -> None:
    async with voice() as v:
        v.platform.media["voice-1"] = ("audio/amr", spoken.amr)
        reply = await v.send(11, media_id="voice-1", recognition="")
        said = tencent_asr.transcript
        assert reply == f"{heard_reply(said)}\n\n答：{said}"
        assert reply.startswith(f"您说的是：“{said}”")
        (message,) = v.assistant.received
        assert message.text == said and message.metadata == {"msg_type": "voice"}
        (call,) = tencent_asr.accepted
        seconds = len(call["pcm"]) / 32000  # 16 kHz mono s16le, silence trimmed
        assert spoken.speech_seconds < seconds < spoken.speech_seconds + 0.8


async def test_wechat_transcript_saves_the_engine_call_unless_the_engine_is_preferred(
    voice, tencent_asr, spoken, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with voice() as v:
        v.platform.media["voice-2"] = ("audio/amr", spoken.amr)
        reply = await v.send(21, media_id="voice-2", recognition="稻子生虫了咋个办")
        assert reply.startswith(heard_reply("稻子生虫了咋个办"))
        assert tencent_asr.accepted == []
    monkeypatch.setenv("KEPU_ASR_PREFER", "engine")
    async with voice() as v:
        v.platform.media["voice-2"] = ("audio/amr", spoken.amr)
        reply = await v.send(22, media_id="voice-2", recognition="稻子生虫了咋个办")
        assert reply.startswith(heard_reply(tencent_asr.transcript))
        assert len(tencent_asr.accepted) == 1


async def test_expired_and_oversize_voice_get_a_kind_reply(voice, tencent_asr) -> None:
    async with voice() as v:
        # An id the platform no longer has (voice media is kept 3 days): 40007.
        assert await v.send(31, media_id="three-days-old") == replies.voice_help(
            "wechat", "expired"
        )
        v.platform.media["huge"] = ("audio/amr", b"#!AMR\n" + bytes(MAX_VOICE_BYTES))
        assert await v.send(32, media_id="huge") == replies.voice_help("wechat", "too_large")
        v.platform.media["silk"] = ("audio/silk", b"#!SILK_V3" + bytes(200))
        assert await v.send(33, media_id="silk") == replies.voice_help("wechat", "unreadable")
        assert v.assistant.received == [] and tencent_asr.accepted == []


async def test_wecom_voice_is_recognised_by_the_engine(voice, tencent_asr, spoken) -> None:
    async with voice(wecom=True) as v:
        v.platform.media["wecom-voice"] = ("audio/amr", spoken.amr)
        reply = await v.send(41, media_id="wecom-voice")
        assert reply == f"{heard_reply(tencent_asr.transcript)}\n\n答：{tencent_asr.transcript}"


async def test_buidui_after_a_transcript_asks_to_say_it_again(voice) -> None:
    async with voice() as v:
        first = await v.send(51, media_id="m", recognition="二化名咋个防")
        assert first.startswith("您说的是：“二化名咋个防”")
        assert await v.say("不对！", 52) == replies.VOICE_CORRECTION
        assert "再说一遍" in replies.VOICE_CORRECTION and "打字" in replies.VOICE_CORRECTION
        assert await v.say("不对", 53) == "答：不对"  # no transcript to correct any more
        assert [m.text for m in v.assistant.received] == ["二化名咋个防", "不对"]
        await v.send(54, media_id="m", recognition="二化螟咋个防")
        # Said by voice too: "不对" recognised is a correction as well.
        assert await v.send(55, media_id="m", recognition="不对。") == replies.VOICE_CORRECTION
        assert len(v.assistant.received) == 3
