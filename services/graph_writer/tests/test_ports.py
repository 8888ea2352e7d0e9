"""The :class:`~graph_writer.ports.GraphStore` contract, run against the in-memory fake and FalkorDB."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from graph_writer.domain import HANDLED
from graph_writer.model import (
    LABELS,
    GraphBatch,
    InvalidNodeId,
    Neighbor,
    PlayerMove,
    Trade,
    Version,
    node_id,
)
from graph_writer.ports import GraphStore
from shared.errors import PermanentError
from shared.testkit.envelopes import envelope
from shared.testkit.samples import all_samples

from .builders import batch_of, order, reading, registered, sighting, trade

HOSTILE = [
    "it's",
    'say "hi"',
    "back`tick`",
    "{braces}",
    "}) MATCH (n) DETACH DELETE n //",
    "' OR 1=1 --",
    '"}) RETURN 1 //',
    "$rows",
    "\\",
    "\\\\n",
    "\\u0041",
    "line\nbreak\ttab\r",
    "CREATE (x:Pwned) RETURN x",
    "日本語 🐈",
    "/* comment */",
    " padded ",
    "a\x01b",
]


def _snapshot(store: GraphStore) -> dict[str, Any]:
    """Everything a reader can see: counts, and every node's properties and neighbors among known ids."""
    counts = store.counts()
    ids = [
        *(f"device:dev-{i}" for i in range(4)),
        *(f"site:site-{i}" for i in range(4)),
        "cat:c1",
        "cat:c2",
        "municipality:131041",
        "municipality:131016",
        *(f"player:p{i}" for i in range(4)),
        "team:LAL",
        "team:DAL",
        "team:BOS",
    ]
    nodes = {i: store.node(i) for i in ids}
    neighbors = {i: store.neighbors(i, rel=None, depth=1, limit=100) for i in ids}
    return {"nodes": counts.nodes, "rels": counts.relationships, "node": nodes, "neighbors": neighbors}


def _mixed_events() -> list[Any]:
    return [
        registered("dev-0", "site-0", 10),
        registered("dev-0", "site-1", 20),
        registered("dev-0", "site-2", 5),
        registered("dev-1", "site-1", 7, model="M-1"),
        registered("dev-1", "site-3", 7, id="ZZZZ-later-id", model="M-2"),
        registered("dev-1", "site-0", 7, id="0000-earlier-id", model="M-0"),
        reading("dev-0", 30),
        reading("dev-0", 25),
        reading("dev-2", 3),
        sighting("s1", "c1", 10, status="healthy"),
        sighting("s2", "c1", 40, status="injured", code="131016", name="千代田区"),
        sighting("s3", "c1", 20, status="sick"),
        sighting("s4", "c2", 15, name=None),
        trade("t1", ("p0", "DAL", "LAL"), ("p1", "LAL", "DAL"), minute=10),
        trade("t2", ("p0", "LAL", "BOS"), minute=50),
        trade("t3", ("p0", "BOS", "DAL"), minute=30),
        trade("t4", ("p2", "BOS", "LAL"), ("p2", "LAL", "DAL"), minute=60),
        order("o1", "cus-1", ("sku-1", 2, "100"), ("sku-2", 1, "50"), ("sku-1", 1, "100")),
    ]


def test_an_empty_graph_has_no_nodes(graph_store: GraphStore) -> None:
    """Counts are zero for every known label and type; reads of any id find nothing."""
    counts = graph_store.counts()
    assert set(counts.nodes) == set(LABELS.values()) and counts.total_nodes == 0
    assert counts.total_relationships == 0
    assert graph_store.node("device:nope") is None
    assert graph_store.neighbors("device:nope", rel=None, depth=2, limit=10) is None


