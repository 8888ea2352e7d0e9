"""FalkorDB adapter of :class:`~graph_writer.ports.GraphStore`: the local default, embedded.

It runs the shared openCypher of :mod:`graph_writer.cypher` through the ``falkordb`` client over an
injected graph handle (the server process is :mod:`graph_writer.adapters.falkor_server`'s).
FalkorDB takes parameters as a ``CYPHER name=value`` header that the client renders with escaping, and its
parser reads them back as literals only: quotes, backticks, braces and Cypher keywords in values are stored
verbatim (the contract tests prove it); NUL characters cannot be stored and are refused in the handlers.
"""

from __future__ import annotations

from typing import Any

import redis

from graph_writer import cypher
from graph_writer.adapters.cypher_store import CypherGraphStore
from shared.errors import PermanentError, RetryableError, StoreUnavailable

# Server replies that mean "not now" rather than "never": memory, loading, a busy script, a read-only replica.
_TRANSIENT_REPLIES = ("OOM", "LOADING", "BUSY", "MISCONF", "TRYAGAIN", "READONLY", "MASTERDOWN")


class FalkorGraphStore(CypherGraphStore):
    """A graph in FalkorDB, through an injected ``falkordb`` ``Graph`` (``FalkorDB(...).select_graph(name)``).

    Args:
        graph: the graph handle.
        rows_per_call: rows unwound per write query.
        timeout_ms: the server-side limit of one query.
    """

    def __init__(self, *, graph: Any, rows_per_call: int = 200, timeout_ms: int = 30_000) -> None:
        super().__init__(rows_per_call=rows_per_call)
        self._graph = graph
        self._timeout_ms = timeout_ms

    def ensure_indexes(self) -> None:
        """An index on ``~id`` for every label (creating one that exists is a no-op)."""
        for statement in cypher.index_statements():
            try:
                self._graph.query(statement)
            except redis.ResponseError as exc:
                if "already indexed" not in str(exc):
                    raise PermanentError(f"FalkorDB refused {statement!r}: {exc}") from exc
            except redis.RedisError as exc:
                raise StoreUnavailable(f"FalkorDB index creation failed: {exc}") from exc

    def _run(self, query: str, params: dict[str, Any], *, write: bool) -> list[dict[str, Any]]:
        run = self._graph.query if write else self._graph.ro_query
        try:
            result = run(query, params, timeout=self._timeout_ms)
        except redis.ResponseError as exc:
            message = str(exc)
            if message.startswith(_TRANSIENT_REPLIES):
                raise StoreUnavailable(f"FalkorDB is busy: {message}") from exc
            if "timed out" in message.lower():  # maybe this query alone: retried, isolated at the last try
                raise RetryableError(f"FalkorDB query timed out: {message}") from exc
            raise PermanentError(f"FalkorDB rejected the query: {message}") from exc
        except redis.RedisError as exc:  # connection refused or reset, timeouts: the server is down
            raise StoreUnavailable(f"FalkorDB unreachable: {exc}") from exc
        names = [_column_name(column) for column in result.header]
        return [dict(zip(names, row, strict=True)) for row in result.result_set]


def _column_name(column: Any) -> str:
    name = column[1] if isinstance(column, list | tuple) else column
    return name.decode() if isinstance(name, bytes) else str(name)
