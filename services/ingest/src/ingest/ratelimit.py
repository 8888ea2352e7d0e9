"""Per-producer rate limits: a token bucket per principal, refilled at ``rate`` events per second up to
``burst``. A request that finds too few tokens is refused whole (429) and told when enough will be there
(``Retry-After``); it takes no tokens, so a refused producer is not pushed further back.

The buckets live in the process: with N ingest tasks a producer may send N times the rate in total.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class RateLimit:
    """``rate`` events per second on average, ``burst`` at once."""

    rate: float
    burst: float


class RateLimiter:
    """Token buckets by principal id."""

    def __init__(self, limit: RateLimit, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # principal -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, principal: str, cost: float) -> float:
        """Take ``cost`` tokens from ``principal``'s bucket: 0.0 if taken, else the seconds until they are
        there (the request is refused and nothing is taken). A cost above the burst counts as the burst."""
        limit = self._limit
        cost = min(cost, limit.burst)
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(principal, (limit.burst, now))
            tokens = min(limit.burst, tokens + (now - at) * limit.rate)
            if tokens >= cost:
                self._buckets[principal] = (tokens - cost, now)
                return 0.0
            self._buckets[principal] = (tokens, now)
            return (cost - tokens) / limit.rate


def retry_after(seconds: float) -> str:
    """A ``Retry-After`` header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
