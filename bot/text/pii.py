"""What counts as personal data in a Chinese message; ``redact`` decides what replaces it.

Numbers are judged by their digits alone, separators removed and every digit
form read as ASCII (``ascii_digits``: full-width １, circled ①, Chinese 一 幺 〇
and 大写 壹 贰):

- ID-card numbers: 18 characters with the GB 11643-1999 check character, or
  the 15 digits of an old card, and in both a birth date that can be real;
- bank cards: 16–19 digits that pass the Luhn check;
- mobile numbers (1[3-9] and 9 more digits, maybe after 86 or 0086) and
  landlines with their area code (010, 02x or 0xxx, then 7–8 digits);
- with a word that says so in front (``redact`` finds the word): local
  landlines of 7–8 digits without area code (电话 53221234, not a date) and
  QQ numbers (5–11 digits, no leading 0).

Public service numbers (``data/service_numbers.tsv``: 110, 96110, 12316…) are
never personal and must survive every rule.

Personal names (``person_name_at``, ``person_name_before``): a surname of
``data/surnames.tsv`` (common 百家姓 surnames, single and compound, without
those that are mostly function words: 和 时 来 都…) and one or two more Han
characters, none a particle, verb or unit that ends a name (的 是 住 电 号…),
not a form of address (王阿姨, 张师傅, 李老师 are kept) and, unless the
context leaves no doubt (姓名：…), not a word of jieba's dictionary common
enough to be something else (孙子, 马上; after 我是 not even at its start:
江苏人, 高中生; ``WordCheck``).
Where a name may stand (after 联系人/我叫…, next to a phone number or
before 住在) is ``redact``'s business.

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
某某村, 人民路, 幸福小区) are kept for the people who read the reports. Only
the clauses (between ，。！？…) that may hold a numbered part are segmented.
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
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.matcher import Matcher
    from spacy.tokens import Doc, Span

DATA = Path(__file__).parent / "data"
SERVICE_NUMBERS_FILE = DATA / "service_numbers.tsv"
ADDRESS_TERMS_FILE = DATA / "address_terms.tsv"
SURNAMES_FILE = DATA / "surnames.tsv"


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
# Area codes are 010, 02x and 0[3-9]xx (so 0.19045.2965, a Windows build, is none).
_LANDLINE = re.compile(r"0(?:10|2\d|[3-9]\d\d)\d{7,8}")
# A local number has 7 or 8 digits and starts with 2–8 (1 is for services, 9 for 95xxx).
_LOCAL_LANDLINE = re.compile(r"[2-8]\d{6,7}")
_QQ = re.compile(r"[1-9]\d{4,10}")

# ---------------------------------------------------------------- digit forms

#: Chinese numerals that stand for one digit each in a number read out or written
#: in words (一三八…, 幺 for 1, 大写 壹贰叁). 十 百 千 两 never do.
CHINESE_DIGITS = "零〇一二三四五六七八九幺壹贰叁肆伍陆柒捌玖"
_CHINESE_DIGIT_VALUES = dict(zip(CHINESE_DIGITS, "001234567891123456789", strict=True))
# One character, one digit: circled, parenthesised, with a full stop, and the
# circled ideographs (㊀ is 一).
_ENCLOSED_DIGITS = {
    **{chr(0x2460 + i): str(i + 1) for i in range(9)},  # ①
    **{chr(0x2474 + i): str(i + 1) for i in range(9)},  # ⑴
    **{chr(0x2488 + i): str(i + 1) for i in range(9)},  # ⒈
    **{chr(0x24F5 + i): str(i + 1) for i in range(9)},  # ⓵
    **{chr(0x2776 + i): str(i + 1) for i in range(9)},  # ❶
    **{chr(0x2780 + i): str(i + 1) for i in range(9)},  # ➀
    **{chr(0x278A + i): str(i + 1) for i in range(9)},  # ➊
    **{chr(0x3280 + i): str(i + 1) for i in range(9)},  # ㊀
    "⓪": "0",
    "⓿": "0",
    "🄋": "0",
    "🄌": "0",
}
# Every digit form, Chinese ones included, as ASCII (for ascii_digits).
_DIGIT_FORMS = str.maketrans(
    {**_ENCLOSED_DIGITS, **_CHINESE_DIGIT_VALUES, **{chr(0xFF10 + i): str(i) for i in range(10)}}
)


# Chinese punctuation every rule reads in both forms stays as it is (it is in
# nearly every message, and folding costs a little per character).
_UNFOLDED = "，！？：；（）"


def _fold_table() -> dict[str, str]:
    """Full-width ASCII as ASCII, odd spaces as a space, enclosed digits as digits."""
    table = {chr(0xFF01 + i): chr(0x21 + i) for i in range(94)}  # ！ … ～
    table = {c: a for c, a in table.items() if c not in _UNFOLDED}
    table.update(dict.fromkeys("\u3000\u00a0\u2002\u2003\u2009\u202f", " "))
    table.update(_ENCLOSED_DIGITS)
    return table


#: Characters ``fold`` replaces, and by what.
FOLD = _fold_table()
_FOLDABLE = re.compile(f"[{re.escape(''.join(FOLD))}]")


def fold(text: str) -> str:
    """``text`` with full-width forms (１３８, ＠, ．), odd spaces and enclosed digits
    (①, ❶, ⑴…) as ASCII, one character for one: personal data is searched for in
    this form, and positions stay the same. ，！？：；（） are left as they are.
    """
    if not _FOLDABLE.search(text):
        return text
    return _FOLDABLE.sub(lambda m: FOLD[m.group()], text)


@functools.lru_cache(maxsize=1)
def service_numbers() -> frozenset[str]:
    """Hotlines and short service numbers (110, 96110, 95588…), never redacted."""
    with SERVICE_NUMBERS_FILE.open(encoding="utf-8") as fh:
        return frozenset(row["number"] for row in csv.DictReader(fh, delimiter="\t"))


def ascii_digits(text: str) -> str:
    """Digits of any form as ASCII (１３８, ①③⑧, 一三八, 幺叁捌 → 138).

    Other characters are unchanged, X upper-cased.
    """
    if text.isascii():
        return text.upper()
    text = text.translate(_DIGIT_FORMS)
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


def is_local_landline(number: str) -> bool:
    """7–8 digits that can be a landline without its area code (53221234; not 20240305).

    Only personal where a word says it is a phone number (电话 53221234).
    """
    if not (_is_digits(number) and _LOCAL_LANDLINE.fullmatch(number)):
        return False
    return not (len(number) == 8 and number[:2] in ("19", "20") and _is_date(number))


def _is_date(yyyymmdd: str) -> bool:
    try:
        datetime.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return True


def is_qq_number(number: str) -> bool:
    """5–11 digits without a leading 0, not a service number; personal after "QQ"."""
    return (
        _is_digits(number) and _QQ.fullmatch(number) is not None and number not in service_numbers()
    )


# ---------------------------------------------------------------- names

# After a surname these make a form of address, not a name: 王阿姨, 张师傅,
# 李老师, 刘总 are how people speak of others and are kept.
NAME_TITLES = (
    "阿姨 大爷 大妈 大娘 大叔 大伯 大哥 大姐 大嫂 大婶 大夫 奶奶 爷爷 婆婆 伯伯 叔叔 "
    "阿婆 阿公 阿伯 老师 老板 老汉 老头 老太 老人 师傅 医生 护士 书记 主任 村长 镇长 "
    "乡长 县长 局长 科长 站长 队长 组长 社长 所长 院长 厂长 校长 部长 处长 经理 主席 "
    "会计 律师 警官 同志 同学 专家 教授 博士 先生 女士 小姐 太太 夫人 家人 家里 家的 "
    "姓的 某某 总 工 某 氏 姐 哥 叔 婶 伯 姨 舅 嫂 妹 弟 爷 奶 婆 公 家 老"
).split()
_TITLES = frozenset(NAME_TITLES)
# Characters that end a name (particles, verbs, the words around phone numbers):
# 张三的, 李建国电话, 张伟住在. None of them begins a given name either.
_ENDS_NAME = frozenset(
    "的了是在说和跟与及住电手打给让叫也都就还被把对向从去来到要会没不很又才再讲告问号们等"
    "这那哪啥么呢吗吧啊呀哦嘛某先女收寄微身银联请帮找拨加用看听知已着家"
)
# These may begin a given name (王有才, 李发, 王老五) but end a one-character one:
# 张三有事, 李四回来, 王五今年.
_ENDS_NAME_AFTER_ONE = _ENDS_NAME | frozenset(
    "有回过今年岁发村镇乡县区市省路街地址码买卖经得将曾老"
)
# A candidate that is a word of jieba's dictionary this common is that word; one
# at least RARE_WORD_FREQUENCY is too, unless the dictionary tags it as a
# person's name (王平 and 李娜 are names, 房东 and 农行 are not).
COMMON_WORD_FREQUENCY = 500
RARE_WORD_FREQUENCY = 20
NAME_TAGS = frozenset({"nr", "nrfg", "nrt"})


@functools.lru_cache(maxsize=1)
def surnames() -> tuple[frozenset[str], frozenset[str]]:
    """The single-character and compound surnames of ``data/surnames.tsv``."""
    with SURNAMES_FILE.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    single = frozenset(r["surname"] for r in rows if r["kind"] == "single")
    compound = frozenset(r["surname"] for r in rows if r["kind"] == "compound")
    return single, compound


def _is_han(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff"


def _common_word(word: str) -> bool:
    from bot.text.segment import dictionary_frequency

    frequency = dictionary_frequency(word)
    if frequency >= COMMON_WORD_FREQUENCY:
        return True
    return frequency >= RARE_WORD_FREQUENCY and word not in _dictionary_names()


@functools.lru_cache(maxsize=1)
def _dictionary_names() -> frozenset[str]:
    """The words of jieba's dictionary tagged as names that begin with one of our surnames."""
    from bot.text.segment import tokenizer

    single, compound = surnames()
    names = set()
    with tokenizer().get_dict_file() as fh:  # about 0.3 s, once
        for raw in fh:
            parts = raw.decode("utf-8").split()
            if len(parts) != 3 or parts[2] not in NAME_TAGS or not 2 <= len(parts[0]) <= 4:
                continue
            if parts[0][0] in single or parts[0][:2] in compound:
                names.add(parts[0])
    return frozenset(names)


