"""Tests of graph_writer's batch handler: one planned write per batch, failures isolated per event."""

from __future__ import annotations

from structlog.testing import capture_logs

from contracts import Envelope
from graph_writer.handler import GraphWriter
from graph_writer.model import GraphBatch
from graph_writer.testing import InMemoryGraphStore
from shared.errors import PermanentError, RetryableError

from .builders import order, reading, registered, sighting, trade


class RejectingStore(InMemoryGraphStore):
    """Refuses, as permanently bad, any batch holding a trade with id ``poison``."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def write(self, batch: GraphBatch) -> None:
        self.batches.append(len(batch))
        if any(t.trade_id == "poison" for t in batch.trades):
            raise PermanentError("store refused the poison trade")
        super().write(batch)


def _events() -> list[Envelope]:
    return [
        registered("d1", "s1", 1),
        reading("d1", 2),
        sighting("s1", "c1", 3),
        trade("t1", ("p1", "LAL", "BOS"), minute=4),
        order("o1", "cus-1", ("sku-1", 1, "100"), minute=5),
    ]


def test_a_batch_is_one_write_and_every_event_is_stored() -> None:
    """Five kinds of event, one store write, no failures."""
    store = InMemoryGraphStore()
    assert GraphWriter(store=store)(_events()) == {}
    assert store.writes == 1
    assert store.counts().total_relationships == 5


def test_the_same_batch_again_is_harmless() -> None:
    """A redelivered batch succeeds and leaves the graph as it was."""
    store = InMemoryGraphStore()
    writer = GraphWriter(store=store)
    events = _events()
    writer(events)
    before = (dict(store.nodes), dict(store.edges))
    assert writer(events) == {}
    assert (store.nodes, store.edges) == before


def test_an_unmappable_event_fails_alone_and_permanently() -> None:
    """An unknown type is a PermanentError for that event; the others are written."""
    store = InMemoryGraphStore()
    stray = Envelope.model_validate(_events()[0].model_dump() | {"id": "stray", "type": "archive.note"})
    with capture_logs() as logs:
        failures = GraphWriter(store=store)([stray, *_events()])
    assert list(failures) == ["stray"] and isinstance(failures["stray"], PermanentError)
    assert store.counts().total_relationships == 5
    assert [e["event_id"] for e in logs if e["event"] == "event_rejected"] == ["stray"]


def test_a_store_outage_fails_every_event_as_retryable() -> None:
    """Store down: each event gets the RetryableError, so the runtime backs off and retries them."""
    store = InMemoryGraphStore()
    store.down = True
    events = _events()
    failures = GraphWriter(store=store)(events)
    assert set(failures) == {e.id for e in events}
    assert all(isinstance(exc, RetryableError) for exc in failures.values())


def test_a_batch_the_store_refuses_is_split_until_the_poison_event_is_alone() -> None:
    """Halves are written again; only the event the store refuses fails, and permanently."""
    store = RejectingStore()
    events = [trade(f"t{i}", (f"p{i}", "LAL", "BOS"), minute=i) for i in range(7)]
    poison = trade("poison", ("px", "LAL", "BOS"))
    events.insert(3, poison)
    with capture_logs() as logs:
        failures = GraphWriter(store=store)(events)
    assert list(failures) == [poison.id] and isinstance(failures[poison.id], PermanentError)
    assert store.counts().nodes["Player"] == 7
    assert [e["event_id"] for e in logs if e["event"] == "event_rejected_by_store"] == [poison.id]
    assert len(store.batches) <= 2 * 3 + 1  # log2(8) levels of halves


def test_each_batch_is_logged_with_its_outcome() -> None:
    """One ``graph_batch_written`` line with the counts."""
    with capture_logs() as logs:
        GraphWriter(store=InMemoryGraphStore())(_events())
    (line,) = [e for e in logs if e["event"] == "graph_batch_written"]
    assert (line["events"], line["stored"], line["failed"]) == (5, 5, 0)
