"""graph_writer end to end: producer → ingest → bus → queue → graph_writer → FalkorDB → ``GET /graph/...``.

- Idempotency: the same relationship events (trades, registrations, sightings, orders; producer-set ids)
  published twice, then put into graph_writer's DLQ and redriven, leave exactly the graph of one delivery:
  the same node and relationship counts as an in-memory oracle fed the events once, and the same nodes.
- Crash safety: graph_writer SIGKILLed while it holds a batch, then restarted, on a stack of its own: every
  event is in the graph exactly once, and the embedded FalkorDB server went down with the worker.
- Hostile input: quotes, backticks, braces and Cypher keywords in names are stored verbatim and never run;
  a NUL character is dead-lettered with its reason.

The sizes are ``tests/support/volumes.py``'s (``TRIBUTARY_E2E_SCALE=10`` sends the issue's 5,000 events on
MiniStack); ``bench/graph_bench.py`` measures throughput.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts import Envelope
from graph_writer.domain import plan, rows_of
from graph_writer.manifest import MANIFEST as GRAPH
from graph_writer.model import node_id
from graph_writer.testing import InMemoryGraphStore
from shared.testkit.envelopes import rule_body
from shared.testkit.letters import failure_of
from shared.testkit.waiting import wait_for
from tests.e2e.conftest import run_crash_stack
from tests.support.volumes import volume
from tributary.client import StackClient
from tributary.producers import MUNICIPALITIES, TEAMS
from tributary.stack import Stack

pytestmark = pytest.mark.e2e

SERVICE = "graph_writer"
# One client for the hundreds of reads the checks make: a new client per request costs ~20 ms of CPU (its
# TLS context), which added up to most of a test's time.
HTTP = httpx.Client(timeout=30)
HOSTILE = [
    "O'Neal",
    'The "Answer"',
    "back`tick`",
    "{braces}",
    "'}) MATCH (n) DETACH DELETE n //",
    '"}) CREATE (x:Pwned) RETURN x //',
    "$rows } ] ) ;",
    "\\u0000 \\n \\\\",
    "MERGE (a)-[:OWNS]->(b) SET a.admin = true",
]


def graph_url(description: dict[str, Any]) -> str:
    return str(description.get("graph_url") or description["services"][SERVICE]["url"])


def stats(url: str) -> dict[str, Any]:
    response = HTTP.get(f"{url}/graph/stats", timeout=30)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return {"nodes": body["nodes"], "relationships": body["relationships"]}


def node(url: str, id_: str) -> dict[str, Any] | None:
    response = HTTP.get(f"{url}/graph/nodes/{id_}", timeout=30)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _drained(client: StackClient) -> bool:
    return client.depths()[SERVICE] == {"queue": 0, "dlq": 0}


def _minus(after: dict[str, Any], before: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {kind: {k: after[kind][k] - before[kind][k] for k in after[kind]} for kind in after}


def unused_teams(url: str, rng: random.Random, count: int) -> list[str]:
    """Three-letter team codes no producer uses and the graph does not hold yet."""
    teams: list[str] = []
    while len(teams) < count:
        code = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3))
        if code not in TEAMS and code not in teams and node(url, f"team:{code}") is None:
            teams.append(code)
    return teams


def relationship_events(count: int, *, tag: str, teams: list[str], now: datetime) -> list[dict[str, Any]]:
    """``count`` events with producer-set ids, every entity namespaced by ``tag`` (teams: ``teams``).

    Per 20 events: 12 trades (two or three movements), 3 device registrations (devices move between
    sites, at random times, so the version guard decides), 3 cat sightings and 2 orders.
    """
    rng = random.Random(tag)
    events: list[dict[str, Any]] = []
    for i in range(count):
        at = (
            now - timedelta(seconds=rng.randint(60, 3 * 3600), milliseconds=rng.randint(0, 999))
        ).isoformat()
        kind = i % 20
        if kind < 12:
            a, b = rng.sample(teams, 2)
            players = rng.sample(range(1500), 3)
            moves = [(a, b), (b, a), (a, b)][: rng.randint(2, 3)]
            data: dict[str, Any] = {
                "trade_id": f"trd-{tag}-{i}",
                "season": "2025-26",
                "movements": [
                    {"player_id": f"pl-{tag}-{p}", "player_name": f"Player {p}", "from_team": f, "to_team": t}
                    for p, (f, t) in zip(players, moves, strict=False)
                ],
            }
            type_, source = "trade.completed", "e2e.graph.trades"
        elif kind < 15:
            data = {
                "device_id": f"dev-{tag}-{rng.randrange(200)}",
                "site_id": f"site-{tag}-{rng.randrange(15)}",
                "device_type": "air_quality_sensor",
                "model": f"AQ-{rng.randrange(5)}",
            }
            type_, source = "device.registered", "e2e.graph.iot"
        elif kind < 18:
            code, name = rng.choice(MUNICIPALITIES)
            data = {
                "sighting_id": f"sgt-{tag}-{i}",
                "cat_id": f"cat-{tag}-{rng.randrange(300)}",
                "municipality_code": code,
                "municipality_name": name,
                "status": rng.choice(["healthy", "injured", "sick"]),
                "ear_tipped": rng.random() < 0.5,
            }
            type_, source = "cat.sighting", "e2e.graph.cats"
        else:
            product = f"sku-{tag}-{rng.randrange(40)}"
            data = {
                "order_id": f"ord-{tag}-{i}",
                "shop_id": "shop-01",
                "customer_id": f"cus-{tag}-{rng.randrange(400)}",
                "currency": "JPY",
                "items": [{"product_id": product, "quantity": 2, "unit_price": "150"}],
                "total_amount": "300",
            }
            type_, source = "order.placed", "e2e.graph.shop"
        events.append(
            {
                "id": f"e2e-graph-{tag}-{i:05d}",
                "type": type_,
                "version": 1,
                "source": source,
                "time": at,
                "data": data,
            }
        )
    return events


def envelopes(events: list[dict[str, Any]]) -> list[Envelope]:
    now = datetime.now(UTC)
    return [Envelope.model_validate(e | {"ingested_at": now, "trace": None}) for e in events]


def oracle(events: list[dict[str, Any]]) -> InMemoryGraphStore:
    """The graph one delivery of ``events`` makes, by the in-memory store."""
    store = InMemoryGraphStore()
    store.write(plan(rows_of(e) for e in envelopes(events)))
    return store


def sample_ids(reference: InMemoryGraphStore, rng: random.Random, per_label: int = 15) -> list[str]:
    by_label: dict[str, list[str]] = {}
    for id_, props in reference.nodes.items():
        if props["label"] != "Municipality":  # shared with other tests' events
            by_label.setdefault(props["label"], []).append(id_)
    return [i for ids in by_label.values() for i in rng.sample(sorted(ids), min(per_label, len(ids)))]


def assert_same_nodes(url: str, reference: InMemoryGraphStore, ids: list[str]) -> None:
    for id_ in ids:
        expected = reference.node(id_)
        got = node(url, id_)
        assert expected is not None and got is not None, id_
        assert got["properties"] == expected.properties, id_
        neighbors = HTTP.get(f"{url}/graph/nodes/{id_}/neighbors", params={"limit": 1000}, timeout=30).json()
        expected_neighbors = reference.neighbors(id_, rel=None, depth=1, limit=1000) or []
        assert [n["id"] for n in neighbors["neighbors"]] == [n.id for n in expected_neighbors], id_


def marker_trade(tag: str, teams: list[str], now: datetime) -> dict[str, Any]:
    return {
        "id": f"e2e-graph-marker-{tag}",
        "type": "trade.completed",
        "version": 1,
        "source": "e2e.graph.marker",
        "time": now.isoformat(),
        "data": {
            "trade_id": f"trd-marker-{tag}",
            "season": "2025-26",
            "movements": [
                {"player_id": f"marker-{tag}", "player_name": "M", "from_team": teams[0], "to_team": teams[1]}
            ],
        },
    }


def redrive(sqs: Any, *, dlq_url: str, queue_url: str, timeout_s: float = 300) -> int:
    """Move every message of the DLQ back to its queue: send, then delete (works on every emulator)."""
    moved = 0
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=60
        ).get("Messages", [])
        if not messages:
            attrs = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
            if attrs["Attributes"]["ApproximateNumberOfMessages"] == "0":
                return moved
            continue
        sent = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)],
        )
        assert not sent.get("Failed"), sent["Failed"]
        sqs.delete_message_batch(
            QueueUrl=dlq_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        moved += len(messages)
    raise AssertionError(f"redrive did not finish in {timeout_s:.0f} s ({moved} moved)")


def test_the_same_events_delivered_twice_and_redriven_make_the_graph_once(
    stack: StackClient, emulator_name: str
) -> None:
    """Relationship events published twice with the same ids, then redriven from the DLQ: node and
    relationship counts and the nodes themselves are those of a single delivery."""
    count = volume("graph", emulator_name)
    url = graph_url(stack.description)
    sqs = stack.aws("sqs")
    queue = stack.description["queues"][SERVICE]
    tag = uuid.uuid4().hex[:8]
    rng = random.Random(tag)
    now = datetime.now(UTC)
    teams = unused_teams(url, rng, 20)
    events = relationship_events(count, tag=tag, teams=teams, now=now)
    reference = oracle(events)
    expected = reference.counts()
    # the municipalities these events sight that the graph already holds (small runs do not sight every one)
    sighted = [f"municipality:{code}" for code, _ in MUNICIPALITIES]
    shared = [id_ for id_ in sighted if id_ in reference.nodes and node(url, id_)]
    ids = sample_ids(reference, rng)
    assert wait_for(lambda: _drained(stack), timeout_s=300), stack.depths()
    before = stats(url)

    started = time.monotonic()
    first = stack.publish(events)
    assert len(first.accepted) == count and not first.rejected, first.rejected[:3]
    want_rels = expected.relationships

    def first_pass_stored() -> bool:
        return _minus(stats(url), before)["relationships"] == want_rels and _drained(stack)

    assert wait_for(first_pass_stored, timeout_s=600, interval_s=1), _minus(stats(url), before)
    once_s = time.monotonic() - started
    once = stats(url)
    delta = _minus(once, before)
    want_nodes = dict(expected.nodes, Municipality=expected.nodes["Municipality"] - len(shared))
    assert delta["nodes"] == want_nodes
    assert_same_nodes(url, reference, ids)

    started = time.monotonic()
    second = stack.publish(events)
    assert sorted(a["id"] for a in second.accepted) == sorted(e["id"] for e in events)
    marker = marker_trade(tag, teams, now)
    stack.publish([marker])
    reference.write(plan(rows_of(e) for e in envelopes([marker])))
    assert wait_for(lambda: node(url, node_id("player", f"marker-{tag}")) and _drained(stack), timeout_s=600)
    twice_s = time.monotonic() - started
    after_marker = _minus(stats(url), once)
    assert after_marker == {
        "nodes": {k: int(k == "Player") for k in once["nodes"]},
        "relationships": {k: int(k in {"TRADED_TO", "LEFT"}) for k in once["relationships"]},
    }
    once = stats(url)
    assert_same_nodes(url, reference, ids)

    started = time.monotonic()
    bodies = [rule_body(e) for e in envelopes(events)]
    for start in range(0, len(bodies), 10):
        chunk = bodies[start : start + 10]
        sent = sqs.send_message_batch(
            QueueUrl=queue["dlq_url"], Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(chunk)]
        )
        assert not sent.get("Failed"), sent["Failed"]
    assert redrive(sqs, dlq_url=queue["dlq_url"], queue_url=queue["url"]) == count
    assert wait_for(lambda: _drained(stack), timeout_s=600, interval_s=1), stack.depths()
    redrive_s = time.monotonic() - started
    assert stats(url) == once
    assert_same_nodes(url, reference, ids)
    print(
        f"\ngraph e2e: {count} events ({expected.total_relationships} relationships) in {once_s:.1f}s;"
        f" the resend handled in {twice_s:.1f}s and a DLQ redrive of all {count} in {redrive_s:.1f}s,"
        " counts and nodes unchanged"
    )


def test_hostile_names_are_stored_verbatim_and_a_nul_is_dead_lettered(stack: StackClient) -> None:
    """Quotes, backticks, braces and Cypher in names come back exactly; nothing of them runs; a NUL
    character is refused by ingest, and sent past ingest goes to the DLQ alone, with the field named."""
    url = graph_url(stack.description)
    sqs = stack.aws("sqs")
    queue = stack.description["queues"][SERVICE]
    tag = uuid.uuid4().hex[:8]
    teams = unused_teams(url, random.Random(tag), 2)
    now = datetime.now(UTC)
    events = [
        {
            "id": f"e2e-hostile-{tag}-{i}",
            "type": "trade.completed",
            "version": 1,
            "source": "e2e.graph.hostile",
            "time": (now - timedelta(minutes=i)).isoformat(),
            "data": {
                "trade_id": f"trd-hostile-{tag}-{i}",
                "season": "2025-26",
                "movements": [
                    {
                        "player_id": f"hostile-{tag}-{i}",
                        "player_name": name,
                        "from_team": teams[0],
                        "to_team": teams[1],
                    }
                ],
            },
        }
        for i, name in enumerate(HOSTILE)
    ]
    nul = events[0] | {"id": f"e2e-hostile-{tag}-nul"}
    nul["data"] = nul["data"] | {
        "trade_id": f"trd-nul-{tag}",
        "movements": [
            nul["data"]["movements"][0] | {"player_id": f"nul-{tag}", "player_name": "nul\x00name"}
        ],
    }
    device = {
        "id": f"e2e-hostile-{tag}-device",
        "type": "device.registered",
        "version": 1,
        "source": "e2e.graph.hostile",
        "time": now.isoformat(),
        "data": {
            "device_id": f"dev-{tag}",
            "site_id": f"site-{tag}",
            "device_type": "gateway",
            "model": HOSTILE[4],
        },
    }
    assert wait_for(lambda: _drained(stack), timeout_s=300), stack.depths()
    before = stats(url)
    published = stack.publish([*events, device, nul])
    assert len(published.accepted) == len(events) + 1, published.rejected
    [refused] = published.rejected  # ingest refuses a control character in free text, naming the field
    assert "data.movements.0.player_name" in json.dumps(refused)
    # A producer on the bus (or a redrive) skips ingest: graph_writer refuses the event alone.
    sqs.send_message(
        QueueUrl=queue["url"],
        MessageBody=json.dumps(nul | {"ingested_at": now.isoformat(), "trace": None}),
    )

    def dead_letter() -> dict[str, str] | None:
        for message in sqs.receive_message(
            QueueUrl=queue["dlq_url"],
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
        ).get("Messages", []):
            if nul["id"] in message["Body"]:
                sqs.delete_message(QueueUrl=queue["dlq_url"], ReceiptHandle=message["ReceiptHandle"])
                return failure_of(message)
        return None

    letter = wait_for(dead_letter, timeout_s=120)
    assert letter, "the NUL event did not reach the DLQ"
    assert letter["reason"] == "permanent" and letter["service"] == SERVICE
    assert "data.movements.0.player_name" in letter["error_message"]
    assert "control characters" in letter["error_message"]

    assert wait_for(lambda: _drained(stack), timeout_s=120), stack.depths()
    for i, name in enumerate(HOSTILE):
        player = node(url, f"player:hostile-{tag}-{i}")
        assert player is not None and player["properties"]["name"] == name
    registered = node(url, f"device:dev-{tag}")
    assert registered is not None and registered["properties"]["model"] == HOSTILE[4]
    assert node(url, f"player:nul-{tag}") is None
    delta = _minus(stats(url), before)
    assert delta["nodes"]["Player"] == len(HOSTILE) and delta["nodes"]["Device"] == 1
    assert delta["relationships"]["TRADED_TO"] == len(HOSTILE)
    assert all(v >= 0 for kind in delta.values() for v in kind.values()), delta


# -- crash safety, on a stack of its own ------------------------------------------------------------------


@pytest.fixture(scope="module")
def crash_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """ingest and graph_writer alone, with a 10 s visibility timeout: a crash's messages return soon."""
    yield from run_crash_stack(GRAPH, tmp_path_factory)