def _surname_length(text: str, start: int) -> int:
    """Length of the surname at ``start`` (2 for 欧阳, 1 for 王), 0 if none."""
    single, compound = surnames()
    if text[start : start + 2] in compound:
        return 2
    return 1 if text[start : start + 1] in single else 0


def _name_shape(name: str, surname: int) -> bool:
    """Whether ``name`` (surname ``surname`` characters long) may be a name, by its characters."""
    given = name[surname:]
    if not (1 <= len(given) <= 2 and all(_is_han(c) for c in given)):
        return False
    if given[0] in _ENDS_NAME or (len(given) == 2 and given[1] in _ENDS_NAME_AFTER_ONE):
        return False
    return given[:1] not in _TITLES and given[:2] not in _TITLES


class WordCheck(Enum):
    """How far a candidate name is checked against jieba's dictionary of common words."""

    NONE = 0  # after 姓名：, 联系人: whatever comes is a name
    WHOLE = 1  # next to a phone number, after 我叫: not a word itself (孙子, 马上)
    PREFIX = 2  # after 我是: nor after its first given character (江苏人, 高中生)


def _is_word(name: str, surname: int, check: WordCheck) -> bool:
    if check is WordCheck.NONE:
        return False
    if _common_word(name):
        return True
    # 黄金花 is read 黄金 + 花 by anyone who does not know her.
    prefix = check is WordCheck.PREFIX and len(name) - surname == 2
    return prefix and _common_word(name[: surname + 1])


