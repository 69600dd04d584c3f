"""The service catalogue and the district's place list (``bot/orders/data/*.yml``).

Residents name a service or a town in their own words, by voice as often as
by typing: a town matches by its name, its short name (礼让 for 礼让镇), or
by sound (fuzzy pinyin, so 云农 or 荫平/印平 still find their town, see
``bot.text.pinyin``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.text.pinyin import fuzzy_pinyin

DATA = Path(__file__).parent / "data"
SUFFIXES = ("街道", "镇", "乡")


@dataclass(frozen=True)
class Service:
    key: str
    label: str
    home_visit: bool
    words: tuple[str, ...]
    contact_hours: int
    minutes: int


@dataclass(frozen=True)
class Place:
    name: str
    kind: str
    aliases: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        for suffix in SUFFIXES:
            if self.name.endswith(suffix) and len(self.name) > len(suffix) + 1:
                return self.name[: -len(suffix)]
        return self.name


@functools.lru_cache(maxsize=1)
def services() -> tuple[Service, ...]:
    raw = yaml.safe_load((DATA / "services.yml").read_text(encoding="utf-8"))
    return tuple(
        Service(
            key=str(s["key"]),
            label=str(s["label"]),
            home_visit=bool(s["home_visit"]),
            words=tuple(str(w) for w in s.get("words") or ()),
            contact_hours=int(s["contact_hours"]),
            minutes=int(s["minutes"]),
        )
        for s in raw["services"]
    )


@functools.lru_cache(maxsize=1)
def places() -> tuple[Place, ...]:
    raw = yaml.safe_load((DATA / "places.yml").read_text(encoding="utf-8"))
    return tuple(
        Place(str(p["name"]), str(p["kind"]), tuple(str(a) for a in p.get("aliases") or ()))
        for p in raw["places"]
    )


def district() -> str:
    """The district's name, from ``places.yml``."""
    return str(yaml.safe_load((DATA / "places.yml").read_text(encoding="utf-8"))["district"])


def service(key: str) -> Service | None:
    return next((s for s in services() if s.key == key), None)


def service_label(key: str) -> str:
    found = service(key)
    return found.label if found else key


def place(name: str) -> Place | None:
    return next((p for p in places() if p.name == name), None)


def match_service(text: str) -> Service | None:
    """The service a reply names: a number of the catalogue (1-based), its label, or
    the longest of its words in the text; ``None`` if nothing fits."""
    from bot.text.numerals import parse_option_number

    number = parse_option_number(text)
    if number is not None:
        return services()[number - 1] if 1 <= number <= len(services()) else None
    best: tuple[int, Service] | None = None
    for candidate in services():
        for word in (candidate.label, *candidate.words):
            if word and word in text and (best is None or len(word) > best[0]):
                best = (len(word), candidate)
    return best[1] if best else None


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


@functools.lru_cache(maxsize=1)
def _sounds() -> tuple[tuple[Place, tuple[tuple[str, ...], ...]], ...]:
    return tuple(
        (p, tuple(tuple(fuzzy_pinyin(name)) for name in (p.short, *p.aliases))) for p in places()
    )


def match_town(text: str) -> list[Place]:
    """Places of the district a reply names: by characters first (full name, short
    name or alias), else by sound. Several when the reply is ambiguous, none when it
    names no place we know."""
    text = (text or "").strip()
    if not text:
        return []
    by_chars = [p for p in places() if any(w in text for w in (p.name, p.short, *p.aliases) if w)]
    if by_chars:
        longest = max(len(p.short) for p in by_chars)
        return [p for p in by_chars if len(p.short) == longest]
    heard = fuzzy_pinyin(text)
    return [p for p, keys in _sounds() if any(_contains(heard, list(k)) for k in keys)]


def services_menu() -> str:
    return "\n".join(f"{i} {s.label}" for i, s in enumerate(services(), start=1))
