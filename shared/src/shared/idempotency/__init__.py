"""The idempotency ledger: exactly-once effect for writers whose store cannot dedupe by itself.

A writer claims the event ids of a write *before* it writes, naming the write's location (an S3 key, say)
and each event's content digest, and completes the location once the write has landed. A redelivered,
redriven or resent event then finds its id ``done`` and is skipped; the same id with other content is a
``conflict``. If a writer crashed between claiming and completing, the claim's lease runs out and the next
writer asks the store whether that earlier write landed: if it did the ids are done, if it did not the new
writer takes them over. While a lease runs, the ids are ``busy`` (retry later), so two replicas never write
the same event at once.

The store is asked *outside* any ledger transaction or lock: a slow store never holds up other claims.

Backends, one module each: :mod:`shared.idempotency.sqlite` (one host: the replicas of one service share a
file) and :mod:`shared.idempotency.dynamodb` (every task and Lambda environment of a service share a table).
"""

from __future__ import annotations

from shared.idempotency.decide import LedgerRow, canonical_digest
from shared.idempotency.ports import Claim, IdConflict, IdempotencyLedger, Landed

__all__ = ["Claim", "IdConflict", "IdempotencyLedger", "Landed", "LedgerRow", "canonical_digest"]
