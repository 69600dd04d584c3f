"""``kepu volunteers add|verify|list``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.run.cli import main


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEPU_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("KEPU_DATABASE_URL", raising=False)
    return tmp_path


def test_volunteers_add_verify_list(var_dir: Path, capsys: pytest.CaptureFixture) -> None:
    args = [
        "volunteers",
        "add",
        "王小红",
        "--skills",
        "phone_help,防骗讲解",
        "--towns",
        "礼让镇",
        "云龙",
    ]
    assert main(args) == 0
    assert "志愿者编号 LP00001，未核验身份" in capsys.readouterr().out
    assert main(["volunteers", "verify", "LP00001", "--document", "身份证", "--by", "张主任"]) == 0
    assert (
        main(["volunteers", "verify", "LP00001", "--document", "500228199001011234", "--by", "x"])
        == 1
    )
    assert "证件类型" in capsys.readouterr().err
    assert main(["volunteers", "add", "李四", "--skills", "开挖掘机", "--towns", "礼让镇"]) == 1
    assert main(["volunteers", "add", "李四", "--skills", "farming", "--towns", "北京"]) == 1
    capsys.readouterr()
    assert main(["volunteers", "list"]) == 0
    out = capsys.readouterr().out
    assert "LP00001" in out and "上门教用手机、防骗讲解" in out and "礼让镇、云龙镇" in out
    assert "身份证/张主任" in out and "李四" not in out
    assert "500228" not in (var_dir / "kepu.db").read_bytes().decode("latin-1")
