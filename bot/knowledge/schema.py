"""The schema of one knowledge entry (``knowledge/<topic>/<id>.yml``)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, Field, root_validator, validator

TOPICS = ("smartphone", "health", "fraud", "farming", "rumor")
VERDICTS = ("谣言", "部分属实", "属实", "尚无定论")
MAX_ANSWER_CHARS = 300
MAX_STEP_CHARS = 60
# An answer reads in one screen: at most this many numbered steps (issue 15).
MAX_STEPS = 5
MAX_ASKED_CHARS = 200
# Markers of spoken, Chongqing/Sichuan-flavoured Chinese: at least one
# phrasing per entry must use one, so search is tested against how people talk.
_COLLOQUIAL = (
    "咋",
    "啥",
    "莫得",
    "没得",
    "晓得",
    "弄",
    "整",
    "要得",
    "嘛",
    "噻",
    "啷个",
    "好多",
    "好久",
    "哪个",
    "喊",
    "遭",
    "着",
    "老汉",
    "娃儿",
    "听说",
    "哦",
    "得行",
    "巴适",
    "脑壳",
    "屋头",
    "搞",
    "哈",
    "不得",
    "安逸",
    "恼火",
    "嗦",
    "哇",
    "海椒",
    "洋芋",
    "包谷",
    "打摆子",
    "划得来",
    "猪儿",
    "鸡儿",
    "瓶瓶",
)
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Source(BaseModel):
    organisation: str = Field(..., min_length=2)
    title: str = Field(..., min_length=2)
    url: str | None = None

    @validator("url")
    def _https(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("https://", "http://")):
            raise ValueError("url must be http(s)")
        return v


class Entry(BaseModel):
    id: str
    # Ids of entries merged into this one: looking one up finds this entry, so
    # old links, menu choices and feedback rows still lead somewhere.
    aliases: list[str] = Field(default_factory=list)
    topic: Literal["smartphone", "health", "fraud", "farming", "rumor"]
    title: str = Field(..., min_length=2, max_length=60)
    questions: list[str] = Field(..., min_items=3)
    # Messages residents sent that curators filed under this entry, as typed or as
    # the voice transcript heard them (misheard words and dialect kept): search
    # matches new messages against them, nothing shows them, and nothing learns its
    # vocabulary from them.
    asked: list[str] = Field(default_factory=list)
    answer: str = Field(..., min_length=5, max_length=MAX_ANSWER_CHARS)
    steps: list[str] = Field(default_factory=list)
    audience: list[Literal["senior", "farmer", "all"]] = Field(..., min_items=1)
    source: Source
    reviewed_on: dt.date
    # Who checked the entry against its source on ``reviewed_on`` (a person or a
    # review team); absent where nobody recorded it.
    reviewed_by: str | None = Field(None, min_length=2, max_length=60)
    tags: list[str] = Field(default_factory=list)
    claim: str | None = None
    verdict: Literal["谣言", "部分属实", "属实", "尚无定论"] | None = None
    explanation: str | None = Field(None, max_length=MAX_ANSWER_CHARS)

    class Config:
        extra = "forbid"
        anystr_strip_whitespace = True

    @validator("id")
    def _id_shape(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("id must be kebab-case ASCII")
        return v

    @validator("aliases")
    def _alias_shape(cls, v: list[str], values: dict[str, Any]) -> list[str]:
        for alias in v:
            if not _ID.match(alias):
                raise ValueError(f"alias {alias!r} must be kebab-case ASCII")
        if len(set(v)) != len(v):
            raise ValueError("aliases must differ")
        if values.get("id") in v:
            raise ValueError("an entry cannot be its own alias")
        return v

    @validator("steps")
    def _few_steps(cls, v: list[str]) -> list[str]:
        if len(v) > MAX_STEPS:
            raise ValueError(f"at most {MAX_STEPS} steps (merge or cut the rest)")
        return v

    @validator("steps", each_item=True)
    def _short_steps(cls, v: str) -> str:
        if not v or len(v) > MAX_STEP_CHARS:
            raise ValueError(f"each step must be 1-{MAX_STEP_CHARS} characters")
        return v

    @validator("questions")
    def _one_colloquial(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("questions must differ")
        if not any(any(w in q for w in _COLLOQUIAL) for q in v):
            raise ValueError("at least one question must be colloquial")
        return v

    @validator("asked")
    def _asked_shape(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("asked messages must differ")
        for text in v:
            if not 2 <= len(text) <= MAX_ASKED_CHARS:
                raise ValueError(f"each asked message must be 2-{MAX_ASKED_CHARS} characters")
        return v

    @root_validator(skip_on_failure=True)
    def _debunk_fields(cls, values: dict[str, Any]) -> dict[str, Any]:
        is_debunk = values.get("topic") == "rumor"
        fields = ("claim", "verdict", "explanation")
        present = [f for f in fields if values.get(f)]
        if is_debunk and len(present) != 3:
            raise ValueError("rumor entries need claim, verdict and explanation")
        if not is_debunk and present:
            raise ValueError(f"only rumor entries carry {', '.join(present)}")
        return values

    def search_texts(self) -> list[str]:
        """Texts a query is matched against: title, phrasings, and the claim."""
        texts = [self.title, *self.questions]
        if self.claim:
            texts.append(self.claim)
        return texts

    def matched_texts(self) -> list[str]:
        """Every text a query is compared with one by one: ``search_texts`` and the
        messages residents asked (``asked``)."""
        return [*self.search_texts(), *self.asked]