def test_the_samples_make_the_documented_graph(graph_store: GraphStore) -> None:
    """One sample event per handled contract: its nodes, their properties and their relationships."""
    samples = [s for s in all_samples() if (s["type"], s["version"]) in HANDLED]
    graph_store.write(batch_of(envelope(s["type"], s["version"], time=s["time"]) for s in samples))
    counts = graph_store.counts()
    assert counts.nodes == {
        "Device": 1,
        "Site": 1,
        "Cat": 1,
        "Municipality": 1,
        "Player": 2,
        "Team": 2,
        "Customer": 1,
        "Product": 2,
    }
    assert counts.relationships == {"LOCATED_AT": 1, "SEEN_IN": 1, "TRADED_TO": 2, "LEFT": 2, "PURCHASED": 2}
    device = graph_store.node("device:dev-0042")
    assert device is not None and device.label == "Device"
    assert device.properties == {
        "device_id": "dev-0042",
        "device_type": "temperature_sensor",
        "model": "TS-200",
        "firmware": "2.3.1",
        "lat": 35.6895,
        "lon": 139.6917,
        "site_id": "site-tokyo-01",
        "registered_at": "2025-06-01T01:02:00.000Z",
        "last_seen": "2025-06-01T00:30:00.000Z",
    }
    luka = graph_store.node("player:1629029")
    assert luka is not None
    assert luka.properties == {
        "player_id": "1629029",
        "name": "Luka Dončić",
        "team": "LAL",
        "team_since": "2025-02-02T17:00:00.000Z",
    }
    cat = graph_store.node("cat:cat-shinjuku-0107")
    assert cat is not None and cat.properties["ear_tipped"] is True and cat.properties["status"] == "healthy"
    municipality = graph_store.node("municipality:131041")
    assert municipality is not None and municipality.properties["name"] == "新宿区"


def test_writing_the_same_batch_again_changes_nothing(graph_store: GraphStore) -> None:
    """A redelivered batch leaves exactly the graph the first delivery made."""
    batch = batch_of(_mixed_events())
    graph_store.write(batch)
    first = _snapshot(graph_store)
    graph_store.write(batch)
    assert _snapshot(graph_store) == first


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_order_and_batching_makes_the_same_graph(graph_store: GraphStore, seed: int) -> None:
    """Events shuffled and cut into random batches, some sent twice, give the graph of the in-order run."""
    from graph_writer.testing import InMemoryGraphStore

    events = _mixed_events()
    reference = InMemoryGraphStore()
    reference.write(batch_of(events))

    rng = random.Random(seed)
    shuffled = events + rng.sample(events, 5)
    rng.shuffle(shuffled)
    cuts = sorted(rng.sample(range(1, len(shuffled)), 4))
    for start, end in itertools.pairwise([0, *cuts, len(shuffled)]):
        graph_store.write(batch_of(shuffled[start:end]))
    assert _snapshot(graph_store) == _snapshot(reference)


def test_a_device_is_located_at_the_site_of_its_newest_registration(graph_store: GraphStore) -> None:
    """Re-registering moves the one LOCATED_AT edge; an older registration arriving later does not."""
    graph_store.write(batch_of([registered("dev-0", "site-0", 10)]))
    graph_store.write(batch_of([registered("dev-0", "site-1", 20, model="M-2")]))
    graph_store.write(batch_of([registered("dev-0", "site-2", 5, model="M-old")]))
    device = graph_store.node("device:dev-0")
    assert device is not None
    assert device.properties["site_id"] == "site-1" and device.properties["model"] == "M-2"
    located = graph_store.neighbors("device:dev-0", rel="LOCATED_AT", depth=1, limit=10)
    assert located == [Neighbor(id="site:site-1", label="Site", hops=1)]
    assert graph_store.counts().relationships["LOCATED_AT"] == 1
    assert graph_store.counts().nodes["Site"] == 3


def test_registrations_at_the_same_instant_are_ordered_by_event_id(graph_store: GraphStore) -> None:
    """Equal times: the larger event id wins, whichever arrives first."""
    late = registered("dev-0", "site-B", 5, id="01B")
    early = registered("dev-0", "site-A", 5, id="01A")
    graph_store.write(batch_of([late]))
    graph_store.write(batch_of([early]))
    device = graph_store.node("device:dev-0")
    assert device is not None and device.properties["site_id"] == "site-B"


def test_a_new_registration_clears_attributes_it_does_not_state(graph_store: GraphStore) -> None:
    """The newest registration says everything about the device: omitted attributes are removed."""
    graph_store.write(batch_of([registered("dev-0", "site-0", 1, model="M-1", firmware="1.0")]))
    graph_store.write(batch_of([registered("dev-0", "site-0", 2)]))
    device = graph_store.node("device:dev-0")
    assert device is not None
    assert "model" not in device.properties and "firmware" not in device.properties


def test_last_seen_only_moves_forward(graph_store: GraphStore) -> None:
    """A reading older than the newest one seen does not move ``last_seen`` back."""
    graph_store.write(batch_of([reading("dev-0", 30)]))
    graph_store.write(batch_of([reading("dev-0", 10)]))
    device = graph_store.node("device:dev-0")
    assert device is not None and device.properties == {
        "device_id": "dev-0",
        "last_seen": "2025-06-01T00:30:00.000Z",
    }


