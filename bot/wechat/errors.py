"""Why a webhook request is refused. The channel answers each with a 4xx, never a 5xx."""

from __future__ import annotations


class Refused(Exception):
    """A request the channel will not process.

    Args:
        status: HTTP status to answer with (400, 403 or 413).
        reason: what was wrong, for the log; never shown to the sender.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class BadSignature(Refused):
    def __init__(self, reason: str = "signature does not match") -> None:
        super().__init__(403, reason)


class StaleRequest(Refused):
    def __init__(self, reason: str) -> None:
        super().__init__(403, reason)


class Malformed(Refused):
    def __init__(self, reason: str) -> None:
        super().__init__(400, reason)


class TooLarge(Refused):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(413, f"body of {size} bytes exceeds {limit}")
