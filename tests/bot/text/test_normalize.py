"""The normaliser: dialect table entry by entry, fixed cases, and properties."""

from __future__ import annotations

import csv
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text.normalize import LEXICON, Canonical, canonical, dialect_table, normalize

with LEXICON.open(encoding="utf-8") as fh:
    ROWS = list(csv.DictReader(fh, delimiter="\t"))
APPLIED = [r for r in ROWS if r["replace"] == "yes"]
HELD_BACK = [r for r in ROWS if r["replace"] == "no"]


def test_table_is_large_and_clean() -> None:
    assert len(APPLIED) >= 300
    assert len({r["dialect"] for r in ROWS}) == len(ROWS)
    for r in ROWS:
        assert r["dialect"] and r["mandarin"] and r["example"], r
        assert r["dialect"] != r["mandarin"], r
        assert r["replace"] in ("yes", "no"), r
        if r["replace"] == "yes":
            assert len(r["dialect"]) >= 2 and r["dialect"] not in r["mandarin"], r


def test_no_replacement_reintroduces_a_dialect_word() -> None:
    """Otherwise normalising twice would change the text again."""
    table = dialect_table()
    for dialect, mandarin in table.items():
        assert canonical(mandarin) == mandarin, (dialect, mandarin)


@pytest.mark.parametrize("row", APPLIED, ids=lambda r: r["dialect"])
def test_each_dialect_word_is_rewritten_in_its_example(row: dict[str, str]) -> None:
    out = canonical(row["example"])
    assert row["mandarin"] in out or row["dialect"] not in out, (row, out)
    assert canonical(out) == out


@pytest.mark.parametrize("row", HELD_BACK, ids=lambda r: r["dialect"])
def test_ambiguous_words_are_not_replaced_blindly(row: dict[str, str]) -> None:
    assert row["dialect"] not in dialect_table()
    overlapping = [k for k in dialect_table() if row["dialect"] in k or k in row["dialect"]]
    if not overlapping:  # no other entry covers it: the word itself is left alone
        assert row["dialect"] in canonical(row["dialect"])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("微信上的红包咋个收", "微信上的红包怎么收"),
        ("我我我想问一下 嗯 那个那个", "我想问一下 那个"),
        ("六十五岁的老人", "65岁的老人"),
        ("三高怎么办", "三高怎么办"),
        ("這個怎麼辦", "这个怎么办"),
        ("ＡＢＣ１２３", "ABC123"),
        ("金额不对", "金额不对"),
        ('／handoff{"x": 1}', 'handoff{"x": 1}'),
        ("//restart", "restart"),
        ("   ", ""),
    ],
)
def test_fixed_cases(text: str, expected: str) -> None:
    assert canonical(text) == expected


URL = re.compile(r"https?://[\w./?=&-]+")
PHONE = re.compile(r"1[3-9]\d{9}")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_never_raises_and_is_idempotent(text: str) -> None:
    once = canonical(text)
    assert canonical(once) == once
    assert normalize(normalize(text)) == normalize(text)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("咋个啥子包谷洋芋嗯我想问 ")), max_size=40),
    st.sampled_from(["http://x.example.com/a?b=1", "13812345678", "2025", "96110"]),
)
def test_digits_urls_and_phone_numbers_survive(prefix: str, keep: str) -> None:
    assert keep in canonical(f"{prefix} {keep} {prefix}")


def _cpu_seconds(text: str) -> float:
    """This process's CPU time for ``canonical(text)``, best of three: other jobs on
    the machine (a busy CI host) take wall-clock time, not this process's CPU time."""
    times = []
    for _ in range(3):
        started = time.process_time()
        canonical(text)
        times.append(time.process_time() - started)
    return min(times)


def test_bounded_time_on_64_kib() -> None:
    text = ("我我我想问一下咋个整包谷遭虫咬了 http://a.example.com 13812345678 " * 2000)[:65536]
    small, large = _cpu_seconds(text[:8192]), _cpu_seconds(text)
    # Linear in the length: 8 times the text, about 8 times the work (a rule
    # that backtracks quadratically would take 64 times); and well under the
    # time a message may take, even under a coverage tracer.
    assert large < 24 * small, (small, large)
    assert large < 2.0


def test_no_generated_prefix_brings_a_slash_to_the_front() -> None:
    """Fillers, stutters, spaces, invisible characters and punctuation removed in
    front of "/" must never leave a command for Rasa's "/intent" handler."""
    import itertools

    pieces = [
        "嗯",
        "呃",
        "啊",
        "那个",
        "就是说",
        "然后",
        " ",
        "\u3000",
        "\u200b",
        "\ufeff",
        "／",
        "/",
    ]
    commands = ["/restart", "／handoff", '/greet{"x": "1"}', "//session_start"]
    checked = 0
    for size in (1, 2, 3):
        for prefix in itertools.product(pieces, repeat=size):
            for command in commands:
                text = canonical("".join(prefix) + command)
                assert not text.strip().startswith("/"), (prefix, command, text)
                checked += 1
    assert checked > 5000


def test_a_canonical_text_is_carried_as_it_is_and_a_changed_one_is_not() -> None:
    """Made canonical once: given its own result, ``canonical`` returns that very
    object; anything derived from it is plain text and is worked out again."""
    once = canonical("包谷遭虫咬了咋个整")
    assert isinstance(once, Canonical)
    assert canonical(once) is once
    assert normalize(once) == normalize("包谷遭虫咬了咋个整")
    derived = once.replace("玉米", "包谷")
    assert not isinstance(derived, Canonical)
    assert canonical(derived) == once
    assert canonical("") == "" and isinstance(canonical(""), Canonical)
