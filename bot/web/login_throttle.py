"""Console sign-in throttling, per client and per account.

Only real attempts count: the view asks after the form's CSRF check has passed,
so forged or empty posts cost nobody anything.

- Per client (its real address, see ``bot.net.proxies``): at most 10 attempts a
  minute in bursts of 5, and after ``FREE_FAILURES`` failures a pause that
  doubles with each further one (1 s, 2 s, 4 s … at most ``MAX_PAUSE``).
- Per account: the same growing pause after ``FREE_FAILURES`` failures, but it
  holds back only clients that have failed ``CLIENT_GRACE`` times themselves. A
  client with a clean record always gets to try the password, so a flood of
  guesses from one address cannot lock the real user out from another, and
  guesses at one account change nothing for any other account.

A correct password clears the client's and the account's failures; failures
are forgotten ``FORGET_SECONDS`` after the last one. State lives in memory (one
web process), least recently used first out, like ``RateLimiter``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from bot.net.ratelimit import RateLimiter

FREE_FAILURES = 5
CLIENT_GRACE = 3  # a typo or two of the real user's do not put them behind the account's pause
BASE_PAUSE = 1.0  # seconds after the first failure beyond the free ones
MAX_PAUSE = 900.0
FORGET_SECONDS = 3600.0


class _Failures:
    """Failures in a row and when the last one was, per key."""

    def __init__(self, clock: Callable[[], float], max_keys: int) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self._seen: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def count(self, key: str) -> int:
        return self._current(key)[0]

    def pause(self, key: str) -> float:
        """Seconds left before ``key`` may try again (0.0: now)."""
        count, last = self._current(key)
        if count < FREE_FAILURES:
            return 0.0
        pause = min(MAX_PAUSE, BASE_PAUSE * 2 ** min(count - FREE_FAILURES, 20))
        return max(0.0, last + pause - self.clock())

    def add(self, key: str) -> None:
        count, _ = self._current(key)
        self._seen.pop(key, None)
        self._seen[key] = (count + 1, self.clock())
        while len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)

    def clear(self, key: str) -> None:
        self._seen.pop(key, None)

    def _current(self, key: str) -> tuple[int, float]:
        count, last = self._seen.get(key, (0, 0.0))
        if count and self.clock() - last > FORGET_SECONDS:
            self._seen.pop(key, None)
            return 0, 0.0
        return count, last


class LoginThrottle:
    """Sign-in attempts and failures per client and per account, kept in memory."""

    def __init__(
        self,
        per_minute: int = 10,
        burst: int = 5,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.attempts = RateLimiter(per_minute, burst=burst, max_clients=max_keys, clock=clock)
        self.clients = _Failures(clock, max_keys)
        self.accounts = _Failures(clock, max_keys)

    def wait(self, client: str, account: str) -> float:
        """0.0 if ``client`` may try ``account``'s password now (an attempt is counted),
        else the seconds to wait."""
        pause = self.clients.pause(client)
        if account and self.clients.count(client) >= CLIENT_GRACE:
            pause = max(pause, self.accounts.pause(account))
        if pause:
            return pause
        return self.attempts.allow(client)

    def failed(self, client: str, account: str) -> None:
        """Count a failed sign-in against the client and, when one was named, the account."""
        self.clients.add(client)
        if account:
            self.accounts.add(account)

    def succeeded(self, client: str, account: str) -> None:
        """Clear the client's and the account's failures."""
        self.clients.clear(client)
        self.accounts.clear(account)
