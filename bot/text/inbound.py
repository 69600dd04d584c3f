"""Make text from external users safe to hand to Rasa.

Rasa treats a message starting with "/" as a literal intent and slots
("/greet{...}"), skipping NLU. Users must never be able to do that, so a
leading slash becomes a full-width one: it reads the same to people. Inside
NLU the normaliser drops leading slashes altogether, because Rasa checks for
"/" once more at the end of the NLU graph.
"""

from __future__ import annotations

from dataclasses import dataclass

_CONTROL = {c: None for c in range(32) if c not in (9, 10, 13)} | {0x7F: None}


@dataclass(frozen=True)
class Inbound:
    text: str
    too_long: bool = False

    @property
    def empty(self) -> bool:
        return not self.text


def clean_inbound(raw: object, max_chars: int) -> Inbound:
    """Strip control characters, lone surrogates and whitespace, neutralise a leading "/".

    JSON may carry a lone surrogate ("\\udfc4"); Python keeps it in the string, but no
    database or HTTP body can encode it, so it never goes further than here.
    """
    text = raw if isinstance(raw, str) else ""
    text = text.encode("utf-8", "ignore").decode("utf-8")
    text = text.translate(_CONTROL).strip()
    while text.startswith("/"):
        text = "／" + text[1:]
    if len(text) > max_chars:
        return Inbound(text, too_long=True)
    return Inbound(text)


EMPTY_REPLY = "您好像没有输入文字。请直接打字或者说出您的问题，回复“菜单”可以看选项。"


def too_long_reply(max_chars: int) -> str:
    return f"您发的内容太长了（超过{max_chars}个字），我一次看不完。请分成几段发给我。"
