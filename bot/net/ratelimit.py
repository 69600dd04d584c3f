"""Token buckets in memory: per client for the public JSON API, per sender and per
client for chat messages.

Each key (a client's address as ``bot.net.proxies`` resolves it, or a sender id)
may spend ``per_minute`` requests a minute, in bursts of up to ``burst``. Buckets
live in memory, least recently seen evicted first, so a flood of addresses or
invented sender ids cannot grow them without bound (an evicted key starts again
with a full bucket, which a flood of that size could have had anyway).

State is per process, on purpose: a limiter shared through Redis would put a
round trip in front of every message and stop the chat whenever Redis does. In
the production profile nginx keeps each WeChat user (its openid) on one Rasa
process, so their limit holds as set; REST senders and addresses go round
robin, so their limits hold per process (spread over N processes, up to N
times them). The proxy in front should apply
its own per-address limit as well (README, "Behind a reverse proxy").
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

# What a person who sends messages too fast is told (web chat, REST, WeChat, WeCom).
TOO_FAST_REPLY = "您发得太快了，请稍等一分钟再发。"


class RateLimiter:
    def __init__(
        self,
        per_minute: int,
        burst: int | None = None,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(burst if burst is not None else max(1, per_minute // 3))
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, client: str) -> float:
        """0.0 if ``client`` may go ahead now (a token is spent), else the seconds to wait."""
        wait = self.wait(client)
        if not wait:
            tokens, now = self._buckets[client]
            self._buckets[client] = (tokens - 1.0, now)
        return wait

    def wait(self, client: str) -> float:
        """The seconds ``client`` must wait for a token (0.0: one is there); spends nothing."""
        now = self.clock()
        tokens, last = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate


class ChatLimits:
    """Chat messages: a limit per sender and one per client address, both must allow.

    A message refused by either spends from neither, so a sender held back by
    the address's limit keeps their own share, and the other way round.
    Without a sender (a cookie-less request) only the address counts: each such
    request would otherwise be a new sender with a full bucket.
    """

    def __init__(
        self,
        per_sender: int,
        per_client: int,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.senders = RateLimiter(
            per_sender, burst=max(1, per_sender // 2), max_clients=max_keys, clock=clock
        )
        self.clients = RateLimiter(
            per_client, burst=max(1, per_client // 3), max_clients=max_keys, clock=clock
        )

    def allow(self, sender: str | None, client: str) -> float:
        """0.0 if this message may go ahead (counted for both), else the seconds to wait."""
        wait = max(self.senders.wait(sender) if sender else 0.0, self.clients.wait(client))
        if wait:
            return wait
        if sender:
            self.senders.allow(sender)
        self.clients.allow(client)
        return 0.0


def retry_after(wait: float) -> str:
    """``Retry-After`` in whole seconds, at least 1."""
    return str(max(1, int(-(-wait // 1))))
