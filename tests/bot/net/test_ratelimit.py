"""Token buckets per client: bursts, steady rate, bounded memory; chat limits per
sender and per client."""

from __future__ import annotations

from bot.net.ratelimit import ChatLimits, RateLimiter, retry_after


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


def test_wait_spends_nothing() -> None:
    limiter = RateLimiter(per_minute=60, burst=1, clock=Clock())
    assert [limiter.wait("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.allow("a") == 0.0 and limiter.wait("a") > 0


def test_chat_limits_need_both_and_a_refusal_spends_from_neither() -> None:
    clock = Clock()
    limits = ChatLimits(per_sender=2, per_client=6, clock=clock)  # bursts of 1 and 2
    assert limits.allow("alice", "10.0.0.1") == 0.0
    assert limits.allow("alice", "10.0.0.1") > 0  # alice's own limit
    assert limits.allow("bob", "10.0.0.1") == 0.0  # the address had a token left for bob
    assert limits.allow("carol", "10.0.0.1") > 0  # the address's limit
    assert limits.allow("carol", "10.0.0.2") == 0.0  # carol's token was not spent above
    clock.now += 10.0  # the address earns one token in ten seconds
    assert limits.allow("dave", "10.0.0.1") == 0.0


def test_a_request_without_a_sender_counts_for_its_address_only() -> None:
    limits = ChatLimits(per_sender=60, per_client=3, clock=Clock())  # address: a burst of 1
    assert limits.allow(None, "10.0.0.1") == 0.0
    assert limits.allow(None, "10.0.0.1") > 0
    assert limits.allow(None, "10.0.0.2") == 0.0


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    assert [retry_after(w) for w in (0.01, 1.0, 1.2, 19.9)] == ["1", "1", "2", "20"]
