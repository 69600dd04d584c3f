"""``kepu asr check`` and the model list it checks against."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from bot.run.cli import main
from bot.voice import check as check_module
from bot.voice.models import ROLES, check_model, model_files, model_spec


def test_the_model_list_names_a_published_model_and_real_looking_hashes() -> None:
    spec = model_spec()
    assert spec["name"] in spec["published"] and spec["revision"] in spec["download"]
    assert spec["published"].startswith("https://huggingface.co/k2-fsa/")
    assert spec["also_published"].startswith("https://github.com/k2-fsa/sherpa-onnx/releases/")
    for role in ROLES:
        for name in spec["roles"][role]:
            assert name in spec["sha256"], f"{name}: say what is known about its hash"
    for name, hashes in spec["sha256"].items():
        for digest, origin in hashes.items():
            assert re.fullmatch(r"[0-9a-f]{64}", digest), name
            assert "revision" in origin
    assert spec["sha256"]["tokens.txt"] == {}  # not published: reported as unknown


def fill(directory: Path, contents: dict[str, bytes]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        (directory / name).write_bytes(data)
    return directory


def test_check_reports_ok_unknown_mismatch_and_missing(tmp_path: Path) -> None:
    spec = model_spec()
    published = b"the published encoder"
    spec["sha256"][spec["roles"]["encoder"][0]] = {
        hashlib.sha256(published).hexdigest(): "revision test"
    }
    directory = fill(
        tmp_path,
        {
            "tokens.txt": b"<blk> 0\n",
            spec["roles"]["encoder"][0]: published,
            spec["roles"]["decoder"][1]: b"not the published decoder",  # the int8 variant
        },
    )
    results = {r.role: r for r in check_model(directory, spec)}
    assert results["tokens"].status == "hash unknown"
    assert results["tokens"].detail == hashlib.sha256(b"<blk> 0\n").hexdigest()
    assert (results["encoder"].status, results["encoder"].detail) == ("ok", "revision test")
    assert results["decoder"].status == "mismatch"
    assert results["decoder"].name == spec["roles"]["decoder"][1]
    assert results["joiner"].status == "missing" and results["joiner"].failed
    assert set(model_files(directory, spec)) == {"tokens", "encoder", "decoder"}


def test_kepu_asr_check(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEPU_ASR_MODEL_DIR", raising=False)
    monkeypatch.setattr(check_module, "sherpa_onnx_version", lambda: "1.12.0")
    assert main(["asr", "check"]) == 1
    out = capsys.readouterr().out
    assert model_spec()["published"] in out and "KEPU_ASR_MODEL_DIR: not set" in out

    spec = model_spec()
    names = {role: spec["roles"][role][0] for role in ROLES}
    directory = fill(tmp_path / "model", {name: b"x" for name in names.values()})
    assert main(["asr", "check", "--model-dir", str(directory)]) == 1  # hashes do not match
    out = capsys.readouterr().out
    assert re.search(r"tokens\s+hash unknown\s+tokens.txt", out)
    assert re.search(r"encoder\s+mismatch", out) and "NOT usable" in out

    monkeypatch.setattr(check_module, "check_model", lambda d, s: [])  # all as published
    monkeypatch.setenv("KEPU_ASR", "local")
    monkeypatch.setenv("KEPU_ASR_MODEL_DIR", str(directory))
    assert main(["asr", "check"]) == 0
    out = capsys.readouterr().out
    assert "KEPU_ASR=local" in out and "model files: complete" in out
    monkeypatch.setattr(check_module, "sherpa_onnx_version", lambda: None)
    assert main(["asr", "check"]) == 1  # the package is part of being ready
    assert "sherpa-onnx: not installed" in capsys.readouterr().out


def test_kepu_asr_check_reports_even_with_incomplete_settings(
    capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEPU_ASR", "local")
    monkeypatch.delenv("KEPU_ASR_MODEL_DIR", raising=False)
    assert main(["asr", "check"]) == 1
    captured = capsys.readouterr()
    assert "needs KEPU_ASR_MODEL_DIR" in captured.err
    assert model_spec()["download"] in captured.out
