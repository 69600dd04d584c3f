"""The models the load benches run: ours (the one for the current inputs), and the
stock assistant's of bench/stock/, trained only when its inputs changed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bot.settings import PROJECT_ROOT

STOCK_DIR = PROJECT_ROOT / "bench" / "stock"
STOCK_MODELS = PROJECT_ROOT / "var" / "bench" / "stock-models"
RASA_VERSION = "3.6.21"


def current_model() -> Path:
    from bot.run.training import model_path

    model = model_path(PROJECT_ROOT / "models")
    if model.exists():
        return model
    newest = sorted(
        (PROJECT_ROOT / "models").glob("kepu-*.tar.gz"), key=lambda p: p.stat().st_mtime
    )
    if not newest:
        sys.exit("no trained model in models/: run `make train` first")
    print(f"[load] no model for the current inputs; using the newest: {newest[-1].name}")
    return newest[-1]


def stock_inputs() -> list[Path]:
    return [STOCK_DIR / "config.yml", STOCK_DIR / "domain.yml", *sorted(STOCK_DIR.glob("data/*"))]


def stock_hash(files: Sequence[Path] | None = None) -> str:
    h = hashlib.sha256(RASA_VERSION.encode())
    for path in files if files is not None else stock_inputs():
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def ensure_stock_model(out_dir: Path = STOCK_MODELS) -> Path:
    """The stock assistant's model, trained only when no model for its inputs exists."""
    name = f"stock-{stock_hash()}"
    target = out_dir / f"{name}.tar.gz"
    if target.exists():
        return target
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"[load] training the stock assistant into {target.relative_to(PROJECT_ROOT)}")
    started = time.monotonic()
    log = out_dir / f"{name}.train.log"
    with log.open("wb") as out:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "rasa",
                "train",
                "--config",
                str(STOCK_DIR / "config.yml"),
                "--domain",
                str(STOCK_DIR / "domain.yml"),
                "--data",
                str(STOCK_DIR / "data"),
                "--out",
                str(out_dir),
                "--fixed-model-name",
                name,
            ],
            cwd=out_dir.parent,
            env={
                **os.environ,
                "RASA_TELEMETRY_ENABLED": "false",
                "RASA_CACHE_DIRECTORY": str(out_dir.parent / "stock-cache"),
                "TF_CPP_MIN_LOG_LEVEL": "2",
            },
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if result.returncode != 0 or not target.exists():
        print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
        raise RuntimeError(f"training the stock assistant failed (log: {log})")
    print(f"[load] stock assistant trained in {time.monotonic() - started:.0f} s")
    return target
