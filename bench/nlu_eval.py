"""Intent accuracy on a held-out NLU split: clean, homophone-noised and dialect texts.

Usage: .venv/bin/python -m bench.nlu_eval [--seed 20251129] [--config config.yml]
       [--epochs N] [--without-normalizer]

Loads every example under nlu_data/nlu with Rasa's loader, splits it 80/20
stratified by intent (fixed seed), trains an NLU-only model on the 80% with
Rasa's Python API in a temporary folder, and parses the 20% with it:

- clean test texts;
- homophone-noised copies at 10% and 20% of the Han characters (bench/noise.py);
- Sichuan dialect copies, made like bench/voice_eval.py's dialect rewrites
  (only test texts that contain a Mandarin gloss from the lexicon sample).

An nlu_fallback prediction counts as wrong. ``--epochs`` overrides the
DIETClassifier's epochs in a temporary copy of the config (quick runs);
``--without-normalizer`` removes bot.nlu.normalizer.KepuNormalizer from that
copy ("before the voice work"). Rasa's training cache is disabled, so a
normaliser or jieba-dictionary edit is never hidden by a stale cached
component, and the shared .rasa/cache is left alone. Runs with the project
root as working directory (the jieba dictionary path in config.yml is
relative). Training takes a few minutes on 2 cores. Prints Markdown; Rasa's
own output goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from bench.noise import add_noise
from bench.voice_eval import dialect_rewrite
from bot.settings import PROJECT_ROOT
from bot.text.normalize import canonical

NLU_DATA = PROJECT_ROOT / "nlu_data" / "nlu"
DOMAIN = PROJECT_ROOT / "bot" / "domain"
NORMALIZER = "bot.nlu.normalizer.KepuNormalizer"
FALLBACK = "nlu_fallback"
NOISE_LEVELS = (0.1, 0.2)


def write_config(source: Path, target: Path, epochs: int | None, without_normalizer: bool) -> str:
    """Copy ``source`` to ``target`` with the requested changes; describe them."""
    from rasa.shared.utils.io import read_yaml_file, write_yaml

    config = read_yaml_file(str(source))
    changes = []
    pipeline = config.get("pipeline") or []
    if without_normalizer:
        kept = [c for c in pipeline if c.get("name") != NORMALIZER]
        if len(kept) == len(pipeline):
            raise SystemExit(f"{NORMALIZER} is not in the pipeline of {source}")
        pipeline = kept
        changes.append(f"without {NORMALIZER}")
    if epochs is not None:
        diet = [c for c in pipeline if c.get("name") == "DIETClassifier"]
        if not diet:
            raise SystemExit(f"no DIETClassifier in the pipeline of {source}")
        for component in diet:
            component["epochs"] = epochs
        changes.append(f"DIETClassifier epochs={epochs}")
    config["pipeline"] = pipeline
    write_yaml(config, target, should_preserve_key_order=True)
    return ", ".join(changes) or "as is"


def split_data(seed: int, folder: Path):
    """(train file, test examples as (text, intent)) from a stratified 80/20 split."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(NLU_DATA))
    train, test = data.train_test_split(train_frac=0.8, random_seed=seed)
    train_file = folder / "train.yml"
    RasaYAMLWriter().dump(train_file, train)
    examples = [(m.get("text"), m.get("intent")) for m in test.intent_examples]
    return train_file, len(train.intent_examples), examples


