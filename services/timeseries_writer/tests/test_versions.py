"""A v1 producer and a v2 producer feed timeseries_writer through the runtime: identical points stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from contracts import Envelope
from shared.outcomes import RetryPolicy
from shared.processing import BatchProcessor
from shared.testing import InMemoryQueue
from shared.testkit.envelopes import rule_body
from shared.testkit.readings import reading_twins
from shared.upcasting import upcaster_for
from timeseries_writer.domain import TimeWindow
from timeseries_writer.handler import SeriesWriter
from timeseries_writer.manifest import MANIFEST
from timeseries_writer.model import Point
from timeseries_writer.testing import InMemorySeriesStore

from .conftest import NOW


def _store(events: list[dict[str, Any]]) -> dict[tuple[str, str], Point]:
    """The points stored when ``events`` arrive as the bus delivers them, under the service's manifest."""
    queue, store = InMemoryQueue(), InMemorySeriesStore()
    for event in events:
        queue.send(rule_body(Envelope.model_validate(event | {"ingested_at": NOW})))
    processor = BatchProcessor(
        queue=queue,
        handler=SeriesWriter(store=store, window=TimeWindow(), clock=lambda: NOW),
        service=MANIFEST.name,
        policy=RetryPolicy(),
        upcast=upcaster_for(MANIFEST.consumes),
    )
    while queue.depth:
        processor.process(queue.receive(max_messages=10, wait_s=0))
    assert queue.dead == []
    return store.points


def test_v1_and_v2_readings_store_the_same_points() -> None:
    """Same readings published as v1 and as v2: the same points, units converted alike (hPa → Pa)."""
    twins = reading_twins(40, start=NOW - timedelta(hours=1))
    from_v1 = _store([v1 for v1, _ in twins])
    from_v2 = _store([v2 for _, v2 in twins])
    assert len(from_v1) == 40
    assert from_v1 == from_v2
    assert {p.unit for p in from_v1.values()} == {"celsius", "pascal", "percent", "ppm"}
