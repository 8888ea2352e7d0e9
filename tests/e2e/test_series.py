"""timeseries_writer end to end: producer → ingest → bus → queue → timeseries_writer → ``GET /series``.

- Readings published twice with the same ids (a producer resending) give exactly the aggregates of once.
- A SIGKILL of the worker while it holds a batch loses nothing and duplicates nothing (its own stack, so
  the worker can be killed and restarted without disturbing the session's).
- Bad input (times far in the future or past, a NaN value, no unit) lands in the DLQ with its reason and
  is never stored, and the worker keeps running.

The sizes are ``tests/support/volumes.py``'s (``TRIBUTARY_E2E_SCALE=10`` sends the issue's 10,000 readings
twice on MiniStack); ``bench/series_bench.py`` measures throughput.
"""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from contracts import new_event_id
from shared.testkit.bulk import readings
from shared.testkit.letters import failure_of
from shared.testkit.waiting import wait_for
from tests.e2e.conftest import run_crash_stack
from tests.support.volumes import volume
from timeseries_writer.manifest import MANIFEST as SERIES
from tributary.client import StackClient
from tributary.stack import Stack

pytestmark = pytest.mark.e2e

SERVICE = "timeseries_writer"
SOURCE = "e2e.series"


def series_url(description: dict[str, Any]) -> str:
    return str(description.get("series_url") or description["services"][SERVICE]["url"])


def aggregates(url: str, *, site: str, now: datetime, agg: str, bucket: str = "1h") -> list[dict[str, Any]]:
    params = {
        "metric": "temperature",
        "site": site,
        "from": (now - timedelta(hours=3)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
        "bucket": bucket,
        "agg": agg,
    }
    response = httpx.get(f"{url}/series", params=params, timeout=30)
    response.raise_for_status()
    buckets: list[dict[str, Any]] = response.json()["buckets"]
    return buckets


def stored(url: str, *, site: str, now: datetime) -> int:
    return sum(b["count"] for b in aggregates(url, site=site, now=now, agg="count"))


def expected_buckets(events: list[dict[str, Any]], agg: str) -> list[tuple[str, float, int]]:
    groups: dict[str, list[float]] = {}
    for event in events:
        at = datetime.fromisoformat(event["time"]).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        groups.setdefault(at.isoformat(), []).append(event["data"]["value"])
    fns: dict[str, Callable[[list[float]], float]] = {
        "sum": math.fsum,
        "count": len,
        "min": min,
        "max": max,
        "avg": lambda v: math.fsum(v) / len(v),
    }
    return [(start, fns[agg](values), len(values)) for start, values in sorted(groups.items())]


def assert_buckets(got: list[dict[str, Any]], expected: list[tuple[str, float, int]]) -> None:
    assert [(b["start"], b["count"]) for b in got] == [(start, count) for start, _, count in expected]
    assert [b["value"] for b in got] == pytest.approx([value for _, value, _ in expected])


def _drained(client: StackClient) -> bool:
    return client.depths()[SERVICE] == {"queue": 0, "dlq": 0}


def test_readings_delivered_twice_give_the_same_aggregates(stack: StackClient, emulator_name: str) -> None:
    """Readings published twice with the same ids: every aggregate equals the once-only answer."""
    count = volume("series", emulator_name)
    url = series_url(stack.description)
    now = datetime.now(UTC)
    site = f"site-dup-{uuid.uuid4().hex[:8]}"
    events = readings(count, site=site, now=now, source=SOURCE, prefix=f"dup-{uuid.uuid4().hex[:8]}")

    started = time.monotonic()
    first = stack.publish(events)
    assert len(first.accepted) == count and not first.rejected
    assert wait_for(lambda: stored(url, site=site, now=now) == count, timeout_s=300), stored(
        url, site=site, now=now
    )
    once_s = time.monotonic() - started
    once = {
        agg: aggregates(url, site=site, now=now, agg=agg) for agg in ("avg", "min", "max", "sum", "count")
    }
    for agg, buckets in once.items():
        assert_buckets(buckets, expected_buckets(events, agg))

    started = time.monotonic()
    second = stack.publish(events)
    assert sorted(a["id"] for a in second.accepted) == sorted(e["id"] for e in events)
    # A marker published after the resend: once it is stored and the queue is empty, the resend is handled.
    marker = readings(
        1, site=site + "-marker", now=now, source=SOURCE, prefix=f"marker-{uuid.uuid4().hex[:8]}"
    )
    stack.publish(marker)
    assert wait_for(lambda: stored(url, site=site + "-marker", now=now) == 1, timeout_s=300)
    wait_for(lambda: _drained(stack), timeout_s=300, what="the queues to drain", seen=stack.depths)
    twice_s = time.monotonic() - started
    twice = {agg: aggregates(url, site=site, now=now, agg=agg) for agg in once}
    assert twice == once
    print(
        f"\nseries e2e: {count} readings stored in {once_s:.1f}s ({count / once_s:.0f}/s end to end);"
        f" the resend handled in {twice_s:.1f}s, aggregates unchanged"
    )


def _receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    got = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=1,
        MessageAttributeNames=["All"],
        VisibilityTimeout=2,
    )
    messages: list[dict[str, Any]] = got.get("Messages", [])
    return messages


def _envelope(data: dict[str, Any], *, time_: datetime) -> dict[str, Any]:
    return {
        "id": new_event_id(),
        "type": "sensor.reading",
        "version": 1,
        "source": "e2e.series",
        "time": time_.isoformat(),
        "ingested_at": time_.isoformat(),
        "trace": None,
        "data": data,
    }


