"""What counts as personal data in a Chinese message; ``redact`` decides what replaces it.

Numbers are judged by their digits alone, separators removed:

- ID-card numbers: 18 characters with the GB 11643-1999 check character, or
  the 15 digits of an old card, and in both a birth date that can be real;
- bank cards: 16–19 digits that pass the Luhn check;
- mobile numbers (1[3-9] and 9 more digits, maybe after 86 or 0086) and
  landlines with their area code (0 and 9–11 more digits).

Public service numbers (``data/service_numbers.tsv``: 110, 96110, 12316…) are
never personal and must survive every rule.

Detailed addresses are found with spaCy rule matching over jieba words, because
whether "3号" is a house number depends on the word before it (人民路3号, not
3月5号 or 知道3号) and whether "3栋" is a building on the word after it
(3栋2单元, not 3栋房子). ``data/address_terms.tsv`` lists the words, by kind:

- ``place``: a word ending in it makes the numbered part after it detailed
  (人民路12号, 石桥村3组, 幸福小区3栋);
- ``house`` (号): alone mostly a date (3月5号), so it needs a place before it;
- ``unit``, ``building``: 组 社 室… and 栋 单元 楼…; two numbered parts in a
  row are an address (3组18号, 3栋2单元), and a room number may follow a
  building part (2单元501);
- ``strong``: an address on its own (5号楼, 3号院).

Only the numbered part is personal: the places themselves (重庆市梁平区某某镇
某某村, 人民路, 幸福小区) are kept for the people who read the reports.
"""

from __future__ import annotations

import csv
import datetime
import functools
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.matcher import Matcher
    from spacy.tokens import Doc, Span

DATA = Path(__file__).parent / "data"
SERVICE_NUMBERS_FILE = DATA / "service_numbers.tsv"
ADDRESS_TERMS_FILE = DATA / "address_terms.tsv"


class NumberKind(Enum):
    """The personal numbers told apart; anything else long is just "a number"."""

    ID_CARD = "id_card"
    BANK_CARD = "bank_card"
    MOBILE = "mobile"
    LANDLINE = "landline"


# GB 11643-1999: weights of the first 17 digits, and the check character for
# each remainder of their weighted sum modulo 11.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARACTERS = "10X98765432"
OLDEST_BIRTH_YEAR = 1900  # 15 digits with a date before this are something else

_MOBILE = re.compile(r"(?:0086|86)?1[3-9]\d{9}")
_LANDLINE = re.compile(r"0[1-9]\d{8,10}")


@functools.lru_cache(maxsize=1)
def service_numbers() -> frozenset[str]:
    """Hotlines and short service numbers (110, 96110, 95588…), never redacted."""
    with SERVICE_NUMBERS_FILE.open(encoding="utf-8") as fh:
        return frozenset(row["number"] for row in csv.DictReader(fh, delimiter="\t"))


def ascii_digits(text: str) -> str:
    """Digits of any script as ASCII (１３８ → 138); other characters unchanged, X upper-cased."""
    if text.isascii():
        return text.upper()
    return "".join(
        str(unicodedata.decimal(c)) if unicodedata.decimal(c, None) is not None else c.upper()
        for c in text
    )


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # "²".isdigit() is true, int("²") fails


def _birth_date(yyyymmdd: str) -> datetime.date | None:
    try:
        born = datetime.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None
    if born.year < OLDEST_BIRTH_YEAR or born > datetime.date.today():
        return None
    return born


def is_id_card_number(number: str) -> bool:
    """An 18-character ID with its check character right, or a 15-digit old ID; a real birth date.

    Args:
        number: ASCII digits (the 18th character may be X), no separators.
    """
    if len(number) == 18 and _is_digits(number[:17]):
        total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
        if ID_CHECK_CHARACTERS[total % 11] != number[17].upper():
            return False
        return _birth_date(number[6:14]) is not None
    if len(number) == 15 and _is_digits(number):
        return _birth_date("19" + number[6:12]) is not None
    return False


def passes_luhn(number: str) -> bool:
    """The Luhn check of bank cards (ASCII digits only)."""
    total = 0
    for position, c in enumerate(reversed(number)):
        digit = ord(c) - 48
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def is_bank_card_number(number: str) -> bool:
    return 16 <= len(number) <= 19 and _is_digits(number) and passes_luhn(number)


def classify_number(number: str) -> NumberKind | None:
    """What kind of personal number ``number`` is, if any.

    Args:
        number: ASCII digits (a final X allowed), separators already removed.
    """
    if is_id_card_number(number):
        return NumberKind.ID_CARD
    if not _is_digits(number):
        return None
    if _MOBILE.fullmatch(number):
        return NumberKind.MOBILE
    if is_bank_card_number(number):
        return NumberKind.BANK_CARD
    if _LANDLINE.fullmatch(number):
        return NumberKind.LANDLINE
    return None