def test_each_sighting_is_an_edge_and_the_cat_keeps_its_newest_status(graph_store: GraphStore) -> None:
    """SEEN_IN per sighting id; status and municipality of the cat from its newest sighting."""
    graph_store.write(batch_of([sighting("s2", "c1", 40, status="injured", code="131016", name="千代田区")]))
    graph_store.write(batch_of([sighting("s1", "c1", 10, status="healthy"), sighting("s1", "c1", 10)]))
    cat = graph_store.node("cat:c1")
    assert cat is not None
    assert cat.properties["status"] == "injured" and cat.properties["municipality_code"] == "131016"
    assert graph_store.counts().relationships["SEEN_IN"] == 2
    reached = graph_store.neighbors("cat:c1", rel="SEEN_IN", depth=1, limit=10)
    assert [n.id for n in reached or []] == ["municipality:131016", "municipality:131041"]


def test_a_municipality_keeps_the_name_of_its_newest_naming_sighting(graph_store: GraphStore) -> None:
    """A newer sighting without a name keeps the name; an older one with another name does not win."""
    graph_store.write(batch_of([sighting("s1", "c1", 20, name="新宿区")]))
    graph_store.write(batch_of([sighting("s2", "c1", 10, name="旧名"), sighting("s3", "c1", 30, name=None)]))
    municipality = graph_store.node("municipality:131041")
    assert municipality is not None and municipality.properties["name"] == "新宿区"


def test_a_player_plays_for_the_team_of_the_newest_trade(graph_store: GraphStore) -> None:
    """TRADED_TO and LEFT per trade; the player's team follows the newest trade, not the last written."""
    graph_store.write(batch_of([trade("t2", ("p0", "LAL", "BOS"), minute=50)]))
    graph_store.write(batch_of([trade("t1", ("p0", "DAL", "LAL"), minute=10)]))
    player = graph_store.node("player:p0")
    assert player is not None and player.properties["team"] == "BOS"
    assert player.properties["team_since"] == "2025-06-01T00:50:00.000Z"
    teams = graph_store.neighbors("player:p0", rel="TRADED_TO", depth=1, limit=10)
    assert [n.id for n in teams or []] == ["team:BOS", "team:LAL"]
    left = graph_store.neighbors("player:p0", rel="LEFT", depth=1, limit=10)
    assert [n.id for n in left or []] == ["team:DAL", "team:LAL"]


def test_in_a_multi_leg_trade_the_last_movement_of_a_player_wins(graph_store: GraphStore) -> None:
    """A player moving twice in one trade ends at the second movement's team."""
    graph_store.write(batch_of([trade("t4", ("p2", "BOS", "LAL"), ("p2", "LAL", "DAL"), minute=60)]))
    player = graph_store.node("player:p2")
    assert player is not None and player.properties["team"] == "DAL"


def test_each_order_line_is_a_purchase(graph_store: GraphStore) -> None:
    """One PURCHASED edge per line, even for the same product twice in one order."""
    graph_store.write(
        batch_of([order("o1", "cus-1", ("sku-1", 2, "100"), ("sku-2", 1, "50"), ("sku-1", 1, "100"))])
    )
    counts = graph_store.counts()
    assert counts.relationships["PURCHASED"] == 3 and counts.nodes["Product"] == 2
    products = graph_store.neighbors("customer:cus-1", rel="PURCHASED", depth=1, limit=10)
    assert [n.id for n in products or []] == ["product:sku-1", "product:sku-2"]


def test_neighbors_are_nearest_first_then_by_id_up_to_the_limit(graph_store: GraphStore) -> None:
    """Hops count from the start node in either direction; the limit cuts the ordered list."""
    graph_store.write(
        batch_of(
            [
                trade("t1", ("p0", "DAL", "LAL"), minute=1),
                trade("t2", ("p1", "LAL", "BOS"), ("p3", "BOS", "LAL"), minute=2),
            ]
        )
    )
    assert graph_store.neighbors("player:p0", rel=None, depth=3, limit=10) == [
        Neighbor(id="team:DAL", label="Team", hops=1),
        Neighbor(id="team:LAL", label="Team", hops=1),
        Neighbor(id="player:p1", label="Player", hops=2),
        Neighbor(id="player:p3", label="Player", hops=2),
        Neighbor(id="team:BOS", label="Team", hops=3),
    ]
    assert graph_store.neighbors("player:p0", rel=None, depth=3, limit=3) == [
        Neighbor(id="team:DAL", label="Team", hops=1),
        Neighbor(id="team:LAL", label="Team", hops=1),
        Neighbor(id="player:p1", label="Player", hops=2),
    ]
    assert graph_store.neighbors("player:p0", rel="LEFT", depth=3, limit=10) == [
        Neighbor(id="team:DAL", label="Team", hops=1)
    ]
    assert graph_store.neighbors("player:p0", rel=None, depth=1, limit=10) == [
        Neighbor(id="team:DAL", label="Team", hops=1),
        Neighbor(id="team:LAL", label="Team", hops=1),
    ]


