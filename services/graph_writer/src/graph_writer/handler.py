"""graph_writer's batch handler: a batch of events becomes one planned set of graph writes.

Each event is mapped on its own (a bad one fails alone, permanently, with the reason); the rest are planned
together and written with as few store calls as the store's rows-per-call allows. The writes are idempotent,
so a redelivered or redriven event changes nothing and a failed batch is simply written again.

If the store rejects a batch as permanently bad, the batch is split in halves and each written again, down
to single events, so one poison event goes to the DLQ and the others are stored.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import structlog

from contracts import Envelope
from graph_writer.domain import plan, rows_of
from graph_writer.model import GraphBatch
from graph_writer.ports import GraphStore
from shared.errors import PermanentError, RetryableError

log = structlog.get_logger()


class GraphWriter:
    """Writes batches of envelopes into a :class:`GraphStore`; returns the failures by event id."""

    def __init__(self, *, store: GraphStore) -> None:
        self._store = store

    def __call__(self, events: Sequence[Envelope]) -> Mapping[str, Exception]:
        started = time.perf_counter()
        failures: dict[str, Exception] = {}
        mapped: list[tuple[str, GraphBatch]] = []
        for event in events:
            try:
                mapped.append((event.id, rows_of(event)))
            except PermanentError as exc:
                failures[event.id] = exc
                log.warning("event_rejected", event_id=event.id, type=event.type, error=str(exc)[:300])
        if mapped:
            failures.update(self._write(mapped))
        log.info(
            "graph_batch_written",
            events=len(events),
            stored=len(events) - len(failures),
            failed=len(failures),
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return failures

    def _write(self, mapped: list[tuple[str, GraphBatch]]) -> dict[str, Exception]:
        try:
            self._store.write(plan(batch for _, batch in mapped))
        except RetryableError as exc:
            return {event_id: exc for event_id, _ in mapped}
        except PermanentError as exc:
            if len(mapped) == 1:
                log.warning("event_rejected_by_store", event_id=mapped[0][0], error=str(exc)[:300])
                return {mapped[0][0]: exc}
            half = len(mapped) // 2
            log.info("batch_split", events=len(mapped), error=str(exc)[:300])
            return self._write(mapped[:half]) | self._write(mapped[half:])
        return {}
