from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError


def test_defaults_bind_loopback_and_use_sqlite_under_var() -> None:
    s = Settings.from_env({})
    assert s.host == "127.0.0.1"
    assert (s.rasa_port, s.actions_port, s.web_port) == (5005, 5055, 8000)
    assert s.database_url == f"sqlite+aiosqlite:///{s.var_dir / 'kepu.db'}"
    assert s.tracker_db == s.var_dir / "tracker.db"
    assert s.rasa_url == "http://127.0.0.1:5005"


def test_environment_overrides_with_types(tmp_path: Path) -> None:
    s = Settings.from_env(
        {"KEPU_WEB_PORT": "9001", "KEPU_VAR_DIR": str(tmp_path), "KEPU_MAX_MESSAGE_CHARS": "500"}
    )
    assert s.web_port == 9001 and s.max_message_chars == 500
    assert s.var_dir == tmp_path and s.database_url.endswith(f"{tmp_path}/kepu.db")


@pytest.mark.parametrize(
    "env", [{"KEPU_WEB_PORT": "abc"}, {"KEPU_RASA_PORT": "70000"}, {"KEPU_MAX_BODY_BYTES": "10"}]
)
def test_bad_values_are_refused(env: dict) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(env)


def test_rasa_processes_starting_together_share_one_whole_token(tmp_path: Path) -> None:
    """Two Rasa processes of the production profile ask at the same moment: one makes
    the token, the other gets the same one, never an error or a half-written file
    (a fresh-clone test run once saw the second fail with FileExistsError)."""
    import multiprocessing

    # Spawned, not forked: a fork of the test process copies whatever lock one of
    # its threads held at that moment (a fresh-clone run once hung here forever).
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        for n in range(20):
            var = tmp_path / f"var{n}"
            tokens = pool.map(_token_of, [var] * 8)
            assert len(set(tokens)) == 1 and len(tokens[0]) >= 32, tokens
            assert sorted(p.name for p in var.iterdir()) == ["rasa_token"]


def test_the_token_made_by_the_other_process_meanwhile_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race itself, made certain: the file appears after this process looked."""
    import bot.settings as settings_module

    other = "made-by-the-other-process-" + "x" * 20
    real_read = settings_module._read_secret
    calls = []

    def read_after_the_other_wrote(path: Path) -> str | None:
        calls.append(path)
        if len(calls) == 1:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(other)
            return None  # this process looked before the file was there
        return real_read(path)

    monkeypatch.setattr(settings_module, "_read_secret", read_after_the_other_wrote)
    assert Settings(var_dir=tmp_path).resolve_rasa_token() == other


def _token_of(var: Path) -> str:
    return Settings(var_dir=var).resolve_rasa_token()


def test_rasa_token_is_generated_once_and_private(tmp_path: Path) -> None:
    s = Settings(var_dir=tmp_path)
    token = s.resolve_rasa_token()
    assert len(token) >= 32
    assert s.resolve_rasa_token() == token
    assert (tmp_path / "rasa_token").stat().st_mode & 0o777 == 0o600
    assert Settings(var_dir=tmp_path, rasa_token="given").resolve_rasa_token() == "given"


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for env, _, doc in Settings.from_env({}).describe():
        assert env in readme, env
        assert doc
    assert (
        "***" in dict((e, v) for e, v, _ in Settings(rasa_token="x").describe())["KEPU_RASA_TOKEN"]
    )