def _server_pid(stack: Stack) -> int:
    path = stack.data_dir / "services" / SERVICE / "falkordb" / "falkordb.pid"
    return int(path.read_text().strip())


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def test_sigkill_mid_batch_leaves_every_event_in_the_graph_once(crash_stack: Stack) -> None:
    """graph_writer is SIGKILLed while it holds messages (its FalkorDB server goes down with it), then
    restarted: the graph is exactly the graph of one delivery of every event."""
    client = StackClient(crash_stack.describe())
    url = graph_url(client.description)
    sqs = client.aws("sqs")
    queue_url = client.description["queues"][SERVICE]["url"]
    tag = uuid.uuid4().hex[:8]
    teams = unused_teams(url, random.Random(tag), 20)
    count = volume("crash", client.description["emulator"])
    events = relationship_events(count, tag=tag, teams=teams, now=datetime.now(UTC))
    expected = oracle(events).counts()
    publisher = threading.Thread(target=client.publish, args=(events,), kwargs={"per_request": 250})
    publisher.start()

    def holding() -> int:
        attrs = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )
        in_flight = int(attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"])
        return in_flight if in_flight and stats(url)["relationships"]["TRADED_TO"] > 0 else 0

    in_flight = wait_for(holding, timeout_s=180, interval_s=0.1)
    assert in_flight, "graph_writer never held a batch"
    stored_before = sum(stats(url)["relationships"].values())
    server = _server_pid(crash_stack)
    crash_stack.kill(SERVICE)
    assert wait_for(lambda: not _running(server), timeout_s=15, interval_s=0.1), (
        "FalkorDB outlived the worker"
    )
    publisher.join()
    crash_stack.restart(SERVICE)
    url = graph_url(crash_stack.describe())

    assert wait_for(
        lambda: stats(url)["relationships"] == expected.relationships and _drained(client), timeout_s=300
    ), (stats(url), client.depths())
    assert stats(url)["nodes"] == expected.nodes
    print(
        f"\ngraph crash: killed holding {in_flight} messages with {stored_before} of"
        f" {expected.total_relationships} relationships stored; after the restart every event is in once"
    )
