"""One turn, run the same way by every channel.

A channel does its own protocol (the REST channel its JSON and rate limits, the
WeChat channels their signatures, de-duplication and 5-second rule) and hands
the message to a ``TurnRunner``, which

1. cleans the text once (``bot.text.inbound``): an empty or too long message
   gets its fixed reply and never reaches the assistant (``clean``);
2. builds Rasa's ``UserMessage`` around the channel's collector and runs the
   turn, watching for the actions Rasa loses (``bot.channels.rollback``);
3. answers a turn that failed, lost an action or said nothing with the polite
   busy reply, and undoes what it changed so that sending it again works
   (``run``);
4. collects what is owed to the sender, to follow the answer: rumour verdicts,
   service-order notices and the alerts held for the channel (``owed``). A
   database that is away costs none of them (they stay owed) and not the answer.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.channels.rollback import forget_failed_turn, watch_turn
from bot.channels.services import ChannelServices
from bot.menu.pages import BUSY_REPLY
from bot.orders.notices import owed_notices
from bot.outreach.owed import owed_alerts
from bot.rumors.delivery import take_due
from bot.text.inbound import EMPTY_REPLY, clean_inbound, too_long_reply

log = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@dataclass(frozen=True)
class Cleaned:
    """A message's text, cleaned; ``reply`` answers it instead of a turn ("" for none)."""

    text: str
    reply: str = ""

    @property
    def empty(self) -> bool:
        return not self.text


class TurnOutput(OutputChannel, abc.ABC):
    """A channel's collector for one turn, as the runner reads and extends it."""

    @abc.abstractmethod
    def replied(self) -> bool:
        """Whether the turn said anything the user will see."""

    @abc.abstractmethod
    def add_text(self, recipient_id: str, text: str) -> None:
        """Add ``text`` after what the turn said."""


class TurnRunner:
    """Cleans, runs and (when it fails) undoes a turn, and collects what is owed."""

    def __init__(
        self, services: ChannelServices, channel: str, max_chars: int | None = None
    ) -> None:
        self.services = services
        self.channel = channel  # the input channel's name, for the logs
        self.max_chars = max_chars or services.settings.max_message_chars

    def clean(self, raw: object) -> Cleaned:
        """The text of ``raw`` cleaned, with the reply to an empty or too long one."""
        inbound = clean_inbound(raw, self.max_chars)
        if inbound.empty:
            return Cleaned("", EMPTY_REPLY)
        if inbound.too_long:
            return Cleaned(inbound.text, too_long_reply(self.max_chars))
        return Cleaned(inbound.text)

    async def run(
        self,
        on_new_message: OnNewMessage,
        output: TurnOutput,
        sender: str,
        text: str,
        *,
        agent: Any,
        input_channel: str,
        message_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> bool:
        """Run one turn into ``output``; whether it ended in the busy reply (and was undone)."""
        message = UserMessage(
            text,
            output,
            sender,
            input_channel=input_channel,
            metadata=metadata,
            message_id=message_id,
        )
        with watch_turn() as turn:
            try:
                await on_new_message(message)
            except Exception:  # the user still gets an answer; the failure is logged
                log.exception("turn failed for a %s message", self.channel)
                turn.lost_actions.append("the whole turn")
        if output.replied() and not turn.failed:
            return False
        log.warning(
            "busy reply to a %s message: %s",
            self.channel,
            f"{len(turn.lost_actions)} action(s) lost" if turn.failed else "no reply",
        )
        output.add_text(sender, BUSY_REPLY)
        # Undo what the broken turn changed, so that sending it again works.
        await forget_failed_turn(agent, message)
        return True

    async def owed(self, sender: str, channels: Collection[str]) -> list[str]:
        """Verdicts, order notices and the alerts held on ``channels`` due to ``sender``.

        A database that is away gives none of them, and they stay owed."""
        db = self.services.db
        try:
            verdicts = await take_due(db, sender)
        except Exception:
            log.exception("could not read the verdicts owed to a sender")
            verdicts = []
        notices = await owed_notices(db, sender)  # service orders
        alerts = await owed_alerts(db, channels, sender)  # subscribed alerts held
        return verdicts + notices + alerts
