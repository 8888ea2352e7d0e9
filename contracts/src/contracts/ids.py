"""Event ids: the idempotency key of an event, end to end.

A producer may set its own id (matching :data:`EVENT_ID_PATTERN`); where it does not, ingest assigns a
ULID-style id: 48 bits of milliseconds then 80 random bits, Crockford base32, so ids sort by creation time.
"""

from __future__ import annotations

import os
import time

EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_event_id(now_ms: int | None = None) -> str:
    """A new 26-character sortable id (ULID layout)."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))
