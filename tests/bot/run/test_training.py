from pathlib import Path

import pytest

from bot.run import training


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "nlu_data" / "jieba").mkdir(parents=True)
    (tmp_path / "bot" / "domain").mkdir(parents=True)
    (tmp_path / "config.yml").write_text("pipeline: []\n")
    (tmp_path / "bot" / "domain" / "core.yml").write_text("intents: [greet]\n")
    (tmp_path / "nlu_data" / "nlu.yml").write_text("nlu: []\n")
    (tmp_path / "nlu_data" / "jieba" / "userdict.txt").write_text("二化螟 2000 n\n")
    (tmp_path / "bot" / "text" / "data").mkdir(parents=True)
    (tmp_path / "bot" / "text" / "data" / "dialect_lexicon.tsv").write_text("包谷\t玉米\n")
    monkeypatch.setattr(training, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(training, "CONFIG", tmp_path / "config.yml")
    monkeypatch.setattr(training, "DOMAIN", tmp_path / "bot" / "domain")
    monkeypatch.setattr(training, "DATA", tmp_path / "nlu_data")
    monkeypatch.setattr(training, "JIEBA_DICT", tmp_path / "nlu_data" / "jieba")
    monkeypatch.setattr(training, "NLU_CODE", (tmp_path / "bot" / "text",))
    return tmp_path


@pytest.mark.parametrize(
    "path",
    [
        "config.yml",
        "bot/domain/core.yml",
        "nlu_data/nlu.yml",
        "nlu_data/jieba/userdict.txt",
        "bot/text/data/dialect_lexicon.tsv",
    ],
)
def test_any_input_change_changes_the_hash(inputs: Path, path: str) -> None:
    before = training.inputs_hash()
    with open(inputs / path, "a", encoding="utf-8") as fh:
        fh.write("# edit\n")
    assert training.inputs_hash() != before


def test_hash_is_stable_without_changes(inputs: Path) -> None:
    assert training.inputs_hash() == training.inputs_hash()


def test_existing_model_is_reused_without_training(inputs: Path, monkeypatch) -> None:
    models = inputs / "models"
    models.mkdir()
    existing = training.model_path(models)
    existing.write_bytes(b"model")

    def no_training(*args, **kwargs):
        raise AssertionError("must not train when the model exists")

    monkeypatch.setattr(training.subprocess, "run", no_training)
    assert training.train_if_needed(models) == existing


def test_cache_blind_changes_bypass_rasas_cache(inputs: Path, monkeypatch) -> None:
    models = inputs / "models"
    calls: list[list[str]] = []

    def fake_train(cmd, **kwargs):
        calls.append(cmd)
        name = cmd[cmd.index("--fixed-model-name") + 1]
        (models / f"{name}.tar.gz").write_bytes(b"m")

    monkeypatch.setattr(training.subprocess, "run", fake_train)
    training.train_if_needed(models)
    assert "--force" in calls[-1]  # first training: no record of the dictionary
    (inputs / "nlu_data" / "nlu.yml").write_text("nlu: [x]\n")
    training.train_if_needed(models)
    assert "--force" not in calls[-1]  # only data changed: Rasa's cache is fine
    (inputs / "nlu_data" / "jieba" / "userdict.txt").write_text("稻飞虱 2000 n\n")
    training.train_if_needed(models)
    assert "--force" in calls[-1]
    # So does a change to our normaliser's table (Rasa fingerprints config, not files).
    (inputs / "bot" / "text" / "data" / "dialect_lexicon.tsv").write_text("洋芋\t土豆\n")
    training.train_if_needed(models)
    assert "--force" in calls[-1]
    assert len(list(models.glob("kepu-*.tar.gz"))) == 1  # old models are removed