# ---------------------------------------------------------------- addresses

_CN_DIGITS = "零〇一二三四五六七八九十百千两幺"
# A number in an address: digits, Chinese numerals, or a building letter (A座, B栋).
_NUMBER = rf"(?:\d+|[{_CN_DIGITS}]+|[A-Za-z])"
_DASHES = "-－—"
_LINKS = ("附",)  # 12号附3号
# The Matcher is run on stretches of words that could be part of an address,
# at most this many words long: its work grows with the square of a stretch
# (64 KiB of 3栋3栋3栋… as one stretch exhausts memory). Real ones are short.
_MAX_STRETCH = 48
_ROOM = re.compile(r"\d{3,4}")  # 501, 1203
# Building-unit-room in figures: 3-2-501 (not 400-600-8888, not 2020-2024).
_BUILDING_UNIT_ROOM = re.compile(rf"\d{{1,2}}[{_DASHES}]\d{{1,2}}[{_DASHES}]\d{{3,4}}")

# 门牌号18 / 门牌号是十八号: the word says what follows, no spaCy needed.
_DOORPLATE = re.compile(
    rf"门牌(?:号码|号)?\s*(?:是|为|[:：])?\s*"
    rf"([\d{_CN_DIGITS}]+(?:[{_DASHES}][\d{_CN_DIGITS}]+)*号?(?:附[\d{_CN_DIGITS}]+号?)?)"
)


def _alternation(terms: Iterable[str]) -> str:
    # Longest first, so 号楼 wins over 号 and 单元 is one unit.
    return "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))


@dataclass(frozen=True)
class AddressTerms:
    """The rows of ``data/address_terms.tsv``: place words, and unit terms by kind."""

    places: tuple[str, ...]
    kinds: dict[str, str]  # unit term → house | unit | building | strong
    examples: tuple[tuple[str, str, str], ...]  # (term, kind, an address it redacts)

    @classmethod
    def load(cls, path: Path = ADDRESS_TERMS_FILE) -> AddressTerms:
        with path.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        places = tuple(r["term"] for r in rows if r["kind"] == "place")
        kinds = {r["term"]: r["kind"] for r in rows if r["kind"] != "place"}
        examples = tuple((r["term"], r["kind"], r["example"]) for r in rows)
        return cls(places, kinds, examples)


@functools.lru_cache(maxsize=1)
def address_terms() -> AddressTerms:
    return AddressTerms.load()


@functools.lru_cache(maxsize=1)
def _numbered_hint() -> re.Pattern[str]:
    """A cheap test that a text may hold a numbered address part (a superset of the rules)."""
    unit_chars = "".join(sorted({t[0] for t in address_terms().kinds}))
    n = rf"[\d{_CN_DIGITS}A-Za-z]"
    return re.compile(rf"{n}\s*[{unit_chars}]|{n}\s*[{_DASHES}]\s*{n}")


@dataclass(frozen=True)
class _AddressRules:
    nlp: Language
    matcher: Matcher
    kinds: dict[str, str]
    word: re.Pattern[str]  # a word that could be in a match (a superset)
    first_word: re.Pattern[str]  # the first numbered word of a match
    place: re.Pattern[str]  # a word that ends in a place term
    part: re.Pattern[str]  # one numbered part: 3栋, 25-3号, 十八号, 501
    unit: re.Pattern[str]  # the unit terms within a part


def _import_spacy():
    """spaCy, without the TensorFlow that thinc imports when it finds it installed.

    Rasa brings TensorFlow; loading it costs ~2 s and ~360 MB in a process that only
    needs spaCy's tokenizer and Matcher (the action server). Where TensorFlow is
    already loaded (the Rasa process) nothing changes.
    """
    if "spacy" in sys.modules or "tensorflow" in sys.modules:
        import spacy

        return spacy
    sys.modules["tensorflow"] = None  # type: ignore[assignment]  # makes "import tensorflow" fail
    try:
        import spacy
    finally:
        del sys.modules["tensorflow"]
    return spacy


