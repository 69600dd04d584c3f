"""Choosing the transcript: WeChat's, an engine's, or none — and every failure a
``problem`` the channel can answer kindly."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from bot.settings import Settings
from bot.voice import listener as listener_module
from bot.voice.errors import RecognitionFailed, VoiceSetupError
from bot.voice.listener import (
    Heard,
    Listener,
    MediaError,
    RecentTranscripts,
    build_engine,
    heard_reply,
)
from bot.voice.local import LocalEngine
from bot.voice.models import model_spec
from bot.voice.tencent import TencentEngine


class ScriptedEngine:
    name = "scripted"

    def __init__(self, text: str | None = "稻子生虫了怎么办", fail: bool = False) -> None:
        self.text = text
        self.fail = fail
        self.heard: list[bytes] = []

    async def recognize(self, pcm16k: bytes) -> str | None:
        self.heard.append(pcm16k)
        if self.fail:
            raise RecognitionFailed("scripted failure")
        return self.text

    async def close(self) -> None:
        pass


def fetcher(data: bytes = b"", error: str = ""):
    calls: list[tuple[str, int]] = []

    async def fetch(media_id: str, max_bytes: int) -> bytes:
        calls.append((media_id, max_bytes))
        if error:
            raise MediaError(error, "scripted")
        return data

    fetch.calls = calls  # type: ignore[attr-defined]
    return fetch


async def test_default_uses_wechat_transcript_or_nothing() -> None:
    listen = Listener()
    fetch = fetcher()
    assert await listen.hear(" 玉米叶子发黄 ", "m1", fetch) == Heard("玉米叶子发黄", "wechat")
    assert await listen.hear("", "m1", fetch) == Heard(problem="none")
    assert fetch.calls == []  # no engine: the audio is never fetched


async def test_none_ignores_even_wechat_transcript() -> None:
    assert await Listener("none").hear("有字", "m1", fetcher()) == Heard(problem="none")


async def test_engine_runs_only_when_wechat_sent_nothing_unless_preferred(spoken) -> None:
    engine = ScriptedEngine()
    listen = Listener("tencent", engine)
    fetch = fetcher(spoken.amr)
    assert await listen.hear("微信的字", "m1", fetch) == Heard("微信的字", "wechat")
    assert engine.heard == []
    assert await listen.hear("", "m1", fetch) == Heard("稻子生虫了怎么办", "scripted")
    assert fetch.calls == [("m1", 2 * 1024 * 1024)]
    preferring = Listener("tencent", engine, prefer_engine=True)
    assert await preferring.hear("微信的字", "m1", fetch) == Heard("稻子生虫了怎么办", "scripted")
    (pcm, _) = engine.heard
    assert len(pcm) % 2 == 0 and 1.0 < len(pcm) / 32000 < 10.0


@pytest.mark.parametrize("error", ["expired", "too_large", "unavailable"])
async def test_media_that_cannot_be_fetched(error: str) -> None:
    engine = ScriptedEngine()
    heard = await Listener("local", engine).hear("", "m1", fetcher(error=error))
    assert heard == Heard(problem=error) and engine.heard == []


async def test_undecodable_silent_unheard_and_failing(spoken) -> None:
    engine = ScriptedEngine()
    listen = Listener("local", engine)
    assert await listen.hear("", "m1", fetcher(b"#!SILK_V3" + bytes(50))) == Heard(
        problem="unreadable"
    )
    assert await listen.hear("", "", fetcher(spoken.amr)) == Heard(problem="unreadable")
    from tests.bot.voice.sounds import amr_nb

    quiet = amr_nb(np.zeros(16000, dtype=np.int16))
    assert await listen.hear("", "m1", fetcher(quiet)) == Heard(problem="silent")
    assert engine.heard == []  # silence is not sent to the engine
    assert await Listener("local", ScriptedEngine(text="  ")).hear(
        "", "m1", fetcher(spoken.amr)
    ) == Heard(problem="silent")
    failing = Listener("local", ScriptedEngine(fail=True), prefer_engine=True)
    assert await failing.hear("", "m1", fetcher(spoken.amr)) == Heard(problem="failed")
    # WeChat's transcript stands in when the preferred engine fails.
    assert await failing.hear("微信的字", "m1", fetcher(spoken.amr)) == Heard("微信的字", "wechat")


async def test_a_crashing_fetch_is_unavailable_not_an_exception() -> None:
    async def broken(media_id: str, max_bytes: int) -> bytes:
        raise RuntimeError("bug")

    assert await Listener("local", ScriptedEngine()).hear("", "m1", broken) == Heard(
        problem="unavailable"
    )


def test_recent_transcripts_take_only_the_next_message(monkeypatch: pytest.MonkeyPatch) -> None:
    recent = RecentTranscripts(window=60, capacity=2)
    assert not recent.corrects("u1", "不对")  # nothing was heard from u1
    recent.remember("u1")
    assert recent.corrects("u1", "不对！")
    assert not recent.corrects("u1", "不对")  # only the very next message
    recent.remember("u1")
    assert not recent.corrects("u1", "不对的地方在哪")  # a question, not a correction
    assert not recent.corrects("u1", "不对")
    recent.remember("u1")
    now = listener_module.time.monotonic()
    monkeypatch.setattr(listener_module.time, "monotonic", lambda: now + 61)
    assert not recent.corrects("u1", "听错了")  # too late
    for user in ("a", "b", "c"):
        recent.remember(user)
    assert not recent.corrects("a", "听错了")  # pushed out by the capacity
    recent.remember("b")
    # "都不是的话，回复“不是”" may come in the same reply: "不是" answers that
    assert not recent.corrects("b", "不是")


def settings(**values) -> Settings:
    return Settings(**values)


def test_the_quote_back_asks_for_the_word_a_correction_is_taken_from() -> None:
    quote = heard_reply("稻子生虫咋个办")
    assert quote == "您说的是：“稻子生虫咋个办”（听错了请回复“不对”）"
    recent = RecentTranscripts()
    recent.remember("u1")
    assert recent.corrects("u1", "不对")  # the word the quote asks for


def test_build_engine_by_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert build_engine(settings()) is None
    assert build_engine(settings(asr="none")) is None
    tc = build_engine(
        settings(
            asr="tencent",
            tencent_secret_id="id",
            tencent_secret_key="key",
            tencent_asr_url="http://127.0.0.1:9/",
        )
    )
    assert isinstance(tc, TencentEngine) and tc.host == "127.0.0.1:9"
    monkeypatch.setattr(listener_module, "ffmpeg_path", lambda: None)
    with pytest.raises(VoiceSetupError, match="needs ffmpeg"):
        build_engine(settings(asr="tencent", tencent_secret_id="i", tencent_secret_key="k"))


def test_local_engine_says_clearly_when_sherpa_onnx_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sherpa_onnx", None)  # import fails, find_spec too
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(VoiceSetupError, match="needs the sherpa-onnx package"):
        build_engine(settings(asr="local", asr_model_dir=tmp_path))


def model_dir(tmp_path: Path, roles: tuple[str, ...] = ("tokens", "encoder", "decoder", "joiner")):
    for role in roles:
        (tmp_path / model_spec()["roles"][role][0]).write_bytes(b"x")
    return tmp_path


class FakeSherpa(types.ModuleType):
    """sherpa_onnx's OnlineRecognizer API, enough to check how the engine drives it."""

    def __init__(self) -> None:
        super().__init__("sherpa_onnx")
        self.loaded: list[dict] = []
        fake = self

        class Stream:
            def __init__(self) -> None:
                self.samples: list[np.ndarray] = []
                self.finished = False

            def accept_waveform(self, rate: int, samples: np.ndarray) -> None:
                assert rate == 16000 and samples.dtype == np.float32
                assert float(np.abs(samples).max(initial=0)) <= 1.0
                self.samples.append(samples)

            def input_finished(self) -> None:
                self.finished = True

        class Recognizer:
            def create_stream(self) -> Stream:
                return Stream()

            def is_ready(self, stream: Stream) -> bool:
                return not getattr(stream, "decoded", False) and stream.finished

            def decode_stream(self, stream: Stream) -> None:
                stream.decoded = True  # type: ignore[attr-defined]

            def get_result(self, stream: Stream) -> str:
                seconds = sum(len(s) for s in stream.samples) / 16000
                return f" 听到{seconds:.1f}秒 "

        class OnlineRecognizer:
            @staticmethod
            def from_transducer(**kwargs) -> Recognizer:
                fake.loaded.append(kwargs)
                return Recognizer()

        self.OnlineRecognizer = OnlineRecognizer


async def test_local_engine_with_sherpa_onnx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fake = FakeSherpa()
    monkeypatch.setitem(sys.modules, "sherpa_onnx", fake)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: object())
    with pytest.raises(VoiceSetupError, match="lacks joiner"):
        LocalEngine(_partial(tmp_path))
    with pytest.raises(VoiceSetupError, match="needs KEPU_ASR_MODEL_DIR"):
        LocalEngine(tmp_path / "absent")
    engine = build_engine(settings(asr="local", asr_model_dir=model_dir(tmp_path)))
    assert isinstance(engine, LocalEngine) and fake.loaded == []  # loaded lazily
    assert await engine.recognize(b"\x00\x10" * 16000) == "听到1.7秒"  # 1 s + 0.66 s tail
    assert await engine.recognize(b"") is None
    (loaded,) = fake.loaded  # once
    spec = model_spec()["roles"]
    assert Path(loaded["encoder"]).name == spec["encoder"][0]
    assert Path(loaded["tokens"]).name == "tokens.txt"
    assert loaded["sample_rate"] == 16000


def _partial(tmp_path: Path) -> Path:
    directory = tmp_path / "partial"
    directory.mkdir()
    return model_dir(directory, ("tokens", "encoder", "decoder"))
