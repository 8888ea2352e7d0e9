"""Tests of the shared Cypher store logic over a recording engine: chunking, reads and call counts."""

from __future__ import annotations

from typing import Any

import pytest
from structlog.testing import capture_logs

from graph_writer import cypher
from graph_writer.adapters.cypher_store import CypherGraphStore
from graph_writer.model import GraphBatch, PlayerMove, Trade, Version
from services.graph_writer.tests.builders import batch_of, order, trade
from shared.errors import PermanentError


class Recorder(CypherGraphStore):
    """Records every query and answers from a script of result rows."""

    def __init__(
        self, *, rows_per_call: int = 200, answers: list[list[dict[str, Any]]] | None = None
    ) -> None:
        super().__init__(rows_per_call=rows_per_call)
        self.calls: list[tuple[str, dict[str, Any], bool]] = []
        self.answers = list(answers or [])

    def _run(self, query: str, params: dict[str, Any], *, write: bool) -> list[dict[str, Any]]:
        self.calls.append((query, params, write))
        return self.answers.pop(0) if self.answers else []


def test_each_statement_is_chunked_on_its_own() -> None:
    """250 trades and 10 orders at 100 rows per call: 3 trade calls then 1 order call, all writes."""
    store = Recorder(rows_per_call=100)
    events = [trade(f"t{i}", (f"p{i}", "LAL", "BOS")) for i in range(250)]
    events += [order(f"o{i}", "cus-1", ("sku-1", 1, "10")) for i in range(10)]
    store.write(batch_of(events))
    assert [(q, len(p["rows"]), w) for q, p, w in store.calls] == [
        (cypher.TRADES, 100, True),
        (cypher.TRADES, 100, True),
        (cypher.TRADES, 50, True),
        (cypher.ORDERS, 10, True),
    ]
    assert (store.write_calls, store.read_calls) == (4, 0)


def test_an_empty_batch_makes_no_call() -> None:
    """Nothing planned, nothing sent."""
    store = Recorder()
    store.write(batch_of([]))
    assert store.calls == []


def test_rows_per_call_must_be_positive() -> None:
    """Zero rows per call is a configuration error."""
    with pytest.raises(ValueError, match="rows_per_call"):
        Recorder(rows_per_call=0)


def test_a_missing_start_node_ends_the_neighbor_search_at_once() -> None:
    """None, after the one node lookup."""
    store = Recorder(answers=[[]])
    assert store.neighbors("team:LAL", rel=None, depth=3, limit=5) is None
    assert len(store.calls) == 1


def test_the_search_stops_when_a_hop_finds_nothing_new() -> None:
    """Depth 3 asked, but hop 2 only finds the start again: two neighbor queries, not three."""
    store = Recorder(answers=[[{"id": "team:LAL"}], [{"id": "player:p1"}], [{"id": "team:LAL"}]])
    found = store.neighbors("team:LAL", rel=None, depth=3, limit=5)
    assert [n.id for n in found or []] == ["player:p1"]
    assert len(store.calls) == 3


def test_an_id_that_cannot_be_keyed_fails_before_any_call() -> None:
    """A PermanentError and no query sent."""
    store = Recorder()
    move = PlayerMove(player_id="p" * 2000, player_name="x", from_team="LAL", to_team="BOS")
    too_long = Trade(
        trade_id="t", season="2024-25", at="x", version=Version(ms=1, event_id="e"), moves=(move,)
    )
    with pytest.raises(PermanentError, match="cannot key"):
        store.write(GraphBatch(trades=(too_long,)))
    assert store.calls == []


def test_each_write_is_logged_with_its_rows_and_calls() -> None:
    """One ``graph_written`` line per batch: rows planned and store calls made."""
    store = Recorder(rows_per_call=100)
    with capture_logs() as logs:
        store.write(batch_of([trade(f"t{i}", (f"p{i}", "LAL", "BOS")) for i in range(150)]))
    (line,) = [e for e in logs if e["event"] == "graph_written"]
    assert (line["rows"], line["calls"]) == (150, 2)
