"""The token bucket and ``--rate`` parsing, on a hand-moved clock."""

from __future__ import annotations

import pytest

from tributary.operators.ratelimit import TokenBucket, Unlimited, parse_rate


class Clock:
    """A clock that only moves when the bucket sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_burst_passes_then_callers_wait_one_over_rate_each() -> None:
    """At 5/s with a burst of 5: five pass at once, then each waits 0.2 s."""
    clock = Clock()
    bucket = TokenBucket(5, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(8)]
    assert waits[:5] == [0, 0, 0, 0, 0]
    assert waits[5:] == pytest.approx([0.2, 0.2, 0.2])


def test_a_batch_bigger_than_the_bucket_waits_off_its_debt() -> None:
    """A batch of 10 at 2/s waits 4 s (2 tokens in hand); the long-run rate holds for any batch size."""
    clock = Clock()
    bucket = TokenBucket(2, clock=clock, sleep=clock.sleep)
    assert bucket.acquire(10) == pytest.approx(4.0)
    assert bucket.acquire(10) == pytest.approx(5.0)
    assert clock.now == pytest.approx(9.0)  # 20 units at 2/s, minus the 2 of the initial burst


def test_idle_time_refills_only_up_to_the_burst() -> None:
    """A long pause does not bank more than ``burst`` tokens."""
    clock = Clock()
    bucket = TokenBucket(10, burst=3, clock=clock, sleep=clock.sleep)
    bucket.acquire(3)
    clock.now += 100
    assert bucket.acquire(3) == 0
    assert bucket.acquire(1) == pytest.approx(0.1)


def test_measured_rate_over_many_calls_is_the_configured_rate() -> None:
    """1,000 units in batches of 7 at 50/s take (1000 - burst) / 50 seconds of fake time."""
    clock = Clock()
    bucket = TokenBucket(50, clock=clock, sleep=clock.sleep)
    sent = 0
    while sent < 1000:
        bucket.acquire(7)
        sent += 7
    assert clock.now == pytest.approx((sent - 50) / 50)


def test_unlimited_never_waits() -> None:
    """No --rate: nothing waits."""
    assert Unlimited().acquire(1_000_000) == 0


@pytest.mark.parametrize(
    ("text", "per_s"),
    [("50", 50), ("50/s", 50), ("600/m", 10), ("3600/h", 1), (" 2.5 /s", 2.5), (None, None)],
)
def test_parse_rate(text: str | None, per_s: float | None) -> None:
    """Rates are per second, minute or hour."""
    assert parse_rate(text) == per_s


@pytest.mark.parametrize("text", ["0", "-5", "fast", "10/d", "/s"])
def test_parse_rate_rejects_nonsense(text: str) -> None:
    """Zero, negative, unknown units: a clear error."""
    with pytest.raises(ValueError, match="not a rate"):
        parse_rate(text)


def test_bucket_rejects_a_non_positive_rate() -> None:
    """A bucket needs a positive rate."""
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0)
