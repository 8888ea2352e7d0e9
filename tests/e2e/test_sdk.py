"""The producer SDK against the running stack: thousands of events through a bus that fails some entries.

:class:`~tributary_sdk.testing.FlakyEvents` wraps the stack's real ``events`` client and fails every 7th
entry of each PutEvents call (and that event again on its first retry) with ``ThrottlingException``, sending
the rest for real. A rule of this test's own routes the run's events to its own queue, where every event id
must arrive exactly once; the oversize events, refused before sending, must never arrive.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from tenacity import wait_exponential

from shared.putevents import entry_size
from shared.testkit.samples import load_sample
from shared.testkit.waiting import wait_for
from shared.tracing import new_trace_header
from tests.support.volumes import volume
from tributary.client import StackClient
from tributary_sdk import TOO_LARGE, Event, Publisher
from tributary_sdk.events import prepare
from tributary_sdk.testing import FlakyEvents

pytestmark = pytest.mark.e2e

OVERSIZE = 10


@pytest.fixture
def tap(stack: StackClient) -> Iterator[tuple[str, str]]:
    """A queue of this test's own with a rule routing one fresh ``source`` to it: (source, queue URL)."""
    run = uuid.uuid4().hex[:8]
    source, name = f"tests.sdk.{run}", f"tributary-e2e-sdk-{run}"
    sqs, events = stack.aws("sqs"), stack.aws("events")
    bus = stack.description["bus_name"]
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name=name, EventBusName=bus, EventPattern=json.dumps({"source": [source]}), State="ENABLED"
    )
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
    yield source, url
    events.remove_targets(Rule=name, EventBusName=bus, Ids=["tap"])
    events.delete_rule(Name=name, EventBusName=bus)
    sqs.delete_queue(QueueUrl=url)


def _drain(sqs: Any, url: str, seen: Counter[str]) -> None:
    """Receive and delete until the queue answers empty, four receivers at once."""

    def receiver() -> list[str]:
        ids: list[str] = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            ids.extend(json.loads(m["Body"])["detail"]["id"] for m in messages)
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        return ids

    with ThreadPoolExecutor(max_workers=4) as pool:
        for ids in pool.map(lambda _: receiver(), range(4)):
            seen.update(ids)


def test_every_event_arrives_exactly_once_through_injected_partial_failures(
    stack: StackClient, emulator_name: str, tap: tuple[str, str]
) -> None:
    """Partial PutEvents failures are retried entry by entry; oversize events are refused, never sent."""
    source, url = tap
    count = volume("sdk", emulator_name)
    # Device registrations: only graph_writer and the archiver consume them, so the stack's own fan-out
    # stays small and the run measures the SDK rather than four workers competing for the cores.
    data = load_sample("device.registered", 1)["data"]
    events = [
        Event(type="device.registered", version=1, data=data | {"device_id": f"sdk-{i % 50}"})
        for i in range(count)
    ]
    oversize = Event(type="device.registered", version=1, data=data | {"device_id": "sdk-" + "9" * 120})
    [probe], _ = prepare(events[:1], source=source, bus_name="b", trace=new_trace_header())
    limit = entry_size(probe.entry) + 60  # room for ids of other lengths, not for 120 more characters

    flaky = FlakyEvents(stack.aws("events"), every=7, times=2)
    publisher = Publisher.to_bus(
        client=flaky,
        source=source,
        bus_name=stack.description["bus_name"],
        wait=wait_exponential(multiplier=0.01, max=0.2),
        max_event_bytes=limit,
    )
    started = time.monotonic()
    results = publisher.publish([*events, *([oversize] * OVERSIZE)])
    publish_s = time.monotonic() - started
    publisher.close()

    sent = {r.id for r in results if r.ok}
    assert len(sent) == count, Counter(r.code for r in results if not r.ok)
    assert [r.code for r in results[count:]] == [TOO_LARGE] * OVERSIZE
    assert len(flaky.faults.failed) >= count // 8  # faults really were injected

    sqs, seen = stack.aws("sqs"), Counter[str]()
    assert wait_for(lambda: _drain(sqs, url, seen) or len(seen) >= count, timeout_s=120, interval_s=0.2)
    time.sleep(1)
    _drain(sqs, url, seen)  # a late duplicate would show here
    assert set(seen) == sent
    assert set(seen.values()) == {1}
    print(f"\n{count} events in {publish_s:.1f} s, {len(flaky.faults.failed)} entries failed at first")