async def parse_all(agent, texts: list[str]) -> list[str]:
    out = []
    for text in texts:
        result = await agent.parse_message(text)
        out.append((result.get("intent") or {}).get("name") or "")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=20251129)
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "config.yml")
    parser.add_argument("--epochs", type=int, default=None, help="override DIETClassifier epochs")
    parser.add_argument(
        "--without-normalizer",
        action="store_true",
        help=f"remove {NORMALIZER} from the pipeline (before the voice work)",
    )
    args = parser.parse_args()
    config_source = args.config.resolve()

    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"  # no training cache (see docstring)
    os.chdir(PROJECT_ROOT)
    # Rasa's structlog events (one debug line per parsed message) go to stdout
    # by default: keep warnings only, on stderr, so stdout stays Markdown.
    import structlog

    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )

    with tempfile.TemporaryDirectory(prefix="nlu_eval-") as tmp:
        folder = Path(tmp)
        config_file = folder / "config.yml"
        changes = write_config(config_source, config_file, args.epochs, args.without_normalizer)
        with contextlib.redirect_stdout(sys.stderr):
            from rasa.core.agent import Agent
            from rasa.model_training import train_nlu

            train_file, n_train, test = split_data(args.seed, folder)
            t = time.perf_counter()
            model = train_nlu(
                config=str(config_file),
                nlu_data=str(train_file),
                output=str(folder / "models"),
                domain=str(DOMAIN),
            )
            train_s = time.perf_counter() - t
            if not model:
                raise SystemExit("training failed (see the Rasa output above)")
            agent = Agent.load(model)

        texts = [text for text, _ in test]
        gold = [intent for _, intent in test]
        splits: dict[str, tuple[list[int], list[str]]] = {}  # name -> (test indices, texts)
        splits["clean"] = (list(range(len(test))), texts)
        for level in NOISE_LEVELS:
            rng = random.Random(args.seed)
            splits[f"homophones {level:.0%}"] = (
                list(range(len(test))),
                [add_noise(text, level, rng) for text in texts],
            )
        rng = random.Random(args.seed)
        dialect_idx, dialect_texts, survives = [], [], []
        for i, text in enumerate(texts):
            rewritten, used = dialect_rewrite(text, rng)
            if used:
                dialect_idx.append(i)
                dialect_texts.append(rewritten)
                if canonical(rewritten) != canonical(text):
                    survives.append(len(dialect_texts) - 1)
        splits["dialect: same texts, clean"] = (dialect_idx, [texts[i] for i in dialect_idx])
        splits["dialect rewrites"] = (dialect_idx, dialect_texts)
        splits["dialect rewrites not undone by normaliser"] = (
            [dialect_idx[j] for j in survives],
            [dialect_texts[j] for j in survives],
        )

        t = time.perf_counter()
        predictions = {
            name: asyncio.run(parse_all(agent, split_texts))
            for name, (_, split_texts) in splits.items()
        }
        parse_s = time.perf_counter() - t
        parsed = sum(len(p) for p in predictions.values())

    shown = (
        config_source.relative_to(PROJECT_ROOT)
        if config_source.is_relative_to(PROJECT_ROOT)
        else config_source
    )
    print(
        f"config: {shown} ({changes}); "
        f"seed {args.seed}; {n_train} training / {len(test)} test examples, "
        f"{len(set(gold))} intents; training {train_s:.0f} s; "
        f"parsing {parse_s / max(parsed, 1) * 1000:.1f} ms per message\n"
    )
    print("| split | n | accuracy | nlu_fallback |\n|---|---|---|---|")
    for name, (idx, _) in splits.items():
        pred = predictions[name]
        n = len(idx)
        right = sum(p == gold[i] and p != FALLBACK for i, p in zip(idx, pred, strict=True))
        fallback = sum(p == FALLBACK for p in pred)
        print(f"| {name} | {n} | {right / max(n, 1):.1%} | {fallback / max(n, 1):.1%} |")

    per_intent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusions: dict[str, Counter] = defaultdict(Counter)
    for truth, pred in zip(gold, predictions["clean"], strict=True):
        per_intent[truth][1] += 1
        if pred == truth and pred != FALLBACK:
            per_intent[truth][0] += 1
        else:
            confusions[truth][pred] += 1
    print("\n| intent (clean) | n | accuracy | wrong predictions |\n|---|---|---|---|")
    for intent, (right, n) in sorted(per_intent.items()):
        wrong = ", ".join(f"{p} ×{c}" for p, c in confusions[intent].most_common(3)) or "—"
        print(f"| {intent} | {n} | {right / n:.1%} | {wrong} |")

    print("\nNotes:\n")
    print(
        "- Test examples are our own training phrasings held out (20% per intent), so they "
        "are close to what the model was trained on; noisy and dialect copies are synthetic."
    )
    print(
        f"- Dialect: {len(dialect_idx)} of {len(test)} test texts contain a lexicon gloss "
        f"(up to two replaced, as in bench/voice_eval.py); {len(survives)} of them stay "
        "different after bot.text.normalize.canonical."
        + (
            " Too few for a reliable number: NLU phrasings are short and rarely contain a "
            "2-4 character gloss; bench/voice_eval.py's dialect table (dev questions) is the "
            "larger sample."
            if len(dialect_idx) < 30
            else ""
        )
    )
    print("- nlu_fallback (FallbackClassifier below threshold) counts as wrong.")


if __name__ == "__main__":
    main()
