"""Tests of webhook signing, checked against an HMAC computed here independently of the module."""

from __future__ import annotations

import hashlib
import hmac

from notifier.signing import signature, signed_headers, verify

SECRET = "whsec-3f9a"
BODY = '{"rule":"hot","message":"dev-1 reads 81 \u00b0C"}'.encode()


def _independent(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    """``sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>``."""
    assert signature(SECRET, "1750000000", BODY) == _independent(SECRET, "1750000000", BODY)
    assert signature(SECRET.encode(), "1750000000", BODY) == _independent(SECRET, "1750000000", BODY)


def test_signed_headers() -> None:
    """Content type, timestamp, signature and the delivery id."""
    headers = signed_headers(SECRET, BODY, timestamp=1750000000, delivery_id="d-1")
    assert headers == {
        "Content-Type": "application/json",
        "X-Tributary-Timestamp": "1750000000",
        "X-Tributary-Signature": _independent(SECRET, "1750000000", BODY),
        "X-Tributary-Delivery-Id": "d-1",
    }


def test_verify_accepts_a_fresh_request_and_nothing_else() -> None:
    """Right secret, exact body, timestamp within tolerance; anything else is refused."""
    good = _independent(SECRET, "1750000000", BODY)
    ok = {"timestamp": "1750000000", "signature_header": good, "body": BODY}
    assert verify(SECRET, **ok, now=1750000000 + 299)  # type: ignore[arg-type]
    assert not verify(SECRET, **ok, now=1750000000 + 301)  # type: ignore[arg-type]
    assert not verify(SECRET, **ok, now=1750000000 - 301)  # type: ignore[arg-type]
    assert not verify("other", **ok, now=1750000000)  # type: ignore[arg-type]
    assert not verify(SECRET, timestamp="1750000000", signature_header=good, body=BODY + b" ", now=1750000000)
    assert not verify(SECRET, timestamp="1750000001", signature_header=good, body=BODY, now=1750000000)
    assert not verify(SECRET, timestamp=None, signature_header=good, body=BODY, now=1750000000)
    assert not verify(SECRET, timestamp="17e8", signature_header=good, body=BODY, now=1750000000)
    assert not verify(SECRET, timestamp="1750000000", signature_header=None, body=BODY, now=1750000000)
    assert not verify(SECRET, timestamp="1750000000", signature_header=good[7:], body=BODY, now=1750000000)