def test_bad_input_is_dead_lettered_with_reasons_and_never_stored(stack: StackClient) -> None:
    """Far-future and far-past readings (accepted by ingest), a NaN value and a missing unit (sent straight
    to the queue, as a redrive could) each reach the DLQ with the field; nothing of them is stored."""
    url = series_url(stack.description)
    sqs = stack.aws("sqs")
    queue = stack.description["queues"][SERVICE]
    now = datetime.now(UTC)
    site = f"site-bad-{uuid.uuid4().hex[:8]}"
    base = {
        "device_id": "dev-bad",
        "site_id": site,
        "metric": "temperature",
        "value": 21.0,
        "unit": "celsius",
    }
    far_future = now + timedelta(days=3650)
    far_past = now - timedelta(days=3650)
    published = stack.publish(
        [
            {
                "type": "sensor.reading",
                "version": 1,
                "source": "e2e.series",
                "time": t.isoformat(),
                "data": base,
            }
            for t in (far_future, far_past, now)
        ]
    )
    assert len(published.accepted) == 3, published.rejected
    future_id, past_id, good_id = (a["id"] for a in sorted(published.accepted, key=lambda a: a["index"]))
    nan = _envelope(base | {"value": math.nan}, time_=now)
    no_unit = _envelope({k: v for k, v in base.items() if k != "unit"}, time_=now)
    for envelope in (nan, no_unit):
        sqs.send_message(QueueUrl=queue["url"], MessageBody=json.dumps(envelope))  # NaN as JSON's NaN literal

    expected = {  # v1 readings are upcast to v2 before the handler: their broken data fails the upcast
        future_id: ("PermanentError", "in the future"),
        past_id: ("PermanentError", "in the past"),
        nan["id"]: ("ContractError", "NaN is not a JSON number"),  # refused by the bounded parser already
        no_unit["id"]: ("ContractError", "cannot be upcast to v2: data.unit: Field required"),
    }
    letters: dict[str, dict[str, str]] = {}

    def collect() -> bool:
        for message in _receive_all(sqs, queue["dlq_url"]):
            body = json.loads(message["Body"])
            event_id = body.get("detail", body)["id"]
            if event_id in expected:
                letters[event_id] = failure_of(message)
                sqs.delete_message(QueueUrl=queue["dlq_url"], ReceiptHandle=message["ReceiptHandle"])
        return set(letters) == set(expected)

    assert wait_for(collect, timeout_s=90, interval_s=0.2), sorted(set(expected) - set(letters))
    for event_id, (error_type, reason) in expected.items():
        attrs = letters[event_id]
        assert attrs["reason"] == "permanent", attrs
        assert attrs["error_type"] == error_type
        assert attrs["service"] == SERVICE
        assert reason in attrs["error_message"], attrs

    assert wait_for(lambda: stored(url, site=site, now=now) == 1, timeout_s=60)
    for at in (far_future, far_past):
        params = {
            "metric": "temperature",
            "site": site,
            "from": (at - timedelta(hours=1)).isoformat(),
            "to": (at + timedelta(hours=1)).isoformat(),
            "bucket": "1h",
            "agg": "count",
        }
        assert httpx.get(f"{url}/series", params=params, timeout=30).json()["buckets"] == []
    assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    assert good_id not in letters


# -- crash safety, on a stack of its own ------------------------------------------------------------------


@pytest.fixture(scope="module")
def crash_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """ingest and timeseries_writer alone, with a 10 s visibility timeout: a crash's messages return soon."""
    yield from run_crash_stack(SERIES, tmp_path_factory)


def test_sigkill_mid_batch_loses_and_duplicates_nothing(crash_stack: Stack) -> None:
    """The worker is SIGKILLed while it holds messages, then restarted: every reading is stored once."""
    client = StackClient(crash_stack.describe())
    url = series_url(client.description)
    sqs = client.aws("sqs")
    queue_url = client.description["queues"][SERVICE]["url"]
    now = datetime.now(UTC)
    site = f"site-crash-{uuid.uuid4().hex[:8]}"
    count = volume("crash", client.description["emulator"])
    events = readings(count, site=site, now=now, source=SOURCE, prefix=f"crash-{uuid.uuid4().hex[:8]}")
    publisher = threading.Thread(target=client.publish, args=(events,), kwargs={"per_request": 250})
    publisher.start()

    def holding() -> int:
        attrs = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )
        in_flight = int(attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"])
        return in_flight if in_flight and stored(url, site=site, now=now) > 0 else 0

    in_flight = wait_for(holding, timeout_s=120, interval_s=0.1)
    assert in_flight, "the worker never held a batch"
    before = stored(url, site=site, now=now)
    crash_stack.kill(SERVICE)
    publisher.join()
    crash_stack.restart(SERVICE)

    assert wait_for(lambda: stored(url, site=site, now=now) == len(events), timeout_s=240), stored(
        url, site=site, now=now
    )
    assert wait_for(lambda: _drained(client), timeout_s=60), client.depths()
    for agg in ("sum", "count", "min", "max"):
        assert_buckets(aggregates(url, site=site, now=now, agg=agg), expected_buckets(events, agg))
    print(
        f"\nseries crash: killed holding {in_flight} messages, {before} of {len(events)} stored;"
        " after the restart all stored once"
    )
