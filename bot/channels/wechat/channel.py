"""The ``wechat`` (Official Account) and ``wecom`` (企业微信 self-built app) input channels.

Both live at Rasa's usual address, ``/webhooks/<name>/webhook``. Enable them
in a credentials file (``kepu run`` writes one whenever ``KEPU_WECHAT_TOKEN``
or ``KEPU_WECOM_TOKEN`` is set)::

    bot.channels.wechat.channel.WeChatInput:
      token: ...            # or from KEPU_WECHAT_TOKEN, and so on
      appid: ...
      appsecret: ...
      encoding_aes_key: ...
      mode: safe            # plain | compatible | safe
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from bot.channels.services import ChannelServices, process_services
from bot.channels.wechat.webhook import CallbackChannel, Limits, Sealed
from bot.settings import Settings
from bot.voice.listener import Listener
from bot.voice.speaker import Speaker, build_speaker
from bot.wechat.api import RetryPolicy, WeChatApi, WeComApi
from bot.wechat.config import WECHAT_KEYS, WECOM_KEYS, settings_with, timestamp_window
from bot.wechat.crypto import (
    DEFAULT_WINDOW_SECONDS,
    MessageCrypto,
    check_signature,
    check_timestamp,
)
from bot.wechat.errors import BadSignature, Malformed
from bot.wechat.messages import Inbound, parse_xml, xml_document
from bot.wechat.push import WECHAT_WINDOW_SECONDS

# WeChat's nonces and echo strings are digits; allow a little more, never markup.
_TOKEN_LIKE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _nonce(query: dict[str, str]) -> str:
    nonce = query.get("nonce", "")
    if not _TOKEN_LIKE.match(nonce):
        raise Malformed("missing or malformed nonce")
    return nonce


def _encrypted_envelope(crypto: MessageCrypto, xml: bytes) -> bytes:
    fields = crypto.signed_reply(crypto.encrypt(xml), str(int(time.time())), secrets.token_hex(8))
    return xml_document(dict(fields))


def _open_envelope(crypto: MessageCrypto, query: dict[str, str], body: bytes) -> str:
    """The ciphertext of an encrypted callback, once its msg_signature checks out."""
    encrypted = parse_xml(body).get("Encrypt", "").strip()
    if not encrypted:
        raise Malformed("encrypted callback without <Encrypt>")
    crypto.verify(query.get("msg_signature"), query["timestamp"], query["nonce"], encrypted)
    return encrypted


def _limits(s: Settings, credentials: dict[str, Any] | None) -> Limits:
    """Reply budget, timestamp window, size caps and rate limits, shared by both channels."""
    return Limits(
        reply_budget=s.wechat_reply_budget,
        timestamp_window=timestamp_window(credentials, DEFAULT_WINDOW_SECONDS),
        max_body_bytes=s.max_body_bytes,
        per_sender=s.chat_rate_per_sender,
        per_client=s.webhook_rate_per_client,
        proxies=s.proxy_networks,
    )


class WeChatInput(CallbackChannel):
    """WeChat Official Account (公众号) server configuration, in any of its three modes."""

    push_window_seconds = WECHAT_WINDOW_SECONDS

    def __init__(
        self,
        *,
        token: str,
        appid: str,
        mode: str,
        crypto: MessageCrypto | None,
        api: WeChatApi,
        limits: Limits,
        services: ChannelServices,
        listener: Listener | None = None,
        speaker: Speaker | None = None,
    ) -> None:
        super().__init__(limits, api, services, listener, speaker)
        self.token = token
        self.appid = appid
        self.mode = mode
        self.crypto = crypto

    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatInput:
        services = process_services()
        s = settings_with("wechat", credentials, WECHAT_KEYS, base=services.settings)
        crypto = None
        if s.wechat_mode != "plain":
            crypto = MessageCrypto(s.wechat_token, s.wechat_aes_key, s.wechat_appid)
        return cls(
            token=s.wechat_token,
            appid=s.wechat_appid,
            mode=s.wechat_mode,
            crypto=crypto,
            api=WeChatApi(s.wechat_api_base, s.wechat_appid, s.wechat_appsecret, RetryPolicy()),
            limits=_limits(s, credentials),
            services=services,
            listener=Listener.from_settings(s),  # KEPU_ASR: a broken set-up stops the start
            speaker=build_speaker(s),  # KEPU_TTS: off by default; a broken set-up only logs
        )

    def _check_request(self, query: dict[str, str]) -> str:
        check_timestamp(query.get("timestamp"), self.limits.timestamp_window)
        nonce = _nonce(query)
        check_signature(query.get("signature"), self.token, query["timestamp"], nonce)
        return nonce

    def verify_url(self, query: dict[str, str]) -> str:
        self._check_request(query)
        echo = query.get("echostr", "")
        if not _TOKEN_LIKE.match(echo):
            raise Malformed("missing or malformed echostr")
        return echo

    def authenticate(self, query: dict[str, str], body: bytes) -> Sealed:
        nonce = self._check_request(query)
        encrypted = query.get("encrypt_type", "raw").lower() == "aes"
        if self.mode == "safe" and not encrypted:
            raise BadSignature("plaintext message refused: the account is in safe mode")
        if not encrypted:
            return Sealed(query["timestamp"], nonce, body, False)
        if self.crypto is None:
            raise Malformed("encrypted message, but the channel is in plain mode")
        return Sealed(query["timestamp"], nonce, _open_envelope(self.crypto, query, body), True)

    def open(self, sealed: Sealed) -> Inbound:
        if not sealed.encrypted:
            assert isinstance(sealed.payload, bytes)  # the plain XML body
            return Inbound.from_fields(parse_xml(sealed.payload))
        assert self.crypto is not None
        return Inbound.from_fields(parse_xml(self.crypto.decrypt(str(sealed.payload))))

    def seal_reply(self, sealed: Sealed, xml: bytes) -> bytes:
        if sealed.encrypted and self.crypto is not None:
            return _encrypted_envelope(self.crypto, xml)
        return xml


class WeComInput(CallbackChannel):
    """WeCom (企业微信) self-built app: callbacks are always encrypted."""

    nothing_to_say = ""  # WeCom: an empty 200 means "received, no passive reply"

    def __init__(
        self,
        *,
        crypto: MessageCrypto,
        agent_id: int,
        api: WeComApi,
        limits: Limits,
        services: ChannelServices,
        listener: Listener | None = None,
        speaker: Speaker | None = None,
    ) -> None:
        super().__init__(limits, api, services, listener, speaker)
        self.crypto = crypto
        self.agent_id = agent_id

    @classmethod
    def name(cls) -> str:
        return "wecom"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeComInput:
        services = process_services()
        s = settings_with("wecom", credentials, WECOM_KEYS, base=services.settings)
        agent_id = int(s.wecom_agent_id)
        return cls(
            crypto=MessageCrypto(s.wecom_token, s.wecom_aes_key, s.wecom_corp_id),
            agent_id=agent_id,
            api=WeComApi(s.wecom_api_base, s.wecom_corp_id, s.wecom_secret, agent_id),
            limits=_limits(s, credentials),
            services=services,
            listener=Listener.from_settings(s),  # KEPU_ASR: a broken set-up stops the start
            speaker=build_speaker(s),  # KEPU_TTS: off by default; a broken set-up only logs
        )

    def verify_url(self, query: dict[str, str]) -> str:
        check_timestamp(query.get("timestamp"), self.limits.timestamp_window)
        nonce = _nonce(query)
        echo = query.get("echostr", "")
        if not echo or len(echo) > 512:
            raise Malformed("missing or oversized echostr")
        self.crypto.verify(query.get("msg_signature"), query["timestamp"], nonce, echo)
        return self.crypto.decrypt(echo).decode("utf-8", errors="replace")

    def authenticate(self, query: dict[str, str], body: bytes) -> Sealed:
        check_timestamp(query.get("timestamp"), self.limits.timestamp_window)
        nonce = _nonce(query)
        # WeCom signs the ciphertext only: the envelope must be read to check it.
        encrypted = _open_envelope(self.crypto, query, body)
        return Sealed(query["timestamp"], nonce, encrypted, True)

    def open(self, sealed: Sealed) -> Inbound:
        fields = parse_xml(self.crypto.decrypt(str(sealed.payload)))
        agent = fields.get("AgentID", "").strip()
        if agent and agent != str(self.agent_id):
            raise BadSignature(f"message for another app (AgentID {agent[:16]})")
        return Inbound.from_fields(fields)

    def seal_reply(self, sealed: Sealed, xml: bytes) -> bytes:
        return _encrypted_envelope(self.crypto, xml)
