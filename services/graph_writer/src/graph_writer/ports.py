"""graph_writer's port: the graph store it owns (Neptune in production, embedded FalkorDB locally)."""

from __future__ import annotations

from typing import Protocol

from graph_writer.model import GraphBatch, GraphCounts, Neighbor, Node


class GraphStore(Protocol):
    """A property graph that batches of relationship rows are merged into, and that answers reads.

    ``write`` is idempotent: every node and relationship is a MERGE keyed by ids taken from the events, and
    "latest" properties only move to a newer version (event time, then event id). Writing a batch twice, or
    any batches in any order, leaves the same graph. It is not atomic: a failure may leave part of a batch
    written, and writing the batch again completes it.

    Errors: :class:`~shared.errors.RetryableError` when the store is down, throttled or kept conflicting
    after the adapter's own retries; :class:`~shared.errors.PermanentError` when the store rejects the
    statement or its data, so no retry of the same batch can succeed.
    """

    def write(self, batch: GraphBatch) -> None:
        """Merge every row of ``batch`` into the graph."""
        ...

    def node(self, node_id: str) -> Node | None:
        """The node with this global id (``device:dev-0042``), or None.

        Raises:
            graph_writer.model.InvalidNodeId: the id names no known label.
        """
        ...

    def neighbors(self, node_id: str, *, rel: str | None, depth: int, limit: int) -> list[Neighbor] | None:
        """Nodes within ``depth`` hops (either direction, over ``rel`` or any type), nearest first then by id;
        at most ``limit`` of them; None if the start node does not exist.

        Raises:
            graph_writer.model.InvalidNodeId: the id names no known label.
            ValueError: ``rel`` is not a known relationship type, or depth/limit are out of range.
        """
        ...

    def counts(self) -> GraphCounts:
        """How many nodes of each label and relationships of each type the graph holds."""
        ...