@functools.lru_cache(maxsize=1)
def _address_rules() -> _AddressRules:
    """spaCy's blank Chinese pipeline (jieba words) and the address Matcher, built once."""
    spacy = _import_spacy()
    from spacy.matcher import Matcher

    terms = address_terms()
    units = _alternation(terms.kinds)
    places = _alternation(terms.places)
    links = _alternation((*_DASHES, *_LINKS))
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    matcher = Matcher(nlp.vocab)
    # [a place word], then a word that starts with a number, then words made only
    # of numbers, unit terms and links. jieba writes 3栋 as 3|栋 but 十八号 and
    # 二组 as one word, so one word may hold both; 房子 or 月 end the run.
    matcher.add(
        "NUMBERED_RUN",
        [
            [
                {"ORTH": {"REGEX": rf"(?:{places})$"}, "OP": "?"},
                {"IS_SPACE": True, "OP": "?"},
                {"ORTH": {"REGEX": rf"^{_NUMBER}(?:{_NUMBER}|{units}|{links})*$"}},
                {"ORTH": {"REGEX": rf"^(?:{_NUMBER}|{units}|{links})+$"}, "OP": "*"},
                # jieba may glue the last unit to the next word (501|室里, 3|栋村).
                {"ORTH": {"REGEX": rf"^(?:{units})"}, "OP": "?"},
            ]
        ],
        greedy="LONGEST",
    )
    return _AddressRules(
        nlp=nlp,
        matcher=matcher,
        kinds=terms.kinds,
        word=re.compile(rf"(?:{places})$|^(?:{_NUMBER}|{units}|{links})"),
        first_word=re.compile(rf"^{_NUMBER}(?:{_NUMBER}|{units}|{links})*$"),
        place=re.compile(rf"(?:{places})$"),
        part=re.compile(rf"(?P<number>{_NUMBER}(?:[{_DASHES}]{_NUMBER})*)(?P<units>(?:{units})*)"),
        unit=re.compile(units),
    )


def _detailed_part(rules: _AddressRules, run: str, after_place: bool) -> tuple[int, int] | None:
    """The detailed stretch of a run of numbered words, if the run is an address.

    Args:
        rules: the compiled address rules.
        run: the words after the place word: 3栋2单元501, 12号附3号, 3-2-501.
        after_place: whether a place word (路, 村, 小区…) stands right before the run.
    """
    kept: list[tuple[int, int]] = []
    specific = strong = compound = False
    previous_end, previous_kind = -1, ""
    for m in rules.part.finditer(run):
        number = m.group("number")
        kinds = [rules.kinds[u] for u in rules.unit.findall(m.group("units"))]
        dashes = sum(number.count(d) for d in _DASHES)
        touching = previous_end >= 0 and not run[previous_end : m.start()].strip()
        room = (
            touching
            and previous_kind in ("building", "strong")
            and _ROOM.fullmatch(number) is not None
        )
        previous_end, previous_kind = m.end(), (kinds[-1] if kinds else "")
        if not (kinds or room or dashes):
            continue  # a bare number: 阳光100小区, 住院部3楼5床
        kept.append(m.span())
        specific |= any(k != "house" for k in kinds)
        strong |= "strong" in kinds
        compound |= _BUILDING_UNIT_ROOM.fullmatch(number) is not None
    if not kept:
        return None
    # 3号5号 and 3-5号 are dates; 3栋 and 3组 alone may be counts (3栋房子, 分成3组).
    if after_place or strong or compound or (len(kept) >= 2 and specific):
        return kept[0][0], kept[-1][1]
    return None


def detailed_address_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the detailed parts of addresses in ``text``, sorted, not overlapping.

    The places before them stay outside the spans: in 石桥村3组18号 only
    3组18号 is detailed, in 门牌号是18号 only 18号.
    """
    spans = [m.span(1) for m in _DOORPLATE.finditer(text)]
    if _numbered_hint().search(text):  # segmenting costs far more than this test
        rules = _address_rules()
        doc = rules.nlp.make_doc(text)
        for stretch in _stretches(rules, doc):
            for _, start, end in rules.matcher(stretch):
                spans += _detailed_spans(rules, text, stretch[start:end])
    return _merge(spans)


def _stretches(rules: _AddressRules, doc: Doc) -> Iterator[Span]:
    """Runs of words that could hold a match: at least one numbered word, no other words."""
    start, numbered = -1, False
    for i, token in enumerate(doc):
        if start >= 0 and i - start >= _MAX_STRETCH:
            if numbered:
                yield doc[start:i]
            start = -1
        if token.is_space or rules.word.search(token.text):
            if start < 0:
                start, numbered = i, False
            numbered = numbered or rules.first_word.match(token.text) is not None
        else:
            if start >= 0 and numbered:
                yield doc[start:i]
            start = -1
    if start >= 0 and numbered:
        yield doc[start:]


def _detailed_spans(rules: _AddressRules, text: str, span: Span) -> list[tuple[int, int]]:
    after_place = rules.place.search(span[0].text) is not None
    first = next(t for t in span if not t.is_space and not rules.place.search(t.text))
    found = _detailed_part(rules, text[first.idx : span.end_char], after_place)
    if found is None:
        return []
    return [(first.idx + found[0], first.idx + found[1])]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
