"""The walking skeleton end to end: producer → ingest → bus → queue → archiver → S3, and the DLQ."""

from __future__ import annotations

import json
import time
from collections import Counter

import httpx
import pytest

from shared.testkit.letters import failure_of
from shared.testkit.waiting import wait_for
from tests.support.archive_schemas import schema_violations
from tests.support.volumes import volume
from tributary.client import StackClient
from tributary.producers import domain_events, invalid_events

pytestmark = pytest.mark.e2e


def test_every_valid_event_is_archived_exactly_once(stack: StackClient, emulator_name: str) -> None:
    """The volume's events (1,000 on MiniStack) with 5% invalid: valid ones in S3 once each by id, invalid
    ones rejected by field, and every line of the archive valid against its version's published JSON
    Schema."""
    total = volume("skeleton", emulator_name)
    valid = domain_events(total * 19 // 80)  # 4 domains: 95% of the total
    broken = invalid_events(total - len(valid))
    events = valid + [event for event, _ in broken]
    started = time.monotonic()
    result = stack.publish(events)
    published_s = time.monotonic() - started

    assert set(result.statuses) == {202}
    assert len(result.accepted) == len(valid)
    assert sorted(a["index"] for a in result.accepted) == list(range(len(valid)))
    assert sorted(r["index"] for r in result.rejected) == list(range(len(valid), total))
    for rejection in result.rejected:
        _, expected_loc = broken[rejection["index"] - len(valid)]
        assert [e["loc"] for e in rejection["errors"]] == [expected_loc], rejection
        assert all(e["msg"] for e in rejection["errors"])

    accepted = {a["id"] for a in result.accepted}

    def archived_ids() -> Counter[str] | None:
        # Other e2e modules share the stack and the archive: count this test's events only.
        ids = Counter(env["id"] for _, env in stack.archived() if env["id"] in accepted)
        return ids if accepted <= set(ids) else None

    archived = wait_for(archived_ids, timeout_s=240, interval_s=1.0)
    elapsed = time.monotonic() - started
    assert archived, "not every accepted event reached the archive in time"
    assert set(archived) == accepted
    assert [i for i, n in archived.items() if n != 1] == []
    print(
        f"\nskeleton e2e: published {total} events in {published_s:.1f}s "
        f"({total / published_s:.0f} events/s through ingest); {len(valid)} archived in {elapsed:.1f}s "
        f"({len(valid) / elapsed:.0f} events/s end to end)"
    )

    def drained() -> bool:
        return all(d == {"queue": 0, "dlq": 0} for d in stack.depths().values())

    # every worker catches up (graph, series and the notifier may trail the archive under load)
    wait_for(drained, timeout_s=240, interval_s=1.0, what="every queue and DLQ empty", seen=stack.depths)
    archive = [envelope for _, envelope in stack.archived()]  # these events and all other modules' so far
    assert schema_violations(archive) == []
    print(f"skeleton e2e: {len(archive)} archived lines, each valid against its version's JSON Schema")


def test_archived_objects_are_partitioned_and_hold_the_envelope(stack: StackClient) -> None:
    """Keys follow the Hive layout and each line is the envelope that was published."""
    result = stack.publish(domain_events(5, seed=99))
    ids = {a["id"] for a in result.accepted}

    def mine() -> list[tuple[str, dict]] | None:  # type: ignore[type-arg]
        found = [(k, e) for k, e in stack.archived() if e["id"] in ids]
        return found if len(found) == len(ids) else None

    found = wait_for(mine, timeout_s=120, interval_s=1.0)
    assert found
    for key, envelope in found:
        assert key.startswith(f"events/type={envelope['type']}/version={envelope['version']}/dt=")
        assert "/hour=" in key and key.endswith(".ndjson.gz")
        assert set(envelope) == {"id", "type", "version", "source", "time", "ingested_at", "trace", "data"}
        assert envelope["trace"].startswith("Root=1-")


def test_poison_message_lands_in_the_dlq_with_its_reason(stack: StackClient) -> None:
    """A message that is no envelope goes to the archiver's DLQ with the reason attributes."""
    sqs = stack.aws("sqs")
    queue = stack.description["queues"]["archiver"]
    poison = json.dumps({"detail-type": "sensor.reading.v1", "detail": {"id": "p-1", "type": "??"}})
    sqs.send_message(QueueUrl=queue["url"], MessageBody=poison)

    def dead() -> list[dict] | None:  # type: ignore[type-arg]
        got = [m for m in stack.dead_letters("archiver") if m["Body"] == poison]
        return got or None

    letters = wait_for(dead, timeout_s=60)
    assert letters, "the poison message did not reach the DLQ"
    attrs = failure_of(letters[0])
    assert attrs["reason"] == "permanent"
    assert attrs["error_type"] == "ContractError"
    assert attrs["service"] == "archiver"
    assert attrs["attempts"] == "1"
    assert "no valid envelope" in attrs["error_message"]
    assert attrs["first_failure_at"].endswith("+00:00")
    # the poison is gone from the queue (the DLQ watcher's own ops.dlq_depth event may pass through first)
    assert wait_for(lambda: stack.queue_depth(queue["url"]) == 0, timeout_s=30)

    if "notifier_url" in stack.description:  # the stack's watcher reports the DLQ; the notifier alerts

        def dlq_alert() -> list[dict] | None:  # type: ignore[type-arg]
            alerts = httpx.get(
                f"{stack.description['notifier_url']}/v1/alerts", params={"limit": 1000}
            ).json()
            found = [
                a for a in alerts["alerts"] if a["rule"] == "dlq-not-empty" and a["subject"] == "archiver"
            ]
            return found or None

        assert wait_for(dlq_alert, timeout_s=60), "no ops.dlq_depth alert for the archiver's DLQ"
    sqs.purge_queue(QueueUrl=queue["dlq_url"])
