"""``kepu asr check``: is the local engine ready — package, ffmpeg, model files and hashes."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from bot.voice.audio import ffmpeg_path
from bot.voice.models import check_model, model_spec


def sherpa_onnx_version() -> str | None:
    """The installed sherpa-onnx's version, or None if it is not installed."""
    try:
        return importlib.metadata.version("sherpa-onnx")
    except importlib.metadata.PackageNotFoundError:
        return None


def asr_report(asr: str, model_dir: Path | None) -> tuple[list[str], bool]:
    """Lines to print, and whether the model directory is complete and as published."""
    spec = model_spec()
    lines = [
        f"KEPU_ASR={asr}",
        f"model: {spec['name']} ({spec['licence']})",
        f"  {spec['description']}",
        f"published: {spec['published']}",
        f"  download each file: {spec['download']}<file name>",
        f"  also: {spec['also_published']} (its file hashes are not published)",
        f"  docs: {spec['docs']}",
    ]
    version = sherpa_onnx_version()
    missing = "not installed (pip install sherpa-onnx)"
    lines.append(f"sherpa-onnx: {version or missing}")
    ffmpeg = ffmpeg_path()
    lines.append(f"ffmpeg: {ffmpeg or 'not installed (apt-get install ffmpeg)'}")
    if model_dir is None:
        lines.append("KEPU_ASR_MODEL_DIR: not set (or pass --model-dir)")
        return lines, False
    if not model_dir.is_dir():
        lines.append(f"KEPU_ASR_MODEL_DIR: {model_dir} is not a directory")
        return lines, False
    lines.append(f"model directory: {model_dir}")
    checks = check_model(model_dir, spec)
    for check in checks:
        detail = f" ({check.detail})" if check.detail else ""
        if check.status == "hash unknown":
            detail = f" (sha256 {check.detail}: no published hash to compare with)"
        elif check.status == "mismatch":
            detail = f" (sha256 {check.detail} is none of the published ones: download it again)"
        lines.append(f"  {check.role:8} {check.status:12} {check.name}{detail}")
    ok = not any(check.failed for check in checks)
    lines.append("model files: complete" if ok else "model files: NOT usable")
    return lines, ok and version is not None and ffmpeg is not None
