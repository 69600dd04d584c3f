"""Fixes to Rasa's hot path, installed in the Rasa process by our channels.

Each one keeps what Rasa does and only stops it from paying for the same work
again on every turn. Measured in docs/benchmarks.md ("Turn cost, knowledge
mix (issue 19)"); the profile that justified them is in docs/profiles/.

``schema``: Rasa checks every action server reply against its response schema
with ``jsonschema.validate(result, schema)``. That call first validates the
*schema itself* against the JSON Schema metaschema, every time: about 27 ms of
the 30 ms a check takes on our machine, once or twice per turn (forms call
their validation action too). We build the validator once and validate with
it: the same errors, raised the same way, without re-checking a constant schema.

``sqlite_pool``: SQLAlchemy 1.4 gives a SQLite file no connection pool
(``NullPool``), so Rasa's SQL tracker store opened the database, set its
pragmas, and closed it again -- for the last connection of a WAL database
that means a checkpoint and removing the -wal file -- twice per turn (read,
then save): a fifth of the Rasa process's CPU. One connection is kept open and
reused (the pool SQLAlchemy 2.0 uses for SQLite files); tables, rows,
transactions and locking are unchanged.

``aiosqlite_pool``: the same for our own SQLite database in the Rasa process
(``bot.storage.db.Database`` over aiosqlite: the verdicts owed to a sender,
read on every REST turn, the WeChat channel's bookkeeping, the analytics
writer). Without a pool each session started an aiosqlite thread, opened the
file, ran three pragmas and closed it again. Not a patch of SQLAlchemy: the two
owners there, which close their database when the server stops
(``bot.channels.services``, ``bot.channels.analytics``), ask
``keeps_connections()`` and pass ``keep_connections`` to the ``Database`` they
make; any other Database in the process keeps SQLAlchemy 1.4's choice.

``keepalive``: Rasa 3.6's ``EndpointConfig.request`` makes a new aiohttp
``ClientSession`` for every call, so every action call opened and closed a TCP
connection to the action server. One session per endpoint (and event loop) is
kept and reused; idle connections are closed after ``KEEPALIVE_SECONDS``,
before the action server (Sanic: 5 s) would close them under a request in
flight. Headers, parameters, timeout, errors and the JSON sent and read are
as before.

``parse_cache``: the NLU pipeline's result depends only on the text of a
message (the graph's NLU target reads the message and the domain, no
tracker; our components read the text only). Short texts -- menu numbers,
菜单, 再说一遍, 有用 -- make up much of real traffic; their parse is kept (a
small LRU per loaded model) and a copy returned. Only texts of at most
``PARSE_CACHE_MAX_CHARS`` characters without a run of three digits are kept,
so no phone number or other number a person types is held in memory.

``tf_call``: DIET once and TED twice per turn call their compiled TensorFlow
function (``tf.function`` with a fixed input signature) through TF's
polymorphic-function front door, which re-canonicalises the nested inputs and
looks the concrete function up again on every call: about a fifth of the
Python time of the Rasa process. The concrete function is fetched once per
model and called with the same tensors (each input converted to its
signature's dtype, as TF does); the same graph runs, so the outputs are the
same numbers (checked output by output, docs/benchmarks.md). Eager models and
models not yet traced take Rasa's own path.

``KEPU_SPEEDUPS_OFF`` (comma-separated names above) switches fixes off, to
measure each one on its own (bench/load.py ``--env``).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import os
import re
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

FIXES = ("schema", "sqlite_pool", "aiosqlite_pool", "keepalive", "parse_cache", "tf_call")
KEEPALIVE_SECONDS = 2.0
PARSE_CACHE_MAX_CHARS = 8
PARSE_CACHE_SIZE = 256
_NUMBER = re.compile(r"\d{3}")

_installed: set[str] = set()
_sessions: weakref.WeakSet[Any] = weakref.WeakSet()


def enabled() -> list[str]:
    """The fixes to install: all but those named in ``KEPU_SPEEDUPS_OFF``."""
    off = {x.strip() for x in os.environ.get("KEPU_SPEEDUPS_OFF", "").split(",")}
    return [name for name in FIXES if name not in off]


def install(names: Iterable[str] | None = None) -> None:
    """Install the enabled fixes (all, or those of ``names``); idempotent."""
    for name in enabled():
        if names is not None and name not in names:
            continue
        if name not in _installed:
            _INSTALLERS[name]()
            _installed.add(name)


def keeps_connections() -> bool:
    """Whether this process's own SQLite database keeps its connections: only
    where our channels installed the fixes (the Rasa server), and unless
    ``aiosqlite_pool`` is switched off."""
    return "aiosqlite_pool" in _installed


# --- schema: the action-response validator, built once ---------------------------------


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate would on every call
    return cls(schema)


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(_validator().iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def _install_schema() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result


# --- sqlite_pool: Rasa's SQL tracker store keeps its SQLite connection ------------------


def sqlite_engine_kwargs(url: Any) -> dict[str, Any] | None:
    """Pool options for a SQLite *file* URL (None for anything else)."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url) if isinstance(url, str) else url
    if not parsed.drivername.startswith("sqlite"):
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    return {
        # One connection, reused; more only while one is busy (the hourly
        # retention sweep runs in its own thread), closed when given back.
        "poolclass": sa.pool.QueuePool,
        "pool_size": 1,
        "max_overflow": -1,
        # Handed to one thread at a time by the pool (the event loop's, or the
        # sweep's), never used by two at once.
        "connect_args": {"check_same_thread": False},
    }


