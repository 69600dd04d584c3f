"""Channel configuration: credentials.yml entries over ``KEPU_*`` environment settings.

``kepu run`` writes a credentials file that names the environment variables
(``${KEPU_WECHAT_TOKEN}`` …), so operators only set variables; a hand-written
credentials entry may give any key itself. Either way the values pass the
same checks as ``Settings`` (one place decides what a valid channel needs).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from bot.settings import Settings, SettingsError

# credentials.yml key -> Settings field
WECHAT_KEYS = {
    "token": "wechat_token",
    "appid": "wechat_appid",
    "appsecret": "wechat_appsecret",
    "encoding_aes_key": "wechat_aes_key",
    "mode": "wechat_mode",
    "api_base": "wechat_api_base",
    "reply_budget": "wechat_reply_budget",
}
WECOM_KEYS = {
    "corp_id": "wecom_corp_id",
    "agent_id": "wecom_agent_id",
    "secret": "wecom_secret",
    "token": "wecom_token",
    "encoding_aes_key": "wecom_aes_key",
    "api_base": "wecom_api_base",
    "reply_budget": "wechat_reply_budget",
}
# Keys of either channel that are not settings.
EXTRA_KEYS = ("timestamp_window",)


def settings_with(
    channel: str,
    credentials: Mapping[str, Any] | None,
    keys: Mapping[str, str],
    base: Settings | None = None,
) -> Settings:
    """``base`` (default: the environment) with the credentials' values applied and checked."""
    credentials = credentials or {}
    unknown = set(credentials) - set(keys) - set(EXTRA_KEYS)
    if unknown:
        raise SettingsError(f"{channel} credentials: unknown keys {sorted(unknown)}")
    base = base or Settings.from_env()
    overrides: dict[str, Any] = {}
    for key, field_name in keys.items():
        value = credentials.get(key)
        if value is None or value == "":
            continue
        if field_name != "wechat_reply_budget":
            overrides[field_name] = str(value)
            continue
        try:
            overrides[field_name] = float(value)
        except ValueError as exc:
            raise SettingsError(f"{channel} credentials: reply_budget is not a number") from exc
    settings = dataclasses.replace(base, **overrides)
    token_field = keys["token"]
    if not getattr(settings, token_field):
        raise SettingsError(f"the {channel} channel needs a token (credentials or environment)")
    return settings


def timestamp_window(credentials: Mapping[str, Any] | None, default: float) -> float:
    """Seconds a callback's timestamp may be off: the credentials' ``timestamp_window``."""
    value = float((credentials or {}).get("timestamp_window") or default)
    if not 10 <= value <= 3600:
        raise SettingsError("timestamp_window must be between 10 and 3600 seconds")
    return value


CHANNEL_CLASSES = {
    "wechat": ("bot.channels.wechat.channel.WeChatInput", WECHAT_KEYS),
    "wecom": ("bot.channels.wechat.channel.WeComInput", WECOM_KEYS),
}


def credentials_entries(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Credentials entries for each channel whose token variable is set.

    Values are ``${KEPU_…}`` references that Rasa expands when it reads the
    file, so no secret is written to disk.
    """
    env_names = {f.name: f.metadata["env"] for f in dataclasses.fields(Settings)}
    entries: dict[str, dict[str, str]] = {}
    for class_path, keys in CHANNEL_CLASSES.values():
        if not environ.get(env_names[keys["token"]]):
            continue
        entries[class_path] = {
            key: "${" + env_names[field_name] + "}"
            for key, field_name in keys.items()
            if environ.get(env_names[field_name])
        }
    return entries
