"""A token bucket: at most ``rate`` units per second on average, bursts up to ``burst``.

Shared by the threads of one redrive or replay, so ``--rate`` bounds the whole operation. Asking for more
tokens than the bucket holds is allowed (a batch of 10 at 2/s): the caller waits until the debt is paid,
so the long-run rate holds for any batch size.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Blocks callers so that, over time, no more than ``rate`` units per second pass.

    Args:
        rate: units per second; must be positive.
        burst: how many units may pass at once after an idle spell (default: one second's worth, at least 1).
        clock, sleep: injected for tests (default :func:`time.monotonic`, :func:`time.sleep`).

    Raises:
        ValueError: ``rate`` or ``burst`` is not positive.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = rate
        self.burst = max(1.0, rate) if burst is None else burst
        if self.burst <= 0:
            raise ValueError(f"burst must be positive, got {burst}")
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._stamp = clock()
        self._lock = threading.Lock()

    def acquire(self, units: float = 1.0) -> float:
        """Take ``units`` tokens, waiting as long as needed; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= units
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            # Waiting outside the lock: the debt is already booked, so later callers queue up behind it.
            self._sleep(wait)
        return wait


class Unlimited:
    """The no-op bucket for operations without ``--rate``."""

    rate = float("inf")

    def acquire(self, units: float = 1.0) -> float:
        return 0.0


def parse_rate(text: str | None) -> float | None:
    """``"50"``, ``"50/s"``, ``"600/m"`` or ``"3600/h"`` as units per second; ``None`` stays ``None``.

    Raises:
        ValueError: not a positive rate.
    """
    if text is None:
        return None
    value, _, unit = text.strip().partition("/")
    per = {"": 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}.get(unit.strip().lower())
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if per is None or number <= 0:
        raise ValueError(f"not a rate: {text!r} (try 50, 50/s, 600/m)")
    return number / per
