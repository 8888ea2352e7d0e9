"""The :class:`~ingest.ports.EventPublisher` contract, run against every implementation.

The in-memory fake and the EventBridge adapter (on moto's in-process AWS, with a rule delivering the bus's
events to an SQS queue) must behave alike, so tests written against the fake hold for the real bus.
"""

from __future__ import annotations

import pytest

from ingest.testing import Bus, InMemoryPublisher, eventbridge_bus
from shared.testkit.envelopes import envelope

TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"


def _in_memory() -> Bus:
    publisher = InMemoryPublisher()
    return Bus(publisher, lambda: list(publisher.published))


@pytest.fixture(params=["in-memory", "eventbridge"])
def bus(request: pytest.FixtureRequest, aws: None) -> Bus:
    return _in_memory() if request.param == "in-memory" else eventbridge_bus()


def test_published_envelopes_arrive_once_and_unchanged(bus: Bus) -> None:
    """Every envelope of a successful publish reaches the bus exactly once, as it was."""
    events = [envelope(t, trace=TRACE) for t in ("sensor.reading", "order.placed", "trade.completed")]
    events += [envelope() for _ in range(12)]
    assert bus.publisher.publish(events) == []
    delivered = bus.delivered()
    assert sorted(delivered, key=lambda e: e.id) == sorted(events, key=lambda e: e.id)


def test_publishing_nothing_publishes_nothing(bus: Bus) -> None:
    """An empty publish returns no failures and puts nothing on the bus."""
    assert bus.publisher.publish([]) == []
    assert bus.delivered() == []
