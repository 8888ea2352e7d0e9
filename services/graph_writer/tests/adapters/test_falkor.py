"""Tests of the FalkorDB adapter: indexes, chunked calls, and how FalkorDB errors become ours."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from falkordb import FalkorDB

from graph_writer import cypher
from graph_writer.adapters.falkor import FalkorGraphStore
from graph_writer.adapters.falkor_server import EmbeddedFalkorServer
from graph_writer.model import GraphBatch, PlayerMove, Trade, Version
from services.graph_writer.tests.builders import batch_of, trade
from shared.errors import PermanentError, RetryableError


def test_every_label_has_an_id_index_that_lookups_use(
    falkor_store: FalkorGraphStore, falkor_db: FalkorDB
) -> None:
    """``ensure_indexes`` is idempotent, and the node and neighbor queries scan the index, not the label."""
    falkor_store.ensure_indexes()
    graph = falkor_store._graph
    for label in cypher.NODE_PROPERTIES:
        plan = str(graph.explain(cypher.node_query(label), {"id": "x:y"}))
        assert "Node By Index Scan" in plan, plan
    plan = str(graph.explain(cypher.neighbors_query("Player", None, 5), {"ids": ["player:p"]}))
    assert "Node By Index Scan" in plan, plan
    plan = str(graph.explain(cypher.TRADES, {"rows": []}))
    assert "Label Scan" not in plan and "All Node Scan" not in plan, plan


def test_rows_are_written_in_chunks_of_rows_per_call(falkor_db: FalkorDB) -> None:
    """450 trades at 200 rows per call make three write calls, and all 450 trades land."""
    graph = falkor_db.select_graph(f"test_{uuid.uuid4().hex}")
    store = FalkorGraphStore(graph=graph, rows_per_call=200)
    store.ensure_indexes()
    try:
        store.write(batch_of([trade(f"t{i}", (f"p{i}", "LAL", "BOS"), minute=i % 60) for i in range(450)]))
        assert store.write_calls == 3
        assert store.counts().relationships["TRADED_TO"] == 450
    finally:
        graph.delete()


def test_a_value_falkordb_cannot_parse_is_a_permanent_error(falkor_store: FalkorGraphStore) -> None:
    """A NUL in a value (the handlers refuse them first) is refused by FalkorDB: PermanentError."""
    move = PlayerMove(player_id="p1", player_name="nul\x00name", from_team="LAL", to_team="BOS")
    batch = GraphBatch(
        trades=(
            Trade(trade_id="t", season="2024-25", at="x", version=Version(ms=1, event_id="e"), moves=(move,)),
        )
    )
    with pytest.raises(PermanentError, match="FalkorDB rejected"):
        falkor_store.write(batch)


def test_a_malformed_query_is_a_permanent_error(falkor_store: FalkorGraphStore) -> None:
    """A syntax error is about the query: PermanentError chained to the driver's error."""
    with pytest.raises(PermanentError) as caught:
        falkor_store._run("MATCH (n RETURN n", {}, write=False)
    assert caught.value.__cause__ is not None


@pytest.fixture
def stopped_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FalkorDB]:
    """A client of a server that has been shut down."""
    server = EmbeddedFalkorServer(tmp_path_factory.mktemp("gone"))
    server.start()
    db = FalkorDB(**server.client_kwargs())
    server.stop()
    yield db
    db.close()


def test_a_server_that_is_down_is_retryable(stopped_server: FalkorDB) -> None:
    """Connection refused (no socket): RetryableError for writes and reads."""
    store = FalkorGraphStore(graph=stopped_server.select_graph("g"))
    with pytest.raises(RetryableError, match="unreachable"):
        store.write(batch_of([trade("t1", ("p1", "LAL", "BOS"))]))
    with pytest.raises(RetryableError):
        store.node("player:p1")


@pytest.fixture
def paused_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedFalkorServer]:
    """A server of its own (the test pauses it), continued and stopped afterwards whatever happens."""
    server = EmbeddedFalkorServer(tmp_path_factory.mktemp("paused"))
    server.start()
    try:
        yield server
    finally:
        if server.pid is not None:
            os.kill(server.pid, signal.SIGCONT)
        server.stop()


def test_a_stalled_server_raises_retryable_within_the_socket_timeout(
    paused_server: EmbeddedFalkorServer,
) -> None:
    """SIGSTOP the server: a write raises RetryableError after the client's socket timeout, not never."""
    timeout_s = 2.0
    db = FalkorDB(**paused_server.client_kwargs(), socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    store = FalkorGraphStore(graph=db.select_graph("g"))
    store.ensure_indexes()
    pid = paused_server.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        result: dict[str, BaseException | float] = {}

        def call() -> None:
            started = time.monotonic()
            try:
                store.write(batch_of([trade("t1", ("p1", "LAL", "BOS"))]))
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread to assert on
                result["error"] = exc
            result["s"] = time.monotonic() - started

        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        worker.join(timeout=60)  # a generous deadline: without a socket timeout the call never returns
        assert not worker.is_alive(), "the store call hung on the paused server"
        assert isinstance(result.get("error"), RetryableError), result
        assert "unreachable" in str(result["error"])
        assert isinstance(result["s"], float) and result["s"] < 30, "raised, but not within the timeout"
    finally:
        os.kill(pid, signal.SIGCONT)
    store.write(batch_of([trade("t1", ("p1", "LAL", "BOS"))]))  # the server is back: writes succeed
    db.close()