@pytest.mark.parametrize(
    ("rel", "depth", "limit"), [("KNOWS", 1, 10), (None, 0, 10), (None, 4, 10), (None, 1, 0), (None, 1, 1001)]
)
def test_bad_neighbor_arguments_raise_value_error(
    graph_store: GraphStore, rel: str | None, depth: int, limit: int
) -> None:
    """An unknown relationship type, depth outside 1..3 or limit outside 1..1000 is refused."""
    with pytest.raises(ValueError):  # noqa: PT011  (the message names the argument; asserted in test_api)
        graph_store.neighbors("player:p0", rel=rel, depth=depth, limit=limit)


@pytest.mark.parametrize("bad_id", ["dev-0042", "robot:1", "device:", ":x", ""])
def test_ids_without_a_known_prefix_are_invalid(graph_store: GraphStore, bad_id: str) -> None:
    """Reads refuse ids that name no label, rather than scanning the graph."""
    with pytest.raises(InvalidNodeId):
        graph_store.node(bad_id)
    with pytest.raises(InvalidNodeId):
        graph_store.neighbors(bad_id, rel=None, depth=1, limit=1)


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_ids_and_values_are_stored_verbatim(graph_store: GraphStore, value: str) -> None:
    """Quotes, backticks, braces, backslashes and Cypher keywords in ids and values are data, never code.

    Values are kept verbatim; ids are keyed by their percent-encoded form, which is verbatim for every id a
    contract allows."""
    move = PlayerMove(player_id=value, player_name=value, from_team=value + "-from", to_team=value + "-to")
    hostile_trade = Trade(
        trade_id=value, season="2024-25", at="x", version=Version(ms=1, event_id=value), moves=(move,)
    )
    graph_store.write(GraphBatch(trades=(hostile_trade,)))
    player = graph_store.node(node_id("player", value))
    assert player is not None
    assert player.properties == {"player_id": value, "name": value, "team": value + "-to", "team_since": "x"}
    teams = graph_store.neighbors(node_id("player", value), rel=None, depth=1, limit=10)
    expected = sorted([node_id("team", value + "-from"), node_id("team", value + "-to")])
    assert [n.id for n in teams or []] == expected
    assert graph_store.counts().total_nodes == 3
    assert graph_store.counts().total_relationships == 2


def test_ids_that_differ_only_in_surrounding_whitespace_are_different_nodes(graph_store: GraphStore) -> None:
    """``a``, `` a`` and ``a `` are three players, each found by its own id (FalkorDB's index trims)."""
    moves = tuple(
        PlayerMove(player_id=p, player_name=p, from_team="BOS", to_team="LAL") for p in ("a", " a", "a ")
    )
    graph_store.write(
        GraphBatch(
            trades=(
                Trade(
                    trade_id="t", season="2024-25", at="x", version=Version(ms=1, event_id="e"), moves=moves
                ),
            )
        )
    )
    assert graph_store.counts().nodes["Player"] == 3
    for p in ("a", " a", "a "):
        player = graph_store.node(node_id("player", p))
        assert player is not None and player.properties["player_id"] == p


def test_an_id_too_long_to_key_is_a_permanent_error(graph_store: GraphStore) -> None:
    """A key over the id limit is refused as permanently bad, and nothing is written."""
    move = PlayerMove(player_id="p" * 2000, player_name="x", from_team="BOS", to_team="LAL")
    batch = GraphBatch(
        trades=(
            Trade(trade_id="t", season="2024-25", at="x", version=Version(ms=1, event_id="e"), moves=(move,)),
        )
    )
    with pytest.raises(PermanentError, match="cannot key"):
        graph_store.write(batch)
    assert graph_store.counts().total_nodes == 0
