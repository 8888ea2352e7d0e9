"""Tests of the shared openCypher text: every value a parameter, none of the dialect traps."""

from __future__ import annotations

import re

import pytest

from graph_writer import cypher
from graph_writer.model import LABELS, NODE_PROPERTIES, RELATIONSHIPS

from .builders import batch_of, order, reading, registered, sighting, trade

WRITES = {
    "placements": cypher.PLACEMENTS,
    "seen": cypher.SEEN,
    "sightings": cypher.SIGHTINGS,
    "municipality_names": cypher.MUNICIPALITY_NAMES,
    "trades": cypher.TRADES,
    "orders": cypher.ORDERS,
}
READS = [
    *(cypher.node_query(label) for label in NODE_PROPERTIES),
    *(cypher.neighbors_query(label, rel, 10) for label in NODE_PROPERTIES for rel in [None, *RELATIONSHIPS]),
    *(cypher.count_nodes_query(label) for label in NODE_PROPERTIES),
    *(cypher.count_relationships_query(rel) for rel in RELATIONSHIPS),
]


@pytest.mark.parametrize("query", [*WRITES.values(), *READS])
def test_no_dialect_traps(query: str) -> None:
    """No datetime(), CALL, id(), list literals or string literals: all data comes in as parameters."""
    assert not re.search(r"\b(datetime|date|localdatetime|id|elementId)\s*\(", query, re.IGNORECASE)
    assert not re.search(r"\bCALL\b", query, re.IGNORECASE)
    relationship_patterns = re.compile(r"\[\w*(:\w+)?( \{[^}]*\})?\]")
    assert "[" not in relationship_patterns.sub("", query)
    assert "'" not in query and '"' not in query


@pytest.mark.parametrize("query", READS)
def test_reads_return_only_aliased_scalar_columns(query: str) -> None:
    """Each returned column is ``<property or count> AS <alias>``; no nodes, maps or lists."""
    columns = query.split(" RETURN ", 1)[1].split(" ORDER BY ")[0].split(" LIMIT ")[0]
    columns = columns.removeprefix("DISTINCT ")
    for column in columns.split(", "):
        assert re.fullmatch(r"(n|m)\.\w+ AS \w+|count\((n|e)\) AS n", column), column


@pytest.mark.parametrize("query", WRITES.values())
def test_writes_unwind_rows_and_merge(query: str) -> None:
    """Every write unwinds ``$rows`` and only MERGEs (never CREATE), keyed on ``~id``."""
    assert query.startswith("UNWIND $rows AS r\n")
    assert "CREATE" not in query.replace("ON CREATE", "")
    assert "MERGE (" in query and "{`~id`: " in query


@pytest.mark.parametrize("query", [*WRITES.values(), *READS])
def test_the_id_is_only_matched_in_node_patterns(query: str) -> None:
    """Neptune's ``~id`` is no ordinary property: it appears only as ``{`~id`: …}``, never as ``x.`~id```."""
    assert query.count("`~id`") == query.count("{`~id`: ")


def test_statements_carry_rows_for_each_kind_in_the_batch() -> None:
    """One statement per kind present, each with one row per planned row (trades nest their movements)."""
    batch = batch_of(
        [
            registered("d1", "s1"),
            reading("d1"),
            sighting("x1", "c1"),
            trade("t1", ("p1", "LAL", "BOS"), ("p2", "BOS", "LAL")),
            order("o1", "cus-1", ("sku-1", 1, "10")),
        ]
    )
    statements = cypher.write_statements(batch)
    assert [(s.name, s.query, len(s.rows)) for s in statements] == [
        (name, WRITES[name], 1) for name in WRITES
    ]
    trade_row = statements[4].rows[0]
    assert [m["player"] for m in trade_row["moves"]] == ["player:p1", "player:p2"]
    assert statements[0].rows[0]["device"] == "device:d1" and statements[0].rows[0]["site"] == "site:s1"


def test_an_empty_batch_has_no_statements() -> None:
    """Nothing to write, nothing sent."""
    assert cypher.write_statements(batch_of([])) == []


def test_only_known_labels_and_types_are_spliced() -> None:
    """Labels and types come from fixed sets; anything else is refused before a query exists."""
    with pytest.raises(ValueError, match="unknown label"):
        cypher.node_query("Device) DETACH DELETE (n")
    with pytest.raises(ValueError, match="unknown relationship type"):
        cypher.neighbors_query("Device", "LOCATED_AT]-() DETACH DELETE n //", 10)
    with pytest.raises(ValueError, match="limit"):
        cypher.neighbors_query("Device", None, "1 MATCH (n) DETACH DELETE n")  # type: ignore[arg-type]


def test_every_label_gets_an_id_index() -> None:
    """FalkorDB indexes ``~id`` per label."""
    assert cypher.index_statements() == [
        f"CREATE INDEX FOR (n:{label}) ON (n.`~id`)" for label in LABELS.values()
    ]
