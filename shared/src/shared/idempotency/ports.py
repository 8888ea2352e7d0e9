"""The ledger port: what a claim answers and what every backend promises."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from shared.errors import PermanentError

Landed = Callable[[str], bool]
"""``landed(location)``: whether an earlier, unfinished write to ``location`` exists in the store."""


class IdConflict(PermanentError):
    """An event id already recorded with other content: a producer reused an id. Dead-lettered."""

    reason = "id_conflict"


@dataclass(frozen=True, kw_only=True)
class Claim:
    """The result of a claim: write ``fresh``, skip ``done``, retry ``busy`` later, reject ``conflict``."""

    fresh: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    conflict: list[str] = field(default_factory=list)


class IdempotencyLedger(Protocol):
    """Who wrote which event id where. Safe across threads and across the processes sharing the ledger.

    Every call may raise :class:`~shared.errors.RetryableError` (the ledger's store is unreachable).
    """

    def claim(self, ids: Mapping[str, str], *, location: str, lease_s: float, landed: Landed) -> Claim:
        """Claim ``ids`` (event id → content digest) for a write to ``location``.

        ``landed`` is called at most once per earlier location, and never inside a ledger transaction.
        An id claimed before with another digest is a ``conflict``, whatever its state.
        """
        ...

    def complete(self, location: str) -> None:
        """Mark every id claimed for ``location`` as stored."""
        ...

    def release(self, location: str) -> None:
        """Drop the pending claims for ``location`` (its write failed), so a retry may claim them at once."""
        ...

    def prune(self, *, older_than_s: float) -> int:
        """Forget completed ids older than ``older_than_s`` (the dedupe window); returns how many.

        Backends whose store expires items by itself (DynamoDB's TTL) return 0.
        """
        ...
