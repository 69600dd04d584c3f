"""``kepu users add`` and ``kepu tokens create``: secrets printed once, last."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.accounts.users import actor_for_token, authenticate
from bot.run.cli import main
from bot.settings import ACTION_SECRET_HEADER, PROJECT_ROOT
from bot.storage.db import Database


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEPU_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("KEPU_DATABASE_URL", raising=False)
    return tmp_path


def _check(var_dir: Path, password: str, token: str) -> tuple:
    async def check() -> tuple:
        db = Database(f"sqlite+aiosqlite:///{var_dir / 'kepu.db'}")
        try:
            return await authenticate(db, "alice", password), await actor_for_token(db, token)
        finally:
            await db.close()

    return asyncio.run(check())


def test_users_add_and_tokens_create(var_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["users", "add", "alice", "--role", "expert"]) == 0
    password = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["tokens", "create", "alice"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("kepu_") and len(token) > 40
    by_password, by_token = _check(var_dir, password, token)
    assert by_password.name == by_token.name == "alice" and by_token.role == "expert"
    assert main(["users", "list"]) == 0
    assert "alice" in capsys.readouterr().out
    db_bytes = (var_dir / "kepu.db").read_bytes()
    assert password.encode() not in db_bytes and token.encode() not in db_bytes


def test_refusals_are_printed_not_raised(var_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["users", "add", "bob", "--role", "moderator"]) == 0
    assert main(["users", "add", "bob", "--role", "moderator"]) == 1
    assert "已经存在" in capsys.readouterr().err
    assert main(["tokens", "create", "nobody"]) == 1
    assert "没有这个用户" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["users", "add", "carol", "--role", "root"])


def _write_entry(root: Path, entry_id: str, questions: list[str], **fields) -> None:
    import yaml

    data = {
        "id": entry_id,
        "topic": "health",
        "title": f"标题{entry_id}",
        "questions": questions,
        "answer": "一个回答。",
        "audience": ["all"],
        "source": {"organisation": "某机构", "title": "某文件"},
        "reviewed_on": "2026-11-29",
        **fields,
    }
    (root / "health").mkdir(parents=True, exist_ok=True)
    (root / "health" / f"{entry_id}.yml").write_text(
        yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
    )


@pytest.fixture
def kb_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "knowledge"
    monkeypatch.setenv("KEPU_KNOWLEDGE_DIR", str(root))
    _write_entry(root, "health-a", ["发芽的土豆能吃吗", "土豆发芽了咋个办", "龙葵素是啥子"])
    return root


def test_kb_validate_passes_distinct_entries(kb_dir: Path, capsys) -> None:
    _write_entry(kb_dir, "health-b", ["冬天烤火怎么防煤气中毒", "烤火咋个防中毒", "炭盆放哪里"])
    assert main(["kb", "validate"]) == 0
    assert "2 valid entries: health 2" in capsys.readouterr().out


def test_kb_validate_fails_on_near_identical_questions(kb_dir: Path, capsys) -> None:
    _write_entry(kb_dir, "health-b", ["发芽的土豆能吃吗？", "洋芋发芽了咋个办", "烤火咋个防"])
    assert main(["kb", "validate"]) == 1
    err = capsys.readouterr().err
    assert "health-a «发芽的土豆能吃吗» and health-b «发芽的土豆能吃吗？»" in err


def test_kb_validate_fails_on_an_alias_that_is_an_entry_id(kb_dir: Path, capsys) -> None:
    _write_entry(kb_dir, "health-b", ["冬天烤火怎么防煤气中毒", "烤火咋个防中毒", "炭盆放哪里"])
    # health-c claims health-b's id as an old id of its own
    questions = ["中暑了咋个办", "天热头昏咋个弄", "热射病是啥"]
    _write_entry(kb_dir, "health-c", questions, aliases=["health-b"])
    assert main(["kb", "validate"]) == 1
    assert "alias 'health-b' is the id of" in capsys.readouterr().err


def test_kb_validate_passes_the_curated_knowledge(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("KEPU_KNOWLEDGE_DIR", raising=False)
    assert main(["kb", "validate"]) == 0
    assert "ERROR" not in capsys.readouterr().err


def _kepu(*args: str, **env: str) -> subprocess.CompletedProcess:
    """The installed ``kepu`` command, as a curator types it."""
    kepu = Path(sys.executable).with_name("kepu")
    return subprocess.run(
        [str(kepu), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_kepu_kb_validate_command_names_the_broken_file(tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    _write_entry(root, "health-a", ["发芽的土豆能吃吗", "土豆发芽了咋个办", "龙葵素是啥子"])
    _write_entry(root, "health-b", ["冬天烤火怎么防煤气中毒", "烤火咋个防中毒", "炭盆放哪里"])
    broken = (root / "health" / "health-b.yml").read_text(encoding="utf-8")
    # no source: every answer must say where it comes from
    (root / "health" / "health-b.yml").write_text(
        "\n".join(
            line for line in broken.splitlines() if "某" not in line and "source" not in line
        ),
        encoding="utf-8",
    )
    done = _kepu("kb", "validate", KEPU_KNOWLEDGE_DIR=str(root))
    assert done.returncode == 1, done
    assert "ERROR health/health-b.yml" in done.stderr and "source" in done.stderr
    assert "1 valid entries: health 1" in done.stdout


def test_kepu_kb_validate_command_passes_the_curated_knowledge() -> None:
    done = _kepu("kb", "validate")
    assert done.returncode == 0 and "ERROR" not in done.stderr, done.stderr[-2000:]
    files = len(list((PROJECT_ROOT / "knowledge").rglob("*.yml")))
    assert done.stdout.startswith(f"{files} valid entries: ")  # every file is an entry


# `kepu run`'s processes: no secret on a command line, a private var/ folder.


def test_rasa_and_the_action_server_start_without_a_secret_in_argv(tmp_path: Path) -> None:
    from bot.run.cli import action_server_argv, rasa_server_argv
    from bot.settings import Settings

    settings = Settings(var_dir=tmp_path)
    token = settings.resolve_rasa_token()
    argv = rasa_server_argv(settings, "model.tar.gz")
    assert argv[1:3] == ["-m", "bot.run.rasa_entry"] and "--enable-api" in argv
    assert "--auth-token" not in argv and token not in " ".join(argv)
    assert action_server_argv(settings)[1:3] == ["-m", "actions.security"]
    given = Settings(var_dir=tmp_path, rasa_token="from-the-environment")
    assert "from-the-environment" not in " ".join(rasa_server_argv(given, "model.tar.gz"))


def test_rasa_entry_passes_the_token_and_the_action_secret_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rasa.core.run
    import rasa.utils.tensorflow.environment as tf_env

    from bot.run import rasa_entry
    from bot.run.cli import _rasa_env, rasa_server_argv
    from bot.settings import Settings

    monkeypatch.setenv("KEPU_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("KEPU_RASA_TOKEN", raising=False)
    settings = Settings.from_env()
    for name, value in _rasa_env(settings).items():
        monkeypatch.setenv(name, value)
    seen: dict = {}

    @functools.wraps(rasa.core.run.serve_application)  # same signature: same options
    def serve_application(*args: object, **kwargs: object) -> None:
        seen.update(kwargs)

    monkeypatch.setattr(rasa.core.run, "serve_application", serve_application)
    # TensorFlow's thread pools can be set once per process: another test may have
    # started TensorFlow already. They have a test of their own (a fresh process).
    monkeypatch.setattr(tf_env, "setup_tf_environment", lambda: None)
    model = tmp_path / "model.tar.gz"
    model.touch()
    rasa_entry.main(rasa_server_argv(settings, str(model))[3:])
    assert seen["auth_token"] == (tmp_path / "rasa_token").read_text().strip()
    secret = (tmp_path / "action_secret").read_text().strip()
    action = seen["endpoints"].action
    assert action.url == settings.action_endpoint_url
    assert action.headers == {ACTION_SECRET_HEADER: secret}
    assert seen["enable_api"] is True and seen["port"] == settings.rasa_port
    assert seen["server_listeners"] == [(rasa_entry.warm_up, "after_server_start")]
    with pytest.raises(SystemExit):
        rasa_entry.main(["--model", str(model), "--auth-token", "visible-to-everyone"])
    with pytest.raises(SystemExit):
        rasa_entry.main(["--model", str(model), "--auth-token=visible-to-everyone"])


def test_the_action_secret_is_private_shared_and_new_for_every_run(tmp_path: Path) -> None:
    from bot.settings import Settings, action_secret

    settings = Settings(var_dir=tmp_path / "var")
    first = action_secret(settings)  # whichever process starts first creates it
    path = tmp_path / "var" / "action_secret"
    assert len(first) >= 32 and path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "var").stat().st_mode & 0o777 == 0o700
    assert action_secret(settings) == first  # the other one reads the same
    rotated = action_secret(settings, rotate=True)  # `kepu run`
    assert rotated != first and action_secret(settings) == rotated
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o644)
    assert action_secret(settings) == rotated and path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["action_secret"]  # no temporary left


def test_var_is_made_private(tmp_path: Path) -> None:
    from bot.run.cli import private_var_dir
    from bot.settings import Settings

    new = tmp_path / "new" / "var"
    private_var_dir(Settings(var_dir=new))
    assert new.stat().st_mode & 0o777 == 0o700
    old = tmp_path / "old"
    old.mkdir(mode=0o755)
    old.chmod(0o755)
    private_var_dir(Settings(var_dir=old))
    assert old.stat().st_mode & 0o777 == 0o700


def test_our_database_file_is_created_private(tmp_path: Path) -> None:
    async def create() -> None:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'kepu.db'}")
        try:
            await db.migrate()
        finally:
            await db.close()

    asyncio.run(create())
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    files = list((tmp_path / "data").glob("kepu.db*"))
    assert files
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path


def test_building_fits_the_fraud_classifier_into_the_cache(var_dir: Path) -> None:
    """`kepu train` leaves nothing for the action server to fit on its first start;
    a second build loads the classifier instead of fitting it again."""
    from bot.run.cli import warm_fraud_classifier
    from bot.settings import Settings

    settings = Settings.from_env()
    warm_fraud_classifier(settings)
    (cached,) = (var_dir / "cache").glob("fraud-classifier-*.joblib")
    fitted = cached.stat().st_mtime_ns
    warm_fraud_classifier(settings)
    assert cached.stat().st_mtime_ns == fitted


def test_rasa_runs_tensorflow_with_one_thread_per_pool_unless_told_otherwise(
    tmp_path: Path,
) -> None:
    """``kepu run`` gives the Rasa process TensorFlow's thread variables (1 and 1 on
    our two cores; an operator's own values are kept), and Rasa's start-up reads them."""
    from bot.run.cli import _rasa_env
    from bot.settings import Settings

    settings = Settings(var_dir=tmp_path)
    assert {k: v for k, v in _rasa_env(settings, {}).items() if k.startswith("TF_")} == {
        "TF_INTER_OP_PARALLELISM_THREADS": "1",
        "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    }
    given = {"TF_INTRA_OP_PARALLELISM_THREADS": "2"}
    env = _rasa_env(settings, given)
    assert env["TF_INTRA_OP_PARALLELISM_THREADS"] == "2"
    probe = (
        "import rasa.utils.tensorflow.environment as e; e.setup_tf_environment();"
        "import tensorflow as tf; t = tf.config.threading;"
        "print(t.get_inter_op_parallelism_threads(), t.get_intra_op_parallelism_threads())"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, **env, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["1", "2"]
