"""What every openCypher store shares: the statements, chunking and the reads; adapters only run a query.

:class:`CypherGraphStore` implements :class:`~graph_writer.ports.GraphStore` over one method, ``_run``,
that sends a query with its parameters and returns result rows as dicts. Neptune and FalkorDB subclass it,
so they run exactly the text in :mod:`graph_writer.cypher`.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import structlog

from graph_writer import cypher
from graph_writer.model import (
    MAX_DEPTH,
    NODE_PROPERTIES,
    RELATIONSHIPS,
    GraphBatch,
    GraphCounts,
    InvalidNodeId,
    Neighbor,
    Node,
    label_of,
)
from shared.errors import PermanentError

MAX_NEIGHBORS = 1000

log = structlog.get_logger()


def check_neighbors_args(rel: str | None, depth: int, limit: int) -> None:
    """Raise ValueError for an unknown ``rel`` or a depth or limit out of range."""
    if rel is not None and rel not in RELATIONSHIPS:
        raise ValueError(f"unknown relationship type {rel!r}; known: {', '.join(RELATIONSHIPS)}")
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be 1..{MAX_DEPTH}, not {depth}")
    if not 1 <= limit <= MAX_NEIGHBORS:
        raise ValueError(f"limit must be 1..{MAX_NEIGHBORS}, not {limit}")


class CypherGraphStore(ABC):
    """A :class:`~graph_writer.ports.GraphStore` over an openCypher engine.

    Args:
        rows_per_call: how many rows one write call unwinds (a trade's or an order's nested movements
            and lines travel with their row).
    """

    def __init__(self, *, rows_per_call: int = 200) -> None:
        if rows_per_call < 1:
            raise ValueError("rows_per_call must be at least 1")
        self.rows_per_call = rows_per_call
        self._lock = threading.Lock()
        self.write_calls = 0
        self.read_calls = 0

    @abstractmethod
    def _run(self, query: str, params: dict[str, Any], *, write: bool) -> list[dict[str, Any]]:
        """Run one query; result rows as ``{column: value}``. Raises RetryableError or PermanentError."""

    def _count(self, *, write: bool) -> None:
        with self._lock:
            if write:
                self.write_calls += 1
            else:
                self.read_calls += 1

    # -- writes ------------------------------------------------------------------------------------------

    def write(self, batch: GraphBatch) -> None:
        try:
            statements = cypher.write_statements(batch)
        except InvalidNodeId as exc:
            raise PermanentError(f"batch holds an id the graph cannot key: {exc}") from exc
        started = time.perf_counter()
        calls = 0
        for statement in statements:
            for start in range(0, len(statement.rows), self.rows_per_call):
                rows = statement.rows[start : start + self.rows_per_call]
                self._count(write=True)
                calls += 1
                self._run(statement.query, {"rows": rows}, write=True)
        log.info(
            "graph_written",
            rows=sum(len(s.rows) for s in statements),
            calls=calls,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )

    # -- reads -------------------------------------------------------------------------------------------

    def node(self, node_id: str) -> Node | None:
        label = label_of(node_id)
        self._count(write=False)
        rows = self._run(cypher.node_query(label), {"id": node_id}, write=False)
        if not rows:
            return None
        row = rows[0]
        properties = {p: row[p] for p in NODE_PROPERTIES[label] if row.get(p) is not None}
        return Node(id=node_id, label=label, properties=properties)

    def neighbors(self, node_id: str, *, rel: str | None, depth: int, limit: int) -> list[Neighbor] | None:
        check_neighbors_args(rel, depth, limit)
        if self.node(node_id) is None:
            return None
        seen = {node_id}
        found: list[Neighbor] = []
        frontier = [node_id]
        for hops in range(1, depth + 1):
            reached = self._one_hop(frontier, rel, limit=limit + len(seen)) - seen
            new = sorted(reached)[: limit - len(found)]
            found.extend(Neighbor(id=n, label=label_of(n), hops=hops) for n in new)
            seen.update(new)
            if len(found) >= limit or not new:
                break
            frontier = new
        return found

    def _one_hop(self, frontier: Sequence[str], rel: str | None, *, limit: int) -> set[str]:
        """Ids one hop from ``frontier``: one query per label, each the ``limit`` smallest ids."""
        by_label: dict[str, list[str]] = defaultdict(list)
        for n in frontier:
            by_label[label_of(n)].append(n)
        reached: set[str] = set()
        for label, ids in sorted(by_label.items()):
            self._count(write=False)
            rows = self._run(cypher.neighbors_query(label, rel, limit), {"ids": ids}, write=False)
            reached.update(row["id"] for row in rows if row.get("id") is not None)
        return reached

    def counts(self) -> GraphCounts:
        nodes = {label: self._scalar(cypher.count_nodes_query(label)) for label in NODE_PROPERTIES}
        rels = {rel: self._scalar(cypher.count_relationships_query(rel)) for rel in RELATIONSHIPS}
        return GraphCounts(nodes=nodes, relationships=rels)

    def _scalar(self, query: str) -> int:
        self._count(write=False)
        rows = self._run(query, {}, write=False)
        return int(rows[0]["n"]) if rows else 0
