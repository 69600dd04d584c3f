"""Switching the channels on from the environment: settings, credentials, `kepu run`."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.utils.common import class_from_module_path
from rasa.shared.utils.io import read_config_file

from bot.channels.wechat.channel import WeChatInput, WeComInput
from bot.run.cli import rasa_server_argv, write_credentials
from bot.settings import PROJECT_ROOT, Settings, SettingsError
from bot.wechat.config import WECHAT_KEYS, settings_with

KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
WECHAT_ENV = {
    "KEPU_WECHAT_TOKEN": "wx-token",
    "KEPU_WECHAT_APPID": "wx5823bf96d3bd56c7",
    "KEPU_WECHAT_APPSECRET": "very-secret",
    "KEPU_WECHAT_AES_KEY": KEY,
    "KEPU_WECHAT_API_BASE": "http://127.0.0.1:9",
}
WECOM_ENV = {
    "KEPU_WECOM_TOKEN": "wecom-token",
    "KEPU_WECOM_CORP_ID": "ww1436e0e65a779aee",
    "KEPU_WECOM_AGENT_ID": "1000002",
    "KEPU_WECOM_SECRET": "corp-secret",
    "KEPU_WECOM_AES_KEY": KEY,
}


def test_without_tokens_rasa_gets_the_default_credentials(tmp_path: Path) -> None:
    path = write_credentials(Settings(var_dir=tmp_path), environ={})
    assert path == PROJECT_ROOT / "bot" / "credentials.yml"
    assert not (tmp_path / "credentials.yml").exists()


def test_a_token_in_the_environment_enables_its_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**WECHAT_ENV, **WECOM_ENV, "KEPU_VAR_DIR": str(tmp_path)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    path = write_credentials(settings)
    assert path == tmp_path / "credentials.yml"
    written = path.read_text(encoding="utf-8")
    assert "very-secret" not in written and KEY not in written  # references only
    assert str(path) in rasa_server_argv(settings, "model.tar.gz", path)

    # What `rasa run --credentials` does with the file.
    credentials = read_config_file(path)
    assert "bot.channels.rest.KepuRestInput" in credentials
    channels = {
        class_from_module_path(name).from_credentials(values).name(): values
        for name, values in credentials.items()
    }
    assert set(channels) == {"rest", "wechat", "wecom"}
    assert channels["wechat"]["appsecret"] == "very-secret"  # expanded by Rasa
    wechat = WeChatInput.from_credentials(channels["wechat"])
    assert (wechat.mode, wechat.appid, wechat.api.base) == (
        "safe",
        WECHAT_ENV["KEPU_WECHAT_APPID"],
        "http://127.0.0.1:9",
    )
    wecom = WeComInput.from_credentials(channels["wecom"])
    assert wecom.agent_id == 1000002 and wecom.api.base == "https://qyapi.weixin.qq.com"


@pytest.mark.parametrize(
    "env",
    [
        {"KEPU_WECHAT_TOKEN": "t"},  # no AppID / AppSecret
        {**WECHAT_ENV, "KEPU_WECHAT_AES_KEY": "too-short"},
        {**WECHAT_ENV, "KEPU_WECHAT_MODE": "secret"},
        {**WECHAT_ENV, "KEPU_WECHAT_REPLY_BUDGET": "5.5"},
        {**WECOM_ENV, "KEPU_WECOM_AGENT_ID": "app"},
        {**WECOM_ENV, "KEPU_WECOM_AES_KEY": ""},
    ],
)
def test_incomplete_channel_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(env)


def test_plain_mode_needs_no_aes_key_and_secrets_are_never_printed() -> None:
    env = {**WECHAT_ENV, "KEPU_WECHAT_MODE": "plain", "KEPU_WECHAT_AES_KEY": ""}
    settings = Settings.from_env({**env, **WECOM_ENV, "KEPU_WECHAT_REPLY_BUDGET": "0.5"})
    assert settings.wechat_mode == "plain" and settings.wechat_reply_budget == 0.5
    shown = {name: value for name, value, _ in settings.describe()}
    for name in (
        "KEPU_WECHAT_TOKEN",
        "KEPU_WECHAT_APPSECRET",
        "KEPU_WECOM_SECRET",
        "KEPU_WECOM_TOKEN",
        "KEPU_WECOM_AES_KEY",
    ):
        assert shown[name] == "***", name
    assert shown["KEPU_WECHAT_APPID"] == WECHAT_ENV["KEPU_WECHAT_APPID"]


def test_credentials_override_the_environment_and_typos_are_refused() -> None:
    base = Settings.from_env(WECHAT_ENV)
    settings = settings_with("wechat", {"mode": "compatible", "token": "other"}, WECHAT_KEYS, base)
    assert (settings.wechat_mode, settings.wechat_token) == ("compatible", "other")
    with pytest.raises(SettingsError):
        settings_with("wechat", {"tokn": "x"}, WECHAT_KEYS, base)
    with pytest.raises(SettingsError):
        settings_with("wechat", {}, WECHAT_KEYS, Settings())  # no token anywhere
