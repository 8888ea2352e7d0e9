"""In-memory fake of :class:`~timeseries_writer.ports.SeriesStore` and ``SeriesReader``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from shared.errors import PermanentError, StoreUnavailable
from timeseries_writer.model import Bucket, Point, SeriesAnswer, SeriesQuery, bucket_start

_AGGREGATE: dict[str, Callable[[list[float]], float]] = {
    "avg": lambda values: sum(values) / len(values),
    "min": min,
    "max": max,
    "sum": sum,
    "count": len,
}


class InMemorySeriesStore:
    """Points in a dict keyed by (event id, metric), first write wins.

    Set ``down`` to make every call fail as an outage would; put a metric in ``rejected_metrics`` to make the
    store reject the points of that metric, as a store rejects records it cannot take.
    """

    def __init__(self) -> None:
        self.points: dict[tuple[str, str], Point] = {}
        self.down = False
        self.rejected_metrics: dict[str, str] = {}
        self.writes = 0

    def write(self, points: Sequence[Point]) -> Mapping[str, PermanentError]:
        if self.down:
            raise StoreUnavailable("series store is down")
        self.writes += 1
        failures: dict[str, PermanentError] = {}
        for point in points:
            reason = self.rejected_metrics.get(point.metric)
            if reason is not None:
                failures[point.event_id] = PermanentError(f"{point.metric} rejected: {reason}")
                continue
            self.points.setdefault(point.key, point)
        return failures

    def query(self, query: SeriesQuery) -> SeriesAnswer:
        if self.down:
            raise StoreUnavailable("series store is down")
        groups: dict[datetime, list[float]] = defaultdict(list)
        units: set[str] = set()
        for point in self.points.values():
            if (
                point.metric == query.metric
                and query.start <= point.time < query.end
                and all(point.dimensions.get(k) == v for k, v in query.filters.items())
            ):
                groups[bucket_start(point.time, query.width)].append(point.value)
                units.add(point.unit)
        buckets = [
            Bucket(start=start, value=float(_AGGREGATE[query.agg](values)), count=len(values))
            for start, values in sorted(groups.items())
        ]
        return SeriesAnswer(buckets=buckets[: query.limit], units=sorted(units))
