"""The worker's circuit breaker: stop receiving while the store is out, probe, resume when it is back.

- **closed**: the worker receives and handles batches. A batch in which the store was unavailable
  (:class:`~shared.errors.StoreUnavailable`) counts as a failure; ``threshold`` in a row open the breaker.
- **open**: the worker receives nothing and keeps the messages it holds (their visibility extended by the
  heartbeat, their attempts unspent) for ``cooldown`` seconds: ``open_s`` at first, doubling on each
  failed probe up to ``max_open_s``.
- **half-open**: once the cooldown has passed, one batch of held messages is handled as a probe. A probe
  the store took closes the breaker; an unavailable store opens it again.

Thread-safe: pollers read :attr:`CircuitBreaker.receiving` while the main loop records outcomes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum

import structlog

log = structlog.get_logger()


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Counts consecutive store-unavailable batches; see the module docstring for the states."""

    def __init__(
        self,
        *,
        threshold: int = 3,
        open_s: float = 5.0,
        max_open_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1 or open_s <= 0 or max_open_s < open_s:
            raise ValueError("threshold >= 1 and 0 < open_s <= max_open_s")
        self._threshold = threshold
        self._open_s = open_s
        self._max_open_s = max_open_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._cooldown = open_s
        self._until = 0.0
        self.opened = 0  # how many times it opened: metrics and tests

    @property
    def state(self) -> BreakerState:
        with self._lock:
            if self._state is BreakerState.OPEN and self._clock() >= self._until:
                self._state = BreakerState.HALF_OPEN
            return self._state

    @property
    def receiving(self) -> bool:
        """Whether the worker may receive new messages (only while closed)."""
        return self.state is BreakerState.CLOSED

    @property
    def probe_due(self) -> bool:
        """Whether a probe batch may be handled now (half-open)."""
        return self.state is BreakerState.HALF_OPEN

    def record(self, *, outage: bool) -> None:
        """The outcome of one handled batch: ``outage`` if its store was unavailable."""
        with self._lock:
            if not outage:
                if self._state is not BreakerState.CLOSED:
                    log.info("breaker_closed", after_opens=self.opened)
                self._state, self._failures, self._cooldown = BreakerState.CLOSED, 0, self._open_s
                return
            self._failures += 1
            if self._state is BreakerState.HALF_OPEN:
                self._cooldown = min(self._cooldown * 2, self._max_open_s)
            elif self._failures < self._threshold:
                return
            self._state = BreakerState.OPEN
            self._until = self._clock() + self._cooldown
            self.opened += 1
            log.warning("breaker_opened", failures=self._failures, cooldown_s=self._cooldown)
