"""The time-series vocabulary: points written, queries asked and buckets answered.

A :class:`Point` is one measurement taken from one event: a ``metric`` (``temperature``,
``cat.sightings``…), the event's time, a value in the metric's canonical unit, and the dimensions that name
its series (``device``, ``site``, ``municipality``…). One event gives one or more points; a point is
identified by its event id and metric, which is what makes every store idempotent on the event id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

DIMENSIONS: tuple[str, ...] = ("device", "site", "municipality", "status", "shop", "currency")
"""Every dimension a point may carry, in column order; the read API filters on exactly these."""

BucketWidth = Literal["1m", "1h", "1d"]
Aggregate = Literal["avg", "min", "max", "sum", "count"]

BUCKET_WIDTHS: dict[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}
AGGREGATES: tuple[str, ...] = ("avg", "min", "max", "sum", "count")


@dataclass(frozen=True, slots=True, kw_only=True)
class Point:
    """One measurement of one event.

    ``time`` is timezone-aware (UTC); ``dimensions`` keys are from :data:`DIMENSIONS`; ``version`` is
    taken from the event (its time in ms), never from the wall clock, so a redelivery writes the same point.
    """

    event_id: str
    metric: str
    time: datetime
    value: float
    unit: str
    dimensions: dict[str, str] = field(default_factory=dict)
    version: int = 0

    @property
    def key(self) -> tuple[str, str]:
        """What identifies the point in every store: its event id and metric."""
        return (self.event_id, self.metric)


@dataclass(frozen=True, kw_only=True)
class SeriesQuery:
    """Aggregate ``metric`` over ``[start, end)`` in buckets of ``bucket``, for points matching ``filters``.

    Buckets are aligned to the Unix epoch in UTC (a ``1d`` bucket runs from 00:00 UTC).
    """

    metric: str
    start: datetime
    end: datetime
    bucket: BucketWidth = "1m"
    agg: Aggregate = "avg"
    filters: dict[str, str] = field(default_factory=dict)
    limit: int = 10_000

    @property
    def width(self) -> timedelta:
        return BUCKET_WIDTHS[self.bucket]


@dataclass(frozen=True, slots=True, kw_only=True)
class Bucket:
    """One bucket of a query's answer: its start, the aggregate and how many points it holds."""

    start: datetime
    value: float
    count: int


@dataclass(frozen=True, kw_only=True)
class SeriesAnswer:
    """The buckets of a query (empty ones left out, in time order) and the units of the points in them."""

    buckets: list[Bucket]
    units: list[str]


def bucket_start(at: datetime, width: timedelta) -> datetime:
    """The start of the epoch-aligned bucket of ``width`` that holds ``at``."""
    step = int(width.total_seconds() * 1_000_000)
    micros = epoch_us(at)
    return datetime.fromtimestamp(0, UTC) + timedelta(microseconds=micros - micros % step)


def epoch_us(at: datetime) -> int:
    """Microseconds since the Unix epoch, exactly (no float rounding)."""
    delta = at.astimezone(UTC) - datetime.fromtimestamp(0, UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
