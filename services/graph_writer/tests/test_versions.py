"""A v1 producer and a v2 producer feed graph_writer through the runtime: identical graphs stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from contracts import Envelope
from graph_writer.handler import GraphWriter
from graph_writer.manifest import MANIFEST
from graph_writer.testing import InMemoryGraphStore
from shared.outcomes import RetryPolicy
from shared.processing import BatchProcessor
from shared.testing import InMemoryQueue
from shared.testkit.envelopes import rule_body
from shared.testkit.readings import reading_twins
from shared.upcasting import upcaster_for

START = datetime(2025, 6, 1, tzinfo=UTC)


def _store(events: list[dict[str, Any]]) -> InMemoryGraphStore:
    """The graph stored when ``events`` arrive as the bus delivers them, under the service's manifest."""
    queue, store = InMemoryQueue(), InMemoryGraphStore()
    for event in events:
        queue.send(rule_body(Envelope.model_validate(event | {"ingested_at": START})))
    processor = BatchProcessor(
        queue=queue,
        handler=GraphWriter(store=store),
        service=MANIFEST.name,
        policy=RetryPolicy(),
        upcast=upcaster_for(MANIFEST.consumes),
    )
    while queue.depth:
        processor.process(queue.receive(max_messages=10, wait_s=0))
    assert queue.dead == []
    return store


def test_v1_and_v2_readings_store_the_same_graph() -> None:
    """Same readings published as v1 and as v2: the same devices with the same ``last_seen``."""
    twins = reading_twins(30, start=START, devices=4)
    from_v1 = _store([v1 for v1, _ in twins])
    from_v2 = _store([v2 for _, v2 in twins])
    assert len(from_v1.nodes) == 4
    assert (from_v1.nodes, from_v1.edges) == (from_v2.nodes, from_v2.edges)
