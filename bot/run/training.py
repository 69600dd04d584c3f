"""Train the Rasa model only when its inputs changed.

The model is named by a hash of everything that shapes it: ``config.yml``,
the domain, the training data (including the jieba dictionary, whose edits
Rasa's own training cache does not notice) and the Rasa version. A model with
that name already on disk is reused as is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from bot.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

CONFIG = PROJECT_ROOT / "config.yml"
DOMAIN = PROJECT_ROOT / "bot" / "domain"
DATA = PROJECT_ROOT / "nlu_data"
JIEBA_DICT = DATA / "jieba"
RASA_VERSION = "3.6.21"


# Our normaliser (the one trainable component of ours: it rewrites the training
# examples), the text code it calls and its dialect table shape the model too. The
# move gate and EmergencyOverride are loaded by class path and only act at run
# time: editing them needs no retraining.
NLU_CODE = (
    PROJECT_ROOT / "bot" / "nlu" / "normalizer.py",
    *(
        PROJECT_ROOT / "bot" / "text" / name
        for name in ("normalize.py", "homophone.py", "pinyin.py", "segment.py", "stopwords.py")
    ),
    PROJECT_ROOT / "bot" / "text" / "data" / "dialect_lexicon.tsv",
)


def _files_under(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".") and "__pycache__" not in p.parts
    )


def _input_files() -> list[Path]:
    files = [CONFIG]
    for root in (DOMAIN, DATA, *NLU_CODE):
        files += _files_under(root)
    return files


def _digest(files: list[Path]) -> str:
    h = hashlib.sha256(RASA_VERSION.encode())
    for path in files:
        h.update(str(path.relative_to(PROJECT_ROOT)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


def inputs_hash() -> str:
    """Hash of every file that shapes the trained model."""
    return _digest(_input_files())


def cache_blind_hash() -> str:
    """Inputs Rasa's training cache cannot see: the jieba dictionary's contents,
    and our NLU components' code and tables (Rasa fingerprints a component by
    its name and config, not by its code or the files it reads)."""
    files = _files_under(JIEBA_DICT)
    for root in NLU_CODE:
        files += _files_under(root)
    return _digest(sorted(files))


def model_path(model_dir: Path) -> Path:
    return model_dir / f"kepu-{inputs_hash()}.tar.gz"


def train_if_needed(model_dir: Path, force: bool = False) -> Path:
    """Return the model for the current inputs, training it first if absent."""
    target = model_path(model_dir)
    if target.exists() and not force:
        log.info("model %s is up to date", target.name)
        return target
    model_dir.mkdir(parents=True, exist_ok=True)
    state_file = model_dir / ".last-train.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    # Rasa caches trained components and would reuse a tokenizer built with the
    # old jieba dictionary, or features of text normalised by old code: bypass
    # its cache when any of those changed.
    blind_hash = cache_blind_hash()
    bypass_cache = force or state.get("cache_blind") != blind_hash
    cmd = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "--config",
        str(CONFIG),
        "--domain",
        str(DOMAIN),
        "--data",
        str(DATA),
        "--out",
        str(model_dir),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
    ]
    if bypass_cache:
        cmd.append("--force")
    print(f"[train] inputs changed; training {target.name} (takes a few minutes)", flush=True)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    subprocess.run(cmd, check=True, cwd=PROJECT_ROOT, env=env)
    if not target.exists():
        raise RuntimeError(f"rasa train finished but {target} is missing")
    state_file.write_text(json.dumps({"cache_blind": blind_hash, "model": target.name}))
    for old in model_dir.glob("kepu-*.tar.gz"):
        if old != target:
            old.unlink()
    return target
