"""Named things of one kind that an answer about one cannot stand in for.

"支付宝怎么绑银行卡" shares most of its words with the entry on binding a card
in 微信; "番茄叶子上长黑斑" with the entry on a pepper disease. Search rightly
finds them close, but the answer is about a different app or crop: a reader
who asked about 支付宝 and is told where 微信 keeps its cards is misled. So a
hit conflicts with the question when the question names a thing of a kind
(apps, crops, animals, cards and papers), the entry never names it, and the
entry names another thing of the same kind. Such a hit is never a direct
answer (``bot.knowledge.service.decide``).

Each thing is listed with the names people use for it (dialect included);
the lists are data about the world, not about any test set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

KINDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "app": (
        ("微信",),
        ("支付宝",),
        ("抖音",),
        ("快手",),
        ("淘宝",),
        ("拼多多",),
        ("京东",),
        ("QQ", "qq"),
        ("美团",),
        ("滴滴",),
        ("12306", "铁路12306"),
        ("今日头条", "头条"),
        ("百度",),
        ("高德",),
    ),
    "crop": (
        ("水稻", "稻子", "谷子", "稻谷", "稻田", "秧苗", "秧田"),
        ("玉米", "苞谷", "包谷"),
        ("小麦", "麦子"),
        ("油菜",),
        ("柚子", "柚树", "梁平柚"),
        ("柑橘", "橘子", "桔子", "柑子", "橙子", "脐橙", "柑桔"),
        ("辣椒", "海椒"),
        ("番茄", "西红柿"),
        ("土豆", "洋芋", "马铃薯"),
        ("红薯", "红苕", "地瓜", "番薯"),
        ("白菜",),
        ("萝卜",),
        ("黄瓜",),
        ("茄子",),
        ("豇豆",),
        ("竹子", "竹笋", "竹林"),
        ("茶叶", "茶树"),
        ("花椒",),
        ("李子",),
        ("桃子", "桃树"),
        ("葡萄",),
    ),
    "animal": (
        ("猪", "生猪", "仔猪", "母猪", "猪仔"),
        ("牛",),
        ("羊",),
        ("鸡", "鸡仔", "鸡苗"),
        ("鸭", "鸭子"),
        ("鹅",),
        ("鱼", "鱼塘"),
        ("虾", "小龙虾", "龙虾"),
        ("蜜蜂", "蜂子"),
        ("兔", "兔子"),
    ),
    "card": (
        ("医保卡", "医保码", "医保电子凭证"),
        ("社保卡", "电子社保卡"),
        ("身份证",),
        ("驾驶证", "驾照"),
        ("户口本", "户口"),
    ),
}


# Crops and animals are judged in farming entries only: a diet entry that names
# 鱼 and 鸡蛋 as food is not about raising fish.
FARMING_KINDS = frozenset({"crop", "animal"})


class Things:
    """Finds which things of each kind a text names."""

    def __init__(self, kinds: dict[str, tuple[tuple[str, ...], ...]] = KINDS) -> None:
        self._names: list[tuple[str, int, re.Pattern[str]]] = []
        for kind, things in kinds.items():
            for i, names in enumerate(things):
                # Longer names first, so "小龙虾" is not also read as "虾" of another.
                alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
                self._names.append((kind, i, re.compile(alternation)))

    def named(self, text: str) -> dict[str, set[int]]:
        """Kind → the things of that kind ``text`` names."""
        found: dict[str, set[int]] = {}
        for kind, thing, pattern in self._names:
            if pattern.search(text):
                found.setdefault(kind, set()).add(thing)
        return found

    def conflicts(self, question: dict[str, set[int]], entry: dict[str, set[int]]) -> bool:
        """The question names a thing the entry never names, while the entry names
        another thing of that kind."""
        return any(
            things - entry.get(kind, set()) and entry.get(kind, set()) - things
            for kind, things in question.items()
        )

    def named_in_all(self, texts: Iterable[str]) -> dict[str, set[int]]:
        """The things each text names, together, by kind."""
        found: dict[str, set[int]] = {}
        for text in texts:
            for kind, things in self.named(text).items():
                found.setdefault(kind, set()).update(things)
        return found