def person_name_at(text: str, start: int, check: WordCheck) -> int | None:
    """End of the personal name that starts at ``start`` (王秀英住在 → after 英), if one does.

    The given name is two characters unless the second ends names (张伟住在 →
    张伟) or makes a word with the character after it, which itself begins no
    word (张伟明天来 → 张伟; but 王静听说 → 王静); a common word is no name
    (see ``WordCheck``).
    """
    surname = _surname_length(text, start)
    if not surname:
        return None
    for length in (2, 1):
        end = start + surname + length
        if end > len(text) or not _name_shape(text[start:end], surname):
            continue
        if _splits_word(text, end):
            continue
        return None if _is_word(text[start:end], surname, check) else end
    return None


def _splits_word(text: str, end: int) -> bool:
    """Whether a name ending at ``end`` would cut a word in two (张伟明|天来)."""
    if not _is_han(text[end : end + 1]) or not _common_word(text[end - 1 : end + 1]):
        return False
    return not (_is_han(text[end + 1 : end + 2]) and _common_word(text[end : end + 2]))


def person_name_before(text: str, end: int, check: WordCheck) -> int | None:
    """Start of the personal name that ends at ``end`` (找李建国 → at 李), if one does.

    The longest name wins; none if it is a common word (see ``WordCheck``), and
    a surname that is the end of a common word (中国|电信) is not one.
    """
    for length in (4, 3, 2):
        start = end - length
        if start < 0:
            continue
        surname = _surname_length(text, start)
        if not surname or not _name_shape(text[start:end], surname):
            continue
        if _is_word(text[start:end], surname, check):
            return None
        before = text[start - 1 : start] if start else ""
        if before and _is_han(before) and _common_word(before + text[start : start + surname]):
            continue
        return start
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
        """Read the terms table (tab-separated: term, kind, example)."""
        with path.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        places = tuple(r["term"] for r in rows if r["kind"] == "place")
        kinds = {r["term"]: r["kind"] for r in rows if r["kind"] != "place"}
        examples = tuple((r["term"], r["kind"], r["example"]) for r in rows)
        return cls(places, kinds, examples)


