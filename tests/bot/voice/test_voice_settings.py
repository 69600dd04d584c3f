"""The voice settings: KEPU_ASR and what each engine needs, checked at start-up."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError


def test_defaults_use_wechat_transcripts_only() -> None:
    s = Settings.from_env({})
    assert (s.asr, s.asr_prefer, s.asr_model_dir) == ("wechat", "wechat", None)
    assert s.tencent_asr_url == "https://asr.tencentcloudapi.com"
    assert s.tencent_asr_engine == "16k_zh" and s.tencent_region == ""


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KEPU_ASR": "baidu"}, "KEPU_ASR must be one of"),
        ({"KEPU_ASR_PREFER": "both"}, "KEPU_ASR_PREFER"),
        ({"KEPU_ASR": "local"}, "needs KEPU_ASR_MODEL_DIR"),
        ({"KEPU_ASR": "tencent", "KEPU_TENCENT_SECRET_ID": "id"}, "KEPU_TENCENT_SECRET_KEY"),
        (
            {
                "KEPU_ASR": "tencent",
                "KEPU_TENCENT_SECRET_ID": "id",
                "KEPU_TENCENT_SECRET_KEY": "key",
                "KEPU_TENCENT_ASR_ENGINE": "8k_zh",
            },
            "16k_",
        ),
    ],
)
def test_a_voice_setting_that_cannot_work_stops_the_start(env, message) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_engines_read_from_the_environment(tmp_path) -> None:
    local = Settings.from_env({"KEPU_ASR": "local", "KEPU_ASR_MODEL_DIR": str(tmp_path)})
    assert local.asr_model_dir == tmp_path.resolve()
    tencent = Settings.from_env(
        {
            "KEPU_ASR": "tencent",
            "KEPU_ASR_PREFER": "engine",
            "KEPU_TENCENT_SECRET_ID": "AKIDsecretid",
            "KEPU_TENCENT_SECRET_KEY": "the-secret-key",
            "KEPU_TENCENT_ASR_ENGINE": "16k_zh_dialect",
        }
    )
    assert tencent.asr_prefer == "engine"
    shown = {env: value for env, value, _ in tencent.describe()}
    assert shown["KEPU_TENCENT_SECRET_KEY"] == "***"
    assert shown["KEPU_TENCENT_SECRET_ID"] == "***"
    assert shown["KEPU_ASR"] == "tencent"
