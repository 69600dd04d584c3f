"""Start the Rasa server with no secret on its command line or in its environment.

``rasa run --auth-token T`` puts the token of Rasa's HTTP API (which reads and
rewrites every conversation) into ``/proc/<pid>/cmdline``, which every user of
the machine can read. `kepu run` starts Rasa as ``python -m bot.run.rasa_entry``
with the options of ``rasa run`` except ``--auth-token`` (refused here); this
module reads the token from ``<var>/rasa_token`` (0600, generated on first use)
and calls ``rasa.core.run.serve_application(auth_token=...)`` in-process, the
function ``rasa run`` ends in. An operator who sets ``KEPU_RASA_TOKEN`` instead
keeps the token in the environment of the kepu processes, which only the same
user (and root) can read in ``/proc/<pid>/environ``.

Rasa's calls to the action server carry the shared secret of the run in the
``X-Kepu-Action-Secret`` header (``actions/security.py`` checks it): it is
added to the action endpoint's ``EndpointConfig.headers`` after
``endpoints.yml`` is read, so it is in no file Rasa reads, no environment and
no command line. The secret itself is ``<var>/action_secret`` (0600), written
anew by every `kepu run` and created by whichever side starts first otherwise.

Rasa's server names its version on ``/``, ``/version`` and in its API errors;
``hide_version`` takes it out of every answer of the Rasa port (reached from
outside through the proxy that carries the WeChat callbacks).

Ready means warm (``warm_up``): a process's first turns cost seconds that later
ones do not (TensorFlow builds DIET's and TED's graphs, the action server reads
its index, a first conversation starts its session), so a user who wrote first
after a restart waited for all of it, and a WeChat message outlived WeChat's
5 s. The process runs full turns of its own first, and ``/`` answers 503 until
they are done: the supervisor's start message (which waits for every Rasa
process) and the web service's ``/readyz`` say ready only when a user's first
message is answered warm.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from bot.settings import ACTION_SECRET_HEADER, Settings, action_secret

# What Rasa's API errors carry that names the software (see ``hide_version``).
VERSION_FIELDS = frozenset({"version", "help"})
# The warm-up conversation (``warm_up``): a new sender every start, as a first
# user is, who asks a question (NLU, the understanding action, search, the
# session start), opens the menu and answers it with a number (a move, a choice).
WARMUP_SENDER_PREFIX = "kepu-warmup-"
WARMUP_TURNS = ("微信红包怎么发", "菜单", "2")
WARMUP_RETRY_SECONDS = 2.0

log = logging.getLogger(__name__)


def _refuse_token_option(argv: Sequence[str]) -> None:
    if any(arg.split("=", 1)[0] == "--auth-token" for arg in argv):
        raise SystemExit(
            "bot.run.rasa_entry: the token is read from <var>/rasa_token (or KEPU_RASA_TOKEN), "
            "never from the command line"
        )


def main(argv: Sequence[str] | None = None) -> None:
    """``rasa run`` with ``argv`` (its options, without ``--auth-token``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    _refuse_token_option(args)
    settings = Settings.from_env()
    from rasa.shared.exceptions import RasaException

    try:
        serve(args, settings.resolve_rasa_token(), action_secret(settings))
    except RasaException as exc:  # as rasa's own main: a message, not a traceback
        raise SystemExit(f"{exc.__class__.__name__}: {exc}") from None


def serve(args: list[str], token: str, secret: str) -> None:
    """What ``rasa run`` does (``rasa.__main__.main``, ``rasa.cli.run.run``,
    ``rasa.api.run``), with the token and the action secret given in-process."""
    import rasa.core.run
    import rasa.telemetry
    import rasa.utils.io
    import rasa.utils.tensorflow.environment as tf_env
    from rasa.__main__ import create_argument_parser
    from rasa.cli.run import _validate_model_path
    from rasa.cli.utils import get_validated_path
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.constants import (
        DEFAULT_CREDENTIALS_PATH,
        DEFAULT_ENDPOINTS_PATH,
        DEFAULT_MODELS_PATH,
    )
    from rasa.shared.utils.common import minimal_kwargs
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    cmdline = create_argument_parser().parse_args(["run", *args])
    log_level = getattr(cmdline, "loglevel", None)
    configure_logging_and_warnings(
        log_level,
        getattr(cmdline, "logging_config_file", None),
        warn_only_once=True,
        filter_repeated_logs=True,
    )
    tf_env.setup_tf_environment()
    tf_env.check_deterministic_ops()
    sys.path.insert(1, os.getcwd())  # as rasa's main: custom components are found
    rasa.utils.io.configure_colored_logging(log_level)
    rasa.telemetry.initialize_telemetry()
    configure_structlog(log_level)

    endpoints = AvailableEndpoints.read_endpoints(
        get_validated_path(cmdline.endpoints, "endpoints", DEFAULT_ENDPOINTS_PATH, True)
    )
    add_action_secret(endpoints, secret)
    credentials = get_validated_path(
        cmdline.credentials, "credentials", DEFAULT_CREDENTIALS_PATH, True
    )
    model = cmdline.model
    if not cmdline.remote_storage:
        model = _validate_model_path(model, "model", DEFAULT_MODELS_PATH)
    options: dict[str, Any] = {
        key: value
        for key, value in minimal_kwargs(vars(cmdline), rasa.core.run.serve_application).items()
        if key not in ("model_path", "channel", "credentials", "endpoints", "auth_token")
    }
    configure_app = rasa.core.run.configure_app

    def configure_without_version(*args: Any, **kwargs: Any) -> Any:
        app = configure_app(*args, **kwargs)
        hide_version(app)
        return app

    # serve_application builds its Sanic app with this module's configure_app.
    rasa.core.run.configure_app = configure_without_version
    rasa.core.run.serve_application(
        model,
        channel=cmdline.connector,
        credentials=credentials,
        endpoints=endpoints,
        auth_token=token,
        server_listeners=[(warm_up, "after_server_start")],
        **options,
    )


async def warm_up(app: Any, _loop: Any = None) -> None:
    """Run the warm-up conversation in the background; ``/`` says 503 until it is done."""
    app.ctx.warm = False
    app.ctx.warming = asyncio.create_task(_warm(app))


async def _warm(app: Any) -> None:
    """``WARMUP_TURNS`` as a new sender, until the question has been answered by the
    action server (its reply carries a decision): an action server that is not up
    yet is waited for, as the supervisor waits for every process."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        sender = WARMUP_SENDER_PREFIX + secrets.token_hex(6)
        answered = False
        try:
            for text in WARMUP_TURNS:
                out = CollectingOutputChannel()
                message = UserMessage(text, out, sender, input_channel="warmup")
                await app.ctx.agent.handle_message(message)
                tags = [m.get("custom") or {} for m in out.messages]
                answered = answered or any("decision" in tag for tag in tags)
        except Exception:  # noqa: BLE001 (anything: the process stays not ready and retries)
            log.exception("warm-up turn failed")
        if answered:
            break
        log.warning("warm-up: no answer from the action server yet (attempt %d)", attempt)
        await asyncio.sleep(WARMUP_RETRY_SECONDS)
    app.ctx.warm = True
    log.info("warm after a first conversation (%.1f s)", time.monotonic() - started)


def hide_version(app: Any) -> None:
    """No Rasa version for anyone who reaches the Rasa port.

    Rasa answers ``/`` with "Hello from Rasa: 3.6.x", ``/version`` with its
    version, and puts ``"version"`` and a rasa.com link (``"help"``) into every
    error of its HTTP API (a request without the token included). The Rasa port
    is reached from outside through the proxy that carries WeChat's callbacks,
    so: ``/`` says "ok" (the supervisor and ``/readyz`` only need a 200),
    ``/version`` is not found like any unknown address, and JSON errors lose the
    two fields.
    """
    from sanic import response
    from sanic.exceptions import NotFound

    async def no_version_route(request: Any) -> Any:
        if request.path == "/" and request.method in ("GET", "HEAD"):
            if not getattr(request.app.ctx, "warm", True):
                return response.text("warming up", status=503)
            return response.text("ok")
        if request.path.rstrip("/") == "/version":
            raise NotFound(f"Requested URL {request.path} not found")
        return None

    async def no_version_in_errors(request: Any, resp: Any) -> Any:
        if resp.status < 400 or "json" not in (resp.content_type or ""):
            return None
        try:
            body = json.loads(resp.body or b"null")
        except ValueError:
            return None
        if not (isinstance(body, dict) and VERSION_FIELDS & body.keys()):
            return None
        for name in VERSION_FIELDS:
            body.pop(name, None)
        return response.json(body, status=resp.status)

    app.register_middleware(no_version_route, "request")
    app.register_middleware(no_version_in_errors, "response")


def _exit_once_stopped(grace: float = 5.0) -> None:
    """The server has stopped: end the process even if a thread was left running.

    aiosqlite runs each connection in a non-daemon thread, and a database a
    channel opened and never closed keeps one alive: Python then waits for it
    forever after SIGTERM, until the supervisor's SIGKILL. Such threads get
    ``grace`` seconds; then the process exits (logs flushed) without them.
    """
    deadline = time.monotonic() + grace
    others = [
        t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon
    ]
    for thread in others:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in others):
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def add_action_secret(endpoints: Any, secret: str) -> None:
    """Rasa's requests to the action server carry ``secret`` in ``ACTION_SECRET_HEADER``."""
    action = getattr(endpoints, "action", None)
    if action is not None:
        action.headers = {**(action.headers or {}), ACTION_SECRET_HEADER: secret}


if __name__ == "__main__":
    main()
    _exit_once_stopped()
