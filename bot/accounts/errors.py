"""Domain errors of the console service; the web edge turns them into HTTP statuses.

Each carries a message a moderator can read (Simplified Chinese).
"""

from __future__ import annotations


class ConsoleError(Exception):
    """Base of every refusal the console service gives."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ConsoleError):
    """The claim, report or user does not exist."""


class Forbidden(ConsoleError):
    """The actor's role may not do this."""


class InvalidTransition(ConsoleError):
    """The claim's state does not allow this step (e.g. publishing a rejected claim)."""


class InvalidInput(ConsoleError):
    """A value is missing, malformed or out of range."""


def clip(value: object, chars: int = 40) -> str:
    """A value quoted back in a message, cut short: a refusal must stay short."""
    text = str(value)
    return text if len(text) <= chars else text[:chars] + "…"
