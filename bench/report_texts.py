"""Report-like texts for the rumour benches: windows of the CED Weibo posts in
../shared/eval/rumors (read in place) with homophone noise, and claims masked as
the report queue stores them."""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

from bot.settings import PROJECT_ROOT

EVAL = PROJECT_ROOT.parent / "shared" / "eval" / "rumors"


def eval_texts() -> list[str]:
    texts = []
    for name in ("ced_weibo_rumor_sample.jsonl", "ced_rumor_variant_clusters.jsonl"):
        with (EVAL / name).open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    item = json.loads(line)
                    texts += [item["text"]] if "text" in item else item["variants"]
    return texts


class ReportTexts:
    """Report-like texts cut from the Weibo posts: one window, sometimes two joined,
    with 10% homophone noise (a new claim); and re-worded copies of a given text."""

    def __init__(self, seed: int) -> None:
        self.pool = eval_texts()
        self.rng = random.Random(seed)

    def window(self, low: int = 15, high: int = 60) -> str:
        text = self.rng.choice(self.pool)
        length = self.rng.randint(low, high)
        start = self.rng.randrange(max(1, len(text) - length))
        return text[start : start + length]

    def claim(self) -> str:
        from bench.noise import add_noise

        text = self.window()
        if self.rng.random() < 0.5:
            text += self.window(5, 25)
        return add_noise(text, 0.1, self.rng)

    def variant(self, text: str) -> str:
        from bench.noise import add_noise

        cut = self.rng.randint(0, max(0, len(text) // 8))
        return add_noise(text[cut:], 0.1, self.rng)


def masked_claims(size: int, seed: int) -> tuple[list[str], list[str]]:
    """``size`` claim texts and their masked forms (cached: masking runs jieba)."""
    from bot.text.matching import masked

    cache = Path(tempfile.gettempdir()) / f"kepu-growth-claims-{size}-{seed}.json"
    if cache.exists():
        data = json.loads(cache.read_text(encoding="utf-8"))
        return data["texts"], data["masked"]
    source = ReportTexts(seed)
    texts = [source.claim() for _ in range(size)]
    masked_texts = [masked(t) for t in texts]
    cache.write_text(json.dumps({"texts": texts, "masked": masked_texts}), encoding="utf-8")
    return texts, masked_texts
