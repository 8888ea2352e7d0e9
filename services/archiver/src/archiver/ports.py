"""archiver's port: the object store it owns."""

from __future__ import annotations

from typing import Protocol


class ArchiveStore(Protocol):
    """Whole-object writes to a bucket.

    ``put`` is atomic (an object is there whole or not at all) and idempotent for the same key and body;
    failures raise :class:`~shared.errors.RetryableError`.
    """

    def put(self, key: str, body: bytes) -> None: ...

    def exists(self, key: str) -> bool: ...
