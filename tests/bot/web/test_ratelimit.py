"""Token buckets per client: bursts, steady rate, bounded memory."""

from __future__ import annotations

from bot.web.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_steady_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.allow("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.allow("a")
    assert 0.9 <= wait <= 1.0  # one token a second
    clock.now += 1.0
    assert limiter.allow("a") == 0.0


def test_clients_do_not_share_buckets() -> None:
    limiter = RateLimiter(per_minute=60, burst=1, clock=Clock())
    assert limiter.allow("a") == 0.0
    assert limiter.allow("a") > 0
    assert limiter.allow("b") == 0.0


def test_refused_requests_do_not_drain_the_bucket_further() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=1, clock=clock)
    limiter.allow("a")
    for _ in range(10):
        limiter.allow("a")
    clock.now += 1.0
    assert limiter.allow("a") == 0.0


def test_memory_is_bounded() -> None:
    limiter = RateLimiter(per_minute=60, max_clients=100, clock=Clock())
    for i in range(1000):
        limiter.allow(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter._buckets) == 100
