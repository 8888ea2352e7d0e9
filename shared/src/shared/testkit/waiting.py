"""Polling for an end state in tests that watch a running stack."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for[T](predicate: Callable[[], T], timeout_s: float, interval_s: float = 0.5) -> T:
    """Call ``predicate`` until it returns something truthy or ``timeout_s`` passes; its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval_s)
