"""WeChat/WeCom callback XML: parsed with defusedxml, replies built without a template engine.

Incoming XML never reaches a parser that resolves entities or DTDs: a
document with a DOCTYPE at all (XXE, billion laughs) is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.wechat.errors import Malformed

# WeChat refuses a passive text reply whose content exceeds 2048 bytes; its
# message APIs take the same size comfortably.
MAX_TEXT_BYTES = 2048
MAX_ID_CHARS = 128


def parse_xml(body: bytes) -> dict[str, str]:
    """The child elements of ``<xml>`` as a flat mapping of tag → text.

    Raises:
        Malformed: not well-formed, has a DTD or entities, or is not ``<xml>``.
    """
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException) as exc:
        raise Malformed(f"refused XML: {type(exc).__name__}") from exc
    if root.tag != "xml":
        raise Malformed(f"unexpected root element <{root.tag[:32]}>")
    return {child.tag: child.text or "" for child in root if isinstance(child.tag, str)}


@dataclass(frozen=True)
class Inbound:
    """One message or event from a user, as the platform described it."""

    account: str  # ToUserName: our account (Official Account id or CorpID)
    sender: str  # FromUserName: the user's OpenID / WeCom UserID
    create_time: str
    msg_type: str
    msg_id: str = ""
    content: str = ""
    recognition: str = ""
    event: str = ""
    event_key: str = ""
    media_id: str = ""  # a picture or voice file, fetched through the platform API
    pic_url: str = ""

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> Inbound:
        """The message in a callback's XML fields; ``Malformed`` without sender or type."""
        sender = fields.get("FromUserName", "").strip()
        msg_type = fields.get("MsgType", "").strip().lower()
        if not sender or len(sender) > MAX_ID_CHARS or not msg_type:
            raise Malformed("message without a valid FromUserName or MsgType")
        return cls(
            account=fields.get("ToUserName", "").strip()[:MAX_ID_CHARS],
            sender=sender,
            create_time=fields.get("CreateTime", "").strip()[:20],
            msg_type=msg_type[:32],
            msg_id=fields.get("MsgId", "").strip()[:64],
            content=fields.get("Content", ""),
            recognition=fields.get("Recognition", ""),
            event=fields.get("Event", "").strip().lower()[:64],
            event_key=fields.get("EventKey", "").strip()[:128],
            media_id=fields.get("MediaId", "").strip()[:128],
            pic_url=fields.get("PicUrl", "").strip()[:512],
        )

    @property
    def dedup_key(self) -> str:
        """Same for every retry of this message: MsgId, or sender + CreateTime for events."""
        if self.msg_id:
            return f"msg\0{self.account}\0{self.msg_id}"
        return f"event\0{self.account}\0{self.sender}\0{self.create_time}\0{self.event}"


def cdata(text: str) -> str:
    """``text`` as a CDATA section (a ``]]>`` inside split across two)."""
    # "]]>" inside text would end the section early: split it across two sections.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def xml_document(fields: dict[str, str | int]) -> bytes:
    """``<xml>`` with one element per field: numbers bare, text as CDATA."""
    parts = [
        f"<{tag}>{value}</{tag}>" if isinstance(value, int) else f"<{tag}>{cdata(value)}</{tag}>"
        for tag, value in fields.items()
    ]
    return ("<xml>" + "".join(parts) + "</xml>").encode("utf-8")


def text_reply(to_user: str, from_user: str, content: str, create_time: int) -> bytes:
    """A passive text reply (the user's id becomes ToUserName)."""
    return xml_document(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": create_time,
            "MsgType": "text",
            "Content": content,
        }
    )


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _split_one(text: str, limit: int) -> list[str]:
    """Pieces of one message, each within ``limit`` bytes, cut at line ends when possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while _utf8_len(line) > limit:  # a single line too long: cut by characters
            cut = len(line.encode("utf-8")[:limit].decode("utf-8", errors="ignore"))
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if _utf8_len(candidate) <= limit:
            current = candidate
        else:
            pieces.append(current)
            current = line
    if current:
        pieces.append(current)
    return pieces


def pack_texts(texts: list[str], limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Messages packed into as few chat messages as fit in ``limit`` bytes each.

    Whole messages are joined by a blank line; a message that alone is too
    long is split at line ends. Order is kept.
    """
    packed: list[str] = []
    for text in texts:
        for piece in _split_one(text.strip(), limit):
            if not piece:
                continue
            candidate = f"{packed[-1]}\n\n{piece}" if packed else piece
            if packed and _utf8_len(candidate) <= limit:
                packed[-1] = candidate
            else:
                packed.append(piece)
    return packed
