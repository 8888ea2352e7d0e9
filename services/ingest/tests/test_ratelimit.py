"""Tests of the per-producer token buckets."""

from __future__ import annotations

from ingest.ratelimit import RateLimit, RateLimiter, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_requests_wait_for_the_refill() -> None:
    """Up to ``burst`` at once; then the wait is the time the missing tokens take to refill."""
    clock = Clock()
    limiter = RateLimiter(RateLimit(rate=10, burst=20), clock=clock)
    assert limiter.take("a", 20) == 0.0
    assert limiter.take("a", 5) == 0.5
    clock.now = 0.5
    assert limiter.take("a", 5) == 0.0


def test_producers_have_buckets_of_their_own() -> None:
    """One producer's use leaves another's bucket full."""
    limiter = RateLimiter(RateLimit(rate=1, burst=3), clock=Clock())
    assert limiter.take("a", 3) == 0.0
    assert limiter.take("a", 1) > 0
    assert limiter.take("b", 3) == 0.0


def test_a_refused_request_takes_nothing() -> None:
    """Refusals do not push a producer further back."""
    clock = Clock()
    limiter = RateLimiter(RateLimit(rate=1, burst=2), clock=clock)
    limiter.take("a", 2)
    assert limiter.take("a", 2) == 2.0
    assert limiter.take("a", 2) == 2.0
    clock.now = 2.0
    assert limiter.take("a", 2) == 0.0


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    assert [retry_after(s) for s in (0.01, 1.0, 1.2)] == ["1", "1", "2"]