@functools.lru_cache(maxsize=1)
def address_terms() -> AddressTerms:
    """The address terms of ``ADDRESS_TERMS_FILE``, read once."""
    return AddressTerms.load()


@functools.lru_cache(maxsize=1)
def _numbered_hint() -> re.Pattern[str]:
    """A cheap test that a text may hold a numbered address part (a superset of the rules)."""
    unit_chars = "".join(sorted({t[0] for t in address_terms().kinds}))
    n = rf"[\d{_CN_DIGITS}A-Za-z]"
    # Around a dash a letter counts alone (A-3, 人民路A-B), not in a word
    # (icbc-verify in a link is no address, and segmenting it costs).
    m = rf"(?:[\d{_CN_DIGITS}]|(?<![A-Za-z])[A-Za-z](?![A-Za-z]))"
    return re.compile(rf"{n}\s*[{unit_chars}]|{m}\s*[{_DASHES}]\s*{m}")


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


def _import_spacy() -> ModuleType:
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
    hint = _numbered_hint()
    if hint.search(text):  # segmenting costs far more than this test
        rules = _address_rules()
        for first, last in _hinted_clauses(text, hint):
            clause = text[first:last]
            doc = rules.nlp.make_doc(clause)
            for stretch in _stretches(rules, doc):
                for _, start, end in rules.matcher(stretch):
                    found = _detailed_spans(rules, clause, stretch[start:end])
                    spans += [(first + a, first + b) for a, b in found]
    return _merge(spans)


# jieba cuts text into blocks at these (they are not in its word pattern), and
# no address word holds one: the clauses between them are segmented alone.
_CLAUSE_BREAK = re.compile(r"[，。！？；：、,!?;:]")


def _hinted_clauses(text: str, hint: re.Pattern[str]) -> list[tuple[int, int]]:
    """``(start, end)`` of the runs of clauses that may hold a numbered address part."""
    clauses: list[tuple[int, int]] = []
    start = 0
    for m in _CLAUSE_BREAK.finditer(text):
        clauses.append((start, m.start()))
        start = m.end()
    clauses.append((start, len(text)))
    runs: list[tuple[int, int]] = []
    for first, last in clauses:
        if not hint.search(text, first, last):
            continue
        if runs and text[runs[-1][1] : first].strip() in ("", *"，。！？；：、,!?;:"):
            runs[-1] = (runs[-1][0], last)  # the next clause: one segmentation for both
        else:
            runs.append((first, last))
    return runs


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
