"""The action server answers Rasa only.

Anyone on the machine can reach the action server's port, and a call to
``/webhook`` runs an action with whatever tracker it brings (a rumour report
with a forged sender, say). `kepu run` therefore starts it as ``python -m
actions.security`` (rasa_sdk's options: ``--actions``, ``--port``, ``--cors``
…), which builds rasa_sdk's own Sanic app and guards it (``protect``):

- every request but ``GET /health`` (the supervisor's readiness check) must
  carry the run's shared secret in ``X-Kepu-Action-Secret``, compared in
  constant time (``hmac.compare_digest``); otherwise 403 and no action runs.
  Rasa sends it (``bot/run/rasa_entry.py`` adds it to the action endpoint in
  Rasa's process); the secret is ``<var>/action_secret`` (0600), written anew
  by every `kepu run`, never on a command line or in an environment;
- bodies are capped at ``ACTION_SERVER_MAX_BODY`` (2 MiB; Sanic answers 413
  without reading more), and a compressed body (``Content-Encoding``, which
  rasa_sdk would inflate without a limit) is refused with 415;
- Sanic's own refusals (403, 404, 405, 413) are short JSON answers; rasa_sdk's
  catch-all handler would turn them into a 500 that echoes the request.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import ACTION_SECRET_HEADER, ACTION_SERVER_MAX_BODY, action_secret

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({("GET", "/health")})


def protect(app: Sanic, secret: str, max_body: int = ACTION_SERVER_MAX_BODY) -> None:
    """Make ``app`` refuse requests without ``secret`` and bodies over ``max_body``."""
    if len(secret) < 16:
        raise ValueError("the action server's secret is too short")
    expected = secret.encode("utf-8")
    # Whatever SANIC_REQUEST_MAX_SIZE says (the public cap of the other processes).
    app.config.REQUEST_MAX_SIZE = max_body

    async def guard(request: Request) -> HTTPResponse | None:
        if (request.method, request.path) in OPEN_PATHS:
            return None
        given = (request.headers.get(ACTION_SECRET_HEADER) or "").encode("utf-8")
        if not hmac.compare_digest(given, expected):
            log.warning("refused %s %s: no valid action secret", request.method, request.path)
            return response.json({"error": "forbidden"}, status=403)
        encoding = (request.headers.get("content-encoding") or "identity").strip().lower()
        if encoding != "identity":
            return response.json({"error": "compressed bodies are not accepted"}, status=415)
        return None

    def first(*_: Any) -> None:
        """The guard runs before every other request middleware, CORS's too (which
        adds its own at server start and would answer preflights without it)."""
        if guard in app.request_middleware:
            app.request_middleware.remove(guard)
        app.request_middleware.appendleft(guard)

    app.register_middleware(guard, "request")
    first()
    app.register_listener(first, "before_server_start")

    async def refused(request: Request, exception: SanicException) -> HTTPResponse:
        status = int(getattr(exception, "status_code", 500) or 500)
        return response.json({"error": str(exception) or "refused"}, status=status)

    # More specific than rasa_sdk's handler for Exception, which answers 500.
    app.error_handler.add(SanicException, refused)


WARM_UP_RETRY_SECONDS = 5.0


def warm_up(app: Sanic, retry_after: float = WARM_UP_RETRY_SECONDS) -> None:
    """Build the actions' services (knowledge index, fraud classifier, redactor) as
    soon as the server listens, not in the first user's turn: on a busy machine
    that build takes 10-20 s, longer than the web chat waits for an answer.

    ``GET /health`` answers 503 ``{"status": "starting"}`` until the build has
    finished, so the supervisor (and anyone restarting the server) sees it ready
    only when a turn would be served at once. A failed build is logged and tried
    again every ``retry_after`` seconds; the server stays "starting" meanwhile.
    """
    app.ctx.services_ready = False

    async def not_yet(request: Request) -> HTTPResponse | None:
        if request.method == "GET" and request.path == "/health" and not app.ctx.services_ready:
            return response.json({"status": "starting"}, status=503)
        return None

    app.register_middleware(not_yet, "request")

    async def start(app: Sanic, _loop: Any) -> None:
        from actions.services import get_services

        async def build() -> None:
            while True:
                try:
                    await get_services()
                except Exception:
                    log.exception("building the action services failed; trying again")
                    await asyncio.sleep(retry_after)
                    continue
                log.info("action services ready")
                app.ctx.services_ready = True
                return

        app.add_task(build())

    app.register_listener(start, "after_server_start")


def main(argv: Sequence[str] | None = None) -> None:
    """rasa_sdk's ``python -m rasa_sdk`` with ``protect`` applied."""
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_app, create_argument_parser

    from bot.settings import Settings

    args = create_argument_parser().parse_args(sys.argv[1:] if argv is None else argv)
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()
    secret = action_secret(Settings.from_env())
    app = create_app(args.actions, cors_origins=args.cors, auto_reload=args.auto_reload)
    protect(app, secret)
    warm_up(app)
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    log.info("action server on http://%s:%s (calls need the action secret)", host, args.port)
    run_options: dict[str, Any] = {"workers": utils.number_of_sanic_workers()}
    app.run(host, args.port, **run_options)


if __name__ == "__main__":
    main()
