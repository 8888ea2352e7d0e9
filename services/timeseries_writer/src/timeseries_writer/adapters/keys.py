"""Point identity in stores keyed on series and time (Timestream, InfluxDB).

Such a store keeps one value per series, measure and timestamp: a second point at the same instant
overwrites the first. Two *different* events of one series can share an instant (two cats sighted in one
ward in the same second), so the timestamp written is the event time in nanoseconds plus a stable offset
below one millisecond derived from the event id. A redelivered event lands on exactly its own point again
(an idempotent overwrite); distinct events stay distinct unless their ids collide on the offset (about 1
in 10^6 per pair at the same instant). No query at millisecond resolution or coarser can see the offset.
"""

from __future__ import annotations

import hashlib

from timeseries_writer.model import Point, epoch_us

OFFSET_RANGE_NS = 1_000_000


def id_offset_ns(event_id: str) -> int:
    """The event id's stable offset in ``[0, 1 ms)``."""
    digest = hashlib.blake2b(event_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % OFFSET_RANGE_NS


def timestamp_ns(point: Point) -> int:
    """The point's timestamp in the store: its time truncated to the millisecond, plus the id's offset.

    Truncating first keeps the sum inside the point's own millisecond, whatever sub-millisecond digits the
    producer sent.
    """
    ms = epoch_us(point.time) // 1000
    return ms * 1_000_000 + id_offset_ns(point.event_id)
