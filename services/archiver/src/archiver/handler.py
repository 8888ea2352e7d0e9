"""The archiver's batch handler: one object per partition per flush, each event archived once.

Events whose data breaks their contract are refused one by one (a ContractError each: the DLQ, with the
fields named). Per partition: claim the events' ids (with each event's content digest) in the idempotency
ledger for the object's key, write the object with the ids that are fresh, then complete the claim. Ids
already archived are skipped; ids another replica is writing right now are retried later; an id archived
before with other content is dead-lettered as :class:`~shared.idempotency.IdConflict`. If the process dies
between the write and the completion, the next claim finds the object in S3 and counts those ids as
archived.

A failed write is never blindly rewritten elsewhere. A definite failure (the store refused) releases the
claim for an immediate retry. A write whose outcome is unknown (a PutObject that timed out may have
landed) is settled by asking the store: if the object is there the claim is completed; if not, or if the
store cannot say, the claim is kept, so no other write of these ids starts before its lease runs out and
the ledger asks the store again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import structlog

from archiver.domain import content_digest, data_problem, encode, object_key, partition_events
from archiver.ports import ArchiveStore, WriteOutcomeUnknown
from contracts import Envelope, new_event_id
from shared.errors import ContractError, RetryableError
from shared.idempotency import IdConflict, IdempotencyLedger

log = structlog.get_logger()


class ArchiveWriter:
    """Archives batches of envelopes into an :class:`ArchiveStore`, exactly once per event id."""

    def __init__(
        self,
        *,
        store: ArchiveStore,
        ledger: IdempotencyLedger,
        lease_s: float,
        dedupe_window_s: float = 7 * 24 * 3600,
        new_flush_id: Callable[[], str] = new_event_id,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ledger = ledger
        self._lease_s = lease_s
        self._window_s = dedupe_window_s
        self._new_flush_id = new_flush_id
        self._clock = clock
        self._pruned_at: float | None = None

    def __call__(self, events: Sequence[Envelope]) -> Mapping[str, Exception]:
        self._prune_now_and_then()
        failures: dict[str, Exception] = {}
        valid = []
        for event in events:
            problem = data_problem(event)
            if problem is None:
                valid.append(event)
            else:  # only a line readers can parse is archived; this event alone is dead-lettered
                failures[event.id] = ContractError(problem)
        flush_id = self._new_flush_id()
        for partition, group in partition_events(valid).items():
            key = object_key(partition, flush_id)
            firsts: dict[str, Envelope] = {}
            for event in group:  # an id twice in one batch is written once, as it first came
                firsts.setdefault(event.id, event)
            unique = list(firsts.values())
            claim = self._ledger.claim(
                {e.id: content_digest(e) for e in unique},
                location=key,
                lease_s=self._lease_s,
                landed=self._store.exists,
            )
            for id_ in claim.busy:  # back once the other writer's lease has run out: one attempt per lease
                failures[id_] = RetryableError(
                    f"event {id_} is being archived by another writer", retry_after_s=self._lease_s
                )
            for id_ in claim.conflict:
                failures[id_] = IdConflict(f"event id {id_} was archived before with other content")
            fresh = set(claim.fresh)
            to_write = [e for e in unique if e.id in fresh]
            if not to_write:
                continue
            try:
                self._store.put(key, encode(to_write))
            except RetryableError as exc:
                if not self._settle_failed_write(key, exc):
                    failures.update({e.id: exc for e in to_write})
                    continue
            self._ledger.complete(key)
            log.info("object_written", key=key, events=len(to_write), skipped=len(claim.done))
        return failures

    def _settle_failed_write(self, key: str, error: RetryableError) -> bool:
        """After a failed put: True if the object landed all the same; else release the claim if safe.

        A definite failure is released at once; an unknown outcome is settled by a HEAD, and while that cannot
        tell, the claim is kept until its lease ends (the ledger then asks the store again).
        """
        if not isinstance(error, WriteOutcomeUnknown):
            self._ledger.release(key)
            return False
        try:
            landed = self._store.exists(key)
        except RetryableError:
            landed = False
        if landed:
            log.info("object_landed_despite_error", key=key, error=type(error).__name__)
            return True
        log.warning("object_write_unknown", key=key, claim="kept until its lease ends")
        return False

    def _prune_now_and_then(self) -> None:
        now = self._clock()
        if self._pruned_at is None or now - self._pruned_at > 3600:
            self._pruned_at = now
            pruned = self._ledger.prune(older_than_s=self._window_s)
            if pruned:
                log.info("ledger_pruned", ids=pruned)
