"""Remove personal numbers before anything is stored.

Covers mainland mobile and landline numbers, ID-card numbers, bank-card-like
digit runs and verification codes. Issue 6 extends this with checksums and
spaCy rules; the contract stays: ``redact(text)`` returns text safe to store.
"""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("[身份证号]", re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")),
    ("[银行卡号]", re.compile(r"(?<!\d)\d{4}(?:[ -]?\d{4}){2,3}(?:[ -]?\d{1,3})?(?!\d)")),
    ("[手机号]", re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")),
    ("[电话]", re.compile(r"(?<!\d)0\d{2,3}[ -]?\d{7,8}(?!\d)")),
    ("[验证码]", re.compile(r"(?:验证码|校验码|动态码|code)\D{0,6}?\d{4,8}", re.IGNORECASE)),
)


def redact(text: str) -> str:
    """Replace personal numbers with a bracketed placeholder."""
    for placeholder, pattern in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text
