"""The archiver as separate tasks: 2 and 4 replicas, each with its own data folder, SIGKILLed mid-batch.

Separate folders mean no replica can see another's SQLite file: exactly-once must come from the shared
DynamoDB ledger, which the stack gives the archiver on MiniStack (as the CDK stack does on AWS). Replicas
hold partly filled batches most of the time (2 s batch wait, steady publishing), so a SIGKILL drops
messages that were received but not archived, and some of those whose object landed but whose claim was
never completed: their messages come back after the 10 s visibility timeout (the claim's lease), and the
ledger (plus a HEAD of the earlier object) must archive each event exactly once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archiver.manifest import MANIFEST as ARCHIVER
from ingest.manifest import MANIFEST as INGEST
from shared.testkit.waiting import wait_for
from tests.e2e.conftest import e2e_emulators, start_stack
from tests.support.faults import in_flight
from tributary.client import StackClient
from tributary.stack import Stack

pytestmark = pytest.mark.e2e

EVENTS = 800
SERVICE_ENV = {
    "archiver": {
        "TRIBUTARY_RECEIVE_WAIT_S": "1",
        "TRIBUTARY_BATCH_MAX_WAIT_MS": "2000",
        "TRIBUTARY_BATCH_MAX_EVENTS": "60",
    }
}


@pytest.fixture(params=[2, 4], ids=["2-tasks", "4-tasks"])
def tasks(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """ingest and ``n`` archiver replicas with a data folder each, on MiniStack (it serves DynamoDB)."""
    if "ministack" not in e2e_emulators():
        pytest.skip("the shared DynamoDB ledger needs an emulator that serves DynamoDB (MiniStack)")
    archiver = replace(ARCHIVER, queue=replace(ARCHIVER.queue, visibility_timeout_s=10))
    data_dir = Path(tmp_path_factory.mktemp(f"archiver-tasks-{request.param}"))
    with start_stack(
        "ministack",
        data_dir,
        service_env=SERVICE_ENV,
        manifests=[INGEST, archiver],
        replicas={"archiver": request.param},
        own_data_dirs={"archiver"},
    ) as stack:
        yield stack


def readings(count: int, tag: str) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    return [
        {
            "id": f"{tag}-{i:05d}",
            "type": "sensor.reading",
            "version": 1,
            "source": "e2e.tasks",
            "time": (now - timedelta(seconds=i)).isoformat(),
            "data": {
                "device_id": f"dev-{i % 7}",
                "site_id": "site-e2e",
                "metric": "temperature",
                "value": float(i),
                "unit": "celsius",
            },
        }
        for i in range(count)
    ]


def test_every_event_is_archived_exactly_once_across_tasks_killed_mid_batch(tasks: Stack) -> None:
    """Kill half the replicas mid-batch, publish on, restart them: missing 0, duplicated 0."""
    description = tasks.describe()
    replicas = len(description["services"]["archiver"]["pids"])
    client = StackClient(description)
    events = readings(EVENTS, f"tasks{replicas}")
    half = EVENTS // 2

    def archived() -> Counter[str]:
        return Counter(envelope["id"] for _, envelope in client.archived())

    assert len(client.publish(events[:half]).accepted) == half
    assert wait_for(lambda: len(archived()) >= half // 4, timeout_s=60), "nothing archived yet"
    assert wait_for(lambda: in_flight(client, "archiver"), timeout_s=60, interval_s=0.05), "none held"
    killed = [pid for replica in range(1, replicas, 2) for pid in tasks.kill("archiver", replica)]
    assert len(killed) == replicas // 2
    assert description["state_backend"] == "dynamodb"
    assert len(client.publish(events[half:]).accepted) == EVENTS - half
    tasks.restart("archiver")

    expected = {str(e["id"]) for e in events}
    wait_for(lambda: expected <= set(archived()), timeout_s=180)
    wait_for(lambda: client.depths()["archiver"]["queue"] == 0, timeout_s=60)
    copies = archived()
    missing = len(expected - set(copies))
    duplicated = sum(n - 1 for n in copies.values())
    assert (missing, duplicated) == (0, 0), f"{replicas} tasks: missing {missing}, duplicated {duplicated}"
    assert set(copies) == expected
    ledger = client.aws("dynamodb").scan(
        TableName=f"{description['bus_name']}-archiver-state", Select="COUNT", ConsistentRead=True
    )
    assert ledger["Count"] >= EVENTS, "the ledger is the shared DynamoDB table, not per-task SQLite files"
