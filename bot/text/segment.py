"""Word segmentation with the project's jieba dictionary, outside Rasa's pipeline.

Search and homophone correction use their own ``jieba.Tokenizer`` so they see
the same words in every process (Rasa's JiebaTokenizer changes jieba's global
tokenizer only in the process that loads a model).
"""

from __future__ import annotations

import functools
from typing import Any

from bot.settings import PROJECT_ROOT

USER_DICTIONARY = PROJECT_ROOT / "nlu_data" / "jieba" / "userdict.txt"


@functools.lru_cache(maxsize=1)
def tokenizer() -> Any:
    """jieba's tokenizer with our dictionary loaded (jieba is untyped)."""
    import jieba

    tok = jieba.Tokenizer()
    if USER_DICTIONARY.exists():
        # Given a path, jieba leaves the file open; given a file, it reads and we close.
        with USER_DICTIONARY.open("rb") as fh:
            tok.load_userdict(fh)
    return tok


def word_tokens(text: str) -> list[str]:
    """jieba words of ``text`` (whitespace dropped)."""
    return [w for w in tokenizer().lcut(text) if w.strip()]


def known_words(text: str) -> list[str]:
    """Segmentation by the dictionaries alone (no HMM guessing of new words)."""
    words: list[str] = tokenizer().lcut(text, HMM=False)
    return words


def dictionary_frequency(word: str) -> int:
    """Frequency in jieba's general dictionary or ours (0 if unknown or only a prefix)."""
    tok = tokenizer()
    tok.check_initialized()
    frequency: int = tok.FREQ.get(word, 0)
    return frequency


def is_dictionary_word(word: str) -> bool:
    return dictionary_frequency(word) > 0


def user_dictionary_words() -> list[str]:
    """The words of our jieba user dictionary (first column of each line)."""
    if not USER_DICTIONARY.exists():
        return []
    lines = USER_DICTIONARY.read_text(encoding="utf-8").splitlines()
    return [line.split()[0] for line in lines if line.strip() and not line.startswith("#")]
