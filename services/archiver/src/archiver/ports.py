"""archiver's port: the object store it owns."""

from __future__ import annotations

from typing import Protocol

from shared.errors import RetryableError


class WriteOutcomeUnknown(RetryableError):
    """A write whose outcome is unknown (a timeout after the request was sent): it may still land."""


class ArchiveStore(Protocol):
    """Whole-object writes to a bucket.

    ``put`` is atomic (an object is there whole or not at all) and idempotent for the same key and body;
    a definite failure (the store answered that it did not store the object) raises
    :class:`~shared.errors.RetryableError`, a failure that may still have stored it raises
    :class:`WriteOutcomeUnknown`. ``exists`` answers from the store (no cache); failures raise
    :class:`~shared.errors.RetryableError`.
    """

    def put(self, key: str, body: bytes) -> None: ...

    def exists(self, key: str) -> bool: ...
