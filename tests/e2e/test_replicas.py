"""Replicas end to end: two archivers and two graph_writers on one queue each, calls through the AWS proxy.

The replicas of a service share its store (archiver: the SQLite ledger; graph_writer: the FalkorDB server
the first replica owns, the other attached to its socket), so every event is stored once: each id is in one
archive object line, and the graph holds exactly the relationships of one delivery. The proxy attributes
every AWS call to the service that made it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.manifest import MANIFEST as ARCHIVER
from graph_writer.manifest import MANIFEST as GRAPH
from ingest.manifest import MANIFEST as INGEST
from shared.testkit.bulk import TRADE_EDGES, trades
from shared.testkit.waiting import wait_for
from tests.e2e.conftest import E2E_SERVICE_ENV, archived_copies, e2e_emulators, start_stack, trade_edges
from tributary.client import StackClient
from tributary.stack import Stack

pytestmark = pytest.mark.e2e

EVENTS = 300


@pytest.fixture(scope="module")
def replicated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    emulators = e2e_emulators()
    if emulators == ["external"]:
        pytest.skip("replicas and the AWS proxy need a local stack")
    data_dir = Path(tmp_path_factory.mktemp("replicas"))
    with start_stack(
        "ministack" if "ministack" in emulators else emulators[0],  # the faster one: the test is not about it
        data_dir,
        service_env=E2E_SERVICE_ENV,
        manifests=[INGEST, ARCHIVER, GRAPH],
        replicas={"archiver": 2, "graph_writer": 2},
        aws_proxy=True,
    ) as stack:
        yield stack


def test_two_replicas_store_each_event_once(replicated: Stack) -> None:
    """Both replicas of each worker run; every event is archived once and its edges are in the graph once."""
    description = replicated.describe()
    assert [len(description["services"][s]["pids"]) for s in ("archiver", "graph_writer")] == [2, 2]
    client = StackClient(description)
    events = trades(EVENTS, prefix="rep", source="e2e.replicas")
    assert len(client.publish(events).accepted) == EVENTS
    graph_url = description["graph_url"]

    wait_for(
        lambda: (
            trade_edges(graph_url) >= TRADE_EDGES * EVENTS and len(archived_copies(client, "rep-")) >= EVENTS
        ),
        timeout_s=90,
    )
    wait_for(lambda: client.depths()["archiver"]["queue"] == 0, timeout_s=30)
    copies = archived_copies(client, "rep-")
    assert set(copies) == {e["id"] for e in events}
    assert set(copies.values()) == {1}
    assert trade_edges(graph_url) == TRADE_EDGES * EVENTS
    for replica_url in description["services"]["graph_writer"]["urls"]:  # both read the one shared store
        assert trade_edges(replica_url) == TRADE_EDGES * EVENTS


def test_the_proxy_attributes_calls_to_each_hop(replicated: Stack) -> None:
    """ingest's PutEvents, the workers' receives, deletes and S3 puts are counted under their own hop."""
    client = StackClient(replicated.describe())
    # Its own traffic: the test does not lean on another.
    events = trades(10, prefix=f"hop-{uuid.uuid4().hex[:8]}", source="e2e.replicas")
    assert len(client.publish(events).accepted) == len(events)
    assert set(replicated.describe()["aws_proxy"]) == {"ingest", "archiver", "graph_writer"}

    def every_hop_counted() -> bool:
        counts = replicated.proxy.counts()
        workers = [counts.get(w, {}) for w in ("archiver", "graph_writer")]
        return (
            counts.get("ingest", {}).get("events:PutEvents", 0) >= 1
            and counts.get("archiver", {}).get("s3:PutObject", 0) >= 1
            and all(
                w.get("sqs:ReceiveMessage", 0) >= 1 and w.get("sqs:DeleteMessageBatch", 0) >= 1
                for w in workers
            )
        )

    wait_for(every_hop_counted, timeout_s=90, what="every hop's calls counted", seen=replicated.proxy.counts)
    assert "s3:PutObject" not in replicated.proxy.counts()["graph_writer"]
