"""The cached action-response validator accepts and refuses exactly what Rasa's does."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot.channels import speedups

GOOD = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "好"}]},
    {},
]
BAD = [
    {"events": "not a list"},
    {"responses": ["not an object"]},
    {"events": [{"event": "no_such_event"}]},
]


@pytest.mark.parametrize("result", GOOD + BAD)
def test_same_verdict_as_rasa(result: dict) -> None:
    schema = RemoteAction.action_response_format_spec()
    try:
        validate(result, schema)
        expected = None
    except ValidationError as exc:
        expected = exc.message
    speedups.install(["schema"])
    action = RemoteAction("action_x", None)
    if expected is None:
        assert action._validate_action_result(result) is True
    else:
        with pytest.raises(ValidationError) as caught:
            action._validate_action_result(result)
        assert caught.value.message.startswith(expected)
        assert "custom-actions" in caught.value.message


# --- the other fixes: same results, less repeated work ---------------------------------


def test_sqlite_files_get_a_pool_and_nothing_else_changes() -> None:
    import sqlalchemy as sa

    pooled = speedups.sqlite_engine_kwargs("sqlite:////tmp/x/tracker.db")
    assert pooled is not None and pooled["poolclass"] is sa.pool.QueuePool
    assert pooled["connect_args"] == {"check_same_thread": False}
    assert speedups.sqlite_engine_kwargs(sa.engine.make_url("sqlite:///rel.db")) is not None
    assert speedups.sqlite_engine_kwargs("sqlite://") is None  # in memory
    assert speedups.sqlite_engine_kwargs("sqlite:///:memory:") is None
    assert speedups.sqlite_engine_kwargs("postgresql://u@h/db") is None


def test_a_pooled_sqlite_tracker_store_reads_back_what_it_saved(tmp_path, monkeypatch) -> None:
    """Rasa's SQLTrackerStore on the kept connection: same rows, and the connection is
    reused (no reconnect, no pragmas again) from one turn to the next."""
    import asyncio

    import rasa.core.tracker_store as ts
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    monkeypatch.setattr(ts, "create_engine_kwargs", ts.create_engine_kwargs)
    speedups._install_sqlite_pool()
    store = ts.SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"))
    connects = []
    sa = pytest.importorskip("sqlalchemy")
    sa.event.listen(store.engine, "connect", lambda *a: connects.append(1))

    async def turns() -> DialogueStateTracker | None:
        for i in range(3):
            tracker = await store.get_or_create_tracker("u1")
            tracker.update(UserUttered(f"问题{i}"))
            tracker.update(ActionExecuted("action_listen"))
            await store.save(tracker)
        return await store.retrieve("u1")

    loaded = asyncio.run(turns())
    assert loaded is not None
    assert [e.text for e in loaded.events if isinstance(e, UserUttered)] == [
        "问题0",
        "问题1",
        "问题2",
    ]
    assert len(connects) <= 1


def test_short_texts_are_parsed_once_and_each_caller_gets_its_own_copy() -> None:
    calls = []

    def original(self, message, tracker, only_output_properties=True):
        calls.append(message.text)
        return {"text": message.text, "intent": {"name": "x", "confidence": 0.9}, "entities": []}

    parse = speedups.cached_parse(original)

    class Msg:
        def __init__(self, text):
            self.text = text

    class Proc:
        pass

    proc = Proc()
    first = parse(proc, Msg("菜单"), None)
    first["intent"]["name"] = "changed by the caller"
    second = parse(proc, Msg("菜单"), None)
    assert second == {
        "text": "菜单",
        "intent": {"name": "x", "confidence": 0.9},
        "entities": [],
    }
    assert calls == ["菜单"]
    # Long texts, texts holding a number, and another model's processor: parsed again.
    parse(proc, Msg("微信怎么发语音消息给家里人"), None)
    parse(proc, Msg("138号"), None)
    parse(proc, Msg("我的电话138"), None)
    parse(Proc(), Msg("菜单"), None)
    assert calls == ["菜单", "微信怎么发语音消息给家里人", "138号", "我的电话138", "菜单"]
    assert speedups.cacheable("1") and speedups.cacheable("再说一遍")
    assert not speedups.cacheable("") and not speedups.cacheable(None)


def test_the_cache_forgets_the_least_recently_used(monkeypatch) -> None:
    monkeypatch.setattr(speedups, "PARSE_CACHE_SIZE", 2)
    calls = []

    def original(self, message, tracker, only_output_properties=True):
        calls.append(message.text)
        return {"text": message.text}

    parse = speedups.cached_parse(original)
    proc = type("P", (), {})()
    msg = type("M", (), {})
    for text in ("1", "2", "1", "3", "1", "2"):
        m = msg()
        m.text = text
        parse(proc, m, None)
    assert calls == ["1", "2", "3", "2"]


def test_the_kept_session_sends_and_answers_as_rasa_did(monkeypatch) -> None:
    """Same headers, parameters, JSON and errors as Rasa's EndpointConfig.request, on
    one connection for several calls."""
    import asyncio

    from aiohttp import web
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    seen = []

    async def webhook(request: web.Request) -> web.Response:
        seen.append(
            (
                request.transport.get_extra_info("peername")[1],
                request.headers.get("X-Secret"),
                request.headers.get("Content-Type"),
                request.query.get("token"),
                await request.json(),
            )
        )
        if (await request.json()).get("fail"):
            return web.json_response({"error": "no"}, status=400)
        return web.json_response({"events": [], "responses": [{"text": "好"}]})

    original = EndpointConfig.request

    async def scenario() -> list:
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(
            f"http://127.0.0.1:{port}/webhook", headers={"X-Secret": "s"}, token="t"
        )
        results = [await original(endpoint, json={"n": 0})]
        monkeypatch.setattr(EndpointConfig, "request", speedups._request)
        results += [await endpoint.request(json={"n": i}) for i in (1, 2)]
        with pytest.raises(ClientResponseError) as caught:
            await endpoint.request(json={"fail": True})
        results.append(caught.value.status)
        await speedups.close_sessions()
        await runner.cleanup()
        return results

    results = asyncio.run(scenario())
    answer = {"events": [], "responses": [{"text": "好"}]}
    assert results == [answer, answer, answer, 400]
    assert [s[1:] for s in seen] == [
        ("s", "application/json", "t", {"n": 0}),
        ("s", "application/json", "t", {"n": 1}),
        ("s", "application/json", "t", {"n": 2}),
        ("s", "application/json", "t", {"fail": True}),
    ]
    ports = [s[0] for s in seen]
    assert len(set(ports[1:])) == 1  # one kept connection for the three calls


async def test_our_sqlite_database_keeps_its_connections_where_the_fixes_are_installed(
    monkeypatch, tmp_path
) -> None:
    """The channels' and the analytics writer's database keep their connections in
    the Rasa process (they close it when the server stops); every other Database
    there keeps SQLAlchemy 1.4's one connection per session, patched or not."""
    from sqlalchemy import pool

    from bot.channels.services import ChannelServices
    from bot.settings import Settings
    from bot.storage.db import Database

    monkeypatch.setattr(speedups, "_installed", set())
    monkeypatch.setenv("KEPU_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("KEPU_DATABASE_URL", raising=False)
    settings = Settings.from_env()
    assert not speedups.keeps_connections()
    idle = ChannelServices(settings)
    assert isinstance(idle.db.engine.pool, pool.NullPool)
    await idle.close()

    monkeypatch.setenv("KEPU_SPEEDUPS_OFF", "aiosqlite_pool")
    speedups.install(["aiosqlite_pool"])
    assert not speedups.keeps_connections()  # switched off: not installed
    monkeypatch.delenv("KEPU_SPEEDUPS_OFF")
    speedups.install(["aiosqlite_pool"])
    assert speedups.keeps_connections()
    served = ChannelServices(settings)
    assert isinstance(served.db.engine.pool, pool.AsyncAdaptedQueuePool)
    await served.close()
    other = Database(settings.database_url)
    assert isinstance(other.engine.pool, pool.NullPool)
    await other.close()


def test_each_fix_can_be_switched_off_for_measuring(monkeypatch) -> None:
    monkeypatch.setenv("KEPU_SPEEDUPS_OFF", "keepalive, parse_cache")
    assert speedups.enabled() == ["schema", "sqlite_pool", "aiosqlite_pool", "tf_call"]
    monkeypatch.delenv("KEPU_SPEEDUPS_OFF")
    assert speedups.enabled() == list(speedups.FIXES)


def test_the_compiled_function_called_directly_gives_the_same_numbers() -> None:
    import numpy as np
    import tensorflow as tf

    class Model:
        _run_eagerly = False
        prepared_for_prediction = True

        def __init__(self) -> None:
            self.calls = 0
            weights = tf.constant([[0.5, -1.0], [2.0, 0.25]])

            def step(batch):
                x, mask = batch
                return {"logits": tf.matmul(x, weights) * mask, "ids": tf.argmax(x, axis=-1)}

            signature = [
                (tf.TensorSpec([None, 2], tf.float32), tf.TensorSpec([None, 1], tf.float32))
            ]
            self._tf_predict_step = tf.function(step, input_signature=signature)

        def _rasa_predict(self, batch_in):  # Rasa's path: the polymorphic function
            self.calls += 1
            out = self._tf_predict_step(batch_in)
            return {k: v.numpy() for k, v in out.items()}

    model = Model()
    fast = speedups.direct_predict(Model._rasa_predict)
    batch = (np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([[1.0], [0.0]]))
    expected = Model._rasa_predict(model, batch)
    got = fast(model, batch)
    assert model.calls == 1  # the direct path did not go through Rasa's
    assert got.keys() == expected.keys()
    assert all(np.array_equal(got[k], expected[k]) for k in got)
    # Not traced yet, or eager: Rasa's own path.
    model._tf_predict_step = None
    with pytest.raises(TypeError):
        fast(model, batch)  # Rasa's path was taken (and fails without a step here)
