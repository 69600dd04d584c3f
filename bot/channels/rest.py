"""The REST channel, hardened for text from the public.

Same URL and JSON as Rasa's ``rest`` channel (``POST /webhooks/rest/webhook``
with ``{"sender", "message"}``), but:

- a message starting with "/" is text, never an intent or slot injection;
- malformed JSON, a missing sender or oversized text get a clear answer
  (400, or a polite reply) and never reach the dialogue;
- if the assistant fails mid-turn, says nothing, or loses an action (the action
  server is down: Rasa logs it and carries on) the user still gets a polite
  reply with the menu (``BUSY_REPLY``);
- a client may send its own ``message_id``, so a retried request is known as
  the same message (rumour reports are stored once per message);
- verdicts owed to the sender (rumour report-back) follow the reply;
- each sender and each client address (the real one behind
  ``KEPU_TRUSTED_PROXIES``) may send ``KEPU_CHAT_RATE_PER_SENDER`` and
  ``KEPU_CHAT_RATE_PER_CLIENT`` messages a minute; more get 429 with
  ``Retry-After`` and a short JSON body. The web chat's relay proves itself with
  the run's relay secret and names its client: the web service has counted the
  message already;
- the channel notes who wrote from which address (``bot.rumors.reporters``), so
  that invented senders from one address do not count as many rumour reporters.

The turn itself (cleaning, the busy reply and its undo, what is owed) is run by
``bot.channels.turn.TurnRunner``, as in the WeChat channels.
"""

from __future__ import annotations

import hmac
import logging
import re
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import speedups
from bot.channels.services import ChannelServices, process_services
from bot.channels.turn import OnNewMessage, TurnOutput, TurnRunner
from bot.net.proxies import client_of, parse_address
from bot.net.ratelimit import TOO_FAST_REPLY, ChatLimits, retry_after
from bot.outreach.owed import WEB_CHANNELS
from bot.rumors.reporters import Sightings
from bot.settings import RELAY_CLIENT_HEADER, RELAY_SECRET_HEADER, Settings, relay_secret

log = logging.getLogger(__name__)

ALLOWED_INPUT_CHANNELS = ("rest", "webchat")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class TaggedCollectingOutput(CollectingOutputChannel, TurnOutput):
    """Rasa's collector, keeping a message's ``custom`` tag (the move it makes and
    the knowledge entry it serves) on the same message instead of a second one."""

    def replied(self) -> bool:
        return bool(self.messages)

    def add_text(self, recipient_id: str, text: str) -> None:
        self.messages.append({"recipient_id": recipient_id, "text": text})

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        custom = message.get("custom")
        if message.get("text") and isinstance(custom, dict) and "decision" in custom:
            await self._persist_message(
                self._message(
                    recipient_id,
                    text=message["text"],
                    buttons=message.get("buttons"),
                    custom=custom,
                )
            )
            return
        await super().send_response(recipient_id, message)


class KepuRestInput(InputChannel):
    def __init__(
        self,
        max_chars: int | None = None,
        settings: Settings | None = None,
        services: ChannelServices | None = None,
    ) -> None:
        """``services``: the process's (default), or their own made from ``settings``."""
        if services is None:
            services = ChannelServices(settings) if settings is not None else process_services()
        self.services = services
        services.hold(self)
        self.runner = TurnRunner(services, self.name(), max_chars)
        self._limits: ChatLimits | None = None
        self._relay_secret: bytes | None = None
        self.sightings = Sightings(lambda: self.services.db)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def max_chars(self) -> int:
        return self.runner.max_chars

    @property
    def limits(self) -> ChatLimits:
        if self._limits is None:
            self._limits = ChatLimits(
                self.settings.chat_rate_per_sender, self.settings.chat_rate_per_client
            )
        return self._limits

    def client(self, request: Request) -> tuple[str, bool]:
        """The client's address, and whether the web chat relayed the message (its
        relay secret checks out; the address is then the one the web service saw)."""
        offered = request.headers.get(RELAY_SECRET_HEADER, "")
        if offered:
            if self._relay_secret is None:
                self._relay_secret = relay_secret(self.settings).encode("utf-8")
            if hmac.compare_digest(offered.encode("utf-8"), self._relay_secret):
                named = parse_address(request.headers.get(RELAY_CLIENT_HEADER, ""))
                return (str(named) if named is not None else "unknown"), True
        forwarded = request.headers.getall("x-forwarded-for", [])
        return client_of(request.ip, forwarded, self.settings.proxy_networks), False

    async def close(self) -> None:
        """Let go of the shared services (the last channel closes the database)."""
        await self.services.release(self)

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        # Rasa builds this channel once in every Rasa process we start.
        speedups.install()
        credentials = credentials or {}
        return cls(max_chars=credentials.get("max_chars"))

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint("kepu_rest_webhook", __name__)

        @bp.listener("after_server_stop")
        async def close_kept_sessions(*_: Any) -> None:
            await speedups.close_sessions()  # Rasa's kept session to the action server
            await self.close()

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except Exception:  # sanic raises InvalidUsage on bad JSON
                body = None
            if not isinstance(body, dict):
                return response.json({"error": "请求格式不对：需要 JSON 对象"}, status=400)
            sender = body.get("sender")
            if not isinstance(sender, str) or not sender.strip() or len(sender) > 128:
                return response.json({"error": "缺少 sender（1 到 128 个字符）"}, status=400)
            client, relayed = self.client(request)
            wait = 0.0 if relayed else self.limits.allow(sender, client)
            if wait:
                log.info("rest message refused: over the rate limit")
                return response.json(
                    {"error": TOO_FAST_REPLY, "retry_after": int(retry_after(wait))},
                    status=429,
                    headers={"Retry-After": retry_after(wait)},
                )
            cleaned = self.runner.clean(body.get("message"))
            if cleaned.reply:  # empty or too long: never reaches the assistant
                return response.json([{"recipient_id": sender, "text": cleaned.reply}])
            channel = body.get("input_channel")
            if channel not in ALLOWED_INPUT_CHANNELS:
                channel = self.name()
            metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
            message_id = body.get("message_id")
            if not (isinstance(message_id, str) and _MESSAGE_ID.match(message_id)):
                message_id = None
            await self.sightings.saw(sender, client if client != "unknown" else None)
            collector = TaggedCollectingOutput()
            await self.runner.run(
                on_new_message,
                collector,
                sender,
                cleaned.text,
                agent=getattr(request.app.ctx, "agent", None),
                input_channel=channel,
                message_id=message_id,
                metadata=metadata,
            )
            for text in await self.runner.owed(sender, WEB_CHANNELS):
                collector.add_text(sender, text)
            return response.json(collector.messages)

        return bp
