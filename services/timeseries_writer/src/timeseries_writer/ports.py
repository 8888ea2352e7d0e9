"""timeseries_writer's ports: the series store it writes and the reader its query API asks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from shared.errors import PermanentError
from timeseries_writer.model import Point, SeriesAnswer, SeriesQuery


class SeriesStore(Protocol):
    """Batched writes of points, idempotent per point.

    A point is identified by its event id and metric (the embedded store's primary key) or, in stores
    keyed on series and time (Timestream, InfluxDB), by its series and a timestamp that the event id makes
    unique (see :func:`timeseries_writer.adapters.keys.timestamp_ns`). Writing a point again, in the same
    batch or a later one, changes nothing: the first write of an identity wins.

    ``write`` returns the events whose points the store rejected, each with a
    :class:`~shared.errors.PermanentError` naming the reason; every other point of the batch is stored.
    A failure of the whole write raises :class:`~shared.errors.RetryableError` (store down, throttled past
    the adapter's retries) and stores nothing that a retry would not store again harmlessly.
    """

    def write(self, points: Sequence[Point]) -> Mapping[str, PermanentError]: ...


class SeriesReader(Protocol):
    """Bucketed aggregates over stored points, as the read API asks for them.

    Reads what has been written, each point once; empty buckets are left out. Raises
    :class:`~shared.errors.RetryableError` if the store cannot answer now.
    """

    def query(self, query: SeriesQuery) -> SeriesAnswer: ...
