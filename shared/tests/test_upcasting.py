"""Tests of runtime upcasting: handlers see only the newest accepted version; bad old events dead-letter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from contracts import Envelope
from shared.errors import ContractError
from shared.manifest import Subscription
from shared.outcomes import RetryPolicy
from shared.processing import BatchProcessor
from shared.testing import InMemoryQueue
from shared.testkit.envelopes import envelope, rule_body
from shared.upcasting import no_upcast, upcaster_for

READINGS = (
    Subscription(type="sensor.reading", versions=(1, 2)),
    Subscription(type="cat.sighting", versions=(1,)),
)


class Recording:
    def __init__(self) -> None:
        self.seen: list[Envelope] = []

    def __call__(self, events: Sequence[Envelope]) -> Mapping[str, Exception]:
        self.seen.extend(events)
        return {}


def test_older_versions_become_the_newest_accepted() -> None:
    """v1 is upcast to v2; v2 and other types pass unchanged."""
    upcast = upcaster_for(READINGS)
    v1, v2, cat = envelope("sensor.reading", 1), envelope("sensor.reading", 2), envelope("cat.sighting", 1)
    assert upcast(v1).version == 2 and upcast(v1).id == v1.id
    assert upcast(v2) is v2 and upcast(cat) is cat


def test_a_service_accepting_only_v1_keeps_v1() -> None:
    """The newest *accepted* version is the target, not the newest contract."""
    old = envelope("sensor.reading", 1)
    assert upcaster_for((Subscription(type="sensor.reading", versions=(1,)),))(old) is old


def test_no_versions_means_no_upcasting() -> None:
    """The archiver (``type="*"``) stores events as published."""
    assert upcaster_for((Subscription(type="*"),)) is no_upcast


def test_bad_old_data_is_a_contract_error_naming_the_field() -> None:
    bad = envelope("sensor.reading", 1).model_copy(update={"data": {"device_id": "d"}})
    with pytest.raises(ContractError, match=r"sensor\.reading\.v1 cannot be upcast to v2: data\.site_id"):
        upcaster_for(READINGS)(bad)


def test_the_processor_hands_upcast_events_and_dead_letters_what_cannot_be() -> None:
    """Through BatchProcessor: the handler sees v2 only; the broken v1 goes to the DLQ with its reason."""
    queue = InMemoryQueue()
    good_v1, v2 = envelope("sensor.reading", 1), envelope("sensor.reading", 2)
    bad_v1 = envelope("sensor.reading", 1).model_copy(update={"data": {"device_id": "d"}})
    for event in (good_v1, v2, bad_v1):
        queue.send(rule_body(event))
    handler = Recording()
    processor = BatchProcessor(
        queue=queue, handler=handler, service="svc", policy=RetryPolicy(), upcast=upcaster_for(READINGS)
    )
    processor.process(queue.receive(max_messages=10, wait_s=0))
    assert sorted((e.id, e.version) for e in handler.seen) == sorted([(good_v1.id, 2), (v2.id, 2)])
    [letter] = queue.dead
    assert letter.failure and "cannot be upcast to v2" in letter.failure.error_message
    assert queue.depth == 0
