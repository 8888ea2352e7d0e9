"""timeseries_writer's batch handler: map every event to points, then one store write for the batch.

An event that cannot be mapped fails alone with the handler's :class:`~shared.errors.PermanentError`
(dead-lettered with its reason); the rest of the batch is written. Idempotency is the store's: every
:class:`~timeseries_writer.ports.SeriesStore` keeps the first write of a point, so a redelivered event
changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

import structlog

from contracts import Envelope
from shared.errors import PermanentError
from timeseries_writer.domain import TimeWindow, to_points
from timeseries_writer.model import Point
from timeseries_writer.ports import SeriesStore

log = structlog.get_logger()


class SeriesWriter:
    """Writes batches of envelopes into a :class:`SeriesStore`, one store write per batch."""

    def __init__(
        self,
        *,
        store: SeriesStore,
        window: TimeWindow | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._window = window or TimeWindow()
        self._clock = clock

    def __call__(self, events: Sequence[Envelope]) -> Mapping[str, Exception]:
        started = time.perf_counter()
        now = self._clock()
        failures: dict[str, Exception] = {}
        points: list[Point] = []
        for event in events:
            try:
                points.extend(to_points(event, now=now, window=self._window))
            except PermanentError as exc:
                failures[event.id] = exc
                log.warning("event_rejected", event_id=event.id, type=event.type, error=str(exc))
        if points:
            rejected = self._store.write(points)
            failures.update(rejected)
            log.info(
                "points_written",
                points=len(points),
                events=len(events) - len(failures),
                rejected=len(rejected),
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
        return failures
