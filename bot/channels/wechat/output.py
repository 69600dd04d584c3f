"""The output channel a turn writes into: plain text, buttons as numbered lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from bot.channels.turn import TurnOutput
from bot.voice.speech import spoken_text
from bot.wechat.replies import render_buttons

log = logging.getLogger(__name__)


class TextCollector(TurnOutput):
    """Collects what the assistant says in one turn, as texts the platforms can show."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        # (index in texts, entry id): where the turn said a knowledge entry (its
        # first message carries the tag), so that a voice reply can read it aloud.
        self.entries: list[tuple[int, str]] = []

    @classmethod
    def name(cls) -> str:
        return "wechat_text"

    def replied(self) -> bool:
        return bool(self.texts)

    def add_text(self, recipient_id: str, text: str) -> None:
        self.texts.append(text)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        if text and text.strip():
            self.texts.append(text.strip())

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        titles = [str(b.get("title") or b.get("payload") or "") for b in buttons]
        await self.send_text_message(recipient_id, render_buttons(text, [t for t in titles if t]))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, f"图片：{image}")

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, f"附件：{attachment}")

    async def send_elements(
        self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any
    ) -> None:
        for element in elements:
            title = "：".join(
                str(part) for part in (element.get("title"), element.get("subtitle")) if part
            )
            await self.send_text_with_buttons(recipient_id, title, element.get("buttons") or [])

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        text = json_message.get("text") if isinstance(json_message, dict) else None
        if isinstance(text, str):
            await self.send_text_message(recipient_id, text)
        elif isinstance(json_message, dict) and "decision" in json_message:
            # Our tag on a text message (move, entry id): not shown; the entry is noted.
            entry_id = json_message.get("entry_id")
            if isinstance(entry_id, str) and self.texts:
                self.entries.append((len(self.texts) - 1, entry_id))
        else:  # nothing a chat user could read
            log.info("custom message not shown on WeChat: %s", json.dumps(json_message)[:200])


def entry_speech(collector: TextCollector) -> str:
    """What is read aloud of the turn: the first entry it said (lead and steps), or ""."""
    if not collector.entries:
        return ""
    start, _ = collector.entries[0]
    return spoken_text(collector.texts[start:])