def _install_sqlite_pool() -> None:
    import rasa.core.tracker_store as tracker_store

    original = tracker_store.create_engine_kwargs

    @functools.wraps(original)
    def create_engine_kwargs(url: Any) -> dict[str, Any]:
        pooled = sqlite_engine_kwargs(url)
        return pooled if pooled is not None else original(url)

    tracker_store.create_engine_kwargs = create_engine_kwargs


# --- aiosqlite_pool: our own SQLite database keeps its connections ----------------------


def _install_aiosqlite_pool() -> None:
    """Nothing to patch: the database's owners ask ``keeps_connections()``."""


# --- keepalive: one HTTP session per endpoint --------------------------------------------


def _shared_session(endpoint: Any) -> Any:
    import aiohttp
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT

    loop = asyncio.get_running_loop()
    session = getattr(endpoint, "_kepu_session", None)
    if session is None or session.closed or getattr(endpoint, "_kepu_loop", None) is not loop:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        )
        endpoint._kepu_session = session
        endpoint._kepu_loop = loop
        _sessions.add(session)
    return session


async def _request(
    self: Any,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    """``EndpointConfig.request`` of Rasa 3.6, on a kept session instead of a new one."""
    import ssl

    import aiohttp
    from aiohttp.client_exceptions import ContentTypeError
    from rasa.shared.exceptions import FileNotFoundException
    from rasa.utils.endpoints import ClientResponseError, concat_url

    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if "headers" in kwargs:
        headers.update(kwargs["headers"])
        del kwargs["headers"]
    if self.headers:
        headers.update(self.headers)
    url = concat_url(self.url, subpath)
    sslcontext = None
    if self.cafile:
        try:
            sslcontext = ssl.create_default_context(cafile=self.cafile)
        except FileNotFoundError as e:
            raise FileNotFoundException(
                f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' does not exist."
            ) from e
    if self.basic_auth and "auth" not in kwargs:
        kwargs["auth"] = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
    session = _shared_session(self)
    async with session.request(
        method,
        url,
        headers=headers,
        params=self.combine_parameters(kwargs),
        compress=compress,
        ssl=sslcontext,
        **kwargs,
    ) as response:
        if response.status >= 400:
            raise ClientResponseError(
                response.status, response.reason, await response.content.read()
            )
        try:
            return await response.json()
        except ContentTypeError:
            return None


async def close_sessions() -> None:
    """Close the kept sessions (at server stop: no "unclosed session" warning)."""
    for session in list(_sessions):
        if not session.closed:
            await session.close()


def _install_keepalive() -> None:
    from rasa.utils.endpoints import EndpointConfig

    EndpointConfig.request = _request


# --- parse_cache: the NLU result of short texts --------------------------------------------


def cacheable(text: Any) -> bool:
    return (
        isinstance(text, str)
        and 0 < len(text) <= PARSE_CACHE_MAX_CHARS
        and not _NUMBER.search(text)
    )


def cached_parse(original: Any) -> Any:
    """``MessageProcessor._parse_message_with_graph`` with the short-text cache."""

    @functools.wraps(original)
    def parse(
        self: Any, message: Any, tracker: Any, only_output_properties: bool = True
    ) -> dict[str, Any]:
        text = message.text
        if not cacheable(text):
            return original(self, message, tracker, only_output_properties)
        cache: OrderedDict[tuple[str, bool], dict[str, Any]] | None
        cache = getattr(self, "_kepu_parse_cache", None)
        if cache is None:
            cache = self._kepu_parse_cache = OrderedDict()
        key = (text, bool(only_output_properties))
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            return copy.deepcopy(hit)
        parse_data = original(self, message, tracker, only_output_properties)
        cache[key] = copy.deepcopy(parse_data)
        while len(cache) > PARSE_CACHE_SIZE:
            cache.popitem(last=False)
        return parse_data

    return parse


def _install_parse_cache() -> None:
    from rasa.core.processor import MessageProcessor

    MessageProcessor._parse_message_with_graph = cached_parse(
        MessageProcessor._parse_message_with_graph
    )


# --- tf_call: the compiled prediction function, looked up once ----------------------------


def direct_predict(original: Any) -> Any:
    """``RasaModel._rasa_predict`` calling the traced concrete function directly."""

    @functools.wraps(original)
    def predict(self: Any, batch_in: Any) -> Any:
        step = getattr(self, "_tf_predict_step", None)
        if self._run_eagerly or step is None or not self.prepared_for_prediction:
            return original(self, batch_in)  # first call: Rasa traces the function
        import tensorflow as tf
        from rasa.utils.tensorflow import models

        self._training = False
        cached = getattr(self, "_kepu_concrete", None)
        if cached is None or cached[0] is not step:
            function = step.get_concrete_function()
            if not hasattr(function, "_call_flat"):  # another TensorFlow: Rasa's path
                return original(self, batch_in)
            specs = tf.nest.flatten(function.structured_input_signature[0], expand_composites=True)
            cached = self._kepu_concrete = (step, function, specs)
        _, function, specs = cached
        flat = tf.nest.flatten(batch_in)
        if len(flat) != len(specs):
            return original(self, batch_in)
        pairs = zip(flat, specs, strict=True)
        args = [tf.convert_to_tensor(x, dtype=spec.dtype) for x, spec in pairs]
        outputs = models.tf_utils.sync_to_numpy_or_python_type(
            function._call_flat(args, function.captured_inputs)
        )
        if models.DIAGNOSTIC_DATA in outputs:
            outputs[models.DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(
                outputs[models.DIAGNOSTIC_DATA]
            )
        return outputs

    return predict


def _install_tf_call() -> None:
    from rasa.utils.tensorflow.models import RasaModel

    RasaModel._rasa_predict = direct_predict(RasaModel._rasa_predict)


_INSTALLERS = {
    "schema": _install_schema,
    "sqlite_pool": _install_sqlite_pool,
    "aiosqlite_pool": _install_aiosqlite_pool,
    "keepalive": _install_keepalive,
    "parse_cache": _install_parse_cache,
    "tf_call": _install_tf_call,
}
