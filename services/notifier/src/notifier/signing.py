"""Signing webhook requests, and checking a signature the way a receiver should.

Each request carries ``X-Tributary-Timestamp`` (Unix seconds) and ``X-Tributary-Signature:
sha256=<hex>``, the HMAC-SHA256, keyed with the webhook's secret, of ``"<timestamp>.<body>"`` (the body's
exact bytes). A receiver recomputes it, compares in constant time, and rejects timestamps outside a few
minutes of its clock, so a captured request cannot be replayed later. ``X-Tributary-Delivery-Id`` is stable
across resends of one notification: a receiver that has seen it already acknowledges and drops it.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Tributary-Timestamp"
SIGNATURE_HEADER = "X-Tributary-Signature"
DELIVERY_HEADER = "X-Tributary-Delivery-Id"
SCHEME = "sha256="
DEFAULT_TOLERANCE_S = 300


def signature(secret: str | bytes, timestamp: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return SCHEME + digest


def signed_headers(secret: str | bytes, body: bytes, *, timestamp: int, delivery_id: str) -> dict[str, str]:
    """The headers of one signed request."""
    stamp = str(timestamp)
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: signature(secret, stamp, body),
        DELIVERY_HEADER: delivery_id,
    }


def verify(
    secret: str | bytes,
    *,
    timestamp: str | None,
    signature_header: str | None,
    body: bytes,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """Whether a request is signed with ``secret`` and was signed within ``tolerance_s`` of ``now``."""
    if not timestamp or not signature_header or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), signature_header)
